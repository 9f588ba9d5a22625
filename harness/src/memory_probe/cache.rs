//! The modules of the last few inputs, compiled for both engines, keyed by
//! their bytes. Mutations that land in input bytes a generator never read
//! yield the same module; those inputs skip compiling (the dominant cost)
//! and only run their invocations, each still in a fresh store.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use loader::{Function, Rejection};

use super::wasmi_diff::WasmiModule;

/// Modules kept.
pub const CAPACITY: usize = 16;

/// One module, loaded by the loader and compiled for wasmi.
pub struct Compiled {
    /// The loader's function.
    pub function: Function,
    /// wasmi's module, or why wasmi refused it.
    pub wasmi: Result<WasmiModule, String>,
}

static RECENT: Mutex<VecDeque<(Vec<u8>, Arc<Compiled>)>> = Mutex::new(VecDeque::new());

/// The compiled module for `bytes` and whether it came from the cache; a
/// module the loader rejects is returned as its rejection and not kept.
pub fn load(bytes: &[u8]) -> Result<(Arc<Compiled>, bool), Rejection> {
    if let Ok(recent) = RECENT.lock()
        && let Some((_, compiled)) = recent.iter().find(|(key, _)| key == bytes)
    {
        return Ok((Arc::clone(compiled), true));
    }
    let function = crate::shared_loader::loader().load(bytes)?;
    let compiled = Arc::new(Compiled { function, wasmi: WasmiModule::new(bytes) });
    if let Ok(mut recent) = RECENT.lock() {
        if recent.len() >= CAPACITY {
            recent.pop_back();
        }
        recent.push_front((bytes.to_vec(), Arc::clone(&compiled)));
    }
    Ok((compiled, false))
}
