//! The wasm-smith generator: random well-formed modules configured for the
//! embedder (exactly its Wasm features, its ABI's exports, one small memory
//! with a maximum, bulk memory, traps allowed, memarg offsets biased past the
//! end), calling only the ABI's imports marked for generators.
//!
//! Most modules are made to terminate (wasm-smith's termination fuel), so
//! that wasmi can run them to the end too. Some (the caller chooses which)
//! are left as wasm-smith wrote them, with a start function allowed: hostile code
//! that may never end, in `main` or at instantiation, which only the
//! embedder's own fuel and deadline can stop.
//!
//! The entry function is then wrapped: the exported one calls wasm-smith's
//! and, if it returns, answers through the ABI's glue with the same memory
//! digest as the probe modules, so the differential oracle can compare final
//! memories through the response.

use arbitrary::{Result, Unstructured};
use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection, MemorySection, MemoryType, Module, SectionId,
    TypeSection, ValType,
};
use wasm_smith::{Config, MemoryOffsetChoices};

use super::probes::{DIGEST_LOCALS, RESPONSE_LEN, emit_digest};
use super::spec::{MAX_PAGES_32, PAGE};
use crate::abi::io::{Scratch, encoder_types};
use crate::abi::{Abi, Export, Import};

/// Loop iterations and calls a generated module may make before it traps
/// (wasm-smith's `ensure_termination`), so that no input burns the whole
/// fuel budget. Kept under wasmi's default recursion limit (1,000 frames), so
/// that endless recursion ends in the same trap on both engines rather than
/// in a skipped comparison.
pub const LOOP_FUEL: u32 = 500;

/// A module wasm-smith generated.
pub struct SmithModule {
    /// The module, its entry wrapped.
    pub bytes: Vec<u8>,
    /// Whether it was left without termination fuel: it may never end.
    pub may_not_end: bool,
}

/// The configuration for a module of `abi` whose memory has `minimum` and
/// `maximum` pages; a start function only in a module that may not end.
pub fn config(abi: &Abi, minimum: u64, maximum: u64, may_not_end: bool) -> Config {
    Config {
        module_shape: Some(shape_module(abi, minimum, maximum)),
        allow_start_export: may_not_end,
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
        ..crate::abi::smith_config(abi.features)
    }
}

/// Generates a module of `abi` from the input, with its entry wrapped to
/// respond with the digest; without termination fuel if `may_not_end`.
pub fn generate(u: &mut Unstructured<'_>, abi: &Abi, may_not_end: bool) -> Result<SmithModule> {
    let minimum = 1 + u64::from(u.arbitrary::<u8>()? % 2);
    let cap_pages = abi.limits.max_memory_pages().unwrap_or(MAX_PAGES_32);
    let maximum = match u.arbitrary::<u8>()? % 3 {
        0 => minimum,
        1 => minimum + 1 + u64::from(u.arbitrary::<u8>()? % 4),
        _ => (cap_pages + 1).min(MAX_PAGES_32),
    };
    let mut module = crate::abi::smith_module(&config(abi, minimum, maximum, may_not_end), abi.features, u)?;
    if !may_not_end {
        module.ensure_termination(LOOP_FUEL).map_err(|_| arbitrary::Error::IncorrectFormat)?;
    }
    let bytes = wrap_entry(&module.to_bytes(), abi).map_err(|_| arbitrary::Error::IncorrectFormat)?;
    Ok(SmithModule { bytes, may_not_end })
}

/// The module wasm-smith takes its imports and exports from: the glue's
/// imports for generators, the ABI's exported functions, and memory 0
/// exported as `memory` with the given limits.
fn shape_module(abi: &Abi, minimum: u64, maximum: u64) -> Vec<u8> {
    let mut types = TypeSection::new();
    let mut imports = ImportSection::new();
    for import in abi.io.imports().iter().filter(|import| import.for_generators) {
        let index = types.len();
        types.ty().function(encoder_types(&import.signature.params), encoder_types(&import.signature.results));
        imports.import(import.module, import.name, EntityType::Function(index));
    }
    let mut functions = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    let mut index = imports.len();
    for export in &abi.exports {
        let Export::Func { name, signature } = export else { continue };
        let ty = types.len();
        types.ty().function(encoder_types(&signature.params), encoder_types(&signature.results));
        functions.function(ty);
        exports.export(name, ExportKind::Func, index);
        let mut body = Function::new([]);
        body.instructions().unreachable().end();
        code.function(&body);
        index += 1;
    }
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum, maximum: Some(maximum), memory64: false, shared: false, page_size_log2: None });
    exports.export("memory", ExportKind::Memory, 0);
    let mut module = Module::new();
    module.section(&types).section(&imports).section(&functions).section(&memories).section(&exports).section(&code);
    module.finish()
}

/// Re-encodes a wasm-smith module with the glue's imports in glue order (so
/// glue import `i` is function `i`), and one function appended: a new
/// exported entry that calls the old one and then responds with the digest
/// of the final memory.
fn wrap_entry(bytes: &[u8], abi: &Abi) -> Result<Vec<u8>, reencode::Error<String>> {
    let mut wrapper =
        EntryWrapper { abi, glue: abi.io.imports(), types: 0, imports: Vec::new(), imports_written: false, defined: 0, old_entry: None };
    let mut module = Module::new();
    wrapper.parse_core_module(&mut module, wasmparser::Parser::new(0), bytes)?;
    if wrapper.old_entry.is_none() {
        return Err(reencode::Error::UserError(format!("no {} export", abi.entry)));
    }
    Ok(module.finish())
}

/// The state of [`wrap_entry`]'s re-encoding.
struct EntryWrapper<'a> {
    abi: &'a Abi,
    /// The glue's imports, in glue order.
    glue: Vec<Import>,
    /// Types in wasm-smith's module; the glue's types and the new entry's follow.
    types: u32,
    /// For each of wasm-smith's imports, its index among the glue's.
    imports: Vec<u32>,
    /// Whether the glue's import section is written.
    imports_written: bool,
    /// Functions wasm-smith defined.
    defined: u32,
    /// wasm-smith's entry function, in the new numbering.
    old_entry: Option<u32>,
}

impl EntryWrapper<'_> {
    /// The glue's imports, each with its type (after wasm-smith's types).
    fn import_section(&mut self) -> ImportSection {
        let mut imports = ImportSection::new();
        for (offset, import) in (0..).zip(&self.glue) {
            imports.import(import.module, import.name, EntityType::Function(self.types + offset));
        }
        self.imports_written = true;
        imports
    }

    fn glue_count(&self) -> u32 {
        u32::try_from(self.glue.len()).unwrap_or(u32::MAX)
    }

    /// Index of the appended entry function.
    fn new_entry(&self) -> u32 {
        self.glue_count() + self.defined
    }
}

impl Reencode for EntryWrapper<'_> {
    type Error = String;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error<String>> {
        let imported = u32::try_from(self.imports.len()).unwrap_or(u32::MAX);
        match self.imports.get(func as usize) {
            Some(glue) => Ok(*glue),
            None => Ok(func - imported + self.glue_count()),
        }
    }

    fn parse_type_section(&mut self, types: &mut TypeSection, section: wasmparser::TypeSectionReader<'_>) -> Result<(), reencode::Error<String>> {
        self.types = section.count();
        reencode::utils::parse_type_section(self, types, section)?;
        for import in &self.glue {
            types.ty().function(encoder_types(&import.signature.params), encoder_types(&import.signature.results));
        }
        types.ty().function([], encoder_types(&self.abi.io.entry_results()));
        Ok(())
    }

    fn parse_import_section(
        &mut self,
        imports: &mut ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        for import in section.into_imports() {
            let import = import?;
            let position = self.glue.iter().position(|glue| glue.module == import.module && glue.name == import.name);
            let position = position.ok_or_else(|| reencode::Error::UserError(format!("unexpected import {}.{}", import.module, import.name)))?;
            self.imports.push(u32::try_from(position).unwrap_or(u32::MAX));
        }
        *imports = self.import_section();
        Ok(())
    }

    /// Writes the glue's imports where wasm-smith's module had no import section.
    fn intersperse_section_hook(
        &mut self,
        module: &mut Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), reencode::Error<String>> {
        let past_imports = before.is_none_or(|next| !matches!(next, SectionId::Custom | SectionId::Type | SectionId::Import));
        if !self.imports_written && past_imports {
            module.section(&self.import_section());
        }
        Ok(())
    }

    fn parse_function_section(
        &mut self,
        functions: &mut FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), reencode::Error<String>> {
        self.defined = section.count();
        reencode::utils::parse_function_section(self, functions, section)?;
        functions.function(self.types + self.glue_count());
        Ok(())
    }

    fn parse_export(&mut self, exports: &mut ExportSection, export: wasmparser::Export<'_>) -> Result<(), reencode::Error<String>> {
        if export.name == self.abi.entry && export.kind == wasmparser::ExternalKind::Func {
            self.old_entry = Some(self.function_index(export.index)?);
            exports.export(self.abi.entry, ExportKind::Func, self.new_entry());
            return Ok(());
        }
        reencode::utils::parse_export(self, exports, export)
    }

    fn parse_code_section(&mut self, code: &mut CodeSection, section: wasmparser::CodeSectionReader<'_>) -> Result<(), reencode::Error<String>> {
        reencode::utils::parse_code_section(self, code, section)?;
        let Some(old_entry) = self.old_entry else {
            return Err(reencode::Error::UserError(format!("no {} export", self.abi.entry)));
        };
        let old_results = self.abi.io.entry_results().len();
        let glue_i32 = DIGEST_LOCALS;
        let scratch = Scratch { i32s: [glue_i32, glue_i32 + 1], i64: glue_i32 + 3 };
        let mut entry = Function::new([(DIGEST_LOCALS + 2, ValType::I32), (2, ValType::I64)]);
        let mut sink = entry.instructions();
        sink.call(old_entry);
        for _ in 0..old_results {
            sink.drop();
        }
        emit_digest(&mut sink, 0, glue_i32 + 2);
        self.abi.io.respond(&mut sink, 0, RESPONSE_LEN as u32, scratch);
        self.abi.io.finish(&mut sink);
        sink.end();
        code.function(&entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_modules_validate_and_export_the_new_entry() {
        let abi = crate::test_abi::abi(1024);
        let (mut unbounded, mut with_start) = (0, 0);
        for seed in 0..200u32 {
            let data: Vec<u8> = (0..600u32).map(|i| (i.wrapping_mul(seed + 3) ^ (i >> 2)) as u8).collect();
            let module = generate(&mut Unstructured::new(&data), &abi, seed % 2 == 0).unwrap();
            wasmparser::Validator::new_with_features(abi.features).validate_all(&module.bytes).unwrap_or_else(|error| panic!("seed {seed}: {error}"));
            let printed = wasmprinter::print_bytes(&module.bytes).unwrap();
            assert!(printed.contains(&format!("(export \"{}\"", abi.entry)), "{printed}");
            let starts = printed.contains("(start ");
            assert!(module.may_not_end || !starts, "seed {seed}: a terminating module with a start function");
            unbounded += usize::from(module.may_not_end);
            with_start += usize::from(starts);
        }
        assert_eq!(unbounded, 100);
        assert!(with_start > 0, "no module has a start function");
    }
}
