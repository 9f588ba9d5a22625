//! The limits an embedder is built from, and the named configurations the suite fuzzes under.

use std::path::PathBuf;
use std::time::Duration;

/// Every limit an embedder enforces. All are on by default; all are configurable.
///
/// The defaults suit a server that runs small request handlers: a few megabytes
/// of code, tens of megabytes of memory, well under a second of CPU. An
/// embedder maps each field onto its own mechanism (the loader's
/// `ResourceLimiter`, Extism's `max_pages`) and says in its ABI description
/// which ones it enforces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Largest module accepted, in bytes. Default 4 MiB.
    pub max_module_bytes: usize,
    /// Fuel (roughly, Wasm operators) one invocation may burn. Default 10,000,000.
    pub fuel: u64,
    /// Wall-clock budget of one invocation. Default 1 s.
    pub deadline: Duration,
    /// How often an epoch-based deadline is checked. Default 10 ms.
    pub epoch_tick: Duration,
    /// Largest linear memory, in bytes, at instantiation or after `memory.grow`. Default 64 MiB.
    pub max_memory_bytes: usize,
    /// Largest number of elements of any table. Default 10,000.
    pub max_table_elements: usize,
    /// Instances one invocation may create. Default 1.
    pub max_instances: usize,
    /// Tables one invocation may create. Default 1.
    pub max_tables: usize,
    /// Linear memories one invocation may create. Default 1.
    pub max_memories: usize,
    /// Native stack the guest may use, in bytes. Default 512 KiB.
    pub max_wasm_stack: usize,
    /// Largest response, in bytes. Default 1 MiB.
    pub max_response_bytes: usize,
    /// Total bytes of log lines one invocation may write. Default 64 KiB.
    pub max_log_bytes: usize,
    /// Bytes kept of each of WASI stdout and stderr. Default 64 KiB.
    pub max_stdio_bytes: usize,
    /// Largest WASI `random_get` request, in bytes. Default 64 KiB.
    pub max_random_bytes: usize,
    /// Host calls one invocation may make. Default 10,000.
    pub max_host_calls: u32,
    /// Entries WASI may hold at once for one invocation: the descriptors the
    /// guest opens, the three stdio streams, the sandbox directory, and the
    /// streams some calls hold for a moment (a directory listing). Each
    /// file or directory the guest holds open is a host file descriptor.
    /// Default 64.
    pub max_open_files: usize,
    /// Files, folders and links the sandbox may hold when a guest makes one:
    /// what it held when the invocation first made one, and each made since
    /// (removals do not count down; a `path_open` with `O_CREAT` counts).
    /// Past it, the call answers errno `dquot`. Default 1,024.
    pub max_sandbox_entries: usize,
    /// The one directory WASI may see, preopened as `/`. Default: none, so WASI has no files.
    pub sandbox_dir: Option<PathBuf>,
    /// Whether the compiler optimizes the code it compiles (Cranelift's
    /// `OptLevel::Speed`) or compiles as fast as it can (`OptLevel::None`).
    /// Not a limit: guest behaviour is the same either way. Default: optimize.
    pub optimize_code: bool,
    /// Which Wasm features the engine accepts. Default: the embedder's
    /// documented set.
    pub wasm_features: WasmFeatureSet,
}

/// Which Wasm features an embedder's engine accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WasmFeatureSet {
    /// The set the embedder documents (the loader: Wasm 1.0 and a few 2.0 features).
    #[default]
    Documented,
    /// Whatever the engine enables when left alone: what a server built on
    /// it with default settings accepts (SIMD, reference types, tail calls, ...).
    EngineDefaults,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_module_bytes: 4 << 20,
            fuel: 10_000_000,
            deadline: Duration::from_secs(1),
            epoch_tick: Duration::from_millis(10),
            max_memory_bytes: 64 << 20,
            max_table_elements: 10_000,
            max_instances: 1,
            max_tables: 1,
            max_memories: 1,
            max_wasm_stack: 512 << 10,
            max_response_bytes: 1 << 20,
            max_log_bytes: 64 << 10,
            max_stdio_bytes: 64 << 10,
            max_random_bytes: 64 << 10,
            max_host_calls: 10_000,
            max_open_files: 64,
            max_sandbox_entries: 1024,
            sandbox_dir: None,
            optimize_code: true,
            wasm_features: WasmFeatureSet::Documented,
        }
    }
}

impl Policy {
    /// The policy the layers fuzz under: the defaults, with less fuel and a
    /// smaller memory so that endless or greedy guests end quickly, and
    /// unoptimized code, which compiles faster (compiling is most of the cost
    /// of a layer-3 input). Every limit is still on.
    pub fn fuzzing() -> Policy {
        Policy { fuel: 1_000_000, max_memory_bytes: 16 << 20, optimize_code: false, ..Policy::default() }
    }

    /// The policy a server runs: the default limits, optimized code, and the
    /// engine's default Wasm features rather than the documented subset.
    pub fn production() -> Policy {
        Policy { wasm_features: WasmFeatureSet::EngineDefaults, ..Policy::default() }
    }

    /// Epoch ticks that make up [`Policy::deadline`], at least one.
    pub fn deadline_ticks(&self) -> u64 {
        let tick = self.epoch_tick.as_nanos().max(1);
        let ticks = self.deadline.as_nanos().div_ceil(tick);
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_rounds_up_to_whole_ticks() {
        let policy = Policy { deadline: Duration::from_millis(25), epoch_tick: Duration::from_millis(10), ..Policy::default() };
        assert_eq!(policy.deadline_ticks(), 3);
        let zero = Policy { deadline: Duration::ZERO, ..Policy::default() };
        assert_eq!(zero.deadline_ticks(), 1);
    }

    #[test]
    fn the_fuzzing_policy_keeps_every_limit_on_and_tightens_fuel_and_memory() {
        let (fuzzing, default) = (Policy::fuzzing(), Policy::default());
        assert!(fuzzing.fuel < default.fuel && fuzzing.max_memory_bytes < default.max_memory_bytes);
        assert_eq!((fuzzing.max_host_calls, fuzzing.deadline), (default.max_host_calls, default.deadline));
    }
}
