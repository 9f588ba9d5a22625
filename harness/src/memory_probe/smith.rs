//! The wasm-smith generator: random well-formed modules configured for the
//! loader (exactly its Wasm features, the ABI's exports, one small memory with
//! a maximum, bulk memory, traps allowed, memarg offsets biased past the end).
//!
//! wasm-smith's `main` is then wrapped: the exported `main` calls it and, if
//! it returns, answers with the same memory digest as the probe modules, so
//! the differential oracle can compare final memories through the response.

use arbitrary::{Result, Unstructured};
use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection, MemorySection,
    MemoryType, Module, TypeSection, ValType,
};
use wasm_smith::{Config, MemoryOffsetChoices};

use super::probes::{DIGEST_LOCALS, emit_digest};
use super::spec::PAGE;

/// Loop iterations and calls a generated module may make before it traps
/// (wasm-smith's `ensure_termination`), so that no input burns the whole
/// fuel budget. Kept under wasmi's default recursion limit (1,000 frames), so
/// that endless recursion ends in the same trap on both engines rather than
/// in a skipped comparison.
pub const LOOP_FUEL: u32 = 500;

/// The configuration for a module whose memory has `minimum` and `maximum` pages.
pub fn config(minimum: u64, maximum: u64) -> Config {
    Config {
        module_shape: Some(shape_module(minimum, maximum)),
        allow_start_export: false,
        // NaN bit patterns may legally differ between engines; the digest must not.
        canonicalize_nans: true,
        disallow_traps: false,
        memory_offset_choices: MemoryOffsetChoices(30, 30, 40),
        max_memories: 1,
        max_memory32_bytes: maximum * PAGE,
        max_tables: 1,
        max_table_elements: 100,
        max_types: 10,
        max_funcs: 4,
        max_globals: 10,
        max_imports: 0,
        max_exports: 3,
        max_data_segments: 2,
        max_element_segments: 2,
        max_elements: 10,
        max_instructions: 100,
        ..crate::smith_features::loader_features()
    }
}

/// Generates a module from the input, with `main` wrapped to respond with the digest.
pub fn generate(u: &mut Unstructured<'_>, cap_bytes: u64) -> Result<Vec<u8>> {
    let minimum = 1 + u64::from(u.arbitrary::<u8>()? % 2);
    let cap_pages = cap_bytes / PAGE;
    let maximum = match u.arbitrary::<u8>()? % 3 {
        0 => minimum,
        1 => minimum + 1 + u64::from(u.arbitrary::<u8>()? % 4),
        _ => cap_pages + 1,
    };
    let mut module = wasm_smith::Module::new(config(minimum, maximum), u)?;
    module.ensure_termination(LOOP_FUEL).map_err(|_| arbitrary::Error::IncorrectFormat)?;
    let bytes = module.to_bytes();
    wrap_main(&bytes).map_err(|_| arbitrary::Error::IncorrectFormat)
}

/// The module wasm-smith takes its imports and exports from: it imports
/// `host.write_response` (function 0) and exports `main: [] -> []`,
/// `alloc: [i32] -> [i32]` and `memory` with the given limits.
fn shape_module(minimum: u64, maximum: u64) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], []);
    types.ty().function([ValType::I32], [ValType::I32]);
    types.ty().function([ValType::I32, ValType::I32], [ValType::I32]);
    let mut imports = ImportSection::new();
    imports.import("host", "write_response", EntityType::Function(2));
    let mut functions = FunctionSection::new();
    functions.function(0).function(1);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum, maximum: Some(maximum), memory64: false, shared: false, page_size_log2: None });
    let mut exports = ExportSection::new();
    exports.export("main", ExportKind::Func, 1).export("alloc", ExportKind::Func, 2).export("memory", ExportKind::Memory, 0);
    let mut code = CodeSection::new();
    let mut main = Function::new([]);
    main.instructions().end();
    code.function(&main);
    let mut alloc = Function::new([]);
    alloc.instructions().local_get(0).end();
    code.function(&alloc);
    let mut module = Module::new();
    module.section(&types).section(&imports).section(&functions).section(&memories).section(&exports).section(&code);
    module.finish()
}

/// Re-encodes a wasm-smith module whose only import is `host.write_response`
/// with one function appended: a new exported `main` that calls the old one
/// and then responds with the digest of the final memory.
fn wrap_main(bytes: &[u8]) -> Result<Vec<u8>, reencode::Error<String>> {
    let mut wrapper = MainWrapper::default();
    let mut module = Module::new();
    wrapper.parse_core_module(&mut module, wasmparser::Parser::new(0), bytes)?;
    if wrapper.old_main.is_none() {
        return Err(reencode::Error::UserError("no main export".to_owned()));
    }
    Ok(module.finish())
}

/// The state of [`wrap_main`]'s re-encoding: indices seen so far.
#[derive(Default)]
struct MainWrapper {
    types: u32,
    imports: u32,
    defined: u32,
    old_main: Option<u32>,
}

impl MainWrapper {
    /// Index of the first appended function (the new `main`).
    fn new_main(&self) -> u32 {
        self.imports + self.defined
    }
}

impl Reencode for MainWrapper {
    type Error = String;

    fn parse_type_section(
        &mut self,
        types: &mut TypeSection,
        section: wasmparser::TypeSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        self.types = section.count();
        reencode::utils::parse_type_section(self, types, section)?;
        types.ty().function([], []);
        Ok(())
    }

    fn parse_import_section(
        &mut self,
        imports: &mut ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        self.imports = section.count();
        if self.imports != 1 {
            return Err(reencode::Error::UserError(format!("{} imports, expected 1", self.imports)));
        }
        reencode::utils::parse_import_section(self, imports, section)
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        self.defined = section.count();
        reencode::utils::parse_function_section(self, functions, section)?;
        functions.function(self.types);
        Ok(())
    }

    fn parse_export(&mut self, exports: &mut ExportSection, export: wasmparser::Export<'_>) -> Result<(), reencode::Error<String>> {
        if export.name == "main" && export.kind == wasmparser::ExternalKind::Func {
            self.old_main = Some(export.index);
            exports.export("main", ExportKind::Func, self.new_main());
            return Ok(());
        }
        reencode::utils::parse_export(self, exports, export)
    }

    fn parse_code_section(
        &mut self,
        code: &mut CodeSection,
        section: wasmparser::CodeSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        reencode::utils::parse_code_section(self, code, section)?;
        let Some(old_main) = self.old_main else { return Err(reencode::Error::UserError("no main export".to_owned())) };
        let mut main = Function::new([(DIGEST_LOCALS, ValType::I32), (1, ValType::I64)]);
        let mut sink = main.instructions();
        sink.call(old_main);
        emit_digest(&mut sink, 0, 0);
        sink.end();
        code.function(&main);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_modules_validate_and_export_the_new_main() {
        for seed in 0..50u32 {
            let data: Vec<u8> = (0..600u32).map(|i| (i.wrapping_mul(seed + 3) ^ (i >> 2)) as u8).collect();
            let bytes = generate(&mut Unstructured::new(&data), 16 << 20).unwrap();
            wasmparser::Validator::new_with_features(loader::wasm_features())
                .validate_all(&bytes)
                .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
            let printed = wasmprinter::print_bytes(&bytes).unwrap();
            assert!(printed.contains("(import \"host\" \"write_response\""), "{printed}");
        }
    }
}
