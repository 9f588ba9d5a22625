//! Extism behind the seam, configured as a careful host configures it for
//! untrusted plugins: a compiled plugin built once per module and a fresh
//! plugin instantiated per call; memory capped with `max_pages`, a timeout,
//! a fuel limit, `max_var_bytes`, no allowed hosts, wasmtime's compilation
//! cache on (as Extism's default is) in a folder of this process's, and
//! WASI with one allowed path (a fresh sandbox per run).
//!
//! The cache: Extism builds a new wasmtime `Engine` for every compiled
//! plugin and compiles its kernel module into it; with the cache, every
//! compile but the first of each module is wasmtime's deserialization of
//! the artifact it stored, so the kernel costs one compile per process. A
//! module the fuzzer made is compiled, then compressed and written to the
//! cache (and read back when the same module comes again): the path a host
//! with Extism's default configuration runs.
//!
//! The mapping into the suite's vocabulary:
//! - Extism parses, validates and compiles in one call (`CompiledPlugin::new`).
//!   When it refuses a module, the stage is named by decoding the module with
//!   wasmparser without validating: one that does not decode was refused at
//!   `parse`, one that does at `validate`.
//! - Linking happens when a plugin is created: an unknown or mistyped import
//!   is refused at `abi-check`. A missing or unusable entry point is found
//!   when it is called, and is refused at `abi-check` too.
//! - How a call ends: a wasmtime trap keeps its code; `timeout` is the
//!   deadline, `plugin ran out of fuel` the fuel, `oom` the memory cap; a
//!   non-zero return code or WASI exit code is an exit; an error the guest
//!   raised with `error_set` is `End::Error` with its message made printable.
//! - Host calls: Extism's own functions run inside it, unseen; the adapter
//!   registers one host function of its own, `extism:host/user.report(i64)`,
//!   and records each value a guest reports as a host call (layer 4's
//!   interpreter reports what every call returned). A guest calling it
//!   reaches `host-call`; so does a call that ended with an error, since
//!   only an import makes one (a host function that failed, WASI, or the
//!   guest's own `error_set`).
//! - Logs: the adapter installs a log callback for the plugin's own lines
//!   (`extism::pdk`, where `log_*` write; Extism reads their text from the
//!   kernel's memory only when a logger listens) and keeps each line's message.
//! - Peak memory and stdio: Extism exposes neither.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use contract::{End, HostCall, Outcome, Policy, Rejection, Resource, Stage, TrapCode, printable_message};
use extism::{CompiledPlugin, Manifest, Plugin, PluginBuilder, UserData, ValType, Wasm};
use harness::embedder::{Embedder, Loaded, Store};

/// The entry function every plugin must export.
pub const ENTRY: &str = "run";
/// The namespace and name of the adapter's reporting host function.
pub const REPORT: (&str, &str) = ("extism:host/user", "report");
/// `max_var_bytes` of every plugin: enough for a few values, small enough
/// that layer 4 reaches it.
pub const MAX_VAR_BYTES: u64 = 1024;

/// The start of the name of the folder of sandbox links.
const LINKS_PREFIX: &str = "extism-links-";
/// wasmtime's compilation cache configuration, in the folder of sandbox links.
const CACHE_CONFIG: &str = "wasmtime-cache.toml";

/// wasmtime's cache configuration (see wasmtime's `CacheConfig`): the cache in
/// `directory`, its worker keeping it to a few thousand files and 256 MiB,
/// so that a night of fuzzing does not fill the disk.
fn cache_config(directory: &Path) -> String {
    format!(
        "[cache]\ndirectory = {directory:?}\nfile-count-soft-limit = '4096'\nfiles-total-size-soft-limit = '256Mi'\ncleanup-interval = '1m'\n",
        directory = directory.display().to_string()
    )
}

/// Extism as an embedder.
pub struct Extism {
    policy: Policy,
    /// The folder holding each loaded module's sandbox link, an empty
    /// folder, and wasmtime's compilation cache with its configuration.
    links: tempfile::TempDir,
    next_link: AtomicU64,
}

impl Extism {
    /// An Extism host for `policy`: its memory cap in whole pages, its
    /// deadline as the timeout, its fuel.
    pub fn new(policy: Policy) -> Result<Extism, String> {
        listen_to_logs();
        // A fuzz target keeps its Extism until libFuzzer ends the process,
        // so the folder outlives it: the next process removes it.
        harness::scratch::remove_stale(&std::env::temp_dir(), LINKS_PREFIX);
        let links = tempfile::Builder::new().prefix(&harness::scratch::name_prefix(LINKS_PREFIX)).tempdir().map_err(|error| error.to_string())?;
        std::fs::create_dir(links.path().join("empty")).map_err(|error| error.to_string())?;
        std::fs::write(links.path().join(CACHE_CONFIG), cache_config(&links.path().join("wasmtime-cache"))).map_err(|error| error.to_string())?;
        Ok(Extism { policy, links, next_link: AtomicU64::new(0) })
    }

    /// `max_pages` for the policy's memory cap.
    pub fn max_pages(policy: &Policy) -> u32 {
        u32::try_from(policy.max_memory_bytes / 65_536).unwrap_or(u32::MAX)
    }

    fn compile(&self, module: &[u8], store: &Store, link: &Path, reports: &UserData<Vec<i64>>) -> Result<CompiledPlugin, extism::Error> {
        let mut manifest = Manifest::new([Wasm::data(module.to_vec())]).disallow_all_hosts().with_timeout(self.policy.deadline);
        manifest.memory.max_pages = Some(Extism::max_pages(&self.policy));
        manifest.memory.max_var_bytes = Some(MAX_VAR_BYTES);
        manifest.config =
            store.iter().filter_map(|(key, value)| Some((String::from_utf8(key.clone()).ok()?, String::from_utf8(value.clone()).ok()?))).collect();
        manifest.allowed_paths = Some([(link.display().to_string(), PathBuf::from("/"))].into_iter().collect());
        let (namespace, name) = REPORT;
        PluginBuilder::new(manifest)
            .with_wasi(true)
            .with_fuel_limit(self.policy.fuel)
            .with_cache_config(self.links.path().join(CACHE_CONFIG))
            .with_function_in_namespace(namespace, name, [ValType::I64], [], reports.clone(), |_plugin, inputs, _outputs, reports| {
                let value = inputs.first().and_then(|value| value.i64()).unwrap_or_default();
                reports.get()?.lock().unwrap_or_else(PoisonError::into_inner).push(value);
                Ok(())
            })
            .compile()
    }
}

impl Embedder for Extism {
    fn policy(&self) -> &Policy {
        &self.policy
    }

    fn load(&self, module: &[u8], store: &Store) -> Result<Box<dyn Loaded>, Rejection> {
        let link = self.links.path().join(format!("link-{}", self.next_link.fetch_add(1, Ordering::Relaxed)));
        point(&link, &self.links.path().join("empty")).map_err(|error| Rejection::new(Stage::Instantiate, &format!("sandbox link: {error}")))?;
        let reports = UserData::new(Vec::new());
        let compiled = match self.compile(module, store, &link, &reports) {
            Ok(compiled) => compiled,
            Err(error) => {
                let _ = std::fs::remove_file(&link);
                let stage = if decodes(module) { Stage::Validate } else { Stage::Parse };
                return Err(Rejection::new(stage, &format!("{error:#}")));
            }
        };
        let loaded = ExtismModule { compiled, reports, link, empty: self.links.path().join("empty") };
        // Creating a plugin links it: an unknown or mistyped import fails here.
        let link_error = Plugin::new_from_compiled(&loaded.compiled).err().filter(is_link_error);
        loaded.empty_again();
        if let Some(error) = link_error {
            return Err(Rejection::new(Stage::AbiCheck, &format!("{error:#}")));
        }
        Ok(Box::new(loaded))
    }
}

/// A compiled plugin, instantiated afresh for every call.
struct ExtismModule {
    compiled: CompiledPlugin,
    reports: UserData<Vec<i64>>,
    /// The allowed path WASI sees as `/`: a link re-pointed to each run's sandbox.
    link: PathBuf,
    empty: PathBuf,
}

impl ExtismModule {
    /// Empties the folder a plugin sees when a run has no sandbox: its start
    /// function and `_initialize` run while it is created, and may make
    /// folders there (layer 3's folder probes), which every later run
    /// without a sandbox would see.
    fn empty_again(&self) {
        let used = std::fs::read_dir(&self.empty).is_ok_and(|mut entries| entries.next().is_some());
        if used {
            let _ = harness::scratch::remove_tree(&self.empty);
            let _ = std::fs::create_dir(&self.empty);
        }
    }
}

impl Drop for ExtismModule {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.link);
    }
}

impl Loaded for ExtismModule {
    fn invoke(&self, request: &[u8], sandbox: Option<&Path>) -> Outcome {
        let _one_at_a_time = CALLS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = point(&self.link, sandbox.unwrap_or(&self.empty)) {
            return Outcome::ended(Stage::Instantiate, End::Trap(TrapCode::Other(printable_message(&format!("sandbox link: {error}")))));
        }
        if let Ok(reports) = self.reports.get() {
            reports.lock().unwrap_or_else(PoisonError::into_inner).clear();
        }
        LOG_LINES.lock().unwrap_or_else(PoisonError::into_inner).clear();
        let mut outcome = match Plugin::new_from_compiled(&self.compiled) {
            Err(error) => Outcome::ended(Stage::Instantiate, end_of(&error, None)),
            Ok(mut plugin) => match plugin.call_get_error_code::<&[u8], Vec<u8>>(ENTRY, request) {
                Ok(output) => Outcome { response: output, ..Outcome::ended(Stage::Execute, End::Ok) },
                Err((error, code)) => match refusal(&error) {
                    Some(reason) => Outcome::rejected(Rejection::new(Stage::AbiCheck, &reason)),
                    None => Outcome::ended(Stage::Execute, end_of(&error, Some(code))),
                },
            },
        };
        let reported = self.reports.get().map(|reports| reports.lock().unwrap_or_else(PoisonError::into_inner).clone()).unwrap_or_default();
        let called_the_host = !reported.is_empty() || matches!(outcome.end, End::Error(_));
        if called_the_host && outcome.stage >= Stage::Execute {
            outcome.stage = Stage::HostCall;
        }
        outcome.host_calls = reported.into_iter().map(|value| HostCall { function: REPORT.1, result: Some(value) }).collect();
        outcome.logs = std::mem::take(&mut *LOG_LINES.lock().unwrap_or_else(PoisonError::into_inner));
        if sandbox.is_none() {
            self.empty_again();
        }
        outcome
    }
}

/// Calls run one at a time in a process: they share the log lines Extism's
/// one log callback collects, and a module's sandbox link and reports.
static CALLS: Mutex<()> = Mutex::new(());

/// The messages of the plugin's log lines since the last call began.
static LOG_LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Installs, once per process, Extism's log callback for the lines of
/// `extism::pdk` (the plugin's `log_*`), keeping each line's message.
fn listen_to_logs() {
    static LISTENING: std::sync::Once = std::sync::Once::new();
    LISTENING.call_once(|| {
        let keep = |line: &str| {
            if let Some(message) = log_message(line) {
                LOG_LINES.lock().unwrap_or_else(PoisonError::into_inner).push(message);
            }
        };
        // Another logger already installed (a test's) leaves logs unread: no line is kept.
        let _ = extism::set_log_callback(keep, "extism=off,extism::pdk=trace");
    });
}

/// The message of one formatted log line of `extism::pdk`: what follows the
/// target, without the `plugin=<id>` field the line ends with.
pub fn log_message(line: &str) -> Option<String> {
    let (_, message) = line.split_once("extism::pdk: ")?;
    let message = message.strip_suffix('\n').unwrap_or(message);
    let message = message.rfind(" plugin=").map_or(message, |at| &message[..at]);
    Some(message.to_owned())
}

/// Points the symlink `link` at `target`.
fn point(link: &Path, target: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(link) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    std::os::unix::fs::symlink(target, link)
}

/// Whether `module` decodes as a core module (every section and function
/// body), whether or not it validates; a component does not.
fn decodes(module: &[u8]) -> bool {
    use wasmparser::{Parser, Payload};
    for payload in Parser::new(0).parse_all(module) {
        match payload {
            Err(_) => return false,
            Ok(Payload::Version { encoding: wasmparser::Encoding::Component, .. } | Payload::UnknownSection { .. }) => return false,
            Ok(Payload::CodeSectionEntry(body)) => {
                let Ok(mut reader) = body.get_operators_reader() else { return false };
                while !reader.eof() {
                    if reader.read().is_err() {
                        return false;
                    }
                }
            }
            Ok(_) => {}
        }
    }
    true
}

/// The text of every error in the chain.
fn chain(error: &extism::Error) -> String {
    format!("{error:#}")
}

/// Whether creating a plugin failed to link it (rather than trapping in its start function).
fn is_link_error(error: &extism::Error) -> bool {
    let text = chain(error);
    [
        "unknown import",
        "incompatible import type",
        "Invalid function import",
        "Invalid global import",
        "Invalid table import",
        "Invalid memory import",
        "Invalid tag import",
        "linked modules cannot access non-function exports",
        "must be a function",
        "cannot be both a Command and a Reactor",
        "command export",
    ]
    .iter()
    .any(|marker| text.contains(marker))
}

/// Extism's refusal to call the entry point at all, if that is what `error` is.
fn refusal(error: &extism::Error) -> Option<String> {
    let text = chain(error);
    let refused = text.contains("Function not found")
        || (text.contains("has ") && text.contains("results, expected 0 or 1"))
        || text.contains("expected 0 arguments");
    refused.then_some(text)
}

/// How a call (or a plugin's creation) that failed with `error` ended; `code`
/// is the return code Extism reports, if the call got that far.
fn end_of(error: &extism::Error, code: Option<i32>) -> End {
    let root = error.root_cause().to_string();
    if let Some(trap) = error.chain().find_map(|cause| cause.downcast_ref::<wasmtime::Trap>()) {
        return trap_end(*trap);
    }
    if let Some(exit) = error.chain().find_map(|cause| cause.downcast_ref::<wasi_common::I32Exit>()) {
        return if exit.0 == 0 { End::Ok } else { End::Exit(exit.0) };
    }
    match root.as_str() {
        "timeout" => End::DeadlineExceeded,
        "plugin ran out of fuel" => End::OutOfFuel,
        "oom" => End::LimitExceeded(Resource::Memory),
        _ => match root.strip_prefix("Returned non-zero exit code: ").and_then(|code| code.parse().ok()) {
            Some(code) => End::Exit(code),
            None => match code {
                // The guest set an error message (or a host function failed): its text.
                Some(_) => End::Error(printable_message(&root)),
                None => End::Trap(TrapCode::Other(printable_message(&chain(error)))),
            },
        },
    }
}

fn trap_end(trap: wasmtime::Trap) -> End {
    use wasmtime::Trap;
    End::Trap(match trap {
        Trap::OutOfFuel => return End::OutOfFuel,
        Trap::Interrupt => return End::DeadlineExceeded,
        Trap::UnreachableCodeReached => TrapCode::Unreachable,
        Trap::MemoryOutOfBounds => TrapCode::MemoryOutOfBounds,
        Trap::TableOutOfBounds => TrapCode::TableOutOfBounds,
        Trap::IndirectCallToNull => TrapCode::IndirectCallToNull,
        Trap::BadSignature => TrapCode::BadSignature,
        Trap::IntegerOverflow => TrapCode::IntegerOverflow,
        Trap::IntegerDivisionByZero => TrapCode::IntegerDivisionByZero,
        Trap::BadConversionToInteger => TrapCode::BadConversionToInteger,
        Trap::StackOverflow => TrapCode::StackOverflow,
        other => TrapCode::Other(printable_message(&other.to_string())),
    })
}
