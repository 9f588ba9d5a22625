//! The probe generator: probes (loads and stores of every width at the edge
//! of memory, grows, bulk operations straddling the end) run by a probe
//! interpreter, one fixed module per memory shape.
//!
//! The interpreter's `main` reads up to [`MAX_STEPS`] step records from the
//! request, performs them in order and, if nothing trapped, answers with a
//! digest of its final memory. Memarg offsets are immediates, so the
//! interpreter has one load or store per access kind and offset of
//! [`OFFSETS`]; the base address, the stored value and the operands of
//! grows and bulk operations come from the record. Each shape's interpreter
//! is compiled once per process ([`super::cache`]); an input only runs it,
//! once per probe, each time in a fresh store, with the probe's steps as the
//! request.
//!
//! The interpreter talks to its embedder through the ABI's glue
//! ([`GuestIo`]): the entry function has the glue put the request at
//! [`REQUEST_AT`], copies every record into locals before the first step
//! runs (a step may overwrite the request), and has the glue answer with the
//! 8-byte digest at 0 followed by the page count (u32 LE) at 8.

use arbitrary::{Result, Unstructured};
use wasm_encoder::{
    BlockType, CodeSection, CustomSection, DataCountSection, DataSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    ImportSection, InstructionSink, MemArg, MemorySection, MemoryType, Module, Section, TypeSection, ValType,
};

use super::spec::{Access, LOADS, MAX_PAGES_32, MemoryModel, PAGE, STORES, Step};
use crate::abi::GuestIo;
use crate::abi::io::{Scratch, encoder_types};

/// Where the glue puts the request.
pub const REQUEST_AT: u32 = 64;
/// Bytes of the response: the digest, then the page count.
pub const RESPONSE_LEN: usize = 12;
/// Most probes (and so invocations) per input.
pub const MAX_PROBES: usize = 3;
/// Most steps per probe.
pub const MAX_STEPS: usize = 4;
/// Bytes hashed at each edge of each page: the digest covers the first and
/// last `WINDOW` bytes of every page, where the probes land (low addresses,
/// and `size - k` for every size the memory had), and the page count. Hashing
/// whole pages would cost more fuel than the rest of the probe, on both engines.
pub const WINDOW: i32 = 64;
/// The memarg offsets the interpreter has a load and a store for: small ones,
/// page and policy-cap sized ones, and ones that carry `base + offset` past
/// 2^31 and 2^32.
pub const OFFSETS: [u32; 17] =
    [0, 1, 2, 3, 4, 7, 8, 0xff, 0xffff, 0x1_0000, 0x100_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_fff8, 0xffff_fffc, 0xffff_fffe, 0xffff_ffff];
/// The passive data segment `memory.init` reads (the same in every interpreter).
pub const SEGMENT: [u8; 32] = *b"memory.init segment, 32 bytes.\n\0";
/// Bytes of one step record: `op`, three `u32` operands, a `u64` value.
pub const RECORD_BYTES: usize = 24;

/// The memory an interpreter declares: initial and maximum pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProbeShape {
    /// Initial pages.
    pub minimum: u64,
    /// Declared maximum pages.
    pub maximum: Option<u64>,
}

/// A generated input of the probe generator: the memory shape and the probes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeModule {
    /// The memory the interpreter declares.
    pub shape: ProbeShape,
    /// The probes; probe `i` runs in invocation `i`.
    pub probes: Vec<Vec<Step>>,
}

impl ProbeModule {
    /// The memory as instantiated, under a host cap of `cap_bytes`.
    pub fn model(&self, cap_bytes: u64) -> MemoryModel {
        MemoryModel { pages: self.shape.minimum, maximum: self.shape.maximum, cap_bytes, segment_len: SEGMENT.len() as u64 }
    }

    /// Derives probes from the input; the model's cap guides grow sizes.
    /// There are 3 x 9 shapes, so at most 27 interpreters per process.
    pub fn generate(u: &mut Unstructured<'_>, cap_bytes: u64) -> Result<ProbeModule> {
        let minimum = 1 + u64::from(u.arbitrary::<u8>()? % 3);
        let cap_pages = cap_bytes / PAGE;
        let maximum = match u.arbitrary::<u8>()? % 5 {
            0 => None,
            1 => Some(minimum),
            2 => Some(minimum + 1 + u64::from(u.arbitrary::<u8>()? % 4)),
            3 => Some(cap_pages + if u.arbitrary()? { 1 } else { 64 }),
            _ => Some(MAX_PAGES_32),
        };
        let mut module = ProbeModule { shape: ProbeShape { minimum, maximum }, probes: Vec::new() };
        let count = 1 + usize::from(u.arbitrary::<u8>()?) % MAX_PROBES;
        for _ in 0..count {
            let mut model = module.model(cap_bytes);
            let steps = 1 + usize::from(u.arbitrary::<u8>()?) % MAX_STEPS;
            let mut probe = Vec::with_capacity(steps);
            for _ in 0..steps {
                let step = arbitrary_step(u, &model)?;
                model.step_traps(&step);
                probe.push(step);
            }
            module.probes.push(probe);
        }
        Ok(module)
    }

    /// The interpreter's bytes with a custom section `probes` that lists the
    /// probes, for people reading the module (`harness repro --wat`).
    pub fn annotated(&self, interpreter: &[u8]) -> Vec<u8> {
        let mut bytes = interpreter.to_vec();
        let text: String = self.probes.iter().enumerate().map(|(index, probe)| format!("probe {index}: {probe:?}\n")).collect();
        CustomSection { name: "probes".into(), data: text.as_bytes().into() }.append_to(&mut bytes);
        bytes
    }
}

/// The request that makes the interpreter run `steps`.
pub fn request(steps: &[Step]) -> Vec<u8> {
    let mut request = Vec::with_capacity(steps.len() * RECORD_BYTES);
    for step in steps {
        let (op, operands, value) = record(step);
        request.extend_from_slice(&op.to_le_bytes());
        for operand in operands {
            request.extend_from_slice(&operand.to_le_bytes());
        }
        request.extend_from_slice(&value.to_le_bytes());
    }
    request
}

/// Ops after the access arms, in this order.
const GROW: u32 = ACCESS_ARMS;
const FILL: u32 = ACCESS_ARMS + 1;
const COPY: u32 = ACCESS_ARMS + 2;
const INIT: u32 = ACCESS_ARMS + 3;
const DATA_DROP: u32 = ACCESS_ARMS + 4;
/// Access kinds: the loads, then the stores.
const KINDS: usize = LOADS.len() + STORES.len();
/// One access arm per kind and offset.
const ACCESS_ARMS: u32 = (KINDS * OFFSETS.len()) as u32;
/// Every op the interpreter knows; any other traps as `unreachable`.
const OPS: u32 = DATA_DROP + 1;

/// The op, operands and value of one step's record. An offset not in
/// [`OFFSETS`] gets an unknown op, so the probe traps `unreachable` and the
/// specification oracle fires.
fn record(step: &Step) -> (u32, [u32; 3], u64) {
    match *step {
        Step::Access { access, base, offset, value } => {
            let op = OFFSETS.iter().position(|known| *known == offset).map_or(OPS, |slot| arm(access, slot));
            (op, [base, 0, 0], value)
        }
        Step::Grow { delta } => (GROW, [delta, 0, 0], 0),
        Step::Fill { dst, byte, len } => (FILL, [dst, u32::from(byte), len], 0),
        Step::Copy { dst, src, len } => (COPY, [dst, src, len], 0),
        Step::Init { dst, src, len } => (INIT, [dst, src, len], 0),
        Step::DataDrop => (DATA_DROP, [0; 3], 0),
    }
}

/// The op of the access arm for `access` with offset [`OFFSETS`]`[slot]`.
fn arm(access: Access, slot: usize) -> u32 {
    let kind = match access {
        Access::Load(index) => index,
        Access::Store(index) => LOADS.len() + index,
    };
    u32::try_from(kind * OFFSETS.len() + slot).unwrap_or(OPS)
}

impl ProbeShape {
    /// The interpreter for this memory, talking to its embedder through
    /// `io`: the glue's imports, the entry function `entry` (read the records,
    /// run them through `step`, respond with the digest), the glue's helper
    /// exports, and `step`.
    pub fn encode(&self, io: &dyn GuestIo, entry: &str) -> Vec<u8> {
        let imports = io.imports();
        let helpers = io.helpers(REQUEST_AT);
        let mut types = TypeSection::new();
        let mut import_section = ImportSection::new();
        for import in &imports {
            let index = types.len();
            types.ty().function(encoder_types(&import.signature.params), encoder_types(&import.signature.results));
            import_section.import(import.module, import.name, EntityType::Function(index));
        }
        let imported = u32::try_from(imports.len()).unwrap_or(u32::MAX);
        let (main, step) = (imported, imported + 1);
        let mut functions = FunctionSection::new();
        let mut code = CodeSection::new();
        let mut exports = ExportSection::new();
        let entry_type = types.len();
        types.ty().function([], encoder_types(&io.entry_results()));
        functions.function(entry_type);
        code.function(&main_body(io, step));
        exports.export(entry, ExportKind::Func, main);
        let step_type = types.len();
        types.ty().function([ValType::I32, ValType::I32, ValType::I32, ValType::I32, ValType::I64], []);
        functions.function(step_type);
        code.function(&step_body());
        for (offset, helper) in (step + 1..).zip(&helpers) {
            let helper_type = types.len();
            types.ty().function(encoder_types(&helper.signature.params), encoder_types(&helper.signature.results));
            functions.function(helper_type);
            code.function(&helper.body);
            exports.export(helper.export, ExportKind::Func, offset);
        }
        let mut memories = MemorySection::new();
        memories.memory(MemoryType { minimum: self.minimum, maximum: self.maximum, memory64: false, shared: false, page_size_log2: None });
        exports.export("memory", ExportKind::Memory, 0);
        let mut data = DataSection::new();
        data.passive(SEGMENT.iter().copied());
        let mut module = Module::new();
        module
            .section(&types)
            .section(&import_section)
            .section(&functions)
            .section(&memories)
            .section(&exports)
            .section(&DataCountSection { count: 1 })
            .section(&code)
            .section(&data);
        module.finish()
    }
}

/// Locals of `main`: the record count and the request length, then `op`,
/// `a`, `b`, `c` of each record, the digest's and the glue's `i32` locals
/// (`i32`), then the digest's `i64` local, the glue's, and each record's
/// value (`i64`).
const COUNT: u32 = 0;
const LEN: u32 = 1;
const FIELDS: u32 = 2;
const DIGEST_FIRST: u32 = FIELDS + 4 * MAX_STEPS as u32;
const GLUE_I32: u32 = DIGEST_FIRST + DIGEST_LOCALS;
const I32_LOCALS: u32 = GLUE_I32 + 2;
const HASH: u32 = I32_LOCALS;
const GLUE_I64: u32 = HASH + 1;
const VALUES: u32 = GLUE_I64 + 1;

/// The entry function: read the request, copy the records into locals (a
/// step may overwrite the request), run each through `step`, respond with
/// the digest.
fn main_body(io: &dyn GuestIo, step: u32) -> Function {
    let scratch = Scratch { i32s: [GLUE_I32, GLUE_I32 + 1], i64: GLUE_I64 };
    let mut body = Function::new([(I32_LOCALS, ValType::I32), (2 + MAX_STEPS as u32, ValType::I64)]);
    let mut sink = body.instructions();
    io.read_request(&mut sink, REQUEST_AT, scratch);
    sink.local_set(LEN);
    // count = min(len / RECORD_BYTES, MAX_STEPS)
    sink.local_get(LEN).i32_const(RECORD_BYTES as i32).i32_div_u().local_set(COUNT);
    sink.i32_const(MAX_STEPS as i32).local_get(COUNT).local_get(COUNT).i32_const(MAX_STEPS as i32).i32_gt_u().select().local_set(COUNT);
    for slot in 0..MAX_STEPS as u32 {
        let record = REQUEST_AT + slot * RECORD_BYTES as u32;
        for field in 0..4 {
            sink.i32_const(0).i32_load(mem(record + 4 * field, 2)).local_set(FIELDS + 4 * slot + field);
        }
        sink.i32_const(0).i64_load(mem(record + 16, 3)).local_set(VALUES + slot);
    }
    for slot in 0..MAX_STEPS as u32 {
        sink.local_get(COUNT).i32_const(slot.cast_signed()).i32_gt_u().if_(BlockType::Empty);
        for field in 0..4 {
            sink.local_get(FIELDS + 4 * slot + field);
        }
        sink.local_get(VALUES + slot).call(step).end();
    }
    emit_digest(&mut sink, DIGEST_FIRST, HASH);
    io.respond(&mut sink, 0, RESPONSE_LEN as u32, scratch);
    io.finish(&mut sink);
    sink.end();
    body
}

/// `step(op, a, b, c, value)`: a `br_table` over every op; each arm performs
/// its instruction with the operands and returns.
fn step_body() -> Function {
    let (op, a, b, c, value) = (0, 1, 2, 3, 4);
    let mut body = Function::new([]);
    let mut sink = body.instructions();
    sink.block(BlockType::Empty); // unknown ops
    for _ in 0..OPS {
        sink.block(BlockType::Empty);
    }
    sink.local_get(op).br_table(0..OPS, OPS);
    for arm in 0..OPS {
        sink.end();
        match arm {
            GROW => {
                sink.local_get(a).memory_grow(0).drop();
            }
            FILL => {
                sink.local_get(a).local_get(b).local_get(c).memory_fill(0);
            }
            COPY => {
                sink.local_get(a).local_get(b).local_get(c).memory_copy(0, 0);
            }
            INIT => {
                sink.local_get(a).local_get(b).local_get(c).memory_init(0, 0);
            }
            DATA_DROP => {
                sink.data_drop(0);
            }
            _ => {
                let (kind, slot) = (arm as usize / OFFSETS.len(), arm as usize % OFFSETS.len());
                let offset = OFFSETS.get(slot).copied().unwrap_or(0);
                sink.local_get(a);
                match kind.checked_sub(LOADS.len()) {
                    None => {
                        let memarg = mem(offset, align(LOADS.get(kind).map_or(1, |load| load.1), slot));
                        load(&mut sink, kind, memarg);
                        sink.drop();
                    }
                    Some(index) => {
                        let memarg = mem(offset, align(STORES.get(index).map_or(1, |store| store.1), slot));
                        store(&mut sink, index, memarg, value);
                    }
                }
            }
        }
        sink.return_();
    }
    sink.end().unreachable().end();
    body
}

/// The alignment hint of an arm: it does not change what an access does, so
/// the arms cycle through every legal hint for their width.
fn align(width: u64, slot: usize) -> u32 {
    let natural = width.trailing_zeros();
    u32::try_from(slot).unwrap_or(0) % (natural + 1)
}

/// A base address or a length near the interesting values for memory of `size` bytes.
fn arbitrary_address(u: &mut Unstructured<'_>, size: u64, width: u64) -> Result<u32> {
    let size = u32::try_from(size).unwrap_or(u32::MAX);
    let k = u32::from(u.arbitrary::<u8>()? % 9);
    Ok(match u.arbitrary::<u8>()? % 8 {
        0 | 1 => size.saturating_sub(k),
        2 => size,
        3 => u32::MAX.saturating_sub(k),
        4 => size.saturating_sub(u32::try_from(width).unwrap_or(0)).saturating_add(k % 2),
        5 => k * 4,
        6 => size.saturating_add(k),
        _ => u.arbitrary()?,
    })
}

/// A length for a bulk operation at `start` in a region of `size` bytes, often straddling its end.
fn arbitrary_len(u: &mut Unstructured<'_>, start: u32, size: u64) -> Result<u32> {
    let room = u32::try_from(size.saturating_sub(u64::from(start))).unwrap_or(u32::MAX);
    let k = u32::from(u.arbitrary::<u8>()? % 9);
    Ok(match u.arbitrary::<u8>()? % 5 {
        0 => 0,
        1 => k + 1,
        2 => room.saturating_add(k).saturating_sub(4),
        3 => u32::MAX.wrapping_sub(k),
        _ => room,
    })
}

fn arbitrary_step(u: &mut Unstructured<'_>, model: &MemoryModel) -> Result<Step> {
    let size = model.bytes();
    Ok(match u.arbitrary::<u8>()? % 16 {
        0..=4 => {
            let access = Access::Load(usize::from(u.arbitrary::<u8>()?) % LOADS.len());
            arbitrary_access(u, access, size)?
        }
        5..=8 => {
            let access = Access::Store(usize::from(u.arbitrary::<u8>()?) % STORES.len());
            arbitrary_access(u, access, size)?
        }
        9 | 10 => {
            let cap_pages = model.cap_bytes / PAGE;
            let limit = model.maximum.unwrap_or(MAX_PAGES_32);
            let k = u64::from(u.arbitrary::<u8>()? % 3);
            let wanted = match u.arbitrary::<u8>()? % 6 {
                0 => model.pages + k,
                1 => limit + k,
                2 => cap_pages + k,
                3 => model.pages + u64::from(u32::MAX) - k,
                4 => model.pages + 1,
                _ => model.pages + MAX_PAGES_32,
            };
            Step::Grow { delta: u32::try_from(wanted.saturating_sub(model.pages)).unwrap_or(u32::MAX) }
        }
        11 => {
            let dst = arbitrary_address(u, size, 1)?;
            Step::Fill { dst, byte: u.arbitrary()?, len: arbitrary_len(u, dst, size)? }
        }
        12 | 13 => {
            let dst = arbitrary_address(u, size, 1)?;
            let src = arbitrary_address(u, size, 1)?;
            let len = arbitrary_len(u, dst.max(src), size)?;
            Step::Copy { dst, src, len }
        }
        14 => {
            let dst = arbitrary_address(u, size, 1)?;
            let src = u32::from(u.arbitrary::<u8>()? % 40);
            let len = if u.arbitrary()? { arbitrary_len(u, dst, size)? } else { arbitrary_len(u, src, model.segment_len)? };
            Step::Init { dst, src, len }
        }
        _ => Step::DataDrop,
    })
}

/// An access with an offset of [`OFFSETS`], and a base that puts the
/// address or the sum `base + offset` (carrying past 2^32 when the offset is
/// larger) at a boundary.
fn arbitrary_access(u: &mut Unstructured<'_>, access: Access, size: u64) -> Result<Step> {
    let width = access.width();
    let offset = match u.arbitrary::<u8>()? % 4 {
        0 => 0,
        _ => *u.choose(&OFFSETS)?,
    };
    let address = arbitrary_address(u, size, width)?;
    let base = if u.arbitrary()? { address } else { address.wrapping_sub(offset) };
    Ok(Step::Access { access, base, offset, value: u.arbitrary()? })
}

/// The `i32` locals [`emit_digest`] needs from `first_local` on.
pub const DIGEST_LOCALS: u32 = 4;

/// Emits the digest: FNV-1a over the 8-byte words of the first and last
/// [`WINDOW`] bytes of every page; writes the hash and the page count at
/// address 0, the [`RESPONSE_LEN`] bytes of the response. Uses the `i32`
/// locals `first_local..first_local + DIGEST_LOCALS` and the `i64` local `hash`.
pub fn emit_digest(code: &mut InstructionSink<'_>, first_local: u32, hash: u32) {
    let (pages, page, addr, end) = (first_local, first_local + 1, first_local + 2, first_local + 3);
    code.memory_size(0).local_set(pages);
    code.i64_const(FNV_OFFSET).local_set(hash);
    code.loop_(BlockType::Empty);
    for window_start in [0, 65_536 - WINDOW] {
        code.local_get(page).i32_const(16).i32_shl().i32_const(window_start).i32_add().local_tee(addr);
        code.i32_const(WINDOW).i32_add().local_set(end);
        code.loop_(BlockType::Empty);
        code.local_get(hash).local_get(addr).i64_load(mem(0, 3)).i64_xor().i64_const(FNV_PRIME).i64_mul().local_set(hash);
        code.local_get(addr).i32_const(8).i32_add().local_tee(addr).local_get(end).i32_lt_u().br_if(0);
        code.end();
    }
    code.local_get(page).i32_const(1).i32_add().local_tee(page).local_get(pages).i32_lt_u().br_if(0);
    code.end();
    code.i32_const(0).local_get(hash).i64_store(mem(0, 3));
    code.i32_const(8).local_get(pages).i32_store(mem(0, 2));
}

/// FNV-1a 64-bit offset basis, as the `i64` the guest starts from.
pub const FNV_OFFSET: i64 = 0xcbf2_9ce4_8422_2325_u64.cast_signed();
/// FNV-1a 64-bit prime.
pub const FNV_PRIME: i64 = 0x0000_0100_0000_01b3;

fn mem(offset: u32, align: u32) -> MemArg {
    MemArg { offset: u64::from(offset), align, memory_index: 0 }
}

/// Emits load number `index` of [`super::spec::LOADS`].
fn load(code: &mut InstructionSink<'_>, index: usize, memarg: MemArg) {
    match index {
        0 => code.i32_load(memarg),
        1 => code.i64_load(memarg),
        2 => code.f32_load(memarg),
        3 => code.f64_load(memarg),
        4 => code.i32_load8_s(memarg),
        5 => code.i32_load8_u(memarg),
        6 => code.i32_load16_s(memarg),
        7 => code.i32_load16_u(memarg),
        8 => code.i64_load8_s(memarg),
        9 => code.i64_load8_u(memarg),
        10 => code.i64_load16_s(memarg),
        11 => code.i64_load16_u(memarg),
        12 => code.i64_load32_s(memarg),
        _ => code.i64_load32_u(memarg),
    };
}

/// Emits the value (from local `value`, converted or reinterpreted to the
/// store's type) and store number `index` of [`STORES`].
fn store(code: &mut InstructionSink<'_>, index: usize, memarg: MemArg, value: u32) {
    code.local_get(value);
    match index {
        0 => code.i32_wrap_i64().i32_store(memarg),
        1 => code.i64_store(memarg),
        2 => code.i32_wrap_i64().f32_reinterpret_i32().f32_store(memarg),
        3 => code.f64_reinterpret_i64().f64_store(memarg),
        4 => code.i32_wrap_i64().i32_store8(memarg),
        5 => code.i32_wrap_i64().i32_store16(memarg),
        6 => code.i64_store8(memarg),
        7 => code.i64_store16(memarg),
        _ => code.i64_store32(memarg),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_gives_a_valid_interpreter_and_every_step_a_known_op() {
        let abi = crate::test_abi::abi(1024);
        let mut shapes = std::collections::BTreeSet::new();
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..400 {
            let data: Vec<u8> = (0..400)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            let module = ProbeModule::generate(&mut Unstructured::new(&data), 16 << 20).unwrap();
            for step in module.probes.iter().flatten() {
                let (op, ..) = record(step);
                assert!(op < OPS, "{step:?}");
            }
            if shapes.insert(module.shape) {
                let bytes = module.annotated(&module.shape.encode(&*abi.io, abi.entry));
                wasmparser::Validator::new_with_features(abi.features)
                    .validate_all(&bytes)
                    .unwrap_or_else(|error| panic!("{:?}: {error}", module.shape));
            }
        }
        assert!(shapes.len() > 10 && shapes.len() <= 27, "{} shapes", shapes.len());
    }
}
