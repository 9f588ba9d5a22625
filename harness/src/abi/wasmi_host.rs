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
    /// wasmi's resource limits (the policy's memory and table caps), with
    /// what the module asked of them.
    pub limits: WatchedLimits,
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

    /// What the runtime does before the module runs (Extism's kernel takes
    /// memory for the request, charged with [`WatchedLimits::charge`]).
    fn start(&self, _state: &mut WasmiState) {}
}

/// wasmi's own [`wasmi::StoreLimits`], watched: records whether the module
/// asked for more memory than the cap (one memory, or all together), which
/// a host may refuse by ending the run. (wasmi refuses growth past a
/// memory's declared maximum before asking a limiter, so that stays unseen.)
pub struct WatchedLimits {
    limits: wasmi::StoreLimits,
    cap_bytes: Option<u64>,
    total_bytes: u64,
    /// Whether the module asked for memory past the cap so far.
    pub asked_past_cap: bool,
}

impl WatchedLimits {
    /// wasmi's `limits`, with the cap on all memories together.
    pub fn new(limits: wasmi::StoreLimits, cap_bytes: Option<u64>) -> WatchedLimits {
        WatchedLimits { limits, cap_bytes, total_bytes: 0, asked_past_cap: false }
    }

    /// Charges memory the runtime holds for the module outside the module's
    /// own memories, under the same cap (Extism's kernel memory); charging
    /// past the cap counts as asking past it.
    pub fn charge(&mut self, bytes: u64) {
        self.total_bytes = self.total_bytes.saturating_add(bytes);
        if self.cap_bytes.is_some_and(|cap| self.total_bytes > cap) {
            self.asked_past_cap = true;
        }
    }
}

impl wasmi::ResourceLimiter for WatchedLimits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> Result<bool, wasmi_core::LimiterError> {
        let total = self.total_bytes.saturating_add(desired.saturating_sub(current) as u64);
        let granted = self.limits.memory_growing(current, desired, maximum)?;
        if granted && self.cap_bytes.is_none_or(|cap| total <= cap) {
            self.total_bytes = total;
        } else {
            self.asked_past_cap = true;
        }
        Ok(granted)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> Result<bool, wasmi_core::LimiterError> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// The wasmi host of an ABI without host functions: it defines nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoImports;

impl ReferenceHost for NoImports {
    fn define(&self, _: &mut wasmi::Linker<WasmiState>) -> Result<(), wasmi::Error> {
        Ok(())
    }
}
