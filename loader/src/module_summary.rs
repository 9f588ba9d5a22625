//! The parse stage: decode every section and function body of a module, and
//! keep what the ABI check needs (types, imports, functions, exports, limits).

use contract::{Rejection, Stage};
use wasmparser::{CompositeInnerType, ExternalKind, MemoryType, Parser, Payload, TableType, TypeRef, ValType};

/// A function signature: parameter and result types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Parameter types, in order.
    pub params: Vec<ValType>,
    /// Result types, in order.
    pub results: Vec<ValType>,
}

impl Signature {
    /// A signature over `i32`s only, as every `host` import has.
    pub fn i32s(params: usize, results: usize) -> Signature {
        Signature { params: vec![ValType::I32; params], results: vec![ValType::I32; results] }
    }
}

impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |types: &[ValType]| types.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        write!(f, "({}) -> ({})", list(&self.params), list(&self.results))
    }
}

/// One import of the module.
#[derive(Clone, Debug)]
pub struct ImportEntry {
    /// The module name, such as `host`.
    pub module: String,
    /// The item name, such as `log`.
    pub name: String,
    /// What is imported.
    pub ty: TypeRef,
}

/// What the ABI check needs to know about a module, read during parsing.
#[derive(Clone, Debug, Default)]
pub struct ModuleSummary {
    /// Function signatures by type index; `None` for non-function types.
    pub types: Vec<Option<Signature>>,
    /// Every import, in order.
    pub imports: Vec<ImportEntry>,
    /// The type index of every function, imported ones first.
    pub function_types: Vec<u32>,
    /// Every export: name, kind and index.
    pub exports: Vec<(String, ExternalKind, u32)>,
    /// Every memory, imported ones first.
    pub memories: Vec<MemoryType>,
    /// Every table, imported ones first.
    pub tables: Vec<TableType>,
}

impl ModuleSummary {
    /// The first import of an exact function type (external kind `0x20`,
    /// from the custom-descriptors proposal), if the module has one.
    pub fn exact_function_import(&self) -> Option<&ImportEntry> {
        self.imports.iter().find(|import| matches!(import.ty, TypeRef::FuncExact(_)))
    }

    /// The signature of function `index`, if it and its type exist.
    pub fn function_signature(&self, index: u32) -> Option<&Signature> {
        let type_index = *self.function_types.get(usize::try_from(index).ok()?)?;
        self.types.get(usize::try_from(type_index).ok()?)?.as_ref()
    }
}

/// Decodes the whole module, without validating it, and summarizes it.
///
/// Errors are rejections at [`Stage::Parse`].
pub fn parse(bytes: &[u8]) -> Result<ModuleSummary, Rejection> {
    summarize(bytes).map_err(|reason| Rejection::new(Stage::Parse, &reason))
}

fn summarize(bytes: &[u8]) -> Result<ModuleSummary, String> {
    decode(bytes).map_err(|error| error.to_string())?.map_err(|(reason, offset)| format!("{reason} (at offset 0x{offset:x})"))
}

/// Decodes `bytes`; the outer error is a decoding error, the inner one a
/// payload the loader does not take (a component, an unknown section).
type Decoded = Result<ModuleSummary, (String, usize)>;

fn decode(bytes: &[u8]) -> Result<Decoded, wasmparser::BinaryReaderError> {
    let mut summary = ModuleSummary::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { encoding: wasmparser::Encoding::Component, range, .. } => {
                return Ok(Err(("components are not accepted, only core modules".to_owned(), range.start)));
            }
            Payload::TypeSection(reader) => {
                for group in reader {
                    for sub_type in group?.into_types() {
                        let signature = match &sub_type.composite_type.inner {
                            CompositeInnerType::Func(func) => Some(Signature { params: func.params().to_vec(), results: func.results().to_vec() }),
                            _ => None,
                        };
                        summary.types.push(signature);
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import?;
                    match import.ty {
                        TypeRef::Func(index) | TypeRef::FuncExact(index) => summary.function_types.push(index),
                        TypeRef::Memory(memory) => summary.memories.push(memory),
                        TypeRef::Table(table) => summary.tables.push(table),
                        TypeRef::Global(_) | TypeRef::Tag(_) => {}
                    }
                    summary.imports.push(ImportEntry { module: import.module.to_owned(), name: import.name.to_owned(), ty: import.ty });
                }
            }
            Payload::FunctionSection(reader) => {
                for type_index in reader {
                    summary.function_types.push(type_index?);
                }
            }
            Payload::TableSection(reader) => {
                for table in reader {
                    summary.tables.push(table?.ty);
                }
            }
            Payload::MemorySection(reader) => {
                for memory in reader {
                    summary.memories.push(memory?);
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export?;
                    summary.exports.push((export.name.to_owned(), export.kind, export.index));
                }
            }
            Payload::GlobalSection(reader) => drain(reader)?,
            Payload::ElementSection(reader) => drain(reader)?,
            Payload::DataSection(reader) => drain(reader)?,
            Payload::TagSection(reader) => drain(reader)?,
            Payload::CodeSectionEntry(body) => {
                for local in body.get_locals_reader()? {
                    local?;
                }
                let mut operators = body.get_operators_reader()?;
                while !operators.eof() {
                    operators.read()?;
                }
                operators.finish()?;
            }
            Payload::UnknownSection { id, range, .. } => {
                return Ok(Err((format!("unknown section id {id}"), range.start)));
            }
            _ => {}
        }
    }
    Ok(Ok(summary))
}

fn drain<'a, T: wasmparser::FromReader<'a>>(reader: wasmparser::SectionLimited<'a, T>) -> Result<(), wasmparser::BinaryReaderError> {
    for item in reader {
        item?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes_imports_functions_and_exports() {
        let wasm = wat::parse_str(
            r#"(module
                (import "host" "log" (func (param i32 i32) (result i32)))
                (memory (export "memory") 1 2)
                (func (export "main")))"#,
        )
        .unwrap();
        let summary = parse(&wasm).unwrap();
        assert_eq!(summary.imports.len(), 1);
        assert_eq!(summary.function_types.len(), 2);
        assert_eq!(summary.function_signature(0), Some(&Signature::i32s(2, 1)));
        assert_eq!(summary.function_signature(1), Some(&Signature::i32s(0, 0)));
        assert_eq!(summary.memories.len(), 1);
        assert_eq!(summary.exports.len(), 2);
    }

    #[test]
    fn truncated_body_is_a_parse_rejection() {
        let mut wasm = wat::parse_str("(module (func (export \"main\") nop nop))").unwrap();
        wasm.truncate(wasm.len() - 2);
        let rejection = parse(&wasm).unwrap_err();
        assert_eq!(rejection.stage, Stage::Parse);
    }

    #[test]
    fn bad_magic_is_a_parse_rejection() {
        assert_eq!(parse(b"\0asn\x01\0\0\0").unwrap_err().stage, Stage::Parse);
        assert_eq!(parse(b"").unwrap_err().stage, Stage::Parse);
    }
}
