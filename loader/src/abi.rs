//! The ABI check: what a module may import and must export, and the limits it
//! may declare, checked after validation and before compiling.

use std::collections::HashMap;

use contract::{Policy, Rejection, Stage};
use wasmparser::{ExternalKind, TypeRef};

use crate::module_summary::{ModuleSummary, Signature};

/// Import module of the host ABI.
pub const HOST_MODULE: &str = "host";
/// Import module of WASI preview1.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// The `host` imports and their signatures (all `i32`).
pub const HOST_FUNCTIONS: [(&str, usize); 4] = [("read_request", 2), ("write_response", 2), ("log", 2), ("storage_get", 4)];

/// The imports a module may use, with their exact signatures.
#[derive(Clone, Debug, Default)]
pub struct AllowedImports {
    by_name: HashMap<(String, String), Signature>,
}

impl AllowedImports {
    /// The `host` functions plus the given WASI functions.
    pub fn new(wasi: impl IntoIterator<Item = (String, Signature)>) -> AllowedImports {
        let host = HOST_FUNCTIONS.iter().map(|(name, params)| ((HOST_MODULE.to_owned(), (*name).to_owned()), Signature::i32s(*params, 1)));
        let wasi = wasi.into_iter().map(|(name, signature)| ((WASI_MODULE.to_owned(), name), signature));
        AllowedImports { by_name: host.chain(wasi).collect() }
    }

    /// The allowed signature of `module.name`, if it may be imported at all.
    pub fn signature(&self, module: &str, name: &str) -> Option<&Signature> {
        self.by_name.get(&(module.to_owned(), name.to_owned()))
    }

    /// Names of the allowed WASI functions, sorted.
    pub fn wasi_functions(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.keys().filter(|(module, _)| module == WASI_MODULE).map(|(_, name)| name.as_str()).collect();
        names.sort_unstable();
        names
    }
}

/// Checks a validated module against the ABI and the policy's declared limits.
pub fn check(summary: &ModuleSummary, allowed: &AllowedImports, policy: &Policy) -> Result<(), Rejection> {
    check_imports(summary, allowed)?;
    check_exports(summary)?;
    check_limits(summary, policy)
}

fn reject(reason: String) -> Rejection {
    Rejection::new(Stage::AbiCheck, &reason)
}

fn check_imports(summary: &ModuleSummary, allowed: &AllowedImports) -> Result<(), Rejection> {
    for import in &summary.imports {
        let (module, name) = (&import.module, &import.name);
        let Some(expected) = allowed.signature(module, name) else {
            return Err(reject(format!("forbidden import {module}.{name}")));
        };
        let TypeRef::Func(type_index) = import.ty else {
            return Err(reject(format!("import {module}.{name} must be a function, found {:?}", import.ty)));
        };
        let actual = usize::try_from(type_index).ok().and_then(|index| summary.types.get(index)).and_then(Option::as_ref);
        if actual != Some(expected) {
            let found = actual.map_or_else(|| format!("type {type_index}"), ToString::to_string);
            return Err(reject(format!("import {module}.{name} has signature {found}, expected {expected}")));
        }
    }
    Ok(())
}

fn check_exports(summary: &ModuleSummary) -> Result<(), Rejection> {
    let find = |wanted: &str| summary.exports.iter().find(|(name, _, _)| name == wanted);
    for (name, expected) in [("main", Signature::i32s(0, 0)), ("alloc", Signature::i32s(1, 1))] {
        match find(name) {
            None => return Err(reject(format!("missing export {name}"))),
            Some((_, ExternalKind::Func, index)) => {
                if summary.function_signature(*index) != Some(&expected) {
                    let found = summary.function_signature(*index).map_or_else(|| "unknown".to_owned(), ToString::to_string);
                    return Err(reject(format!("export {name} has signature {found}, expected {expected}")));
                }
            }
            Some((_, kind, _)) => return Err(reject(format!("export {name} must be a function, found {kind:?}"))),
        }
    }
    match find("memory") {
        None => Err(reject("missing export memory".to_owned())),
        Some((_, ExternalKind::Memory, _)) => Ok(()),
        Some((_, kind, _)) => Err(reject(format!("export memory must be a memory, found {kind:?}"))),
    }
}

fn check_limits(summary: &ModuleSummary, policy: &Policy) -> Result<(), Rejection> {
    if summary.memories.len() > policy.max_memories {
        return Err(reject(format!("{} memories declared, policy allows {}", summary.memories.len(), policy.max_memories)));
    }
    if summary.tables.len() > policy.max_tables {
        return Err(reject(format!("{} tables declared, policy allows {}", summary.tables.len(), policy.max_tables)));
    }
    let max_pages = u64::try_from(policy.max_memory_bytes).unwrap_or(u64::MAX) / WASM_PAGE_BYTES;
    for memory in &summary.memories {
        if memory.memory64 || memory.shared {
            return Err(reject("64-bit and shared memories are not accepted".to_owned()));
        }
        if memory.initial > max_pages {
            return Err(reject(format!("memory minimum {} pages, policy allows {max_pages}", memory.initial)));
        }
    }
    let max_elements = u64::try_from(policy.max_table_elements).unwrap_or(u64::MAX);
    for table in &summary.tables {
        if table.initial > max_elements {
            return Err(reject(format!("table minimum {} elements, policy allows {max_elements}", table.initial)));
        }
    }
    Ok(())
}

/// Bytes in one Wasm page.
pub const WASM_PAGE_BYTES: u64 = 65_536;
