//! The ABI on wasmi, for the layer-3 differential: each embedder's
//! description brings a host that implements the imports generated modules
//! call, written from the ABI's documentation, never by calling the
//! embedder's own code (a bug there would otherwise sit on both sides of the
//! differential and never be seen).

use std::any::Any;

/// The store data of one wasmi invocation.
pub struct WasmiState {
    /// The request the module reads.
    pub request: Vec<u8>,
    /// The last response it wrote.
    pub response: Vec<u8>,
    /// wasmi's resource limits (the policy's memory and table caps).
    pub limits: wasmi::StoreLimits,
    /// The ABI's own state for one invocation (Extism's kernel memory), from
    /// [`ReferenceHost::new_state`].
    pub host: Box<dyn Any + Send>,
}

/// An independent implementation of an ABI's imports on wasmi.
pub trait ReferenceHost: Send + Sync {
    /// Defines every import generated modules may call in `linker`.
    fn define(&self, linker: &mut wasmi::Linker<WasmiState>) -> Result<(), wasmi::Error>;

    /// The ABI's state at the start of an invocation.
    fn new_state(&self) -> Box<dyn Any + Send> {
        Box::new(())
    }
}
