//! Defects of an embedder that are already found and written up
//! (`embedders/<embedder>/findings/<id>.md`). The oracles pass over a run that shows
//! one, labelling it `known:<id>`, so that a campaign is not stopped by the
//! same defect again and can find the next one; the embedder's tests replay
//! each reproducer with the list emptied and expect it to still fire, until
//! a newer release fixes it. With [`REPORT_KNOWN`] set, a subject is built
//! with the list emptied.

use contract::{End, Outcome, Resource};
use wasmparser::{ExternalKind, MemoryType, Parser, Payload, TypeRef};

use super::Abi;

/// The environment variable that makes the oracles report known defects
/// as findings again (any value): how a write-up's reproducer is replayed.
pub const REPORT_KNOWN: &str = "SUITE_REPORT_KNOWN";

/// Whether known defects are reported as findings in this process.
pub fn reported() -> bool {
    std::env::var_os(REPORT_KNOWN).is_some()
}

/// A kind of defect the oracles recognise, with the id of its write-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KnownDefect {
    /// Memory growth to a memory's declared maximum or past it, or an
    /// initial size equal to it, ends the run as if it went past the cap
    /// (instead of succeeding, or of `memory.grow` returning -1).
    RefusesDeclaredMaximum {
        /// The finding's id.
        id: &'static str,
    },
    /// The memory cap bounds only growth after instantiation: a module's
    /// memory may reach the cap plus its initial size.
    CapExcludesInitialMemory {
        /// The finding's id.
        id: &'static str,
    },
    /// Table growth is bounded only by a module's declared maximum: a table
    /// that declares none grows past the suite's ceiling (the ABI promises
    /// no table cap).
    TablesUncapped {
        /// The finding's id.
        id: &'static str,
    },
    /// A guest may hold open through WASI as many files as the host process
    /// may: past the suite's ceiling (the ABI promises no cap).
    OpenFilesUncapped {
        /// The finding's id.
        id: &'static str,
    },
    /// A guest may make as many folders and files in its sandbox as the
    /// host's file system holds: past the suite's ceiling of sandbox
    /// entries (the ABI promises no cap).
    SandboxEntriesUncapped {
        /// The finding's id.
        id: &'static str,
    },
    /// Guest code run while a module is loaded (its start function, a
    /// reactor's `_initialize`) is not held to the memory cap: a load of a
    /// module with such code may go past the host-memory budget.
    UnlimitedAtLoad {
        /// The finding's id.
        id: &'static str,
    },
    /// A defect that crashes the host process, which the ABI's layer-4
    /// model predicts: layer 4 runs the defused command list instead
    /// (`HostApi::defuse` in `commands`), so that the fuzzer goes on.
    CrashesHost {
        /// The finding's id.
        id: &'static str,
    },
}

impl KnownDefect {
    /// The finding's id.
    pub fn id(&self) -> &'static str {
        match self {
            KnownDefect::RefusesDeclaredMaximum { id }
            | KnownDefect::CapExcludesInitialMemory { id }
            | KnownDefect::TablesUncapped { id }
            | KnownDefect::OpenFilesUncapped { id }
            | KnownDefect::SandboxEntriesUncapped { id }
            | KnownDefect::UnlimitedAtLoad { id }
            | KnownDefect::CrashesHost { id } => id,
        }
    }
}

/// The label of a run a known defect excused.
pub fn label(id: &str) -> String {
    format!("known:{id}")
}

/// The id of the known defect that explains `outcome` ending at the memory
/// limit, when the run asked for at least a memory's declared maximum
/// (`reached`, only asked then) and `abi` lists [`KnownDefect::RefusesDeclaredMaximum`].
pub fn refusal_of_maximum(abi: &Abi, outcome: &Outcome, reached: impl FnOnce() -> bool) -> Option<&'static str> {
    let id = abi.refuses_declared_maximum()?;
    (outcome.end == End::LimitExceeded(Resource::Memory) && reached()).then_some(id)
}

/// The bytes of memory `module` starts with, over all its memories.
pub fn initial_memory_bytes(module: &[u8]) -> u64 {
    memories(module).map(|memory| memory.initial.saturating_mul(super::PAGE_BYTES)).fold(0, u64::saturating_add)
}

/// Whether `module` declares a maximum on any of its memories.
pub fn declares_maximum(module: &[u8]) -> bool {
    memories(module).any(|memory| memory.maximum.is_some())
}

/// Whether `module` declares a memory whose initial size is its declared
/// maximum, so that instantiating it already reaches the maximum.
pub fn starts_at_declared_maximum(module: &[u8]) -> bool {
    memories(module).any(|memory| memory.maximum == Some(memory.initial))
}

/// Whether `module` has code a host runs while loading it, as wasmtime's
/// `Linker::module` does for a reactor: a start function or an exported
/// `_initialize`, in a module that exports no `_start` (a command, which is
/// instantiated only when called).
pub fn runs_code_at_load(module: &[u8]) -> bool {
    let (mut start, mut initialize, mut command) = (false, false, false);
    for payload in Parser::new(0).parse_all(module).map_while(Result::ok) {
        match payload {
            Payload::StartSection { .. } => start = true,
            Payload::ExportSection(exports) => {
                for export in exports.into_iter().map_while(Result::ok) {
                    let function = matches!(export.kind, ExternalKind::Func | ExternalKind::FuncExact);
                    initialize |= function && export.name == "_initialize";
                    command |= function && export.name == "_start";
                }
            }
            _ => {}
        }
    }
    (start || initialize) && !command
}

/// The id of the known defect that lets `module`'s code run at load grow
/// memory without limit: where `abi` lists [`KnownDefect::UnlimitedAtLoad`]
/// and [`runs_code_at_load`] holds.
pub fn growth_at_load(abi: &Abi, module: &[u8]) -> Option<&'static str> {
    abi.unlimited_at_load().filter(|_| runs_code_at_load(module))
}

/// The most pages by which code run at load may grow a memory, beyond the
/// load's budget, where the ABI lists [`KnownDefect::UnlimitedAtLoad`]:
/// the budget oracle passes over that much, and the resource generator
/// grows memory at load by no more. 512 MiB: well past the fuzzing
/// policy's Extism load budget (224 MiB, so that the overrun shows and is
/// labelled), a quarter of libFuzzer's 2,048 MB resident-set limit.
pub const LOAD_GROWTH_PAGES: u64 = 8_192;

/// The memories `module` defines or imports, as far as it parses.
fn memories(module: &[u8]) -> impl Iterator<Item = MemoryType> + '_ {
    Parser::new(0).parse_all(module).map_while(Result::ok).flat_map(|payload| match payload {
        Payload::MemorySection(memories) => memories.into_iter().map_while(Result::ok).collect(),
        Payload::ImportSection(imports) => imports
            .into_imports()
            .map_while(Result::ok)
            .filter_map(|import| match import.ty {
                TypeRef::Memory(memory) => Some(memory),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_declared_at_its_maximum_is_told_apart() {
        let at_maximum = wat::parse_str("(module (memory 2 2))").unwrap();
        let below = wat::parse_str("(module (memory 1 2))").unwrap();
        let unbounded = wat::parse_str("(module (memory 2))").unwrap();
        assert!(starts_at_declared_maximum(&at_maximum));
        assert!(!starts_at_declared_maximum(&below));
        assert!(!starts_at_declared_maximum(&unbounded));
        assert!(!starts_at_declared_maximum(b"\0asm"));
        assert!(declares_maximum(&below) && !declares_maximum(&unbounded));
        assert_eq!(initial_memory_bytes(&at_maximum), 2 * 65_536);
        let imported = wat::parse_str(r#"(module (import "env" "memory" (memory 1 1)))"#).unwrap();
        assert!(starts_at_declared_maximum(&imported));
    }

    #[test]
    fn code_run_at_load_is_a_start_function_or_an_exported_initialize() {
        let start = wat::parse_str("(module (func $s) (start $s))").unwrap();
        let initialize = wat::parse_str(r#"(module (func (export "_initialize")))"#).unwrap();
        let entry_only = wat::parse_str(r#"(module (func (export "run")))"#).unwrap();
        let global_named_so = wat::parse_str(r#"(module (global (export "_initialize") i32 (i32.const 0)))"#).unwrap();
        let command = wat::parse_str(r#"(module (func $s) (start $s) (func (export "_start")))"#).unwrap();
        assert!(runs_code_at_load(&start) && runs_code_at_load(&initialize));
        assert!(!runs_code_at_load(&entry_only) && !runs_code_at_load(&global_named_so) && !runs_code_at_load(b"\0asm"));
        assert!(!runs_code_at_load(&command), "a command is instantiated only when called");
    }
}
