//! WASI preview1 with strict capabilities: no inherited environment,
//! arguments or stdio; stdout and stderr captured into bounded buffers; at most
//! one preopened sandbox directory; `random_get` bounded, since wasmtime-wasi
//! makes the random bytes before it checks that the guest buffer holds them;
//! `poll_oneoff` never waits; at most `Policy::max_open_files` descriptors
//! and streams at once, since wasmtime-wasi holds a host file descriptor for
//! each file the guest opens and sets no cap of its own below a million; at
//! most `Policy::max_sandbox_entries` files, folders and links in the
//! sandbox, since wasmtime-wasi counts nothing a guest makes there.

use std::path::Path;

use wasmtime::{AsContextMut, Caller, Extern, Linker};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p1::wasi_snapshot_preview1::{self as preview1, WasiSnapshotPreview1};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::runtime::in_tokio;
use wasmtime_wasi::{FsPerms, ResourceTableError, WasiCtxBuilder, WasiView};
use wiggle::GuestMemory;

use crate::Policy;
use crate::abi::WASI_MODULE;
use crate::host::HostState;
use crate::sandbox_entries::SandboxEntries;

/// WASI errno `nosys`: the function is not supported.
const ERRNO_NOSYS: i32 = 52;
/// WASI errno `dquot`: the sandbox holds as many entries as the policy allows.
const ERRNO_DQUOT: i32 = 19;
/// The `oflags` bit of `path_open` that makes the file if it is missing.
const OFLAGS_CREAT: i32 = 1;

/// Defines WASI preview1 in `linker`, with `poll_oneoff` answering `nosys`
/// at once.
///
/// wasmtime-wasi's `poll_oneoff` sleeps in the host until a clock
/// subscription expires, and the guest picks the timeout. Neither fuel nor
/// the epoch deadline reaches into a host call, so one call held the thread
/// as long as the guest asked (10 s under a 1 s deadline, measured; up to
/// `u64::MAX` ns). A function serving one request has nothing to wait for.
///
/// The four calls that make an entry in the sandbox (`path_create_directory`,
/// `path_open` with `O_CREAT`, `path_symlink`, `path_link`) ask the
/// invocation's [`SandboxEntries`] first and answer `dquot` past the cap;
/// then they run wasmtime-wasi's own preview1 functions on the guest's memory.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_sync(linker, |state: &mut HostState| &mut state.wasi)?;
    linker.allow_shadowing(true);
    let defined = shadow(linker);
    linker.allow_shadowing(false);
    defined
}

/// Defines the functions that replace wasmtime-wasi's.
fn shadow(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(WASI_MODULE, "poll_oneoff", |_: i32, _: i32, _: i32, _: i32| ERRNO_NOSYS)?;
    linker.func_wrap(WASI_MODULE, "path_create_directory", |mut caller: Caller<'_, HostState>, fd: i32, path: i32, len: i32| {
        making_entry(&mut caller, |wasi, memory| in_tokio(preview1::path_create_directory(wasi, memory, fd, path, len)))
    })?;
    linker.func_wrap(
        WASI_MODULE,
        "path_open",
        |mut caller: Caller<'_, HostState>,
         fd: i32,
         dirflags: i32,
         path: i32,
         len: i32,
         oflags: i32,
         base: i64,
         inheriting: i64,
         fdflags: i32,
         opened: i32| {
            let open = |wasi: &mut WasiP1Ctx, memory: &mut GuestMemory<'_>| {
                in_tokio(preview1::path_open(wasi, memory, fd, dirflags, path, len, oflags, base, inheriting, fdflags, opened))
            };
            if oflags & OFLAGS_CREAT == 0 { on_guest_memory(&mut caller, open) } else { making_entry(&mut caller, open) }
        },
    )?;
    linker.func_wrap(WASI_MODULE, "path_symlink", |mut caller: Caller<'_, HostState>, old: i32, old_len: i32, fd: i32, new: i32, new_len: i32| {
        making_entry(&mut caller, |wasi, memory| in_tokio(preview1::path_symlink(wasi, memory, old, old_len, fd, new, new_len)))
    })?;
    linker.func_wrap(
        WASI_MODULE,
        "path_link",
        |mut caller: Caller<'_, HostState>, old_fd: i32, old_flags: i32, old: i32, old_len: i32, new_fd: i32, new: i32, new_len: i32| {
            making_entry(&mut caller, |wasi, memory| {
                in_tokio(preview1::path_link(wasi, memory, old_fd, old_flags, old, old_len, new_fd, new, new_len))
            })
        },
    )?;
    Ok(())
}

/// A preview1 call that may make an entry in the sandbox: `dquot` if the
/// sandbox is full, else the call, counted if it succeeded.
fn making_entry(
    caller: &mut Caller<'_, HostState>,
    call: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> wasmtime::Result<i32>,
) -> wasmtime::Result<i32> {
    if !caller.data_mut().sandbox_entries.admits_one() {
        return Ok(ERRNO_DQUOT);
    }
    let errno = on_guest_memory(caller, call)?;
    if errno == 0 {
        caller.data_mut().sandbox_entries.made_one();
    }
    Ok(errno)
}

/// Runs a preview1 call on the WASI context and the guest's exported
/// memory, as wasmtime-wasi's own definitions do.
fn on_guest_memory(
    caller: &mut Caller<'_, HostState>,
    call: impl FnOnce(&mut WasiP1Ctx, &mut GuestMemory<'_>) -> wasmtime::Result<i32>,
) -> wasmtime::Result<i32> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Err(wasmtime::Error::msg("missing required memory export"));
    };
    // The bytes a call may copy out of the guest, which wasmtime-wasi's own
    // definitions hand over before each call.
    let hostcall_fuel = caller.as_context_mut().hostcall_fuel();
    let (data, state) = memory.data_and_store_mut(caller);
    state.wasi.set_hostcall_fuel(hostcall_fuel);
    call(&mut state.wasi, &mut GuestMemory::Unshared(data))
}

/// The WASI context of one invocation and the pipes that capture its output.
pub struct WasiSetup {
    /// The context to put in the store.
    pub ctx: WasiP1Ctx,
    /// Captured stdout.
    pub stdout: MemoryOutputPipe,
    /// Captured stderr.
    pub stderr: MemoryOutputPipe,
    /// What the guest may still make in the sandbox.
    pub sandbox_entries: SandboxEntries,
}

/// Builds a context that sees only `sandbox_dir` (as `/`), if given, with the
/// policy's stdio, random and open-file caps.
///
/// The open-file cap is the capacity of the context's resource table, which
/// holds every descriptor and stream: a `path_open` past it traps (wasmtime-wasi
/// turns a full table into a trap), and [`is_open_files_cap`] tells that trap.
pub fn setup(sandbox_dir: Option<&Path>, policy: &Policy) -> wasmtime::Result<WasiSetup> {
    let stdout = MemoryOutputPipe::new(policy.max_stdio_bytes);
    let stderr = MemoryOutputPipe::new(policy.max_stdio_bytes);
    let mut builder = WasiCtxBuilder::new();
    builder.stdout(stdout.clone()).stderr(stderr.clone()).allow_blocking_current_thread(true);
    builder.max_random_size(u64::try_from(policy.max_random_bytes).unwrap_or(u64::MAX));
    if let Some(dir) = sandbox_dir {
        builder.preopened_dir(dir, "/", FsPerms::ReadWrite)?;
    }
    let mut ctx = builder.build_p1();
    ctx.ctx().table.set_max_capacity(policy.max_open_files);
    Ok(WasiSetup { ctx, stdout, stderr, sandbox_entries: SandboxEntries::new(sandbox_dir, policy.max_sandbox_entries) })
}

/// Whether `error` is a WASI call refused because the resource table was full:
/// the open-file cap of [`setup`].
pub fn is_open_files_cap(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| matches!(cause.downcast_ref::<ResourceTableError>(), Some(ResourceTableError::Full)))
}
