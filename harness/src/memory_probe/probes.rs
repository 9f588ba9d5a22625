//! The probe generator: a module, written with wasm-encoder, whose `main`
//! reads a probe number from the request, runs that probe's steps (loads and
//! stores of every width at the edge of memory, grows, bulk operations
//! straddling the end) and, if nothing trapped, answers with a digest of its
//! final memory.
//!
//! The harness invokes the same loaded function once per probe, each time in
//! a fresh store, with the probe's number as the request.
//!
//! Memory layout `main` relies on: `read_request` writes the
//! request pointer and length at 0 and 4; `alloc` always returns
//! [`REQUEST_AT`]; the response is the 8-byte digest at 0 followed by the page
//! count (u32 LE) at 8.

use arbitrary::{Result, Unstructured};
use wasm_encoder::{
    CodeSection, DataCountSection, DataSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    Ieee32, Ieee64, ImportSection, InstructionSink, MemArg, MemorySection, MemoryType, Module, TypeSection, ValType,
};

use super::spec::{Access, MemoryModel, PAGE, Step};

/// Where `alloc` places the request.
pub const REQUEST_AT: i32 = 64;
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

/// A generated probe module: its memory and its probes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeModule {
    /// Initial pages.
    pub minimum: u64,
    /// Declared maximum pages.
    pub maximum: Option<u64>,
    /// The passive data segment `memory.init` reads.
    pub segment: Vec<u8>,
    /// The probes; probe `i` runs when the request is `i` (u32 LE).
    pub probes: Vec<Vec<Step>>,
}

impl ProbeModule {
    /// The memory as instantiated, under a host cap of `cap_bytes`.
    pub fn model(&self, cap_bytes: u64) -> MemoryModel {
        MemoryModel { pages: self.minimum, maximum: self.maximum, cap_bytes, segment_len: self.segment.len() as u64 }
    }

    /// Derives a probe module from the input; the model's cap guides grow sizes.
    pub fn generate(u: &mut Unstructured<'_>, cap_bytes: u64) -> Result<ProbeModule> {
        let minimum = 1 + u64::from(u.arbitrary::<u8>()? % 3);
        let cap_pages = cap_bytes / PAGE;
        let maximum = match u.arbitrary::<u8>()? % 5 {
            0 => None,
            1 => Some(minimum),
            2 => Some(minimum + 1 + u64::from(u.arbitrary::<u8>()? % 4)),
            3 => Some(cap_pages + 1 + u64::from(u.arbitrary::<u8>()? % 64)),
            _ => Some(super::spec::MAX_PAGES_32),
        };
        let segment_len = usize::from(u.arbitrary::<u8>()? % 33);
        let segment = u.bytes(segment_len.min(u.len()))?.to_vec();
        let mut module = ProbeModule { minimum, maximum, segment, probes: Vec::new() };
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

    /// The module's bytes: `main` (dispatch, probes and digest inline, so
    /// Cranelift compiles only two functions) and `alloc`.
    pub fn encode(&self) -> Vec<u8> {
        let mut types = TypeSection::new();
        types.ty().function([ValType::I32, ValType::I32], [ValType::I32]); // 0: host imports
        types.ty().function([], []); // 1: main
        types.ty().function([ValType::I32], [ValType::I32]); // 2: alloc
        let mut imports = ImportSection::new();
        imports.import("host", "read_request", EntityType::Function(0));
        imports.import("host", "write_response", EntityType::Function(0));
        let (read_request, write_response, main, alloc) = (0, 1, 2, 3);
        let mut functions = FunctionSection::new();
        functions.function(1).function(2);
        let mut code = CodeSection::new();
        // Local 0 holds the probe number, read once: a probe may overwrite the request.
        let mut body = Function::new([(1 + DIGEST_LOCALS, ValType::I32), (1, ValType::I64)]);
        let mut sink = body.instructions();
        sink.i32_const(0).i32_const(4).call(read_request).drop();
        sink.i32_const(0).i32_load(mem(0, 2)).i32_load(mem(0, 2)).local_set(0);
        for (index, probe) in self.probes.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            sink.local_get(0).i32_const(index.cast_signed()).i32_eq().if_(wasm_encoder::BlockType::Empty);
            emit_probe(&mut sink, probe);
            sink.end();
        }
        emit_digest(&mut sink, write_response, 1);
        sink.end();
        code.function(&body);
        let mut body = Function::new([]);
        body.instructions().i32_const(REQUEST_AT).end();
        code.function(&body);
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: self.minimum,
            maximum: self.maximum,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let mut exports = ExportSection::new();
        exports.export("main", ExportKind::Func, main);
        exports.export("alloc", ExportKind::Func, alloc);
        exports.export("memory", ExportKind::Memory, 0);
        let mut data = DataSection::new();
        data.passive(self.segment.iter().copied());
        let mut module = Module::new();
        module
            .section(&types)
            .section(&imports)
            .section(&functions)
            .section(&memories)
            .section(&exports)
            .section(&DataCountSection { count: 1 })
            .section(&code)
            .section(&data);
        module.finish()
    }
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

/// A memarg offset, often one that carries `base + offset` past the end or past 2^32.
fn arbitrary_offset(u: &mut Unstructured<'_>, base: u32, size: u64) -> Result<u32> {
    let size = u32::try_from(size).unwrap_or(u32::MAX);
    let k = u32::from(u.arbitrary::<u8>()? % 9);
    Ok(match u.arbitrary::<u8>()? % 6 {
        0 | 1 => 0,
        2 => k,
        3 => size.wrapping_sub(base).wrapping_sub(k),
        4 => 0u32.wrapping_sub(base).wrapping_add(k),
        _ => u32::MAX.wrapping_sub(k),
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
            let access = Access::Load(usize::from(u.arbitrary::<u8>()?) % super::spec::LOADS.len());
            arbitrary_access(u, access, size)?
        }
        5..=8 => {
            let access = Access::Store(usize::from(u.arbitrary::<u8>()?) % super::spec::STORES.len());
            arbitrary_access(u, access, size)?
        }
        9 | 10 => {
            let cap_pages = model.cap_bytes / PAGE;
            let limit = model.maximum.unwrap_or(super::spec::MAX_PAGES_32);
            let k = u64::from(u.arbitrary::<u8>()? % 3);
            let wanted = match u.arbitrary::<u8>()? % 6 {
                0 => model.pages + k,
                1 => limit + k,
                2 => cap_pages + k,
                3 => model.pages + u64::from(u32::MAX) - k,
                4 => model.pages + 1,
                _ => model.pages + super::spec::MAX_PAGES_32,
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

fn arbitrary_access(u: &mut Unstructured<'_>, access: Access, size: u64) -> Result<Step> {
    let width = access.width();
    let base = arbitrary_address(u, size, width)?;
    let offset = arbitrary_offset(u, base, size)?;
    let align = u32::from(u.arbitrary::<u8>()?) % (width.trailing_zeros() + 1);
    Ok(Step::Access { access, base, offset, align, value: u.arbitrary()? })
}

/// The `i32` locals [`emit_digest`] needs from `first_local` on; one `i64`
/// local follows them.
pub const DIGEST_LOCALS: u32 = 4;

/// Emits the digest: FNV-1a over the 8-byte words of the first and last
/// [`WINDOW`] bytes of every page, then a `write_response` of the hash and the
/// page count (written at address 0). Uses locals `first_local..+4` (`i32`)
/// and `first_local + 4` (`i64`).
pub fn emit_digest(code: &mut InstructionSink<'_>, write_response: u32, first_local: u32) {
    let (pages, page, addr, end, hash) =
        (first_local, first_local + 1, first_local + 2, first_local + 3, first_local + 4);
    code.memory_size(0).local_set(pages);
    code.i64_const(FNV_OFFSET).local_set(hash);
    code.loop_(wasm_encoder::BlockType::Empty);
    for window_start in [0, 65_536 - WINDOW] {
        code.local_get(page).i32_const(16).i32_shl().i32_const(window_start).i32_add().local_tee(addr);
        code.i32_const(WINDOW).i32_add().local_set(end);
        code.loop_(wasm_encoder::BlockType::Empty);
        code.local_get(hash).local_get(addr).i64_load(mem(0, 3)).i64_xor().i64_const(FNV_PRIME).i64_mul().local_set(hash);
        code.local_get(addr).i32_const(8).i32_add().local_tee(addr).local_get(end).i32_lt_u().br_if(0);
        code.end();
    }
    code.local_get(page).i32_const(1).i32_add().local_tee(page).local_get(pages).i32_lt_u().br_if(0);
    code.end();
    code.i32_const(0).local_get(hash).i64_store(mem(0, 3));
    code.i32_const(8).local_get(pages).i32_store(mem(0, 2));
    code.i32_const(0).i32_const(RESPONSE_LEN as i32).call(write_response).drop();
}

/// FNV-1a 64-bit offset basis, as the `i64` the guest starts from.
pub const FNV_OFFSET: i64 = 0xcbf2_9ce4_8422_2325_u64.cast_signed();
/// FNV-1a 64-bit prime.
pub const FNV_PRIME: i64 = 0x0000_0100_0000_01b3;

fn mem(offset: u32, align: u32) -> MemArg {
    MemArg { offset: u64::from(offset), align, memory_index: 0 }
}

/// Emits one probe: its steps in order, results dropped.
fn emit_probe(code: &mut InstructionSink<'_>, steps: &[Step]) {
    for step in steps {
        match *step {
            Step::Grow { delta } => {
                code.i32_const(delta.cast_signed()).memory_grow(0).drop();
            }
            Step::Access { access, base, offset, align, value } => {
                code.i32_const(base.cast_signed());
                let memarg = mem(offset, align);
                match access {
                    Access::Load(index) => {
                        load(code, index, memarg);
                        code.drop();
                    }
                    Access::Store(index) => store(code, index, memarg, value),
                }
            }
            Step::Fill { dst, byte, len } => {
                code.i32_const(dst.cast_signed()).i32_const(i32::from(byte)).i32_const(len.cast_signed()).memory_fill(0);
            }
            Step::Copy { dst, src, len } => {
                code.i32_const(dst.cast_signed()).i32_const(src.cast_signed()).i32_const(len.cast_signed());
                code.memory_copy(0, 0);
            }
            Step::Init { dst, src, len } => {
                code.i32_const(dst.cast_signed()).i32_const(src.cast_signed()).i32_const(len.cast_signed());
                code.memory_init(0, 0);
            }
            Step::DataDrop => {
                code.data_drop(0);
            }
        }
    }
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

/// Emits the value and store number `index` of [`super::spec::STORES`].
fn store(code: &mut InstructionSink<'_>, index: usize, memarg: MemArg, value: u64) {
    let low = value as u32;
    match index {
        0 => code.i32_const(low.cast_signed()).i32_store(memarg),
        1 => code.i64_const(value.cast_signed()).i64_store(memarg),
        2 => code.f32_const(Ieee32::new(low)).f32_store(memarg),
        3 => code.f64_const(Ieee64::new(value)).f64_store(memarg),
        4 => code.i32_const(low.cast_signed()).i32_store8(memarg),
        5 => code.i32_const(low.cast_signed()).i32_store16(memarg),
        6 => code.i64_const(value.cast_signed()).i64_store8(memarg),
        7 => code.i64_const(value.cast_signed()).i64_store16(memarg),
        _ => code.i64_const(value.cast_signed()).i64_store32(memarg),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_modules_are_valid_with_the_loader_features() {
        for seed in 0..200u32 {
            let data: Vec<u8> = (0..400u32).map(|i| (i.wrapping_mul(seed + 7) ^ (i >> 3)) as u8).collect();
            let module = ProbeModule::generate(&mut Unstructured::new(&data), 16 << 20).unwrap();
            let bytes = module.encode();
            wasmparser::Validator::new_with_features(loader::wasm_features())
                .validate_all(&bytes)
                .unwrap_or_else(|error| panic!("seed {seed}: {error}"));
        }
    }
}
