//! Compiled modules, for both engines, kept per subject. The probe
//! interpreters, one per memory shape, are compiled on first use and kept.
//! wasm-smith modules of the last few inputs are kept too, keyed by their
//! bytes: mutations that land in input bytes the generator never read yield
//! the same module, and those inputs skip compiling (the dominant cost).
//! Every invocation still runs in a fresh instance.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use contract::Rejection;

use super::probes::ProbeShape;
use super::wasmi_diff::WasmiModule;
use crate::embedder::{Loaded, Store};
use crate::phase;
use crate::subject::Subject;

/// wasm-smith modules kept.
pub const CAPACITY: usize = 16;

/// One module, loaded by the embedder and compiled for wasmi.
pub struct Compiled {
    /// The embedder's module.
    pub loaded: Box<dyn Loaded>,
    /// wasmi's module, or why wasmi refused it.
    pub wasmi: Result<WasmiModule, String>,
    /// The known defect that lets its code run at load grow memory past the
    /// host-memory budget ([`crate::limits::Accepted::excuse`]).
    pub excuse: Option<&'static str>,
    /// That defect's id, if its load went past the budget.
    pub known: Option<&'static str>,
}

/// A compiled module and whether it came from the cache, or the embedder's rejection.
pub type Lookup = Result<(Arc<Compiled>, bool), Rejection>;

/// An interpreter's bytes and, once the embedder accepted it, its compiled form.
type Interpreter = (Arc<[u8]>, Option<Arc<Compiled>>);

/// What this layer keeps for one subject.
#[derive(Default)]
pub struct Cache {
    interpreters: Mutex<BTreeMap<ProbeShape, Interpreter>>,
    recent: Mutex<VecDeque<(Vec<u8>, Arc<Compiled>)>>,
}

impl Cache {
    /// The interpreter for `shape`: its bytes, and its compiled form with
    /// whether it came from the cache. A rejected interpreter is not kept,
    /// so every input of that shape sees the rejection.
    pub fn interpreter(&self, subject: &Subject, shape: ProbeShape) -> (Arc<[u8]>, Lookup) {
        let mut interpreters = self.interpreters.lock().unwrap_or_else(PoisonError::into_inner);
        let (bytes, compiled) = interpreters.entry(shape).or_insert_with(|| (shape.encode(&*subject.abi.io, subject.abi.entry).into(), None));
        if let Some(compiled) = compiled {
            return (Arc::clone(bytes), Ok((Arc::clone(compiled), true)));
        }
        let loaded = compile(subject, bytes);
        if let Ok(fresh) = &loaded {
            *compiled = Some(Arc::clone(fresh));
        }
        (Arc::clone(bytes), loaded.map(|fresh| (fresh, false)))
    }

    /// The compiled wasm-smith module for `bytes` and whether it came from
    /// the cache; a module the embedder rejects is returned as its rejection
    /// and not kept.
    pub fn module(&self, subject: &Subject, bytes: &[u8]) -> Lookup {
        if let Some((_, compiled)) = self.recent.lock().unwrap_or_else(PoisonError::into_inner).iter().find(|(key, _)| key == bytes) {
            return Ok((Arc::clone(compiled), true));
        }
        let compiled = compile(subject, bytes)?;
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() >= CAPACITY {
            recent.pop_back();
        }
        recent.push_front((bytes.to_vec(), Arc::clone(&compiled)));
        Ok((compiled, false))
    }
}

fn compile(subject: &Subject, bytes: &[u8]) -> Result<Arc<Compiled>, Rejection> {
    let accepted = crate::limits::load_checked(&*subject.embedder, &subject.abi, bytes, &Store::new())?;
    let wasmi = phase::timed(super::ORACLE_DIFFERENTIAL, || WasmiModule::new(bytes, &subject.abi));
    Ok(Arc::new(Compiled { loaded: accepted.loaded, wasmi, excuse: accepted.excuse, known: accepted.known }))
}
