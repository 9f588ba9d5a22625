//! One embedder under test with everything the layers need to fuzz it: the
//! embedder behind the seam, its ABI description, and the per-ABI half of
//! layer 4. Built once per process by the embedder's crate.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::abi::Abi;
use crate::commands::HostApi;
use crate::embedder::Embedder;

/// An embedder under test.
pub struct Subject {
    /// The embedder, behind the seam.
    pub embedder: Box<dyn Embedder>,
    /// Its ABI.
    pub abi: Abi,
    /// The per-ABI half of layer 4, if the embedder has host functions.
    host_api: Option<Box<dyn HostApi>>,
    /// What layers keep between inputs (compiled modules), one value per type.
    kept: Mutex<BTreeMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Subject {
    /// The subject of `embedder` with its ABI and layer-4 half; without the
    /// ABI's known defects when [`crate::abi::known::REPORT_KNOWN`] is set.
    pub fn new(embedder: Box<dyn Embedder>, abi: Abi, host_api: Box<dyn HostApi>) -> Subject {
        Subject::with(embedder, abi, Some(host_api))
    }

    /// The subject of an embedder without host functions, fuzzed by layers
    /// 1 to 3 only.
    pub fn without_host_calls(embedder: Box<dyn Embedder>, abi: Abi) -> Subject {
        Subject::with(embedder, abi, None)
    }

    fn with(embedder: Box<dyn Embedder>, mut abi: Abi, host_api: Option<Box<dyn HostApi>>) -> Subject {
        if crate::abi::known::reported() {
            abi.known_defects.clear();
        }
        Subject { embedder, abi, host_api, kept: Mutex::new(BTreeMap::new()) }
    }

    /// The per-ABI half of layer 4.
    ///
    /// # Panics
    /// If the subject has none ([`Subject::without_host_calls`]): a target
    /// that runs layer 4 on it is a setup error.
    pub fn host_api(&self) -> &dyn HostApi {
        match &self.host_api {
            Some(host_api) => &**host_api,
            None => panic!("setup: the {} embedder has no host functions, so no layer 4", self.abi.name),
        }
    }

    /// The value of type `T` a layer keeps for this subject, made with
    /// `T::default()` on first use.
    pub fn kept<T: Any + Send + Sync + Default>(&self) -> Arc<T> {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let value = kept.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default()));
        match Arc::clone(value).downcast::<T>() {
            Ok(value) => value,
            // Entries are keyed by their own type id, so this never happens.
            Err(_) => Arc::new(T::default()),
        }
    }
}
