//! Compiled modules, for both engines. The probe interpreters, one per
//! memory shape, are compiled on first use and kept. wasm-smith modules of
//! the last few inputs are kept too, keyed by their bytes: mutations that land
//! in input bytes the generator never read yield the same module, and those
//! inputs skip compiling (the dominant cost). Every invocation still runs in a
//! fresh store.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use loader::{Function, Rejection};

use super::probes::ProbeShape;
use super::wasmi_diff::WasmiModule;

/// wasm-smith modules kept.
pub const CAPACITY: usize = 16;

/// One module, loaded by the loader and compiled for wasmi.
pub struct Compiled {
    /// The loader's function.
    pub function: Function,
    /// wasmi's module, or why wasmi refused it.
    pub wasmi: Result<WasmiModule, String>,
}

static RECENT: Mutex<VecDeque<(Vec<u8>, Arc<Compiled>)>> = Mutex::new(VecDeque::new());

/// A compiled module and whether it came from the cache, or the loader's rejection.
pub type Loaded = Result<(Arc<Compiled>, bool), Rejection>;

/// An interpreter's bytes and, once the loader accepted it, its compiled form.
type Interpreter = (Arc<[u8]>, Option<Arc<Compiled>>);

static INTERPRETERS: Mutex<BTreeMap<ProbeShape, Interpreter>> = Mutex::new(BTreeMap::new());

/// The interpreter for `shape`: its bytes, and its compiled form with whether
/// it came from the cache. A rejected interpreter is not kept, so every input
/// of that shape sees the rejection.
pub fn interpreter(shape: ProbeShape) -> (Arc<[u8]>, Loaded) {
    let mut interpreters = match INTERPRETERS.lock() {
        Ok(interpreters) => interpreters,
        Err(poisoned) => poisoned.into_inner(),
    };
    let (bytes, compiled) = interpreters.entry(shape).or_insert_with(|| (shape.encode().into(), None));
    if let Some(compiled) = compiled {
        return (Arc::clone(bytes), Ok((Arc::clone(compiled), true)));
    }
    let loaded = compile(bytes);
    if let Ok(fresh) = &loaded {
        *compiled = Some(Arc::clone(fresh));
    }
    (Arc::clone(bytes), loaded.map(|fresh| (fresh, false)))
}

fn compile(bytes: &[u8]) -> Result<Arc<Compiled>, Rejection> {
    let function = crate::shared_loader::loader().load(bytes)?;
    Ok(Arc::new(Compiled { function, wasmi: WasmiModule::new(bytes) }))
}

/// The compiled wasm-smith module for `bytes` and whether it came from the
/// cache; a module the loader rejects is returned as its rejection and not kept.
pub fn load(bytes: &[u8]) -> Loaded {
    if let Ok(recent) = RECENT.lock()
        && let Some((_, compiled)) = recent.iter().find(|(key, _)| key == bytes)
    {
        return Ok((Arc::clone(compiled), true));
    }
    let compiled = compile(bytes)?;
    if let Ok(mut recent) = RECENT.lock() {
        if recent.len() >= CAPACITY {
            recent.pop_back();
        }
        recent.push_front((bytes.to_vec(), Arc::clone(&compiled)));
    }
    Ok((compiled, false))
}
