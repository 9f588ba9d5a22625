//! The WASI preview1 functions an interpreter calls, and how each uses its
//! arguments: for generating them and for modelling which guest bytes a
//! call may overwrite.

/// How a WASI function uses one argument, for generating it and for the model
/// of which guest bytes the call may overwrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// A file descriptor.
    Fd,
    /// A pointer where the host writes at most this many bytes.
    Out(u32),
    /// A path the host reads; the next argument is its length.
    Path,
    /// A buffer the host may fill; the next argument is its length.
    Buf,
    /// An iovec array whose buffers the host may fill; the next argument is its count.
    Iovs,
    /// An iovec array whose buffers the host reads; the next argument is its count.
    Ciovs,
    /// The length or count of the argument before.
    Len,
    /// Lookup flags (bit 0: follow symlinks).
    Lookup,
    /// Open, fd or time flags.
    Flags,
    /// A 64-bit offset or timestamp.
    Wide,
    /// A 64-bit rights mask.
    Rights,
    /// `whence` of `fd_seek`.
    Whence,
    /// A clock id.
    Clock,
    /// A `poll_oneoff` subscription array the host reads; the next argument
    /// is the event buffer, the one after it their count.
    Subscriptions,
    /// A pointer where the host writes one 32-byte event per subscription;
    /// the next argument is the count.
    Events,
}

/// A WASI preview1 function the interpreter can call.
#[derive(Debug)]
pub struct WasiFunction {
    /// Its name in `wasi_snapshot_preview1`.
    pub name: &'static str,
    /// How it uses each argument.
    pub params: &'static [Param],
}

use Param::{Buf, Ciovs, Clock, Events, Fd, Flags, Iovs, Len, Lookup, Out, Path, Rights, Subscriptions, Whence, Wide};

/// The WASI functions an interpreter calls, in op order.
pub const FUNCTIONS: &[WasiFunction] = &[
    WasiFunction { name: "fd_write", params: &[Fd, Ciovs, Len, Out(4)] },
    WasiFunction { name: "fd_read", params: &[Fd, Iovs, Len, Out(4)] },
    WasiFunction { name: "fd_pread", params: &[Fd, Iovs, Len, Wide, Out(4)] },
    WasiFunction { name: "fd_pwrite", params: &[Fd, Ciovs, Len, Wide, Out(4)] },
    WasiFunction { name: "fd_close", params: &[Fd] },
    WasiFunction { name: "fd_seek", params: &[Fd, Wide, Whence, Out(8)] },
    WasiFunction { name: "fd_tell", params: &[Fd, Out(8)] },
    WasiFunction { name: "fd_prestat_get", params: &[Fd, Out(8)] },
    WasiFunction { name: "fd_prestat_dir_name", params: &[Fd, Buf, Len] },
    WasiFunction { name: "fd_filestat_get", params: &[Fd, Out(64)] },
    WasiFunction { name: "fd_fdstat_get", params: &[Fd, Out(24)] },
    WasiFunction { name: "fd_readdir", params: &[Fd, Buf, Len, Wide, Out(4)] },
    WasiFunction { name: "fd_renumber", params: &[Fd, Fd] },
    WasiFunction { name: "fd_sync", params: &[Fd] },
    WasiFunction { name: "path_open", params: &[Fd, Lookup, Path, Len, Flags, Rights, Rights, Flags, Out(4)] },
    WasiFunction { name: "path_filestat_get", params: &[Fd, Lookup, Path, Len, Out(64)] },
    WasiFunction { name: "path_create_directory", params: &[Fd, Path, Len] },
    WasiFunction { name: "path_remove_directory", params: &[Fd, Path, Len] },
    WasiFunction { name: "path_unlink_file", params: &[Fd, Path, Len] },
    WasiFunction { name: "path_rename", params: &[Fd, Path, Len, Fd, Path, Len] },
    WasiFunction { name: "path_symlink", params: &[Path, Len, Fd, Path, Len] },
    WasiFunction { name: "path_readlink", params: &[Fd, Path, Len, Buf, Len, Out(4)] },
    WasiFunction { name: "path_link", params: &[Fd, Lookup, Path, Len, Fd, Path, Len] },
    WasiFunction { name: "path_filestat_set_times", params: &[Fd, Lookup, Path, Len, Wide, Wide, Flags] },
    WasiFunction { name: "environ_get", params: &[Out(64), Out(64)] },
    WasiFunction { name: "environ_sizes_get", params: &[Out(4), Out(4)] },
    WasiFunction { name: "args_get", params: &[Out(64), Out(64)] },
    WasiFunction { name: "args_sizes_get", params: &[Out(4), Out(4)] },
    WasiFunction { name: "clock_time_get", params: &[Clock, Wide, Out(8)] },
    WasiFunction { name: "clock_res_get", params: &[Clock, Out(8)] },
    WasiFunction { name: "random_get", params: &[Buf, Len] },
    WasiFunction { name: "sched_yield", params: &[] },
    WasiFunction { name: "poll_oneoff", params: &[Subscriptions, Events, Len, Out(4)] },
];

impl WasiFunction {
    /// Its parameter types as WAT (`i32` or `i64` each).
    pub fn wat_params(&self) -> String {
        self.params.iter().map(|param| if *param == Param::Wide || *param == Param::Rights { " i64" } else { " i32" }).collect()
    }
}
