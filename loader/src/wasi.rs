//! WASI preview1 with strict capabilities: no inherited environment,
//! arguments or stdio; stdout and stderr captured into bounded buffers; at most
//! one preopened sandbox directory; `random_get` bounded, since wasmtime-wasi
//! makes the random bytes before it checks that the guest buffer holds them;
//! `poll_oneoff` never waits; at most `Policy::max_open_files` descriptors
//! and streams at once, since wasmtime-wasi holds a host file descriptor for
//! each file the guest opens and sets no cap of its own below a million.

use std::path::Path;

use wasmtime::Linker;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, ResourceTableError, WasiCtxBuilder, WasiView};

use crate::Policy;
use crate::abi::WASI_MODULE;
use crate::host::HostState;

/// WASI errno `nosys`: the function is not supported.
const ERRNO_NOSYS: i32 = 52;

/// Defines WASI preview1 in `linker`, with `poll_oneoff` answering `nosys`
/// at once.
///
/// wasmtime-wasi's `poll_oneoff` sleeps in the host until a clock
/// subscription expires, and the guest picks the timeout. Neither fuel nor
/// the epoch deadline reaches into a host call, so one call held the thread
/// as long as the guest asked (10 s under a 1 s deadline, measured; up to
/// `u64::MAX` ns). A function serving one request has nothing to wait for.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_sync(linker, |state: &mut HostState| &mut state.wasi)?;
    linker.allow_shadowing(true);
    let defined = linker.func_wrap(WASI_MODULE, "poll_oneoff", |_: i32, _: i32, _: i32, _: i32| ERRNO_NOSYS).map(|_| ());
    linker.allow_shadowing(false);
    defined
}

/// The WASI context of one invocation and the pipes that capture its output.
pub struct WasiSetup {
    /// The context to put in the store.
    pub ctx: WasiP1Ctx,
    /// Captured stdout.
    pub stdout: MemoryOutputPipe,
    /// Captured stderr.
    pub stderr: MemoryOutputPipe,
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
    Ok(WasiSetup { ctx, stdout, stderr })
}

/// Whether `error` is a WASI call refused because the resource table was full:
/// the open-file cap of [`setup`].
pub fn is_open_files_cap(error: &wasmtime::Error) -> bool {
    error.chain().any(|cause| matches!(cause.downcast_ref::<ResourceTableError>(), Some(ResourceTableError::Full)))
}
