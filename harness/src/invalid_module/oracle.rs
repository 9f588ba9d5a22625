//! The oracle of layer 2: the loader's verdict on a defective module agrees
//! with an independent `wasmparser::Validator` plus the ABI rules, and a
//! rejection comes at a stage the applied defects belong to.

use loader::{End, Outcome, Stage};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef, ValType};

use super::catalog::Defect;
use crate::shared_loader::{fuzzing_policy, loader};

/// What the independent checks say about a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// wasmparser rejects it (malformed or invalid), with its message.
    Invalid(String),
    /// Valid Wasm that breaks an ABI rule, with the rule.
    BreaksAbi(String),
    /// Valid and ABI-conformant.
    Valid,
}

/// The independent verdict: wasmparser's validator with the loader's
/// features, then the ABI rules of DESIGN.md.
pub fn reference_verdict(module: &[u8]) -> Verdict {
    let mut validator = wasmparser::Validator::new_with_features(loader::wasm_features());
    if let Err(error) = validator.validate_all(module) {
        return Verdict::Invalid(error.to_string());
    }
    match abi_violation(module) {
        Some(rule) => Verdict::BreaksAbi(rule),
        None => Verdict::Valid,
    }
}

/// Panics with `oracle:` when the loader's `outcome` for `module` disagrees
/// with [`reference_verdict`], or rejects the module at a stage none of the
/// applied `defects` belongs to. Returns the independent verdict.
pub fn check_verdict(module: &[u8], defects: &[Defect], outcome: &Outcome) -> Verdict {
    let verdict = reference_verdict(module);
    let rejected_at = match &outcome.end {
        End::Rejected(rejection) => Some(rejection.stage),
        _ => None,
    };
    match (&verdict, rejected_at) {
        (Verdict::Invalid(_), Some(Stage::Parse | Stage::Validate))
        | (Verdict::BreaksAbi(_), Some(Stage::AbiCheck))
        | (Verdict::Valid, None) => {}
        (Verdict::Valid, Some(stage)) if stage > Stage::Compile => {}
        (Verdict::Invalid(error), _) => {
            panic!("oracle: the loader passed a module wasmparser rejects ({error}); it ended at {}: {}", outcome.stage, outcome.end)
        }
        (Verdict::BreaksAbi(rule), Some(stage)) if stage < Stage::AbiCheck => {
            panic!("oracle: the loader rejected at {stage} a module wasmparser accepts (it breaks the ABI: {rule}): {}", outcome.end)
        }
        (Verdict::BreaksAbi(rule), _) => {
            panic!("oracle: the loader accepted a module that breaks the ABI ({rule}); it reached {}", outcome.stage)
        }
        (Verdict::Valid, Some(stage)) => {
            panic!("oracle: the loader rejected a valid, ABI-conformant module at {stage}: {}", outcome.end)
        }
    }
    let Some(stage) = rejected_at.filter(|_| verdict != Verdict::Valid) else { return verdict };
    if !defects.is_empty() && !defects.iter().any(|defect| defect.kind.stages().contains(&stage)) {
        let names: Vec<&str> = defects.iter().map(|defect| defect.kind.name()).collect();
        let stages: Vec<&str> = defects.iter().flat_map(|defect| defect.kind.stages()).map(|stage| stage.name()).collect();
        panic!("oracle: defects {names:?} belong to stages {stages:?}, but the loader rejected at {stage}: {}", outcome.end);
    }
    verdict
}

/// The first ABI rule a valid module breaks, if any: imports only from the
/// allowed list with their exact signatures; `main: [] -> []`,
/// `alloc: [i32] -> [i32]` and `memory` exported; at most one memory and one
/// table, 32-bit and unshared, with minimums within the policy.
fn abi_violation(module: &[u8]) -> Option<String> {
    let policy = fuzzing_policy();
    let mut types: Vec<Option<(Vec<ValType>, Vec<ValType>)>> = Vec::new();
    let mut functions: Vec<u32> = Vec::new();
    let mut exports: Vec<(String, ExternalKind, u32)> = Vec::new();
    let (mut memories, mut tables) = (0usize, 0usize);
    let max_pages = policy.max_memory_bytes as u64 / loader::abi::WASM_PAGE_BYTES;
    let memory_rule = |memory: wasmparser::MemoryType| {
        if memory.memory64 || memory.shared {
            Some("memory is 64-bit or shared".to_owned())
        } else if memory.initial > max_pages {
            Some(format!("memory minimum {} pages over the policy's {max_pages}", memory.initial))
        } else {
            None
        }
    };
    let table_rule = |table: wasmparser::TableType| {
        (table.initial > policy.max_table_elements as u64).then(|| format!("table minimum {} over the policy", table.initial))
    };
    // The module is valid, so every read below succeeds; a failure reads as "no violation".
    for payload in Parser::new(0).parse_all(module).flatten() {
        match payload {
            Payload::TypeSection(reader) => {
                for sub_type in reader.into_iter_err_on_gc_types().flatten() {
                    types.push(Some((sub_type.params().to_vec(), sub_type.results().to_vec())));
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports().flatten() {
                    let TypeRef::Func(ty) = import.ty else {
                        return Some(format!("import {}.{} is not a function", import.module, import.name));
                    };
                    let signature = types.get(ty as usize).cloned().flatten();
                    if !import_allowed(import.module, import.name, signature.as_ref()) {
                        return Some(format!("import {}.{} is not allowed with signature {signature:?}", import.module, import.name));
                    }
                    functions.push(ty);
                }
            }
            Payload::FunctionSection(reader) => functions.extend(reader.into_iter().flatten()),
            Payload::MemorySection(reader) => {
                for memory in reader.into_iter().flatten() {
                    memories += 1;
                    if let Some(rule) = memory_rule(memory) {
                        return Some(rule);
                    }
                }
            }
            Payload::TableSection(reader) => {
                for table in reader.into_iter().flatten() {
                    tables += 1;
                    if let Some(rule) = table_rule(table.ty) {
                        return Some(rule);
                    }
                }
            }
            Payload::ExportSection(reader) => {
                exports.extend(reader.into_iter().flatten().map(|export| (export.name.to_owned(), export.kind, export.index)));
            }
            _ => {}
        }
    }
    if memories > policy.max_memories || tables > policy.max_tables {
        return Some(format!("{memories} memories and {tables} tables declared"));
    }
    let signature_of = |func: u32| functions.get(func as usize).and_then(|ty| types.get(*ty as usize).cloned().flatten());
    for (name, params, results) in [("main", vec![], vec![]), ("alloc", vec![ValType::I32], vec![ValType::I32])] {
        match exports.iter().find(|(export, _, _)| export == name) {
            Some((_, ExternalKind::Func, index)) if signature_of(*index) == Some((params, results)) => {}
            Some(_) => return Some(format!("export {name} has the wrong kind or signature")),
            None => return Some(format!("export {name} is missing")),
        }
    }
    match exports.iter().find(|(export, _, _)| export == "memory") {
        Some((_, ExternalKind::Memory, _)) => None,
        Some(_) => Some("export memory is not a memory".to_owned()),
        None => Some("export memory is missing".to_owned()),
    }
}

/// Whether `module.name` with `signature` is on the allowed list: the four
/// `host` functions of DESIGN.md over `i32`s, or a WASI preview1 function
/// the loader links, with its exact signature.
fn import_allowed(module: &str, name: &str, signature: Option<&(Vec<ValType>, Vec<ValType>)>) -> bool {
    let Some((params, results)) = signature else { return false };
    let all_i32 = |types: &[ValType], count: usize| types.len() == count && types.iter().all(|ty| *ty == ValType::I32);
    match module {
        "host" => {
            let arity = match name {
                "read_request" | "write_response" | "log" => 2,
                "storage_get" => 4,
                _ => return false,
            };
            all_i32(params, arity) && all_i32(results, 1)
        }
        loader::abi::WASI_MODULE => loader()
            .allowed_imports()
            .signature(module, name)
            .is_some_and(|allowed| allowed.params == *params && allowed.results == *results),
        _ => false,
    }
}
