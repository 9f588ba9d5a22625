//! The loader behind the seam: `load` is `Loader::load`, `invoke` is
//! `Function::invoke_in`. The loader already speaks the suite's vocabulary
//! (`contract`), so nothing needs mapping but the store.

use std::path::Path;
use std::sync::Arc;

use contract::{Outcome, Policy, Rejection};
use harness::embedder::{Embedder, Loaded, Store};
use loader::{Function, Loader, Storage};

/// The repository's loader as an embedder.
pub struct Reference {
    loader: Loader,
}

impl Reference {
    /// Builds the loader for `policy`.
    pub fn new(policy: Policy) -> Result<Reference, String> {
        Loader::new(policy).map(|loader| Reference { loader }).map_err(|error| format!("{error:#}"))
    }
}

impl Embedder for Reference {
    fn policy(&self) -> &Policy {
        self.loader.policy()
    }

    fn load(&self, module: &[u8], store: &Store) -> Result<Box<dyn Loaded>, Rejection> {
        let function = self.loader.load(module)?;
        let storage: Storage = store.iter().map(|(key, value)| (key.clone(), value.clone())).collect();
        Ok(Box::new(Module { function, storage: Arc::new(storage) }))
    }
}

/// A module the loader accepted, with the lookup store it reads.
struct Module {
    function: Function,
    storage: Arc<Storage>,
}

impl Loaded for Module {
    fn invoke(&self, request: &[u8], sandbox: Option<&Path>) -> Outcome {
        self.function.invoke_in(request, &self.storage, sandbox)
    }
}
