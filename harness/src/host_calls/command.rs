//! The commands the interpreter module performs, how the harness derives them
//! from fuzz input, and how they are encoded into the request.
//!
//! Arguments lean towards boundaries: 0, the end of memory and just around it,
//! `u32::MAX`, lengths that reach exactly to the end or wrap past 2^32, and
//! out-slots that overlap each other or the buffer `alloc` hands out. Paths
//! lean towards `..`, absolute paths, long names and the sandbox's symlinks
//! that point outside it.

use arbitrary::{Result, Unstructured};

/// Bytes of one encoded record: `op: u32` and nine `u64` arguments.
pub const RECORD_BYTES: usize = 4 + 8 * ARGS;
/// Arguments per record.
pub const ARGS: usize = 9;
/// The interpreter's initial memory, in pages.
pub const INITIAL_PAGES: u32 = 2;
/// Where the interpreter's bump allocator starts; the request lands here.
pub const BUMP_START: u32 = 1024;
/// Where the generator places paths, iovecs and other well-formed arguments.
pub const SCRATCH: u32 = 0x1_0000;
/// Most commands derived from one input (a path or key written to scratch
/// counts as one). Each costs about 10 µs in a fuzz build, on top of about
/// 200 µs per run; at 24, inputs grown to full length ran at about 2,600
/// exec/s per CPU second, under the 3,000 bar, so sequences stop at 16.
pub const MAX_COMMANDS: usize = 16;
/// Op of the first WASI function; WASI function `k` of [`WASI`] is `WASI_OP + k`.
pub const WASI_OP: u32 = 16;

/// What the interpreter's exported `alloc` does when the host calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocMode {
    /// Returns a bump pointer (starting at [`BUMP_START`]) and advances it by `len`.
    Bump,
    /// Returns this pointer whatever `len` is.
    Fixed(u32),
    /// Traps.
    Trap,
    /// Loops until the invocation runs out of fuel.
    Loop,
    /// Grows memory by this many pages and returns the old end of memory.
    Grow(u32),
}

/// One step of the interpreter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `host.read_request(ptr_ptr, len_ptr)`.
    ReadRequest { ptr_ptr: u32, len_ptr: u32 },
    /// `host.write_response(ptr, len)`.
    WriteResponse { ptr: u32, len: u32 },
    /// `host.log(ptr, len)`.
    Log { ptr: u32, len: u32 },
    /// `host.storage_get(key_ptr, key_len, value_ptr_ptr, value_len_ptr)`.
    StorageGet { key_ptr: u32, key_len: u32, value_ptr_ptr: u32, value_len_ptr: u32 },
    /// Copies `bytes` to `address` (skipped if they do not fit in memory).
    Write { address: u32, bytes: Vec<u8> },
    /// `memory.grow(pages)`.
    Grow { pages: u32 },
    /// Switches `alloc` to `mode`.
    SetAlloc(AllocMode),
    /// Calls WASI function [`WASI`]`[function]` with `args`.
    Wasi { function: usize, args: [u64; ARGS] },
}

impl Command {
    /// The stats label of a call (`call:host.<name>`, `call:wasi.<name>`), if this is one.
    pub fn label(&self) -> Option<String> {
        let name = match self {
            Command::ReadRequest { .. } => "host.read_request",
            Command::WriteResponse { .. } => "host.write_response",
            Command::Log { .. } => "host.log",
            Command::StorageGet { .. } => "host.storage_get",
            Command::Wasi { function, .. } => return WASI.get(*function).map(|wasi| format!("call:wasi.{}", wasi.name)),
            _ => return None,
        };
        Some(format!("call:{name}"))
    }
}

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

use Param::{Buf, Ciovs, Clock, Events, Fd, Flags, Iovs, Len, Lookup, Out, Path, Rights, Subscriptions, Wide, Whence};

/// The WASI functions of the interpreter, in op order (see `interpreter.wat`).
pub const WASI: &[WasiFunction] = &[
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

/// Keys of the lookup store the harness installs (see `storage()` in the layer).
pub const STORAGE_KEYS: &[&[u8]] = &[b"key", b"", b"empty", b"big", b"\xff\xfe"];

/// Paths the generator passes to WASI: escapes, absolute paths, symlinks out
/// of the sandbox (`escape`, `abs_escape`, `dir_escape`), and ordinary names.
const PATHS: &[&str] = &[
    "..",
    "../canary.txt",
    "../canary_dir/secret.txt",
    "/",
    "/etc/passwd",
    "/tmp",
    "escape",
    "abs_escape",
    "dir_escape",
    "dir_escape/secret.txt",
    "escape/..",
    "dir/../../canary.txt",
    "./dir/../file.txt",
    "file.txt",
    "dir",
    "dir/new",
    "new.txt",
    "link",
    ".",
    "",
    "dir//file",
    "file.txt/",
    "nul\0byte",
];

/// The request: each command's record, followed by its payload for `Write`.
pub fn encode(commands: &[Command]) -> Vec<u8> {
    let mut request = Vec::with_capacity(commands.len() * RECORD_BYTES);
    for command in commands {
        let (op, args, payload) = record(command);
        request.extend_from_slice(&op.to_le_bytes());
        for arg in args {
            request.extend_from_slice(&arg.to_le_bytes());
        }
        request.extend_from_slice(payload);
    }
    request
}

/// The command list a request encodes, the inverse of [`encode`]. Anything
/// `encode` cannot write (an unknown op, a truncated record or payload, an
/// argument out of its range, an unused argument that is not 0) is an error
/// naming the record.
pub fn decode(request: &[u8]) -> std::result::Result<Vec<Command>, String> {
    let mut commands = Vec::new();
    let mut at = 0;
    while let Some(rest) = request.get(at..).filter(|rest| !rest.is_empty()) {
        let (command, used) =
            decode_one(rest).map_err(|error| format!("command #{} at byte {at}: {error}", commands.len()))?;
        commands.push(command);
        at += used;
    }
    Ok(commands)
}

/// Decodes the command at the start of `bytes`: the command and the bytes it takes.
fn decode_one(bytes: &[u8]) -> std::result::Result<(Command, usize), String> {
    let header = bytes
        .get(..RECORD_BYTES)
        .ok_or_else(|| format!("{} bytes left, but a record takes {RECORD_BYTES}", bytes.len()))?;
    let (op, rest) = header.split_at(4);
    let op = u32::from_le_bytes(op.try_into().map_err(|_| "short op")?);
    let mut args = [0u64; ARGS];
    for (arg, chunk) in args.iter_mut().zip(rest.chunks_exact(8)) {
        *arg = u64::from_le_bytes(chunk.try_into().map_err(|_| "short argument")?);
    }
    let narrow = |index: usize| u32::try_from(args[index]).map_err(|_| format!("argument {index} of op {op} is past u32"));
    let command = match op {
        0 => Command::ReadRequest { ptr_ptr: narrow(0)?, len_ptr: narrow(1)? },
        1 => Command::WriteResponse { ptr: narrow(0)?, len: narrow(1)? },
        2 => Command::Log { ptr: narrow(0)?, len: narrow(1)? },
        3 => Command::StorageGet { key_ptr: narrow(0)?, key_len: narrow(1)?, value_ptr_ptr: narrow(2)?, value_len_ptr: narrow(3)? },
        4 => {
            let len = usize::try_from(narrow(1)?).map_err(|error| error.to_string())?;
            let payload = bytes
                .get(RECORD_BYTES..RECORD_BYTES + len)
                .ok_or_else(|| format!("a write of {len} bytes, but {} follow", bytes.len() - RECORD_BYTES))?;
            Command::Write { address: narrow(0)?, bytes: payload.to_vec() }
        }
        5 => Command::Grow { pages: narrow(0)? },
        6 => Command::SetAlloc(match narrow(0)? {
            0 => AllocMode::Bump,
            1 => AllocMode::Fixed(narrow(1)?),
            2 => AllocMode::Trap,
            3 => AllocMode::Loop,
            4 => AllocMode::Grow(narrow(1)?),
            mode => return Err(format!("unknown alloc mode {mode}")),
        }),
        op if op >= WASI_OP && ((op - WASI_OP) as usize) < WASI.len() => Command::Wasi { function: (op - WASI_OP) as usize, args },
        op => return Err(format!("unknown op {op}")),
    };
    if record(&command).1 != args {
        return Err(format!("op {op} has arguments `encode` never writes (unused ones must be 0)"));
    }
    let payload = if let Command::Write { bytes, .. } = &command { bytes.len() } else { 0 };
    Ok((command, RECORD_BYTES + payload))
}

/// A command's op, arguments and payload.
pub fn record(command: &Command) -> (u32, [u64; ARGS], &[u8]) {
    let mut args = [0u64; ARGS];
    let mut set = |values: &[u32]| {
        for (slot, value) in args.iter_mut().zip(values) {
            *slot = u64::from(*value);
        }
    };
    let (op, payload): (u32, &[u8]) = match command {
        Command::ReadRequest { ptr_ptr, len_ptr } => {
            set(&[*ptr_ptr, *len_ptr]);
            (0, &[])
        }
        Command::WriteResponse { ptr, len } => {
            set(&[*ptr, *len]);
            (1, &[])
        }
        Command::Log { ptr, len } => {
            set(&[*ptr, *len]);
            (2, &[])
        }
        Command::StorageGet { key_ptr, key_len, value_ptr_ptr, value_len_ptr } => {
            set(&[*key_ptr, *key_len, *value_ptr_ptr, *value_len_ptr]);
            (3, &[])
        }
        Command::Write { address, bytes } => {
            set(&[*address, u32::try_from(bytes.len()).unwrap_or(u32::MAX)]);
            (4, bytes.as_slice())
        }
        Command::Grow { pages } => {
            set(&[*pages]);
            (5, &[])
        }
        Command::SetAlloc(mode) => {
            let (code, param) = match mode {
                AllocMode::Bump => (0, 0),
                AllocMode::Fixed(ptr) => (1, *ptr),
                AllocMode::Trap => (2, 0),
                AllocMode::Loop => (3, 0),
                AllocMode::Grow(pages) => (4, *pages),
            };
            set(&[code, param]);
            (6, &[])
        }
        Command::Wasi { function, args: wasi_args } => {
            args = *wasi_args;
            (WASI_OP + u32::try_from(*function).unwrap_or(u32::MAX - WASI_OP), &[])
        }
    };
    (op, args, payload)
}

/// The command list derived from fuzz input; the same bytes always give the same list.
pub fn generate(data: &[u8]) -> Vec<Command> {
    let mut generator = Generator { commands: Vec::new(), pages: INITIAL_PAGES, scratch: 0 };
    let mut u = Unstructured::new(data);
    while !u.is_empty() && generator.commands.len() < MAX_COMMANDS {
        if generator.step(&mut u).is_err() {
            break;
        }
    }
    generator.commands
}

/// Builds a command list, tracking roughly how big memory is so that
/// boundary arguments land near its real end.
struct Generator {
    commands: Vec<Command>,
    pages: u32,
    scratch: u32,
}

impl Generator {
    fn size(&self) -> u32 {
        self.pages.saturating_mul(65536)
    }

    /// A fresh scratch area of 4 KiB (eight in rotation).
    fn scratch(&mut self) -> u32 {
        self.scratch = (self.scratch + 1) % 8;
        SCRATCH + self.scratch * 4096
    }

    fn step(&mut self, u: &mut Unstructured) -> Result<()> {
        match u.int_in_range(0u8..=24)? {
            0..=2 => {
                let (ptr_ptr, len_ptr) = self.slots(u)?;
                self.commands.push(Command::ReadRequest { ptr_ptr, len_ptr });
            }
            3..=5 => {
                let (ptr, len) = self.range(u, Content::Any)?;
                self.commands.push(Command::WriteResponse { ptr, len });
            }
            6..=8 => {
                let (ptr, len) = self.range(u, Content::Text)?;
                self.commands.push(Command::Log { ptr, len });
            }
            9..=11 => {
                let (key_ptr, key_len) = self.range(u, Content::Key)?;
                let (value_ptr_ptr, value_len_ptr) = self.slots(u)?;
                self.commands.push(Command::StorageGet { key_ptr, key_len, value_ptr_ptr, value_len_ptr });
            }
            12..=13 => {
                let address = self.pointer(u)?;
                let len = u.int_in_range(0usize..=64)?;
                let bytes = u.bytes(len.min(u.len()))?.to_vec();
                self.commands.push(Command::Write { address, bytes });
            }
            14 => {
                let pages = *u.choose(&[0, 1, 2, 16, 255, 256, 65536, u32::MAX])?;
                if u64::from(self.pages) + u64::from(pages) <= 256 {
                    self.pages += pages;
                }
                self.commands.push(Command::Grow { pages });
            }
            15..=16 => {
                let mode = self.alloc_mode(u)?;
                self.commands.push(Command::SetAlloc(mode));
            }
            _ => self.wasi(u)?,
        }
        Ok(())
    }

    /// A pointer: mostly a boundary of memory, sometimes any value.
    fn pointer(&self, u: &mut Unstructured) -> Result<u32> {
        let size = self.size();
        let choices = [
            0,
            1,
            4,
            8,
            12,
            BUMP_START,
            SCRATCH,
            size.wrapping_sub(1),
            size.wrapping_sub(4),
            size.wrapping_sub(8),
            size,
            size.wrapping_add(1),
            u32::MAX,
            u32::MAX - 3,
            0x8000_0000,
        ];
        match u.int_in_range(0..=choices.len())? {
            index if index < choices.len() => Ok(choices[index]),
            _ => u.arbitrary(),
        }
    }

    /// A length for a range starting at `ptr`: reaching the end, one past it,
    /// wrapping past 2^32, zero, small, or any value.
    fn length(&self, u: &mut Unstructured, ptr: u32) -> Result<u32> {
        let size = self.size();
        let choices = [
            0,
            1,
            4,
            16,
            size.wrapping_sub(ptr),
            size.wrapping_sub(ptr).wrapping_add(1),
            u32::MAX,
            0u32.wrapping_sub(ptr),
            0u32.wrapping_sub(ptr).wrapping_add(1),
            0x8000_0000,
            1 << 20,
            (1 << 20) + 1,
            64 << 10,
        ];
        match u.int_in_range(0..=choices.len())? {
            index if index < choices.len() => Ok(choices[index]),
            _ => u.arbitrary(),
        }
    }

    /// Two out-slots: well apart, the same, overlapping, or boundary pointers.
    fn slots(&self, u: &mut Unstructured) -> Result<(u32, u32)> {
        Ok(match u.int_in_range(0u8..=5)? {
            0 | 1 => (8, 12),
            2 => (8, 8),
            3 => (8, 10),
            4 => {
                let ptr_ptr = self.pointer(u)?;
                (ptr_ptr, ptr_ptr.wrapping_add(4))
            }
            _ => (self.pointer(u)?, self.pointer(u)?),
        })
    }

    /// A range for a host call: often bytes just written to scratch, else boundaries.
    fn range(&mut self, u: &mut Unstructured, content: Content) -> Result<(u32, u32)> {
        if u.ratio(1u8, 2)? {
            let bytes = content.bytes(u)?;
            let address = self.scratch();
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            self.commands.push(Command::Write { address, bytes });
            return Ok((address, len));
        }
        let ptr = self.pointer(u)?;
        Ok((ptr, self.length(u, ptr)?))
    }

    fn alloc_mode(&self, u: &mut Unstructured) -> Result<AllocMode> {
        // A looping alloc burns all the fuel of its run: rare.
        Ok(match u.int_in_range(0u8..=63)? {
            0 => AllocMode::Loop,
            1..=12 => AllocMode::Trap,
            13..=32 => AllocMode::Fixed(self.pointer(u)?),
            33..=44 => AllocMode::Grow(*u.choose(&[0, 1, 2, 4, 300, u32::MAX])?),
            _ => AllocMode::Bump,
        })
    }

    /// A WASI call, with its paths and iovecs written to scratch first.
    fn wasi(&mut self, u: &mut Unstructured) -> Result<()> {
        let function = u.choose_index(WASI.len())?;
        let params = WASI[function].params;
        let mut args = [0u64; ARGS];
        // One call in sixteen passes boundary values: pointers out of bounds or
        // misaligned, invalid flags, fds and enums, which preview1 answers with
        // a trap that ends the run. The others pass well-formed values.
        let boundary = u.ratio(1u8, 16)?;
        let mut index = 0;
        while index < params.len() {
            let sane = !boundary || u.ratio(1u8, 2)?;
            let value = match params[index] {
                Param::Fd if sane => u64::from(*u.choose(&[3u32, 3, 3, 4, 5, 0, 1, 2, 6])?),
                Param::Fd => u64::from(*u.choose(&[u32::MAX, 0x8000_0003, 0xffff])?),
                Param::Out(_) if sane => u64::from(self.scratch()),
                Param::Path if sane => {
                    let path = self.path(u)?;
                    let (address, len) = self.place(path);
                    args[index + 1] = u64::from(len);
                    index += 1;
                    u64::from(address)
                }
                Param::Buf if sane => {
                    args[index + 1] = u64::from(*u.choose(&[0u32, 1, 16, 256, 4096])?);
                    index += 1;
                    u64::from(self.scratch())
                }
                Param::Subscriptions if sane => {
                    let (address, count) = self.subscriptions(u)?;
                    args[index + 1] = u64::from(self.scratch());
                    args[index + 2] = u64::from(count);
                    index += 2;
                    u64::from(address)
                }
                Param::Iovs | Param::Ciovs if sane => {
                    let (address, count) = self.iovecs(u, params[index] == Param::Ciovs)?;
                    args[index + 1] = u64::from(count);
                    index += 1;
                    u64::from(address)
                }
                Param::Out(_) | Param::Path | Param::Buf | Param::Iovs | Param::Ciovs | Param::Subscriptions | Param::Events => {
                    u64::from(self.pointer(u)?)
                }
                Param::Len => {
                    let ptr = index.checked_sub(1).and_then(|before| args.get(before)).copied().unwrap_or(0);
                    u64::from(self.length(u, ptr as u32)?)
                }
                Param::Lookup if sane => u64::from(u.ratio(1u8, 2)?),
                Param::Lookup => u64::from(*u.choose(&[2u32, 0x8000_0000, u32::MAX])?),
                Param::Flags if sane => u64::from(*u.choose(&[0u32, 0, 1, 1, 2, 3, 4, 8, 9, 0xf])?),
                Param::Flags => u64::from(*u.choose(&[0x10u32, 0x20, 0xffff, u32::MAX])?),
                Param::Rights if sane => *u.choose(&[0, 1, 2, 0x40, 0x1fff_ffff])?,
                Param::Rights => *u.choose(&[1 << 29, u64::MAX])?,
                Param::Wide if sane => *u.choose(&[0, 1, 4, 64, 4096, u64::from(u32::MAX)])?,
                Param::Wide => *u.choose(&[u64::MAX, i64::MAX as u64, 1 << 63, 1 << 40])?,
                Param::Whence if sane => u64::from(*u.choose(&[0u32, 1, 2])?),
                Param::Whence => u64::from(*u.choose(&[3u32, u32::MAX])?),
                Param::Clock if sane => u64::from(*u.choose(&[0u32, 1, 2, 3])?),
                Param::Clock => u64::from(*u.choose(&[4u32, u32::MAX])?),
            };
            args[index] = value;
            index += 1;
        }
        self.commands.push(Command::Wasi { function, args });
        Ok(())
    }

    /// Writes `bytes` to a fresh scratch area: (address, length).
    fn place(&mut self, bytes: Vec<u8>) -> (u32, u32) {
        let address = self.scratch();
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.commands.push(Command::Write { address, bytes });
        (address, len)
    }

    fn path(&self, u: &mut Unstructured) -> Result<Vec<u8>> {
        Ok(match u.int_in_range(0u8..=9)? {
            0 => "x".repeat(*u.choose(&[255, 256, 1024])?).into_bytes(),
            1 => "../".repeat(*u.choose(&[2, 40])?).into_bytes(),
            2 => {
                let len = u.int_in_range(0usize..=32)?;
                u.bytes(len.min(u.len()))?.to_vec()
            }
            _ => u.choose(PATHS)?.as_bytes().to_vec(),
        })
    }

    /// 1 to 3 `poll_oneoff` subscriptions in scratch: (address, count). Mostly
    /// clocks, relative or absolute, with timeouts from none to forever; some
    /// wait for an fd to be readable or writable.
    fn subscriptions(&mut self, u: &mut Unstructured) -> Result<(u32, u32)> {
        const RECORD_BYTES: usize = 48;
        let count = u.int_in_range(1u32..=3)?;
        let mut records = Vec::new();
        for _ in 0..count {
            let mut record = [0u8; RECORD_BYTES];
            record[..8].copy_from_slice(&u.arbitrary::<u64>()?.to_le_bytes());
            let tag = *u.choose(&[0u8, 0, 0, 1, 2])?;
            record[8] = tag;
            if tag == 0 {
                let clock = *u.choose(&[0u32, 1, 1, 2, 3])?;
                let timeout_ns = *u.choose(&[0u64, 1, 1_000_000, 10_000_000_000, u64::MAX])?;
                let absolute = u.ratio(1u8, 4)?;
                record[16..20].copy_from_slice(&clock.to_le_bytes());
                record[24..32].copy_from_slice(&timeout_ns.to_le_bytes());
                record[40..42].copy_from_slice(&u16::from(absolute).to_le_bytes());
            } else {
                let fd = *u.choose(&[0u32, 1, 3, 4])?;
                record[16..20].copy_from_slice(&fd.to_le_bytes());
            }
            records.extend_from_slice(&record);
        }
        let (address, _) = self.place(records);
        Ok((address, count))
    }

    /// An iovec array in scratch, with its buffers (filled for `fd_write`): (address, count).
    fn iovecs(&mut self, u: &mut Unstructured, filled: bool) -> Result<(u32, u32)> {
        let count = u.int_in_range(0u32..=3)?;
        let array = self.scratch();
        let mut entries = Vec::new();
        for _ in 0..count {
            let len = *u.choose(&[0u32, 1, 5, 64, 4096])?;
            let buffer = self.scratch();
            if filled {
                let text = Content::Text.bytes(u)?;
                self.commands.push(Command::Write { address: buffer, bytes: text });
            }
            entries.extend_from_slice(&buffer.to_le_bytes());
            entries.extend_from_slice(&len.to_le_bytes());
        }
        self.commands.push(Command::Write { address: array, bytes: entries });
        Ok((array, count))
    }
}

/// What bytes a well-formed range holds.
#[derive(Clone, Copy)]
enum Content {
    /// Any bytes from the input.
    Any,
    /// Mostly UTF-8 text, sometimes not.
    Text,
    /// A key of the lookup store, sometimes any bytes.
    Key,
}

impl Content {
    fn bytes(self, u: &mut Unstructured) -> Result<Vec<u8>> {
        let raw = |u: &mut Unstructured| -> Result<Vec<u8>> {
            let len = u.int_in_range(0usize..=48)?;
            Ok(u.bytes(len.min(u.len()))?.to_vec())
        };
        match self {
            Content::Any => raw(u),
            Content::Text => match u.int_in_range(0u8..=3)? {
                0 => raw(u),
                1 => Ok(b"caf\xc3\xa9 \xe2\x82".to_vec()),
                _ => Ok(u.choose(&["hello", "", "log line ✓", "../canary.txt"])?.as_bytes().to_vec()),
            },
            Content::Key => match u.int_in_range(0u8..=4)? {
                0 => raw(u),
                _ => Ok(u.choose(STORAGE_KEYS)?.to_vec()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_bytes_give_the_same_commands_and_empty_input_gives_none() {
        let data: Vec<u8> = (0..2000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        assert_eq!(generate(&data), generate(&data));
        assert!(!generate(&data).is_empty());
        assert!(generate(&[]).is_empty());
    }

    #[test]
    fn records_have_a_fixed_size_and_writes_carry_their_payload() {
        let commands = [Command::Grow { pages: 1 }, Command::Write { address: 7, bytes: vec![1, 2, 3] }];
        let request = encode(&commands);
        assert_eq!(request.len(), 2 * RECORD_BYTES + 3);
        assert_eq!(&request[RECORD_BYTES..RECORD_BYTES + 4], &4u32.to_le_bytes());
        assert_eq!(&request[RECORD_BYTES + 12..RECORD_BYTES + 20], &3u64.to_le_bytes());
        assert_eq!(&request[2 * RECORD_BYTES..], &[1, 2, 3]);
    }

    #[test]
    fn decoding_inverts_encoding_of_generated_lists() {
        for seed in 0..50u32 {
            let data: Vec<u8> = (0..3000u32).map(|i| (i.wrapping_add(seed * 7919).wrapping_mul(2_654_435_761) >> 13) as u8).collect();
            let commands = generate(&data);
            assert_eq!(decode(&encode(&commands)), Ok(commands), "seed {seed}");
        }
        assert_eq!(decode(&[]), Ok(Vec::new()));
    }

    #[test]
    fn decoding_names_the_bad_command() {
        let good = encode(&[Command::Grow { pages: 1 }, Command::Write { address: 7, bytes: vec![1, 2, 3] }]);
        let truncated = decode(&good[..good.len() - 1]).unwrap_err();
        assert!(truncated.starts_with("command #1 at byte 76: a write of 3 bytes, but 2 follow"), "{truncated}");
        let error = decode(&good[..50]).unwrap_err();
        assert!(error.contains("50 bytes left"), "{error}");
        let mut unknown = good.clone();
        unknown[0] = 9;
        assert!(decode(&unknown).unwrap_err().contains("unknown op 9"));
        let mut unused = good.clone();
        unused[4 + 8] = 1;
        assert!(decode(&unused).unwrap_err().contains("unused ones must be 0"));
        let mut wide = good;
        wide[4 + 7] = 1;
        assert!(decode(&wide).unwrap_err().contains("argument 0 of op 5 is past u32"));
    }

    #[test]
    fn wasi_ops_match_the_interpreter_source() {
        let source = super::super::interpreter::SOURCE;
        for (index, function) in WASI.iter().enumerate() {
            let op = WASI_OP as usize + index;
            let pattern = format!("(i32.const {op}))\n      (then (drop (call ${}", function.name);
            let inline = format!("(i32.const {op})) (then (drop (call ${}", function.name);
            assert!(source.contains(&pattern) || source.contains(&inline), "op {op} is not {}", function.name);
            let arity = source
                .lines()
                .find(|line| line.contains(&format!("\"{}\" (func", function.name)))
                .map(|line| line.matches("i32").count() + line.matches("i64").count() - 1);
            assert_eq!(arity, Some(function.params.len()), "{}", function.name);
        }
    }
}
