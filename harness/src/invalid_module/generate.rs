//! The valid, ABI-conformant modules the defects start from: wasm-smith
//! limited to the embedder's Wasm features, with its ABI's imports (those
//! for generators) and exports.

use std::sync::OnceLock;

use arbitrary::Unstructured;
use wasm_encoder::{CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection};
use wasm_encoder::{MemorySection, MemoryType, Module, TypeSection};
use wasm_smith::Config;

use crate::abi::io::encoder_types;
use crate::abi::{Abi, Export, PAGE_BYTES, Signature};
use crate::subject::Subject;

/// Input bytes wasm-smith may use: past this it generates from zeros, which
/// bounds the time one input takes.
pub const MAX_GENERATOR_BYTES: usize = 112;

/// What the generator keeps for one subject.
#[derive(Default)]
pub struct Generator {
    config: OnceLock<Config>,
    minimal: OnceLock<Vec<u8>>,
}

impl Generator {
    /// A valid module that follows the ABI, generated from at most
    /// `max_bytes` of `u`. If wasm-smith gives up on the input, the module
    /// generated from no input at all.
    pub fn valid_module(&self, abi: &Abi, u: &mut Unstructured<'_>, max_bytes: usize) -> Vec<u8> {
        let len = u.len().min(max_bytes);
        let Ok(bytes) = u.bytes(len) else { return self.minimal_module(abi) };
        match crate::abi::smith_module(self.config(abi), abi.features, &mut Unstructured::new(bytes)) {
            Ok(module) => module.to_bytes(),
            Err(_) => self.minimal_module(abi),
        }
    }

    /// The wasm-smith configuration: exactly the ABI's features, few and
    /// small functions (the modules are rejected before compiling, so
    /// generating and validating them is the cost).
    fn config(&self, abi: &Abi) -> &Config {
        self.config.get_or_init(|| Config {
            available_imports: Some(imports_module(abi)),
            exports: Some(exports_module(abi)),
            max_funcs: 3,
            max_instructions: 6,
            max_types: 3,
            max_type_size: 16,
            max_imports: 4,
            max_globals: 2,
            max_tables: 1,
            max_table_elements: 16,
            // The exported memory is the one memory; wasm-smith adds it beyond this maximum.
            max_memories: 0,
            max_memory32_bytes: 4 * PAGE_BYTES,
            max_data_segments: 1,
            max_element_segments: 1,
            max_elements: 4,
            ..crate::abi::smith_config(abi.features)
        })
    }

    /// The module wasm-smith generates from empty input: the ABI's bare minimum.
    fn minimal_module(&self, abi: &Abi) -> Vec<u8> {
        self.minimal
            .get_or_init(|| match wasm_smith::Module::new(self.config(abi).clone(), &mut Unstructured::new(&[])) {
                Ok(module) => module.to_bytes(),
                Err(error) => panic!("setup: wasm-smith cannot generate from empty input: {error}"),
            })
            .clone()
    }
}

/// The generator of `subject`.
pub fn generator(subject: &Subject) -> std::sync::Arc<Generator> {
    subject.kept::<Generator>()
}

/// One type per distinct signature, as a module declares them.
#[derive(Default)]
struct Types {
    section: TypeSection,
    signatures: Vec<Signature>,
}

impl Types {
    /// The index of `signature`'s type, adding it the first time.
    fn index(&mut self, signature: &Signature) -> u32 {
        if let Some(index) = self.signatures.iter().position(|known| known == signature) {
            return u32::try_from(index).unwrap_or(u32::MAX);
        }
        self.section.ty().function(encoder_types(&signature.params), encoder_types(&signature.results));
        self.signatures.push(signature.clone());
        self.section.len() - 1
    }
}

/// A module importing every ABI function offered to generators.
fn imports_module(abi: &Abi) -> Vec<u8> {
    let mut types = Types::default();
    let mut imports = ImportSection::new();
    for import in abi.imports.iter().filter(|import| import.for_generators) {
        imports.import(import.module, import.name, EntityType::Function(types.index(&import.signature)));
    }
    let mut module = Module::new();
    module.section(&types.section).section(&imports);
    module.finish()
}

/// A module with the ABI's required exports: memories of 1 to 4 pages
/// first, then functions of their signatures.
fn exports_module(abi: &Abi) -> Vec<u8> {
    let mut types = Types::default();
    let (mut functions, mut code, mut memories, mut exports) =
        (FunctionSection::new(), CodeSection::new(), MemorySection::new(), ExportSection::new());
    for name in abi.exports.iter().filter(|&export| matches!(export, Export::Memory { .. })).map(|export| export.name()) {
        exports.export(name, ExportKind::Memory, memories.len());
        memories.memory(MemoryType { minimum: 1, maximum: Some(4), memory64: false, shared: false, page_size_log2: None });
    }
    for export in &abi.exports {
        let Export::Func { name, signature } = export else { continue };
        exports.export(name, ExportKind::Func, functions.len());
        functions.function(types.index(signature));
        let mut body = Function::new([]);
        body.instructions().unreachable().end();
        code.function(&body);
    }
    let mut module = Module::new();
    module.section(&types.section).section(&functions).section(&memories).section(&exports).section(&code);
    module.finish()
}
