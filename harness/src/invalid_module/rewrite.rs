//! Re-encodes a valid module (wasmparser in, wasm-encoder out) while applying
//! the defects that live in its sections and function bodies.

use std::borrow::Cow;
use std::convert::Infallible;

use wasm_encoder::reencode::{Error, Reencode, utils};
use wasm_encoder::{
    BlockType, ConstExpr, Encode, EntityType, ExportKind, GlobalType, HeapType, ImportSection, Instruction, MemArg, MemoryType, SectionId, ValType,
};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef, WasmFeatures};

use super::catalog::{Defect, DefectKind};
use crate::abi::{Abi, Export};

/// What the defects need to know about the module before rewriting it.
#[derive(Debug, Default)]
struct Info {
    /// Parameter count of every type (0 for non-function types).
    type_params: Vec<u32>,
    /// Type index of every function, imported ones first.
    func_types: Vec<u32>,
    imported_funcs: u32,
    globals: u32,
    has_table: bool,
    has_memory: bool,
    /// Element and data segments.
    elements: u32,
    data: u32,
    /// The ABI's entry function.
    entry: u32,
    /// Another function the ABI requires (Oak's `alloc`), if it requires one.
    other: Option<u32>,
    /// A function that takes parameters, if any.
    with_params: Option<u32>,
}

impl Info {
    fn read(module: &[u8], abi: &Abi) -> Result<Info, wasmparser::BinaryReaderError> {
        let mut info = Info::default();
        for payload in Parser::new(0).parse_all(module) {
            match payload? {
                Payload::TypeSection(reader) => {
                    // Every type of every recursion group takes an index; a
                    // struct or array type (the GC proposal) has no parameters.
                    for group in reader {
                        for sub_type in group?.into_types() {
                            let params = match &sub_type.composite_type.inner {
                                wasmparser::CompositeInnerType::Func(func) => len(func.params()),
                                _ => 0,
                            };
                            info.type_params.push(params);
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        match import?.ty {
                            TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                                info.func_types.push(ty);
                                info.imported_funcs += 1;
                            }
                            TypeRef::Global(_) => info.globals += 1,
                            TypeRef::Table(_) => info.has_table = true,
                            TypeRef::Memory(_) => info.has_memory = true,
                            TypeRef::Tag(_) => {}
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    for ty in reader {
                        info.func_types.push(ty?);
                    }
                }
                Payload::TableSection(reader) => info.has_table |= reader.count() > 0,
                Payload::MemorySection(reader) => info.has_memory |= reader.count() > 0,
                Payload::GlobalSection(reader) => info.globals += reader.count(),
                Payload::ElementSection(reader) => info.elements = reader.count(),
                Payload::DataSection(reader) => info.data = reader.count(),
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export?;
                        if export.kind != ExternalKind::Func {
                            continue;
                        }
                        if export.name == abi.entry {
                            info.entry = export.index;
                        } else if info.other.is_none() && abi.exports.iter().any(|required| required.name() == export.name) {
                            info.other = Some(export.index);
                        }
                    }
                }
                _ => {}
            }
        }
        info.with_params = (0..info.funcs()).find(|func| info.type_params.get(info.type_of(*func) as usize).is_some_and(|params| *params > 0));
        Ok(info)
    }

    fn funcs(&self) -> u32 {
        len(&self.func_types)
    }

    fn type_of(&self, func: u32) -> u32 {
        self.func_types.get(func as usize).copied().unwrap_or(0)
    }
}

fn len<T>(items: &[T]) -> u32 {
    u32::try_from(items.len()).unwrap_or(u32::MAX)
}

/// Rebuilds `module` with the section- and code-level `defects` applied,
/// under the ABI and features of `abi`.
pub fn rewrite(module: &[u8], defects: &[Defect], abi: &Abi) -> Result<Vec<u8>, Error<Infallible>> {
    let info = Info::read(module, abi)?;
    let has = |kind| defects.iter().any(|defect| defect.kind == kind);
    let mut rewriter = Rewriter {
        shift_functions: has(DefectKind::ForbiddenImport),
        import_pending: has(DefectKind::ForbiddenImport),
        global_pending: has(DefectKind::BadConstExpr),
        start_pending: has(DefectKind::BadStart),
        info,
        defects,
        abi,
        body: 0,
    };
    let mut encoded = wasm_encoder::Module::new();
    rewriter.parse_core_module(&mut encoded, Parser::new(0), module)?;
    Ok(encoded.finish())
}

struct Rewriter<'a> {
    info: Info,
    defects: &'a [Defect],
    abi: &'a Abi,
    /// A function import is added, so defined functions move up by one.
    shift_functions: bool,
    /// Sections a defect adds to, still to be written if the module lacks them.
    import_pending: bool,
    global_pending: bool,
    start_pending: bool,
    /// Index of the next function body, among defined functions.
    body: u32,
}

/// Position of a section id in the order the binary format requires.
fn rank(id: SectionId) -> u8 {
    match id {
        SectionId::Custom => 0,
        SectionId::Type => 1,
        SectionId::Import => 2,
        SectionId::Function => 3,
        SectionId::Table => 4,
        SectionId::Memory => 5,
        SectionId::Tag => 6,
        SectionId::Global => 7,
        SectionId::Export => 8,
        SectionId::Start => 9,
        SectionId::Element => 10,
        SectionId::DataCount => 11,
        SectionId::Code => 12,
        SectionId::Data => 13,
    }
}

impl<'a> Rewriter<'a> {
    fn each(&self, kind: DefectKind) -> impl Iterator<Item = &'a Defect> + use<'a> {
        self.defects.iter().filter(move |defect| defect.kind == kind)
    }

    /// Functions after rewriting: one more if an import was added.
    fn funcs_after(&self) -> u32 {
        self.info.funcs() + 1
    }

    /// Globals after rewriting: one more if a global was added.
    fn globals_after(&self) -> u32 {
        self.info.globals + 1
    }

    fn add_forbidden_imports(&mut self, imports: &mut ImportSection) {
        let entry_type = self.info.type_of(self.info.entry);
        const NAMES: [(&str, &str); 4] = [("env", "abort"), ("host", "exec"), ("host", "log"), ("wasi_snapshot_preview1", "fd_write")];
        // The entry's type (`[] -> []` or `[] -> [i32]`) is the signature of
        // none of these names where an ABI allows the name at all.
        if let Some(defect) = self.each(DefectKind::ForbiddenImport).next() {
            let (module, name) = NAMES[defect.pick(2, 4) as usize];
            imports.import(module, name, EntityType::Function(entry_type));
        }
        self.import_pending = false;
    }

    fn add_bad_global(&mut self, globals: &mut wasm_encoder::GlobalSection) {
        if let Some(defect) = self.each(DefectKind::BadConstExpr).next() {
            let amount = (defect.picks[2] >> 8) % 1000;
            let i32_global = GlobalType { val_type: ValType::I32, mutable: false, shared: false };
            let init = match defect.pick(2, 4) {
                0 => ConstExpr::i64_const(i64::from(amount)),
                // `i32.div_s` is constant with no proposal.
                1 => ConstExpr::raw([0x41, 0x01, 0x41, 0x02, 0x6d]),
                2 => ConstExpr::global_get(self.globals_after() + amount),
                _ => ConstExpr::f32_const(0.0.into()),
            };
            globals.global(i32_global, &init);
        }
        self.global_pending = false;
    }

    fn bad_start(&mut self) -> u32 {
        self.start_pending = false;
        match self.each(DefectKind::BadStart).next() {
            Some(defect) if defect.pick(2, 2) == 0 => match self.info.with_params {
                Some(func) => self.function_index(func).unwrap_or(u32::MAX),
                None => u32::MAX,
            },
            Some(defect) => self.funcs_after() + (defect.picks[2] >> 8) % 1000,
            None => 0,
        }
    }

    /// The bytes a code defect splices into a body with `locals` locals
    /// (parameters included) and `ops` operators.
    fn code_bytes(&self, defect: &Defect, locals: u32, ops: u32) -> Vec<u8> {
        use Instruction as I;
        let amount = (defect.picks[2] >> 8) % 1000;
        let mem = |offset: u64, align: u32, memory_index: u32| MemArg { offset, align, memory_index };
        let variant = |n: u32| defect.pick(2, n);
        let instructions: Vec<Instruction<'static>> = match defect.kind {
            DefectKind::TypeError => match variant(4) {
                0 => vec![I::I64Const(0), I::I32Eqz, I::Drop],
                1 => vec![I::F32Const(0.0.into()), I::I32Const(1), I::I32Add, I::Drop],
                2 => vec![I::I32Const(0), I::F64Neg, I::Drop],
                _ => vec![I::I32Const(0), I::I64Const(0), I::Select, I::Drop],
            },
            DefectKind::StackUnderflow => {
                let body = match variant(3) {
                    0 => vec![I::Drop],
                    1 => vec![I::I32Eqz, I::Drop],
                    _ => vec![I::I32Const(0), I::I32Add, I::Drop],
                };
                [vec![I::Block(BlockType::Empty)], body, vec![I::End]].concat()
            }
            DefectKind::StackHeight => match variant(4) {
                0 => vec![I::Block(BlockType::Empty), I::I32Const(amount as i32), I::End],
                1 => vec![I::Block(BlockType::Result(ValType::I32)), I::End, I::Drop],
                2 => vec![I::Block(BlockType::Empty), I::I64Const(0), I::I64Const(0), I::End],
                _ => vec![I::Block(BlockType::Result(ValType::I64)), I::I64Const(0), I::I64Const(0), I::End, I::Drop],
            },
            DefectKind::BadFunctionIndex => match variant(2) {
                0 => vec![I::Call(self.funcs_after() + amount)],
                _ => vec![I::Call(u32::MAX)],
            },
            DefectKind::BadLocalIndex => match variant(3) {
                0 => vec![I::LocalGet(locals.saturating_add(amount)), I::Drop],
                1 => vec![I::I32Const(0), I::LocalSet(locals.saturating_add(amount))],
                _ => vec![I::LocalGet(u32::MAX), I::Drop],
            },
            DefectKind::BadGlobalIndex => match variant(2) {
                0 => vec![I::GlobalGet(self.globals_after() + amount), I::Drop],
                _ => vec![I::I32Const(0), I::GlobalSet(self.globals_after() + amount)],
            },
            // Odd variants of bad-type-index go to the function section instead.
            DefectKind::BadTypeIndex if defect.picks[2].is_multiple_of(2) => {
                vec![I::Block(BlockType::FunctionType(len(&self.info.type_params) + amount)), I::End]
            }
            // Table 1 and up needs reference types; with no table even table 0 is missing.
            DefectKind::BadTableIndex => {
                let table = if self.info.has_table { 1 + amount } else { amount };
                match variant(2) {
                    0 => vec![I::I32Const(0), I::CallIndirect { type_index: 0, table_index: table }],
                    _ => vec![I::I32Const(0), I::I32Const(0), I::I32Const(0), I::TableInit { elem_index: 0, table }],
                }
            }
            // Without a data count section `data.drop` and `memory.init` are invalid whatever the index.
            DefectKind::BadSegmentIndex => match variant(3) {
                0 => vec![I::DataDrop(self.info.data + amount)],
                1 => vec![I::I32Const(0), I::I32Const(0), I::I32Const(0), I::MemoryInit { mem: 0, data_index: self.info.data + amount }],
                _ => vec![I::ElemDrop(self.info.elements + amount)],
            },
            DefectKind::BadMemoryIndex => match variant(3) {
                0 => vec![I::I32Const(0), I::I32Load(mem(0, 2, 1 + amount)), I::Drop],
                1 => vec![I::MemorySize(1 + amount), I::Drop],
                _ => vec![I::I32Const(0), I::I32Const(0), I::I32Store(mem(0, 2, 1 + amount))],
            },
            DefectKind::BadBranchDepth => {
                let depth = ops.saturating_add(1 + amount);
                match variant(3) {
                    0 => vec![I::Br(depth)],
                    1 => vec![I::I32Const(0), I::BrIf(depth)],
                    _ => vec![I::I32Const(0), I::BrTable(Cow::Owned(vec![0]), depth)],
                }
            }
            DefectKind::HugeOffset => {
                let offset = if amount.is_multiple_of(2) { (1 << 32) + u64::from(amount) } else { u64::MAX - u64::from(amount) };
                match variant(4) {
                    0 => vec![I::I32Const(0), I::I32Load(mem(offset, 2, 0)), I::Drop],
                    1 => vec![I::I32Const(0), I::I64Load8U(mem(offset, 0, 0)), I::Drop],
                    2 => vec![I::I32Const(0), I::F64Load(mem(offset, 3, 0)), I::Drop],
                    _ => vec![I::I32Const(0), I::I32Const(0), I::I32Store(mem(offset, 2, 0))],
                }
            }
            DefectKind::HugeAlignment => {
                // Alignment exponents up to 31 still decode; past natural they are invalid.
                let align = |natural: u32| natural + 1 + amount % (31 - natural);
                match variant(4) {
                    0 => vec![I::I32Const(0), I::I32Load(mem(0, align(2), 0)), I::Drop],
                    1 => vec![I::I32Const(0), I::I64Load(mem(0, align(3), 0)), I::Drop],
                    2 => vec![I::I32Const(0), I::I32Load8S(mem(0, align(0), 0)), I::Drop],
                    _ => vec![I::I32Const(0), I::I64Const(0), I::I64Store32(mem(0, align(2), 0))],
                }
            }
            DefectKind::DisabledProposal => {
                // Operators of proposals, in order of preference; the first
                // four the embedder does not enable are the candidates.
                let proposals = [
                    (WasmFeatures::SIMD, vec![I::V128Const(0), I::Drop]),
                    (WasmFeatures::REFERENCE_TYPES, vec![I::RefNull(HeapType::FUNC), I::Drop]),
                    (WasmFeatures::THREADS, vec![I::I32Const(0), I::I32AtomicLoad(mem(0, 2, 0)), I::Drop]),
                    (WasmFeatures::TAIL_CALL, vec![I::ReturnCall(0)]),
                    (WasmFeatures::EXCEPTIONS, vec![I::ThrowRef]),
                    (WasmFeatures::WIDE_ARITHMETIC, vec![I::I64Add128]),
                ];
                let disabled: Vec<Vec<Instruction<'static>>> =
                    proposals.into_iter().filter(|(feature, _)| !self.abi.features.contains(*feature)).map(|(_, ops)| ops).take(4).collect();
                let count = len(&disabled);
                disabled.into_iter().nth(variant(count) as usize).unwrap_or_default()
            }
            DefectKind::IllegalOpcode => return ILLEGAL_OPCODES[defect.pick(2, len(ILLEGAL_OPCODES)) as usize].to_vec(),
            _ => Vec::new(),
        };
        let mut bytes = Vec::new();
        for instruction in &instructions {
            instruction.encode(&mut bytes);
        }
        bytes
    }
}

/// Where a code defect goes among `count` functions or operators (`pick` is
/// which of its picks chooses): an illegal opcode at the very start (the parser stops there, so a later place would
/// only vary the valid code before it), the others where the input says.
fn place(defect: &Defect, pick: usize, count: u32) -> u32 {
    match defect.kind {
        DefectKind::IllegalOpcode => 0,
        _ => defect.pick(pick, count),
    }
}

/// Byte sequences that decode as no operator: a reserved opcode, and unused
/// sub-opcodes of the 0xfc, 0xfd and 0xfe prefixes.
const ILLEGAL_OPCODES: &[&[u8]] = &[&[0x27], &[0xfc, 0xff, 0x01], &[0xfd, 0xff, 0xff, 0x03], &[0xfe, 0x7f]];

impl Reencode for Rewriter<'_> {
    type Error = Infallible;

    fn function_index(&mut self, func: u32) -> Result<u32, Error<Infallible>> {
        Ok(if self.shift_functions && func >= self.info.imported_funcs { func + 1 } else { func })
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut wasm_encoder::Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), Error<Infallible>> {
        let past = |section: SectionId| before.is_none_or(|next| rank(next) > rank(section));
        if self.import_pending && past(SectionId::Import) {
            let mut imports = ImportSection::new();
            self.add_forbidden_imports(&mut imports);
            module.section(&imports);
        }
        if self.global_pending && past(SectionId::Global) {
            let mut globals = wasm_encoder::GlobalSection::new();
            self.add_bad_global(&mut globals);
            module.section(&globals);
        }
        if self.start_pending && past(SectionId::Start) {
            let function_index = self.bad_start();
            module.section(&wasm_encoder::StartSection { function_index });
        }
        Ok(())
    }

    fn parse_import_section(&mut self, imports: &mut ImportSection, section: wasmparser::ImportSectionReader<'_>) -> Result<(), Error<Infallible>> {
        utils::parse_import_section(self, imports, section)?;
        if self.import_pending {
            self.add_forbidden_imports(imports);
        }
        Ok(())
    }

    fn parse_global_section(
        &mut self,
        globals: &mut wasm_encoder::GlobalSection,
        section: wasmparser::GlobalSectionReader<'_>,
    ) -> Result<(), Error<Infallible>> {
        utils::parse_global_section(self, globals, section)?;
        if self.global_pending {
            self.add_bad_global(globals);
        }
        Ok(())
    }

    fn start_section(&mut self, start: u32) -> Result<u32, Error<Infallible>> {
        if self.start_pending { Ok(self.bad_start()) } else { self.function_index(start) }
    }

    fn parse_function_section(
        &mut self,
        functions: &mut wasm_encoder::FunctionSection,
        section: wasmparser::FunctionSectionReader<'_>,
    ) -> Result<(), Error<Infallible>> {
        let defined = section.count();
        // Odd variants of bad-type-index name a missing type in a function declaration.
        let declaration = self
            .each(DefectKind::BadTypeIndex)
            .find(|defect| defect.picks[2] % 2 == 1)
            .map(|defect| (defect.pick(0, defined), len(&self.info.type_params) + defect.picks[1] % 1000));
        for (index, ty) in section.into_iter().enumerate() {
            let ty = match declaration {
                Some((target, missing)) if target as usize == index => missing,
                _ => self.type_index(ty?)?,
            };
            functions.function(ty);
        }
        Ok(())
    }

    fn parse_memory_section(
        &mut self,
        memories: &mut wasm_encoder::MemorySection,
        section: wasmparser::MemorySectionReader<'_>,
    ) -> Result<(), Error<Infallible>> {
        let cap_pages = u32::try_from(self.abi.limits.max_memory_pages().unwrap_or(65_536)).unwrap_or(u32::MAX).min(65_535);
        for (index, memory) in section.into_iter().enumerate() {
            let mut memory = self.memory_type(memory?)?;
            if index == 0 {
                for defect in self.defects {
                    let amount = u64::from((defect.picks[2] >> 8) % 1000);
                    match defect.kind {
                        DefectKind::MinOverMax if !(self.info.has_table && defect.picks[2] % 2 == 1) => {
                            memory.minimum = amount % 4 + 1;
                            memory.maximum = Some(amount % 4);
                        }
                        DefectKind::MemoryOverSpec => (memory.minimum, memory.maximum) = (65_537 + amount, None),
                        DefectKind::MemoryOverPolicy => {
                            let above = defect.picks[1] % (65_536 - cap_pages);
                            (memory.minimum, memory.maximum) = (u64::from(cap_pages + 1 + above), None);
                        }
                        _ => {}
                    }
                }
            }
            memories.memory(memory);
        }
        for defect in self.each(DefectKind::ExtraMemory) {
            let minimum = u64::from(defect.pick(2, 2));
            memories.memory(MemoryType { minimum, maximum: None, memory64: false, shared: false, page_size_log2: None });
        }
        Ok(())
    }

    fn parse_table_section(
        &mut self,
        tables: &mut wasm_encoder::TableSection,
        section: wasmparser::TableSectionReader<'_>,
    ) -> Result<(), Error<Infallible>> {
        for (index, table) in section.into_iter().enumerate() {
            let table = table?;
            let mut ty = self.table_type(table.ty)?;
            let defect = self.each(DefectKind::MinOverMax).find(|defect| defect.picks[2] % 2 == 1);
            if let (0, Some(defect)) = (index, defect) {
                let amount = u64::from((defect.picks[2] >> 8) % 1000);
                (ty.minimum, ty.maximum) = (amount + 1, Some(amount));
            }
            match table.init {
                wasmparser::TableInit::RefNull => tables.table(ty),
                wasmparser::TableInit::Expr(expr) => tables.table_with_init(ty, &self.const_expr(expr)?),
            };
        }
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), Error<Infallible>> {
        let required: Vec<&str> = self.abi.exports.iter().map(Export::name).collect();
        let entry = self.function_index(self.info.entry)?;
        let other = self.info.other.map(|other| self.function_index(other)).transpose()?;
        let abi_entry = self.abi.entry;
        for export in section {
            let export = export?;
            let mut kind = ExportKind::from(export.kind);
            let mut index = self.external_index(export.kind, export.index)?;
            let count = u32::try_from(required.len()).unwrap_or(u32::MAX);
            if self.each(DefectKind::MissingExport).any(|defect| required.get(defect.pick(2, count) as usize) == Some(&export.name)) {
                continue;
            }
            let is_entry = export.name == abi_entry;
            let is_other = !is_entry && export.kind == ExternalKind::Func && required.contains(&export.name);
            let is_memory = export.kind == ExternalKind::Memory && required.contains(&export.name);
            for defect in self.each(DefectKind::MistypedExport) {
                // Each arm sets kind and index both, so that two of these compose.
                let memory = self.info.has_memory.then_some((ExportKind::Memory, 0));
                match (defect.pick(2, 4), is_entry, is_other, is_memory) {
                    (0, true, _, _) => {
                        if let Some(mistyped) = other.map(|other| (ExportKind::Func, other)).or(memory) {
                            (kind, index) = mistyped;
                        }
                    }
                    (0 | 3, _, true, _) | (1, _, _, true) => (kind, index) = (ExportKind::Func, entry),
                    (2, true, _, _) => {
                        if let Some(mistyped) = memory {
                            (kind, index) = mistyped;
                        }
                    }
                    _ => {}
                }
            }
            exports.export(export.name, kind, index);
        }
        Ok(())
    }

    fn parse_function_body(&mut self, code: &mut wasm_encoder::CodeSection, func: wasmparser::FunctionBody<'_>) -> Result<(), Error<Infallible>> {
        let defined = self.info.funcs().saturating_sub(self.info.imported_funcs);
        let body = self.body;
        self.body += 1;
        let mut function = self.new_function_with_parsed_locals(&func)?;
        let mut locals = self.info.type_params.get(self.info.type_of(self.info.imported_funcs + body) as usize).copied().unwrap_or(0);
        for local in func.get_locals_reader()? {
            locals = locals.saturating_add(local?.0);
        }
        let mut reader = func.get_operators_reader()?;
        let mut instructions = Vec::new();
        while !reader.eof() {
            instructions.push(self.parse_instruction(&mut reader)?);
        }
        let ops = len(&instructions);
        let mut splices: Vec<(u32, Vec<u8>)> = self
            .defects
            .iter()
            .filter(|defect| defect.kind.phase() == super::catalog::Phase::Code && place(defect, 0, defined) == body)
            // The last operator is the body's closing `end`: splice before it at the latest.
            .map(|defect| (place(defect, 1, ops), self.code_bytes(defect, locals, ops)))
            .collect();
        splices.sort_by_key(|(position, _)| *position);
        let mut splices = splices.into_iter().peekable();
        for (position, instruction) in instructions.iter().enumerate() {
            while let Some((_, bytes)) = splices.next_if(|(at, _)| *at as usize == position) {
                function.raw(bytes);
            }
            function.instruction(instruction);
        }
        code.function(&function);
        Ok(())
    }
}
