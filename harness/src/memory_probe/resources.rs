//! The resource generator (`generator:resources`): one module per input
//! that makes its host hold one resource at a boundary size (tables,
//! memories, 64-bit memories, globals, functions, locals, data and element
//! segments, exports, imports, types, code size, call depth, operand-stack
//! height, files held open and folders made through WASI), from one place guest
//! code runs: the start function, a reactor's `_initialize`, the entry
//! point, or a callback the host makes into the guest (the ABI's helpers,
//! such as the reference's `alloc`).
//!
//! Sizes are boundary values ([`boundary`]): each cap the ABI declares (or
//! the suite's ceiling where it promises none) minus one, itself and plus
//! one, the engine's own maxima (wasmparser's implementation limits), and
//! powers of two up to 2^32 - 1. Counts are small ([`MAX_COUNT`],
//! [`MAX_COMPILED`]) but for one in [`ENGINE_MAXIMUM_ONE_IN`], at the
//! engine's maximum, so that most modules build and compile within a
//! millisecond or two; a padded body (`code-size`) may take up to seconds.
//!
//! The entry point, after the probe, answers with the size of every table
//! (elements) and memory (pages), `u32` little-endian each, tables first,
//! and for the WASI probes the count of opens or folders that succeeded:
//! what the guest itself sees, which the cap oracle checks.

use std::borrow::Cow;
use std::fmt;

use arbitrary::{Result, Unstructured};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, DataSection, ElementSection, Elements, EntityType, ExportKind, ExportSection, Function, FunctionSection,
    GlobalSection, GlobalType, HeapType, ImportSection, InstructionSink, MemArg, MemorySection, MemoryType, Module, RefType, StartSection,
    TableSection, TableType, TypeSection, ValType,
};
use wasmparser::WasmFeatures;

use contract::{End, Outcome};

use crate::abi::io::encoder_types;
use crate::abi::{Abi, OPEN_FILES_CEILING, SANDBOX_ENTRIES_CEILING, Scratch, known, wasi};

/// Where the entry point's glue has the request put.
pub const REQUEST_AT: u32 = 4096;
/// Where the entry point writes the sizes it answers with.
pub const REPORT_AT: u32 = 1024;
/// The request of the first and third call.
pub const REQUEST: &[u8] = b"resources probe request";
/// The largest count of globals, segments, exports, imports or types, but for the
/// engine's maxima, which [`count`] draws one time in [`ENGINE_MAXIMUM_ONE_IN`].
pub const MAX_COUNT: u64 = 4_097;
/// The largest count of functions, locals and stack slots (each is
/// compiled), but for the engine's maxima.
pub const MAX_COMPILED: u64 = 1_025;
/// One count in this many is the engine's maximum minus one, itself or plus
/// one: such modules cost tens of milliseconds to build and compile, which
/// would otherwise take most of the layer's time.
pub const ENGINE_MAXIMUM_ONE_IN: u32 = 16;
/// The function count a count at the engine's maximum goes to: the
/// engine's own (1,000,000) would take minutes to compile, and 10,000 empty
/// functions took 7 to 14 s in Extism's fuzz build (Cranelift optimizing,
/// instrumented; 19 ms in the reference loader's, unoptimized), past
/// libFuzzer's 10 s on a busy machine.
pub const MANY_FUNCTIONS: u64 = 2_000;
/// The most elements of one element segment.
pub const MAX_SEGMENT_ELEMENTS: u64 = 65_537;
/// The operand-stack height a count just past goes to (wasmtime sets no
/// maximum of its own but its stack limit).
pub const MAX_STACK_HEIGHT: u64 = 10_000;
/// Bytes of all data segments together at most.
pub const MAX_DATA_BYTES: u64 = 4 << 20;
/// The most `path_open` calls of one [`Resource::OpenFiles`] probe: past
/// four times the suite's ceiling of files held open.
pub const MAX_OPENS: u64 = 4 * OPEN_FILES_CEILING + 1;
/// One resource module in this many opens files, and one in this many of
/// the rest makes folders (where the ABI imports WASI).
pub const WASI_KIND_ONE_IN: u32 = 16;
/// The most folders one [`Resource::Directories`] probe makes: past four
/// times the suite's ceiling of sandbox entries, the depth of `PATH_MAX`
/// (2,048 levels of `d/`) and the usual soft limit on open descriptors
/// (1,024), which a host's clean-up of a tree that deep meets; about 140 ms
/// a call on the reference loader, nested.
pub const MAX_DIRECTORIES: u64 = 4 * SANDBOX_ENTRIES_CEILING + 1;
/// One resource module in this many of those left after the WASI kinds
/// imports its ABI's first import many times over, and one in as many of
/// the rest pads its probe's body to a code size.
pub const LOAD_KIND_ONE_IN: u32 = 16;
/// The import count a count at the engine's maximum (1,000,000) goes to:
/// each import is linked and given a slot at instantiation, and 100,001
/// took 0.7 s in Extism (unoptimized build).
pub const MANY_IMPORTS: u64 = 100_000;
/// The export count a count at the engine's maximum goes to. wasmparser's
/// limit of 1,000,000 exports is not the one a module meets: each exported
/// function adds two to the module's effective type size, refused from
/// 1,000,000, so 499,999 exports of the probe's `() -> ()` are the most
/// that validate (wasmparser 0.254, measured). Each call on Extism 1.30
/// links every export into its linker: with 250,000 exports (measured;
/// 100,000 were quiet, counts between untried) its largest allocation,
/// 51 MB, is past the invocation's allocation bound, which has no
/// module-size term where the ABI caps no module size. Whether that is a
/// defect is not judged yet (docs/measurements.md), so the generator stays
/// at a count measured below it.
pub const MANY_EXPORTS: u64 = 100_000;
/// WASI functions the sandbox probes import, in this order.
const WASI_IMPORTS: [&str; 3] = ["path_open", "path_create_directory", "fd_close"];
/// Where the WASI probes keep the path they open or create.
const PATH_AT: u32 = 512;
/// Where `path_open` writes the descriptor it opened.
const OPENED_FD_AT: u32 = 516;
/// The descriptor of the first preopened directory (the sandbox), after stdio.
const SANDBOX_FD: i32 = 3;
/// `oflags` of `path_open`: `O_DIRECTORY`.
const OFLAGS_DIRECTORY: i32 = 2;
/// Rights a folder is opened with: those of bits 0 to 28 (`fd_datasync` to
/// `sock_shutdown`) but `fd_write` (bit 6), which makes wasmtime-wasi open
/// it for writing and fail; embedders that check rights let the probe make
/// folders in it.
const DIRECTORY_RIGHTS: i64 = ((1 << 29) - 1) & !(1 << 6);

/// wasmparser's implementation limits, which wasmtime enforces: the
/// engine's own maxima.
mod engine {
    pub const TABLE_ENTRIES: u64 = 10_000_000;
    pub const TABLES: u64 = 100;
    pub const MEMORIES: u64 = 100;
    pub const GLOBALS: u64 = 1_000_000;
    pub const LOCALS: u64 = 50_000;
    pub const DATA_SEGMENTS: u64 = 100_000;
    pub const ELEMENT_SEGMENTS: u64 = 100_000;
    pub const FUNCTION_SIZE: u64 = 7_654_321;
    pub const TYPES: u64 = 1_000_000;
    pub const PAGES_32: u64 = 65_536;
    pub const PAGES_64: u64 = 1 << 48;
}

/// Where the probe runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// The module's start function, at instantiation.
    Start,
    /// An exported `_initialize`, which hosts of WASI reactors call first.
    Initialize,
    /// The entry point, after it read the request.
    Entry,
    /// Each helper the host calls back into (the reference's `alloc`).
    Callback,
}

impl Place {
    /// Its name in labels.
    pub fn name(self) -> &'static str {
        match self {
            Place::Start => "start",
            Place::Initialize => "initialize",
            Place::Entry => "entry",
            Place::Callback => "callback",
        }
    }
}

/// What the probe makes the host hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// Table 0 grows, then is filled with nulls.
    TableGrow {
        /// Elements added.
        delta: u32,
    },
    /// Several tables; the last grows by one.
    Tables {
        /// Tables declared.
        count: u64,
    },
    /// Memory 0 grows, then every page is written.
    MemoryGrow {
        /// Pages added.
        delta: u32,
    },
    /// Several memories; the last grows by one page (multi-memory).
    Memories {
        /// Memories declared.
        count: u64,
    },
    /// A 64-bit memory 1 beside memory 0, declared at one page, grows, then
    /// every page is written (memory64 and multi-memory).
    Memory64Grow {
        /// Pages added.
        delta: u64,
    },
    /// Mutable globals; the last is set.
    Globals {
        /// Globals declared.
        count: u64,
    },
    /// Functions; the last is called.
    Functions {
        /// Functions declared besides the probe's own.
        count: u64,
    },
    /// `i64` locals of the probe; the last is set.
    Locals {
        /// Locals declared.
        count: u64,
    },
    /// Passive data segments; the last is copied into memory 0.
    DataSegments {
        /// Segments declared.
        count: u64,
        /// Bytes of each.
        size: u64,
    },
    /// Passive element segments of null references; the last is copied
    /// into table 0.
    ElementSegments {
        /// Segments declared.
        count: u64,
        /// Elements of each.
        size: u64,
    },
    /// Exports of the probe.
    Exports {
        /// Exports besides the ABI's.
        count: u64,
    },
    /// Imports besides the ABI's: its first import, again this many times
    /// (never called).
    Imports {
        /// Imports added.
        count: u64,
    },
    /// The probe's body padded with `nop` to this many bytes (its locals'
    /// count and `end` among them): code the host validates and compiles,
    /// and the module size its cap bounds.
    CodeSize {
        /// Bytes of the body.
        bytes: u64,
    },
    /// Function types.
    Types {
        /// Types declared besides the module's own.
        count: u64,
    },
    /// Recursion.
    Recursion {
        /// Calls deep.
        depth: u32,
        /// Through `call_indirect` on table 0, rather than a direct call.
        indirect: bool,
    },
    /// Values on the operand stack at once.
    OperandStack {
        /// Values pushed.
        height: u64,
    },
    /// WASI `path_open` of the sandbox directory (`.` under the first
    /// preopen), this many times with none closed; a global counts the
    /// opens that succeeded, each a descriptor the host holds.
    OpenFiles {
        /// Opens tried.
        count: u64,
    },
    /// WASI `path_create_directory` in the sandbox this many times: side by
    /// side in its root (names `aaaa`, `baaa`, ...), or each in the one
    /// before (`d`, opened, the folder before it closed); a global counts
    /// the folders made, each an entry the host keeps after the call.
    Directories {
        /// Folders tried.
        count: u64,
        /// Each in the one before, rather than side by side.
        nested: bool,
    },
}

impl Resource {
    /// Memory growth no larger than [`known::LOAD_GROWTH_PAGES`]: what a
    /// probe run at load grows by where the ABI lists
    /// [`crate::abi::KnownDefect::UnlimitedAtLoad`].
    fn clamped_at_load(self) -> Resource {
        match self {
            Resource::MemoryGrow { delta } => Resource::MemoryGrow { delta: delta.min(known::LOAD_GROWTH_PAGES as u32) },
            Resource::Memory64Grow { delta } => Resource::Memory64Grow { delta: delta.min(known::LOAD_GROWTH_PAGES) },
            other => other,
        }
    }

    /// Its name in labels.
    pub fn name(self) -> &'static str {
        match self {
            Resource::TableGrow { .. } => "table-grow",
            Resource::Tables { .. } => "tables",
            Resource::MemoryGrow { .. } => "memory-grow",
            Resource::Memories { .. } => "memories",
            Resource::Memory64Grow { .. } => "memory64-grow",
            Resource::Globals { .. } => "globals",
            Resource::Functions { .. } => "functions",
            Resource::Locals { .. } => "locals",
            Resource::DataSegments { .. } => "data-segments",
            Resource::ElementSegments { .. } => "element-segments",
            Resource::Exports { .. } => "exports",
            Resource::Imports { .. } => "imports",
            Resource::CodeSize { .. } => "code-size",
            Resource::Types { .. } => "types",
            Resource::Recursion { indirect: false, .. } => "recursion",
            Resource::Recursion { indirect: true, .. } => "indirect-recursion",
            Resource::OperandStack { .. } => "operand-stack",
            Resource::OpenFiles { .. } => "open-files",
            Resource::Directories { nested: false, .. } => "directories",
            Resource::Directories { nested: true, .. } => "directory-depth",
        }
    }
}

/// Declared limits of a table or a memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Declared {
    /// Initial size (elements or pages).
    pub minimum: u64,
    /// Declared maximum.
    pub maximum: Option<u64>,
}

/// What the entry point answers with, as the guest saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// Elements of each table (with reference types).
    pub tables: Vec<u64>,
    /// Pages of each memory.
    pub memories: Vec<u64>,
    /// Files opened and still held ([`Resource::OpenFiles`]), or folders
    /// made ([`Resource::Directories`]).
    pub held: Option<u64>,
}

/// One generated module: the resource, where it is probed, and the
/// declared limits of table 0 and memory 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceModule {
    /// What the probe makes the host hold.
    pub resource: Resource,
    /// Where it runs.
    pub place: Place,
    /// Table 0.
    pub table: Declared,
    /// Memory 0 (at least one page: it holds the request and the answer).
    pub memory: Declared,
    /// Whether the features have reference types, so that the entry point
    /// answers with table sizes too.
    pub table_ops: bool,
}

impl fmt::Display for ResourceModule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} at the {}, table 0 {:?}, memory 0 {:?}", self.resource, self.place.name(), self.table, self.memory)?;
        if !self.table_ops {
            write!(f, ", no table operations")?;
        }
        Ok(())
    }
}

/// A count: the engine's maximum `engine` minus one, itself or plus one
/// (one time in [`ENGINE_MAXIMUM_ONE_IN`], never on an input used up), else
/// a boundary value at most `limit`.
pub fn count(u: &mut Unstructured<'_>, engine: u64, limit: u64) -> Result<u64> {
    count_beside(u, engine, &[], limit)
}

/// [`count`], whose boundary values also go around each of `caps`.
fn count_beside(u: &mut Unstructured<'_>, engine: u64, caps: &[u64], limit: u64) -> Result<u64> {
    // `ratio` answers yes on an input used up: every short input would get
    // the costliest module.
    if !u.is_empty() && u.ratio(1, ENGINE_MAXIMUM_ONE_IN)? {
        return Ok(*u.choose(&[engine - 1, engine, engine + 1])?);
    }
    boundary(u, caps, limit)
}

/// A boundary value at most `limit`: each of `caps` minus one, itself and
/// plus one, powers of two and one less than each, or any value up to
/// `limit` (one time in eight).
pub fn boundary(u: &mut Unstructured<'_>, caps: &[u64], limit: u64) -> Result<u64> {
    let mut candidates: Vec<u64> = caps.iter().flat_map(|&cap| [cap.saturating_sub(1), cap, cap.saturating_add(1)]).collect();
    candidates.extend((0..=32).flat_map(|bit| [1u64 << bit, (1u64 << bit) - 1]));
    candidates.retain(|&value| value <= limit);
    if candidates.is_empty() || u.ratio(1, 8)? {
        return u.int_in_range(0..=limit);
    }
    Ok(*u.choose(&candidates)?)
}

impl ResourceModule {
    /// A module from `u` for `abi`: the features decide which resources
    /// can be probed (table operations need reference types, several
    /// memories need multi-memory, a 64-bit one memory64 too and an ABI
    /// that accepts it).
    pub fn generate(u: &mut Unstructured<'_>, abi: &Abi) -> Result<ResourceModule> {
        let limits = &abi.limits;
        let features = abi.features;
        // `table.size`, `table.grow`, `table.fill` and several tables need
        // reference types; without them only table 0's declared size and
        // `call_indirect` reach the host.
        let table_ops = features.contains(WasmFeatures::REFERENCE_TYPES);
        let tables_ok = table_ops && features.contains(WasmFeatures::BULK_MEMORY);
        let memories_ok = features.contains(WasmFeatures::MULTI_MEMORY);
        let memory64_ok = memories_ok && features.contains(WasmFeatures::MEMORY64) && !limits.memory32_unshared_only;
        let bulk = features.contains(WasmFeatures::BULK_MEMORY);
        let table_cap = limits.table_elements_or_ceiling();
        let page_cap = limits.memory_bytes_or_ceiling() / crate::abi::PAGE_BYTES;
        let mut kinds: Vec<u8> = vec![4, 5, 6, 10, 11, 12];
        kinds.push(9);
        if tables_ok {
            kinds.extend([0, 1, 8]);
        }
        if bulk {
            kinds.extend([2, 7]);
        }
        if memories_ok {
            kinds.push(3);
        }
        if memory64_ok {
            kinds.push(13);
        }
        let resource = match *u.choose(&kinds)? {
            0 => {
                // Where the ABI lists tables growing uncapped as a known
                // defect, growth stops at twice the ceiling: past the
                // ceiling (the cap oracle labels it known), short of the
                // largest-allocation oracle, which cannot tell a table from
                // any other host buffer.
                let limit = if abi.tables_uncapped().is_some() { table_cap.saturating_mul(2) } else { u32::MAX.into() };
                Resource::TableGrow { delta: u32::try_from(boundary(u, &[table_cap, engine::TABLE_ENTRIES], limit)?).unwrap_or(u32::MAX) }
            }
            1 => Resource::Tables { count: boundary(u, &[limits.tables_or_ceiling(), engine::TABLES], engine::TABLES + 1)?.max(1) },
            2 => Resource::MemoryGrow { delta: u32::try_from(boundary(u, &[page_cap, engine::PAGES_32], u32::MAX.into())?).unwrap_or(u32::MAX) },
            3 => Resource::Memories { count: boundary(u, &[limits.memories_or_ceiling(), engine::MEMORIES], engine::MEMORIES + 1)?.max(1) },
            4 => Resource::Globals { count: count(u, engine::GLOBALS, MAX_COUNT)? },
            5 => Resource::Functions { count: count(u, MANY_FUNCTIONS, MAX_COMPILED)?.max(1) },
            6 => Resource::Locals { count: count(u, engine::LOCALS, MAX_COMPILED)? },
            7 => {
                let count = count(u, engine::DATA_SEGMENTS, MAX_COUNT)?.max(1);
                let size = boundary(u, &[crate::abi::PAGE_BYTES], MAX_DATA_BYTES / count)?;
                Resource::DataSegments { count, size }
            }
            8 if tables_ok => {
                let count = count(u, engine::ELEMENT_SEGMENTS, MAX_COUNT)?.max(1);
                let size = boundary(u, &[table_cap], (MAX_DATA_BYTES / count).min(table_cap.saturating_add(1)).min(MAX_SEGMENT_ELEMENTS))?;
                Resource::ElementSegments { count, size }
            }
            9 => Resource::Recursion { depth: u.arbitrary::<u32>()? | 1, indirect: u.arbitrary()? },
            10 => Resource::Exports { count: count(u, MANY_EXPORTS, MAX_COUNT)? },
            11 => Resource::Types { count: count(u, engine::TYPES, MAX_COUNT)? },
            13 => Resource::Memory64Grow { delta: boundary(u, &[page_cap, engine::PAGES_32, engine::PAGES_64], engine::PAGES_64 + 1)? },
            _ => Resource::OperandStack { height: count(u, MAX_STACK_HEIGHT, MAX_COMPILED)? },
        };
        let places: &[Place] = if abi.io.helpers(REQUEST_AT).is_empty() {
            &[Place::Start, Place::Initialize, Place::Entry]
        } else {
            &[Place::Start, Place::Initialize, Place::Entry, Place::Callback]
        };
        let place = *u.choose(places)?;
        let resource = match (abi.unlimited_at_load(), place) {
            (Some(_), Place::Start | Place::Initialize) => resource.clamped_at_load(),
            _ => resource,
        };
        let table_minimum = boundary(u, &[table_cap], table_cap.saturating_add(1))?.max(1);
        // Declared maxima one module in four: Extism refuses them (a known defect).
        let table = Declared { minimum: table_minimum, maximum: u.ratio(1, 4)?.then(|| table_minimum.max(table_cap)) };
        let memory_minimum = boundary(u, &[page_cap], page_cap.saturating_add(1).min(engine::PAGES_32))?.max(1);
        let memory = Declared { minimum: memory_minimum, maximum: u.ratio(1, 4)?.then(|| memory_minimum.max(page_cap).min(engine::PAGES_32)) };
        // Files held open, one module in [`WASI_KIND_ONE_IN`] where the ABI
        // imports WASI, then folders, one in as many of the rest, then
        // imports and code size, one in [`LOAD_KIND_ONE_IN`] of the rest
        // each: drawn after the others, so that the draws before them mean
        // what they meant before these kinds came in (an input used up
        // keeps its resource; one with bytes left may draw one of these).
        let imports_wasi = WASI_IMPORTS.iter().all(|name| abi.imports.iter().any(|import| import.module == wasi::MODULE && import.name == *name));
        let drawn = |u: &mut Unstructured<'_>| -> Result<bool> { Ok(imports_wasi && !u.ratio(WASI_KIND_ONE_IN - 1, WASI_KIND_ONE_IN)?) };
        let resource = if drawn(u)? {
            Resource::OpenFiles { count: boundary(u, &[limits.open_files_or_ceiling(), OPEN_FILES_CEILING], MAX_OPENS)? }
        } else if drawn(u)? {
            let count = boundary(u, &[limits.sandbox_entries_or_ceiling(), SANDBOX_ENTRIES_CEILING], MAX_DIRECTORIES)?;
            Resource::Directories { count, nested: u.arbitrary()? }
        } else if !abi.io.imports().is_empty() && !u.ratio(LOAD_KIND_ONE_IN - 1, LOAD_KIND_ONE_IN)? {
            Resource::Imports { count: count(u, MANY_IMPORTS, MAX_COUNT)? }
        } else if !u.ratio(LOAD_KIND_ONE_IN - 1, LOAD_KIND_ONE_IN)? {
            // Around the module size cap, where the ABI declares one.
            let module_cap = limits.max_module_bytes.map_or(0, |cap| cap as u64);
            let bytes = count_beside(u, engine::FUNCTION_SIZE, &[module_cap], module_cap.max(MAX_COUNT).saturating_add(1))?;
            // A body holds at least its locals' count and `end`.
            Resource::CodeSize { bytes: bytes.max(2) }
        } else {
            resource
        };
        Ok(ResourceModule { resource, place, table, memory, table_ops })
    }

    /// Tables the module declares.
    pub fn tables(&self) -> u64 {
        match self.resource {
            Resource::Tables { count } => count,
            _ => 1,
        }
    }

    /// Memories the module declares.
    pub fn memories(&self) -> u64 {
        match self.resource {
            Resource::Memories { count } => count,
            Resource::Memory64Grow { .. } => 2,
            _ => 1,
        }
    }

    /// Whether memory `index` is a 64-bit one.
    fn is_memory64(&self, index: u64) -> bool {
        matches!(self.resource, Resource::Memory64Grow { .. }) && index == 1
    }

    /// Tables whose size the entry point answers with.
    fn answered_tables(&self) -> u64 {
        if self.table_ops { self.tables() } else { 0 }
    }

    /// Whether the probe works in the sandbox through WASI (opens files,
    /// makes folders), so that its calls need a sandbox and its answer ends
    /// with the count of what it holds.
    pub fn uses_sandbox(&self) -> bool {
        matches!(self.resource, Resource::OpenFiles { .. } | Resource::Directories { .. })
    }

    /// What the entry point answers with, from its response: table sizes
    /// (with reference types), memory sizes, then the files it opened or
    /// the folders it made (the WASI probes); `None` if the response is not that.
    pub fn answer(&self, response: &[u8]) -> Option<Answer> {
        let words: Vec<u64> =
            response.chunks_exact(4).map(|chunk| chunk.iter().rev().fold(0u64, |size, byte| (size << 8) | u64::from(*byte))).collect();
        let tables = usize::try_from(self.answered_tables()).ok()?;
        let memories = tables.checked_add(usize::try_from(self.memories()).ok()?)?;
        let expected = memories.checked_add(usize::from(self.uses_sandbox()))?.checked_mul(4)?;
        (response.len() == expected).then(|| Answer {
            tables: words.get(..tables).unwrap_or_default().to_vec(),
            memories: words.get(tables..memories).unwrap_or_default().to_vec(),
            held: words.get(memories).copied().filter(|_| self.uses_sandbox()),
        })
    }

    /// The module, for `abi`'s glue and entry point.
    pub fn encode(&self, abi: &Abi) -> Vec<u8> {
        Encoder::new(self, abi).finish()
    }
}

/// The cap oracle on what the guest saw: after a call that ended well, no
/// table holds more elements than the table cap (or the suite's ceiling
/// where the ABI promises none), no memory more bytes than the memory cap
/// plus `uncapped` (what a known defect grants beyond it), the guest held
/// no more files open than the open-file cap and made no more folders than
/// the sandbox-entries cap (or the suite's ceilings), and a module with
/// more tables or memories than the ABI allows did not run. A table, open
/// files or folders past the ceiling that [`crate::abi::KnownDefect::TablesUncapped`],
/// [`crate::abi::KnownDefect::OpenFilesUncapped`] or
/// [`crate::abi::KnownDefect::SandboxEntriesUncapped`] explains, or a
/// memory past the cap within what [`crate::abi::KnownDefect::CapExcludesInitialMemory`]
/// grants, is passed over: the ids of all it passed over come back.
pub fn check_sizes(abi: &Abi, module: &ResourceModule, outcome: &Outcome, uncapped: u64) -> Vec<&'static str> {
    let limits = &abi.limits;
    if outcome.end != End::Ok {
        return Vec::new();
    }
    let ran = format!("the {} probe ran at the {}", module.resource.name(), module.place.name());
    for (what, count, cap) in [("tables", module.tables(), limits.max_tables), ("memories", module.memories(), limits.max_memories)] {
        if let Some(cap) = cap {
            assert!(count <= cap as u64, "oracle: a module with {count} {what} ran, past the cap of {cap} {what} ({ran})");
        }
    }
    let Some(answer) = module.answer(&outcome.response) else { return Vec::new() };
    let (held_cap, declared, known_held, held_what) = match module.resource {
        Resource::Directories { .. } => {
            (limits.sandbox_entries_or_ceiling(), limits.max_sandbox_entries.is_some(), abi.sandbox_entries_uncapped(), "folders in the sandbox")
        }
        _ => (limits.open_files_or_ceiling(), limits.max_open_files.is_some(), abi.open_files_uncapped(), "files open at once"),
    };
    let held_past = answer.held.filter(|held| *held > held_cap);
    let known_held = known_held.filter(|_| !declared && held_past.is_some());
    if let Some(held) = held_past {
        let bound = if declared { "the cap" } else { "the suite's ceiling (no cap promised)" };
        assert!(known_held.is_some(), "oracle: the guest held {held} {held_what} after {ran}, past {bound} of {held_cap}");
    }
    let memory_cap = limits.memory_bytes_or_ceiling().saturating_add(uncapped);
    let mut known_memory = None;
    for (index, pages) in answer.memories.iter().enumerate() {
        let bytes = pages.saturating_mul(crate::abi::PAGE_BYTES);
        assert!(bytes <= memory_cap, "oracle: memory {index} holds {bytes} bytes after {ran}, past the cap of {memory_cap}");
        if bytes > limits.memory_bytes_or_ceiling() {
            known_memory = abi.cap_excludes_initial_memory();
        }
    }
    let (table_cap, table_bound, known) = match limits.max_table_elements {
        Some(cap) => (cap, "the cap", None),
        None => (limits.table_elements_or_ceiling(), "the suite's ceiling (no cap promised)", abi.tables_uncapped()),
    };
    let past = answer.tables.iter().enumerate().find(|(_, elements)| **elements > table_cap);
    if let Some((index, elements)) = past {
        assert!(known.is_some(), "oracle: table {index} holds {elements} elements after {ran}, past {table_bound} of {table_cap}");
    }
    [known_held, known.filter(|_| past.is_some()), known_memory].into_iter().flatten().collect()
}

/// Function indices of a module being built.
struct Encoder<'a> {
    module: &'a ResourceModule,
    abi: &'a Abi,
    types: TypeSection,
    functions: FunctionSection,
    code: CodeSection,
    exports: ExportSection,
    /// Functions so far, imports included.
    function_count: u32,
}

/// The type of `() -> ()`, declared first.
const VOID: u32 = 0;
/// The type of `(i32) -> ()`, declared second.
const I32_TO_VOID: u32 = 1;

impl<'a> Encoder<'a> {
    fn new(module: &'a ResourceModule, abi: &'a Abi) -> Encoder<'a> {
        let mut types = TypeSection::new();
        types.ty().function([], []);
        types.ty().function([ValType::I32], []);
        Encoder { module, abi, types, functions: FunctionSection::new(), code: CodeSection::new(), exports: ExportSection::new(), function_count: 0 }
    }

    /// Declares a function of a new type, with `body`; its index.
    fn function(&mut self, params: &[ValType], results: &[ValType], body: &Function) -> u32 {
        let ty = self.types.len();
        self.types.ty().function(params.iter().copied(), results.iter().copied());
        self.function_of_type(ty, body)
    }

    /// Declares a function of type `ty`, with `body`; its index.
    fn function_of_type(&mut self, ty: u32, body: &Function) -> u32 {
        self.functions.function(ty);
        self.code.function(body);
        self.function_count += 1;
        self.function_count - 1
    }

    fn finish(mut self) -> Vec<u8> {
        let module = *self.module;
        let io = &*self.abi.io;
        let mut imports = ImportSection::new();
        for import in io.imports() {
            let ty = self.types.len();
            self.types.ty().function(encoder_types(&import.signature.params), encoder_types(&import.signature.results));
            imports.import(import.module, import.name, EntityType::Function(ty));
            self.function_count += 1;
        }
        if let (Resource::Imports { count }, Some(first)) = (module.resource, io.imports().first()) {
            let ty = self.types.len();
            self.types.ty().function(encoder_types(&first.signature.params), encoder_types(&first.signature.results));
            for _ in 0..count {
                imports.import(first.module, first.name, EntityType::Function(ty));
                self.function_count += 1;
            }
        }
        let wasi = self.function_count;
        if module.uses_sandbox() {
            for name in WASI_IMPORTS {
                let import = wasi::imports().into_iter().find(|import| import.name == name).expect("WASI_IMPORTS are preview1 functions");
                let ty = self.types.len();
                self.types.ty().function(encoder_types(&import.signature.params), encoder_types(&import.signature.results));
                imports.import(wasi::MODULE, name, EntityType::Function(ty));
                self.function_count += 1;
            }
        }
        // The probe, and what it calls.
        let callee = match module.resource {
            Resource::Functions { count } => {
                let mut last = 0;
                for _ in 0..count {
                    let mut body = Function::new([]);
                    body.instructions().end();
                    last = self.function_of_type(VOID, &body);
                }
                Some(last)
            }
            _ => None,
        };
        let recursive = self.function_count;
        if let Resource::Recursion { indirect, .. } = module.resource {
            let mut body = Function::new([]);
            let mut sink = body.instructions();
            sink.local_get(0).if_(BlockType::Empty);
            sink.local_get(0).i32_const(1).i32_sub();
            if indirect {
                sink.i32_const(0).call_indirect(0, I32_TO_VOID);
            } else {
                sink.call(recursive);
            }
            sink.end().end();
            self.function_of_type(I32_TO_VOID, &body);
        }
        let probe = self.function_of_type(VOID, &probe_body(&module, callee, recursive, wasi));
        // Helpers, wrapped to run the probe first where it runs in callbacks.
        for helper in io.helpers(REQUEST_AT) {
            let params = encoder_types(&helper.signature.params);
            let results = encoder_types(&helper.signature.results);
            let inner = self.function(&params, &results, &helper.body);
            let exported = if module.place == Place::Callback {
                let mut body = Function::new([]);
                let mut sink = body.instructions();
                sink.call(probe);
                for index in 0..u32::try_from(params.len()).unwrap_or(0) {
                    sink.local_get(index);
                }
                sink.call(inner).end();
                self.function(&params, &results, &body)
            } else {
                inner
            };
            self.exports.export(helper.export, ExportKind::Func, exported);
        }
        let entry_results = encoder_types(&io.entry_results());
        let entry = self.function(&[], &entry_results, &entry_body(self.abi, &module, probe));
        self.exports.export(self.abi.entry, ExportKind::Func, entry);
        self.exports.export("memory", ExportKind::Memory, 0);
        if module.place == Place::Initialize {
            self.exports.export("_initialize", ExportKind::Func, probe);
        }
        if let Resource::Exports { count } = module.resource {
            for index in 0..count {
                self.exports.export(&format!("probe_{index}"), ExportKind::Func, probe);
            }
        }
        if let Resource::Types { count } = module.resource {
            for _ in 0..count {
                self.types.ty().function([], [ValType::I32]);
            }
        }
        let mut bytes = Module::new();
        bytes.section(&self.types).section(&imports).section(&self.functions);
        bytes.section(&tables(&module));
        bytes.section(&memories(&module));
        if let Resource::Globals { count } = module.resource {
            let mut globals = GlobalSection::new();
            for _ in 0..count {
                globals.global(GlobalType { val_type: ValType::I64, mutable: true, shared: false }, &ConstExpr::i64_const(0));
            }
            bytes.section(&globals);
        }
        if module.uses_sandbox() {
            // Global 0: the opens or folders that succeeded.
            let mut globals = GlobalSection::new();
            globals.global(GlobalType { val_type: ValType::I32, mutable: true, shared: false }, &ConstExpr::i32_const(0));
            bytes.section(&globals);
        }
        bytes.section(&self.exports);
        if module.place == Place::Start {
            bytes.section(&StartSection { function_index: probe });
        }
        if let Some(elements) = elements(&module, recursive) {
            bytes.section(&elements);
        }
        if let Resource::DataSegments { count, .. } = module.resource {
            bytes.section(&wasm_encoder::DataCountSection { count: u32::try_from(count).unwrap_or(u32::MAX) });
        }
        bytes.section(&self.code);
        if let Resource::DataSegments { count, size } = module.resource {
            let mut data = DataSection::new();
            for _ in 0..count {
                data.passive(std::iter::repeat_n(0xa5, usize::try_from(size).unwrap_or(0)));
            }
            bytes.section(&data);
        }
        bytes.finish()
    }
}

/// Table 0 as declared, and the others of [`Resource::Tables`] at one element.
fn tables(module: &ResourceModule) -> TableSection {
    let mut tables = TableSection::new();
    for index in 0..module.tables() {
        let (minimum, maximum) = if index == 0 { (module.table.minimum, module.table.maximum) } else { (1, None) };
        tables.table(TableType { element_type: RefType::FUNCREF, table64: false, minimum, maximum, shared: false });
    }
    tables
}

/// Memory 0 as declared, and the others of [`Resource::Memories`] or
/// [`Resource::Memory64Grow`] at one page.
fn memories(module: &ResourceModule) -> MemorySection {
    let mut memories = MemorySection::new();
    for index in 0..module.memories() {
        let (minimum, maximum) = if index == 0 { (module.memory.minimum, module.memory.maximum) } else { (1, None) };
        memories.memory(MemoryType { minimum, maximum, memory64: module.is_memory64(index), shared: false, page_size_log2: None });
    }
    memories
}

/// The element segments: the recursive function at table 0's index 0 for
/// indirect recursion; the passive segments of [`Resource::ElementSegments`].
fn elements(module: &ResourceModule, recursive: u32) -> Option<ElementSection> {
    let mut elements = ElementSection::new();
    match module.resource {
        Resource::Recursion { indirect: true, .. } => {
            elements.active(Some(0), &ConstExpr::i32_const(0), Elements::Functions(Cow::Owned(vec![recursive])));
        }
        Resource::ElementSegments { count, size } => {
            let nulls = vec![ConstExpr::ref_null(HeapType::FUNC); usize::try_from(size).unwrap_or(0)];
            for _ in 0..count {
                elements.passive(Elements::Expressions(RefType::FUNCREF, Cow::Borrowed(&nulls)));
            }
        }
        _ => return None,
    }
    Some(elements)
}

/// The probe: `() -> ()`, making the host hold the resource; `wasi` is the
/// index of the first of [`WASI_IMPORTS`], imported where the probe uses
/// the sandbox.
fn probe_body(module: &ResourceModule, callee: Option<u32>, recursive: u32, wasi: u32) -> Function {
    let (path_open, create_directory, fd_close) = (wasi, wasi + 1, wasi + 2);
    let locals = match module.resource {
        Resource::Locals { count } => u32::try_from(count).unwrap_or(u32::MAX),
        _ => 0,
    };
    let mut body = match module.resource {
        // Local 0: the opens or folders left to try; local 1: the folder
        // the next one goes in.
        Resource::OpenFiles { .. } | Resource::Directories { .. } => Function::new([(2, ValType::I32)]),
        _ => Function::new(if locals > 0 { vec![(locals, ValType::I64)] } else { Vec::new() }),
    };
    let mut sink = body.instructions();
    match module.resource {
        Resource::TableGrow { delta } => {
            sink.ref_null(HeapType::FUNC).i32_const(delta.cast_signed()).table_grow(0).drop();
            sink.i32_const(0).ref_null(HeapType::FUNC).table_size(0).table_fill(0);
        }
        Resource::Tables { count } => {
            let last = u32::try_from(count.saturating_sub(1)).unwrap_or(0);
            sink.ref_null(HeapType::FUNC).i32_const(1).table_grow(last).drop();
        }
        Resource::MemoryGrow { delta } => {
            sink.i32_const(delta.cast_signed()).memory_grow(0).drop();
            // Every page written: the resident set the memory cap bounds.
            sink.i32_const(0).i32_const(0x5a).memory_size(0).i32_const(16).i32_shl().memory_fill(0);
        }
        Resource::Memories { count } => {
            let last = u32::try_from(count.saturating_sub(1)).unwrap_or(0);
            sink.i32_const(1).memory_grow(last).drop();
        }
        Resource::Memory64Grow { delta } => {
            sink.i64_const(delta.cast_signed()).memory_grow(1).drop();
            sink.i64_const(0).i32_const(0x5a).memory_size(1).i64_const(16).i64_shl().memory_fill(1);
        }
        Resource::Globals { count } if count > 0 => {
            sink.i64_const(-1).global_set(u32::try_from(count - 1).unwrap_or(0));
        }
        Resource::Locals { count } if count > 0 => {
            sink.i64_const(-1).local_set(locals - 1);
        }
        Resource::DataSegments { count, size } => {
            let last = u32::try_from(count.saturating_sub(1)).unwrap_or(0);
            sink.i32_const(0).i32_const(0).i32_const(i32::try_from(size).unwrap_or(i32::MAX)).memory_init(0, last).data_drop(last);
        }
        Resource::ElementSegments { count, size } => {
            let last = u32::try_from(count.saturating_sub(1)).unwrap_or(0);
            sink.i32_const(0).i32_const(0).i32_const(i32::try_from(size).unwrap_or(i32::MAX)).table_init(0, last).elem_drop(last);
        }
        Resource::Recursion { depth, .. } => {
            sink.i32_const(depth.cast_signed()).call(recursive);
        }
        Resource::OperandStack { height } => {
            for _ in 0..height {
                sink.i64_const(1);
            }
            for _ in 0..height {
                sink.drop();
            }
        }
        Resource::OpenFiles { count } => {
            let byte = MemArg { offset: u64::from(PATH_AT), align: 0, memory_index: 0 };
            sink.i32_const(0).i32_const(i32::from(b'.')).i32_store8(byte);
            sink.i32_const(i32::try_from(count).unwrap_or(i32::MAX)).local_set(0);
            sink.block(BlockType::Empty).loop_(BlockType::Empty);
            sink.local_get(0).i32_eqz().br_if(1);
            sink.local_get(0).i32_const(1).i32_sub().local_set(0);
            // path_open(fd, dirflags, path, path_len, oflags, rights, inheriting rights, fdflags, opened fd)
            sink.i32_const(SANDBOX_FD).i32_const(0).i32_const(PATH_AT.cast_signed()).i32_const(1).i32_const(OFLAGS_DIRECTORY);
            sink.i64_const(0).i64_const(0).i32_const(0).i32_const(OPENED_FD_AT.cast_signed()).call(path_open);
            sink.i32_eqz().if_(BlockType::Empty);
            sink.global_get(0).i32_const(1).i32_add().global_set(0);
            sink.end().br(0).end().end();
        }
        Resource::Directories { count, nested } => {
            let byte = |at: u32| MemArg { offset: u64::from(at), align: 0, memory_index: 0 };
            let name_len = if nested { 1 } else { 4 };
            sink.i32_const(0).i32_const(i32::from(b'd')).i32_store8(byte(PATH_AT));
            sink.i32_const(i32::try_from(count).unwrap_or(i32::MAX)).local_set(0);
            sink.i32_const(SANDBOX_FD).local_set(1);
            sink.block(BlockType::Empty).loop_(BlockType::Empty);
            sink.local_get(0).i32_eqz().br_if(1);
            sink.local_get(0).i32_const(1).i32_sub().local_set(0);
            if !nested {
                // The name: the count left, four bits a letter from `a`.
                for letter in 0..4 {
                    sink.i32_const(0).local_get(0).i32_const(4 * letter).i32_shr_u().i32_const(15).i32_and();
                    sink.i32_const(i32::from(b'a')).i32_add().i32_store8(byte(PATH_AT + letter.cast_unsigned()));
                }
            }
            // path_create_directory(fd, path, path_len)
            sink.local_get(1).i32_const(PATH_AT.cast_signed()).i32_const(name_len).call(create_directory);
            sink.i32_eqz().if_(BlockType::Empty);
            sink.global_get(0).i32_const(1).i32_add().global_set(0);
            sink.end();
            if nested {
                // Into the new folder, closing the one before but the sandbox;
                // out of the loop where it cannot be opened.
                sink.local_get(1).i32_const(0).i32_const(PATH_AT.cast_signed()).i32_const(1).i32_const(OFLAGS_DIRECTORY);
                sink.i64_const(DIRECTORY_RIGHTS).i64_const(DIRECTORY_RIGHTS).i32_const(0).i32_const(OPENED_FD_AT.cast_signed()).call(path_open);
                sink.br_if(1);
                sink.local_get(1).i32_const(SANDBOX_FD).i32_ne().if_(BlockType::Empty);
                sink.local_get(1).call(fd_close).drop();
                sink.end();
                sink.i32_const(0).i32_load(MemArg { offset: u64::from(OPENED_FD_AT), align: 2, memory_index: 0 }).local_set(1);
            }
            sink.br(0).end().end();
        }
        Resource::CodeSize { bytes } => {
            // The body's other two bytes: no local groups, and `end`.
            for _ in 0..bytes.saturating_sub(2) {
                sink.nop();
            }
        }
        Resource::Globals { .. }
        | Resource::Locals { .. }
        | Resource::Functions { .. }
        | Resource::Exports { .. }
        | Resource::Imports { .. }
        | Resource::Types { .. } => {}
    }
    if let Some(callee) = callee {
        sink.call(callee);
    }
    sink.end();
    body
}

/// The entry point: read the request, run the probe if it runs here, answer
/// with the size of every table and memory.
fn entry_body(abi: &Abi, module: &ResourceModule, probe: u32) -> Function {
    let scratch = Scratch { i32s: [0, 1], i64: 2 };
    let mut body = Function::new([(2, ValType::I32), (1, ValType::I64)]);
    let mut sink: InstructionSink<'_> = body.instructions();
    abi.io.read_request(&mut sink, REQUEST_AT, scratch);
    sink.drop();
    if module.place == Place::Entry {
        sink.call(probe);
    }
    let mut at = REPORT_AT;
    let store = |sink: &mut InstructionSink<'_>, at: u32| {
        sink.i32_store(MemArg { offset: u64::from(at), align: 2, memory_index: 0 });
    };
    for table in 0..u32::try_from(module.answered_tables()).unwrap_or(0) {
        sink.i32_const(0).table_size(table);
        store(&mut sink, at);
        at += 4;
    }
    for memory in 0..u32::try_from(module.memories()).unwrap_or(0) {
        sink.i32_const(0).memory_size(memory);
        if module.is_memory64(memory.into()) {
            sink.i32_wrap_i64();
        }
        store(&mut sink, at);
        at += 4;
    }
    if module.uses_sandbox() {
        sink.i32_const(0).global_get(0);
        store(&mut sink, at);
        at += 4;
    }
    abi.io.respond(&mut sink, REPORT_AT, at - REPORT_AT, scratch);
    abi.io.finish(&mut sink);
    sink.end();
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::KnownDefect;
    use contract::Stage;

    #[test]
    fn an_input_used_up_draws_a_small_count_and_one_with_bytes_can_draw_the_engines_maximum() {
        assert!(count(&mut Unstructured::new(&[]), MANY_FUNCTIONS, MAX_COMPILED).unwrap() <= MAX_COMPILED);
        let maxima = (0..=u8::MAX)
            .filter(|byte| count(&mut Unstructured::new(&[*byte, 0, 0, 0]), MANY_FUNCTIONS, MAX_COMPILED).unwrap() > MAX_COMPILED)
            .count();
        assert!((8..=32).contains(&maxima), "{maxima} of 256 first bytes draw the engine's maximum");
    }

    #[test]
    fn a_run_past_two_known_defects_comes_back_with_both_ids() {
        let mut abi = crate::test_abi::abi(1 << 20);
        abi.limits.max_table_elements = None;
        abi.known_defects = vec![KnownDefect::CapExcludesInitialMemory { id: "initial" }, KnownDefect::TablesUncapped { id: "tables" }];
        let unbounded = Declared { minimum: 1, maximum: None };
        let module = ResourceModule {
            resource: Resource::TableGrow { delta: 2_000_000 },
            place: Place::Entry,
            table: unbounded,
            memory: unbounded,
            table_ops: true,
        };
        let initial: u64 = 16 << 20;
        let pages = u32::try_from(2 * initial / crate::abi::PAGE_BYTES).unwrap();
        let mut outcome = Outcome::ended(Stage::Execute, End::Ok);
        outcome.response = [2_000_001, pages].iter().flat_map(|word: &u32| word.to_le_bytes()).collect();
        assert_eq!(check_sizes(&abi, &module, &outcome, initial), ["tables", "initial"]);
        abi.known_defects.clear();
        let message = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_sizes(&abi, &module, &outcome, initial))).err();
        assert!(message.is_some(), "a table past the ceiling with no known defect must fire");
    }
}
