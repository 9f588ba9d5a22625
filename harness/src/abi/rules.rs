//! The ABI rules, checked independently of the embedder: the first rule a
//! valid module breaks, read from the module with wasmparser alone.

use wasmparser::{CompositeInnerType, ExternalKind, Parser, Payload, TypeRef, ValType};

use super::{Abi, Export, Rule};

/// A function type as the module declares it.
type FuncType = (Vec<ValType>, Vec<ValType>);

/// The first ABI rule the valid `module` breaks, with what it breaks: imports
/// only from the allowed list with their exact signatures; every required
/// export with its kind and signature; memories and tables within the
/// declared limits.
pub fn violation(module: &[u8], abi: &Abi) -> Option<(Rule, String)> {
    let limits = &abi.limits;
    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut functions: Vec<u32> = Vec::new();
    let mut exports: Vec<(String, ExternalKind, u32)> = Vec::new();
    let (mut memories, mut tables) = (0usize, 0usize);
    let memory_rule = |memory: wasmparser::MemoryType| {
        if limits.memory32_unshared_only && (memory.memory64 || memory.shared) {
            return Some("memory is 64-bit or shared".to_owned());
        }
        let max_pages = limits.max_memory_pages()?;
        (memory.initial > max_pages).then(|| format!("memory minimum {} pages over the declared {max_pages}", memory.initial))
    };
    let table_rule = |table: wasmparser::TableType| {
        let max = limits.max_table_elements?;
        (table.initial > max).then(|| format!("table minimum {} over the declared {max}", table.initial))
    };
    // The module is valid, so every read below succeeds; a failure reads as "no violation".
    for payload in Parser::new(0).parse_all(module).flatten() {
        match payload {
            Payload::TypeSection(reader) => {
                for rec_group in reader.into_iter().flatten() {
                    for sub_type in rec_group.into_types() {
                        let func = match &sub_type.composite_type.inner {
                            CompositeInnerType::Func(func) => Some((func.params().to_vec(), func.results().to_vec())),
                            _ => None,
                        };
                        types.push(func);
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports().flatten() {
                    let (TypeRef::Func(ty) | TypeRef::FuncExact(ty)) = import.ty else {
                        return Some((Rule::Imports, format!("import {}.{} is not a function", import.module, import.name)));
                    };
                    let signature = types.get(ty as usize).cloned().flatten();
                    if !allowed(abi, import.module, import.name, signature.as_ref()) {
                        let rule = format!("import {}.{} is not allowed with signature {signature:?}", import.module, import.name);
                        return Some((Rule::Imports, rule));
                    }
                    functions.push(ty);
                }
            }
            Payload::FunctionSection(reader) => functions.extend(reader.into_iter().flatten()),
            Payload::MemorySection(reader) => {
                for memory in reader.into_iter().flatten() {
                    memories += 1;
                    if let Some(rule) = memory_rule(memory) {
                        return Some((Rule::Limits, rule));
                    }
                }
            }
            Payload::TableSection(reader) => {
                for table in reader.into_iter().flatten() {
                    tables += 1;
                    if let Some(rule) = table_rule(table.ty) {
                        return Some((Rule::Limits, rule));
                    }
                }
            }
            Payload::ExportSection(reader) => {
                exports.extend(reader.into_iter().flatten().map(|export| (export.name.to_owned(), export.kind, export.index)));
            }
            _ => {}
        }
    }
    if limits.max_memories.is_some_and(|max| memories > max) || limits.max_tables.is_some_and(|max| tables > max) {
        return Some((Rule::Limits, format!("{memories} memories and {tables} tables declared")));
    }
    let signature_of = |func: u32| functions.get(func as usize).and_then(|ty| types.get(*ty as usize).cloned().flatten());
    for required in &abi.exports {
        let found = exports.iter().find(|(name, _, _)| name == required.name());
        let broken = match (required, found) {
            (_, None) => Some(format!("export {} is missing", required.name())),
            (Export::Func { signature, .. }, Some((_, ExternalKind::Func, index))) => (signature_of(*index)
                != Some((signature.params.clone(), signature.results.clone())))
            .then(|| format!("export {} has the wrong signature", required.name())),
            (Export::Memory { .. }, Some((_, ExternalKind::Memory, _))) => None,
            (_, Some(_)) => Some(format!("export {} has the wrong kind", required.name())),
        };
        if let Some(rule) = broken {
            return Some((Rule::Exports, rule));
        }
    }
    None
}

/// Whether `module.name` with `signature` is one of the ABI's imports.
fn allowed(abi: &Abi, module: &str, name: &str, signature: Option<&FuncType>) -> bool {
    let Some((params, results)) = signature else { return false };
    abi.imports
        .iter()
        .any(|import| import.module == module && import.name == name && import.signature.params == *params && import.signature.results == *results)
}
