//! How a command list is derived from fuzz input: the ABI's mix of steps,
//! arguments leaning to boundaries (0, the end of memory and just around it,
//! `u32::MAX`, lengths that reach exactly to the end or wrap past 2^32,
//! out-slots that overlap), and paths leaning to `..`, absolute paths, long
//! names and the sandbox's symlinks that point outside it.

use arbitrary::{Result, Unstructured};

use super::api::{HostApi, Step};
use super::command::{ARGS, Command};
use super::wasi::{FUNCTIONS, Param};

/// The interpreter's initial memory, in pages.
pub const INITIAL_PAGES: u32 = 2;
/// Where every interpreter puts its request (the reference ABI's bump
/// allocator starts there).
pub const REQUEST_AT: u32 = 1024;
/// Where the generator places paths, iovecs and other well-formed arguments.
pub const SCRATCH: u32 = 0x1_0000;
/// Most commands derived from one input (a path or key written to scratch
/// counts as one). Each costs about 10 µs in a fuzz build, on top of about
/// 200 µs per run; at 24, inputs grown to full length ran at about 2,600
/// exec/s per CPU second, under the 3,000 bar, so sequences stop at 16.
pub const MAX_COMMANDS: usize = 16;

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

/// The command list derived from fuzz input for the ABI of `api`; the same
/// bytes always give the same list.
pub fn generate(data: &[u8], api: &dyn HostApi) -> Vec<Command> {
    let mut generator = Generator { commands: Vec::new(), pages: INITIAL_PAGES, scratch: 0 };
    let mut u = Unstructured::new(data);
    while !u.is_empty() && generator.commands.len() < MAX_COMMANDS {
        if generator.step(&mut u, api).is_err() {
            break;
        }
    }
    generator.commands
}

/// Builds a command list, tracking roughly how big memory is so that
/// boundary arguments land near its real end. An ABI's host commands draw
/// their arguments with its methods.
#[derive(Debug)]
pub struct Generator {
    commands: Vec<Command>,
    pages: u32,
    scratch: u32,
}

impl Generator {
    /// Appends a command.
    pub fn push(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// The interpreter's memory size as the generator tracks it, in bytes.
    pub fn size(&self) -> u32 {
        self.pages.saturating_mul(65536)
    }

    /// A fresh scratch area of 4 KiB (eight in rotation).
    pub fn scratch(&mut self) -> u32 {
        self.scratch = (self.scratch + 1) % 8;
        SCRATCH + self.scratch * 4096
    }

    /// One step of the ABI's mix.
    fn step(&mut self, u: &mut Unstructured, api: &dyn HostApi) -> Result<()> {
        let mix = api.mix();
        let total: u32 = mix.iter().map(|(_, weight)| u32::from(*weight)).sum();
        let mut ticket = u32::from(u.int_in_range(0u8..=u8::try_from(total.saturating_sub(1)).unwrap_or(u8::MAX))?);
        let step = mix
            .iter()
            .find(|(_, weight)| {
                let found = ticket < u32::from(*weight);
                ticket = ticket.saturating_sub(u32::from(*weight));
                found
            })
            .map_or(Step::Write, |(step, _)| *step);
        match step {
            Step::Host(op) => api.generate(op, self, u)?,
            Step::Write => {
                let address = self.pointer(u)?;
                let len = u.int_in_range(0usize..=64)?;
                let bytes = u.bytes(len.min(u.len()))?.to_vec();
                self.commands.push(Command::Write { address, bytes });
            }
            Step::Grow => {
                let pages = *u.choose(&[0, 1, 2, 16, 255, 256, 65536, u32::MAX])?;
                if u64::from(self.pages) + u64::from(pages) <= 256 {
                    self.pages += pages;
                }
                self.commands.push(Command::Grow { pages });
            }
            Step::Wasi => self.wasi(u)?,
        }
        Ok(())
    }

    /// A pointer: mostly a boundary of memory, sometimes any value.
    pub fn pointer(&self, u: &mut Unstructured) -> Result<u32> {
        let size = self.size();
        let choices = [
            0,
            1,
            4,
            8,
            12,
            REQUEST_AT,
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
    pub fn length(&self, u: &mut Unstructured, ptr: u32) -> Result<u32> {
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
    pub fn slots(&self, u: &mut Unstructured) -> Result<(u32, u32)> {
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
    pub fn range(&mut self, u: &mut Unstructured, content: Content) -> Result<(u32, u32)> {
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

    /// A WASI call, with its paths and iovecs written to scratch first.
    fn wasi(&mut self, u: &mut Unstructured) -> Result<()> {
        let function = u.choose_index(FUNCTIONS.len())?;
        let params = FUNCTIONS[function].params;
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
    pub fn place(&mut self, bytes: Vec<u8>) -> (u32, u32) {
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
#[derive(Clone, Copy, Debug)]
pub enum Content {
    /// Any bytes from the input.
    Any,
    /// Mostly UTF-8 text, sometimes not.
    Text,
    /// One of these keys, sometimes any bytes.
    Key(&'static [&'static [u8]]),
}

impl Content {
    /// Draws the bytes.
    pub fn bytes(self, u: &mut Unstructured) -> Result<Vec<u8>> {
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
            Content::Key(keys) => match u.int_in_range(0u8..=4)? {
                0 => raw(u),
                _ => Ok(u.choose(keys)?.to_vec()),
            },
        }
    }
}
