//! A reference model of what Extism documents, for layer 4: it follows the
//! interpreter through a command list and predicts what every kernel and
//! host call returns, the log lines, the output and how the call ends. It
//! models the kernel ([`super::kernel`]), the host functions (config, vars
//! under `max_var_bytes`, logs, HTTP that must be refused), the memory
//! limiter both memories grow under, and what Extism does around the call
//! (the input copied in first; the output and the error read after).
//!
//! It stops predicting ("lost") where the run depends on bytes it cannot
//! know (a WASI call wrote the interpreter's memory) and where a walk of the
//! block list does not end; a run that ran out of fuel or time is compared
//! only as far as it got.

use std::collections::BTreeMap;

use contract::{End, Outcome, Policy, Resource, TrapCode};
use harness::commands::generator::{INITIAL_PAGES, REQUEST_AT};
use harness::commands::memory::in_bounds;
use harness::commands::{ARGS, Command, GuestMemory, RECORD_BYTES};
use harness::embedder::Store;

use super::calls::{DEST, MASK, name_of};
use super::kernel::{Kernel, Stop};
use crate::embedder::MAX_VAR_BYTES;

const PAGE: u64 = 65_536;
/// Pages of the kernel's memory when a plugin is created.
const KERNEL_PAGES: u64 = 16;
/// What `size_of::<String>() + size_of::<Vec<u8>>()` adds per variable in Extism's accounting.
const VAR_OVERHEAD: u64 = 48;

/// How the model expects a run to end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The call returns the output.
    Ok,
    /// The call fails with this message (a host function's error, or the guest's).
    Error(String),
    /// The call fails with an error whose exact text the model does not
    /// write down (a JSON or UTF-8 error), starting with this.
    ErrorLike(String),
    /// The kernel or the interpreter traps on an access outside memory.
    Trap,
    /// A growth the memory limiter refuses.
    Oom,
}

/// A log line the model expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogLine {
    /// Exactly this text.
    Exact(String),
    /// A text starting with this.
    Prefix(String),
}

impl LogLine {
    /// Whether `line` is this one.
    pub fn matches(&self, line: &str) -> bool {
        match self {
            LogLine::Exact(text) => line == text,
            LogLine::Prefix(prefix) => line.starts_with(prefix.as_str()),
        }
    }
}

/// What the model expects of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prediction {
    /// What the interpreter reports, in order: the request's length once it
    /// read it, then each host op's result.
    pub reports: Vec<i64>,
    /// The log lines the plugin writes.
    pub logs: Vec<LogLine>,
    /// How the call ends, unless the model lost track.
    pub ending: Ending,
    /// The output, if the call returns one.
    pub output: Vec<u8>,
    /// Why the model stopped predicting early, if it did: then only the
    /// reports and logs up to that point are compared.
    pub lost: Option<String>,
    /// The index of the command the model stopped at, if it did (lost, or
    /// at a read outside memory); the number of commands for a stop after them.
    pub stopped_at: Option<usize>,
    /// For each WASI call, how many reports came before it: a WASI call
    /// may trap or exit (a bad pointer, `proc_exit`), and then the run ends
    /// right there.
    pub wasi_points: Vec<usize>,
    /// Where Extism's host reads outside the kernel's memory, if it does.
    pub reads_outside: Option<ReadOutside>,
}

/// A read of Extism's host outside the kernel's memory: its
/// `CurrentPlugin::memory_bytes` makes a slice of a block's offset and
/// length without checking them against the memory, so the process reads
/// memory it does not own (a crash, or another allocation's bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOutside {
    /// The index of the command whose host call reads, or the number of
    /// commands when Extism reads the output or the error after the call.
    pub command: usize,
    /// What is read: the range and whose it is.
    pub what: String,
}

/// Predicts the run of `commands`, encoded as `request`, with `config` as the
/// manifest's config, under `policy`.
pub fn predict(commands: &[Command], request: &[u8], config: &Store, policy: &Policy) -> Prediction {
    let budget = u64::from(crate::embedder::Extism::max_pages(policy)) * PAGE;
    let mut model = Model {
        kernel: Kernel::new(KERNEL_PAGES, budget),
        memory: GuestMemory::new(u64::from(INITIAL_PAGES) * PAGE),
        registers: [Some(0); 8],
        vars: BTreeMap::new(),
        config: config.iter().filter_map(|(key, value)| Some((String::from_utf8(key.clone()).ok()?, value.clone()))).collect(),
        reports: Vec::new(),
        logs: Vec::new(),
        wasi_points: Vec::new(),
        command: 0,
    };
    let run = match model.input(request) {
        Ok(()) => {
            let run = model.run(commands, request.len());
            model.after(run)
        }
        Err(halt) => Err(halt),
    };
    let mut reads_outside = None;
    let (ending, output, lost) = match run {
        Ok(output) => (Ending::Ok, output, None),
        Err(Halt::End(ending)) => (ending, Vec::new(), None),
        Err(Halt::Lost(reason)) => (Ending::Ok, Vec::new(), Some(reason)),
        Err(Halt::ReadsOutside(what)) => {
            reads_outside = Some(ReadOutside { command: model.command, what: what.clone() });
            (Ending::Ok, Vec::new(), Some(what))
        }
    };
    let stopped_at = lost.is_some().then_some(model.command);
    Prediction { reports: model.reports, logs: model.logs, ending, output, lost, stopped_at, wasi_points: model.wasi_points, reads_outside }
}

/// The oracle: Extism's outcome agrees with the prediction. A run in which
/// Extism reads outside its kernel's memory is a finding however it ended.
pub fn check(prediction: &Prediction, outcome: &Outcome) {
    if let Some(read) = &prediction.reads_outside {
        panic!("oracle: Extism read {} (undefined behaviour); the call ended with {}", read.what, outcome.end);
    }
    let reported: Vec<i64> = outcome.host_calls.iter().filter_map(|call| call.result).collect();
    // WASI's own errors (a pointer out of bounds) fail the call as a trap or an error.
    let wasi_ended = matches!(outcome.end, End::Trap(_) | End::Exit(_) | End::Error(_)) && prediction.wasi_points.contains(&reported.len());
    let cut_short = outcome.is_timeout() || prediction.lost.is_some() || wasi_ended;
    for (index, (got, expected)) in reported.iter().zip(&prediction.reports).enumerate() {
        assert!(got == expected, "oracle: call #{index} returned {got:#x}, the model of Extism predicts {expected:#x}");
    }
    for (index, (got, expected)) in outcome.logs.iter().zip(&prediction.logs).enumerate() {
        assert!(expected.matches(got), "oracle: log line #{index} is {got:?}, the model of Extism predicts {expected:?}");
    }
    if cut_short {
        assert!(
            prediction.lost.is_some() || reported.len() <= prediction.reports.len(),
            "oracle: {} calls reported, the model of Extism predicts {}",
            reported.len(),
            prediction.reports.len()
        );
        return;
    }
    assert!(
        reported.len() == prediction.reports.len(),
        "oracle: {} calls reported, the model of Extism predicts {} (the run ended with {})",
        reported.len(),
        prediction.reports.len(),
        outcome.end
    );
    assert!(
        outcome.logs.len() == prediction.logs.len(),
        "oracle: {} log lines, the model of Extism predicts {}",
        outcome.logs.len(),
        prediction.logs.len()
    );
    let agrees = match (&prediction.ending, &outcome.end) {
        (Ending::Ok, End::Ok) => {
            assert!(
                outcome.response == prediction.output,
                "oracle: the output ({} bytes) differs from the model's ({} bytes)",
                outcome.response.len(),
                prediction.output.len()
            );
            true
        }
        (Ending::Error(expected), End::Error(message)) => message == expected,
        (Ending::ErrorLike(prefix), End::Error(message)) => message.starts_with(prefix.as_str()),
        (Ending::Trap, End::Trap(TrapCode::MemoryOutOfBounds)) => true,
        (Ending::Oom, End::LimitExceeded(Resource::Memory)) => true,
        _ => false,
    };
    assert!(agrees, "oracle: the call ended with {}, the model of Extism predicts {:?}", outcome.end, prediction.ending);
}

/// Why the model stopped following a run.
enum Halt {
    /// The run ends, as predicted.
    End(Ending),
    /// The rest depends on what the model cannot know.
    Lost(String),
    /// Extism's host reads outside the kernel's memory: what it reads.
    ReadsOutside(String),
}

impl From<Stop> for Halt {
    fn from(stop: Stop) -> Halt {
        match stop {
            Stop::Trap => Halt::End(Ending::Trap),
            Stop::Oom => Halt::End(Ending::Oom),
            Stop::Endless => Halt::Lost("a walk of the kernel's block list that does not end".to_owned()),
        }
    }
}

/// The model's view of one run.
struct Model {
    kernel: Kernel,
    /// The interpreter's own memory.
    memory: GuestMemory,
    /// The interpreter's registers; `None` once a value is unknown.
    registers: [Option<u64>; 8],
    vars: BTreeMap<String, Vec<u8>>,
    config: BTreeMap<String, Vec<u8>>,
    reports: Vec<i64>,
    logs: Vec<LogLine>,
    wasi_points: Vec<usize>,
    /// The index of the command being performed (the number of commands after the call).
    command: usize,
}

/// A host function's failure: its message.
fn fail(message: String) -> Halt {
    Halt::End(Ending::Error(message))
}

impl Model {
    /// What Extism does before the call: `error_set(0)`, `reset()`, a block
    /// for the input (none if it is empty) and `input_set`; then the
    /// interpreter reads the request and reports its length.
    fn input(&mut self, request: &[u8]) -> Result<(), Halt> {
        self.kernel.error_set(0)?;
        self.kernel.reset()?;
        let handle = if request.is_empty() { 0 } else { self.kernel.alloc(request.len() as u64)? };
        self.kernel.fill(handle, request);
        self.kernel.set_range(false, handle, request.len() as u64)?;
        self.reports.push(request.len() as i64);
        Ok(())
    }

    /// Performs each command, as the interpreter does from its copy of the
    /// request at [`REQUEST_AT`] (`request_len` bytes).
    fn run(&mut self, commands: &[Command], request_len: usize) -> Result<(), Halt> {
        let end = u64::from(REQUEST_AT) + request_len as u64;
        let mut cursor = u64::from(REQUEST_AT);
        for (index, command) in commands.iter().enumerate() {
            self.command = index;
            cursor += RECORD_BYTES as u64;
            if let Command::Write { bytes, .. } = command {
                cursor += bytes.len() as u64;
            }
            let before = self.memory.writes();
            match command {
                Command::Host { op, args } => self.host(*op, args)?,
                Command::Write { address, bytes } => {
                    if in_bounds(*address, bytes.len() as u64, self.memory.size) {
                        self.memory.store(u64::from(*address), bytes);
                    }
                }
                Command::Grow { pages } => self.grow(*pages)?,
                Command::Wasi { function, args } => {
                    self.wasi_points.push(self.reports.len());
                    self.memory.wasi_writes(*function, args);
                }
            }
            if self.memory.touched_since(before, cursor..end) {
                return Err(Halt::Lost("a command overwrote the commands still to run".to_owned()));
            }
        }
        self.command = commands.len();
        Ok(())
    }

    /// `memory.grow` of the interpreter's memory under the limiter: growth
    /// past the budget, or to 4 GiB, fails the call (`oom`).
    fn grow(&mut self, pages: u32) -> Result<(), Halt> {
        if pages == 0 {
            return Ok(());
        }
        let grown = u64::from(pages) * PAGE;
        if self.memory.size + grown >= 1 << 32 || grown > self.kernel.budget {
            return Err(Halt::End(Ending::Oom));
        }
        self.kernel.budget -= grown;
        self.memory.size += grown;
        Ok(())
    }

    /// Argument `index` of a host op: a literal, or a register plus the literal's high bits.
    fn arg(&self, args: &[u64; ARGS], index: usize) -> Result<u64, Halt> {
        if args[MASK] & (1 << index) == 0 {
            return Ok(args[index]);
        }
        let register = (args[index] & 7) as usize;
        let value = self.registers[register].ok_or_else(|| Halt::Lost("a register the model does not know".to_owned()))?;
        Ok(value.wrapping_add(args[index] >> 8))
    }

    fn host(&mut self, op: u32, args: &[u64; ARGS]) -> Result<(), Halt> {
        let Some(name) = name_of(op) else { return Ok(()) };
        let (a, b) = (self.arg(args, 0)?, self.arg(args, 1)?);
        let kernel = &mut self.kernel;
        let result = match name {
            "alloc" => kernel.alloc(a)?,
            "free" => kernel.free(a).map(|()| 0)?,
            "length" => kernel.length(a)?,
            "length_unsafe" => kernel.length_unsafe(a)?,
            "load_u8" => kernel.load(a, 1)?,
            "load_u64" => kernel.load(a, 8)?,
            "store_u8" => kernel.store(a, 1, b & 0xff).map(|()| 0)?,
            "store_u64" => kernel.store(a, 8, b).map(|()| 0)?,
            "input_load_u8" => kernel.input_load(a, 1)?,
            "input_load_u64" => kernel.input_load(a, 8)?,
            "input_set" => kernel.set_range(false, a, b).map(|()| 0)?,
            "output_set" => kernel.set_range(true, a, b).map(|()| 0)?,
            "reset" => kernel.reset().map(|()| 0)?,
            "error_set" => kernel.error_set(a).map(|()| 0)?,
            "input_length" | "input_offset" | "output_length" | "output_offset" | "error_get" | "memory_bytes" => kernel.get(name)?,
            "config_get" => self.lookup(a, false)?,
            "var_get" => self.lookup(a, true)?,
            "var_set" => self.var_set(a, b).map(|()| 0)?,
            "http_request" => return Err(self.http_request(a)),
            "http_status_code" | "http_headers" => 0,
            // The adapter listens to the plugin's lines at `trace`, Extism's level 0.
            "get_log_level" => 0,
            "put" => self.put(a, b)?,
            _ => self.log(a).map(|()| 0)?,
        };
        self.reports.push(result as i64);
        self.registers[(args[DEST] & 7) as usize] = Some(result);
        Ok(())
    }

    /// A fresh block with the bytes at `[address, address + length)` of the
    /// interpreter's memory (both read as 32-bit), or an empty one if that is
    /// outside memory.
    fn put(&mut self, address: u64, length: u64) -> Result<u64, Halt> {
        let block = self.kernel.alloc(length)?;
        let (address, length) = (address & 0xffff_ffff, length & 0xffff_ffff);
        if address + length > self.memory.size {
            return Ok(block);
        }
        let bytes = self.memory.load(address, length).ok_or_else(|| Halt::Lost("put of bytes a WASI call may have written".to_owned()))?;
        for (index, byte) in (0u64..).zip(bytes) {
            self.kernel.store(block.wrapping_add(index), 1, u64::from(byte))?;
        }
        Ok(block)
    }

    /// The handle Extism makes of offset `offs`: 0 is the null handle, any
    /// other offset must be an active block (`length` is not 0).
    fn handle(&mut self, offs: u64) -> Result<Option<(u64, u64)>, Halt> {
        if offs == 0 {
            return Ok(Some((0, 0)));
        }
        let length = self.host_length(offs)?;
        Ok((length != 0).then_some((offs, length)))
    }

    /// `length(offs)` called by the host, which takes a trap in the kernel
    /// for 0 (no block).
    fn host_length(&mut self, offs: u64) -> Result<u64, Halt> {
        match self.kernel.length(offs) {
            Err(Stop::Trap) => Ok(0),
            length => Ok(length?),
        }
    }

    /// The bytes of a handle, as the host reads them.
    fn bytes_of(&self, (offset, length): (u64, u64)) -> Result<Vec<u8>, Halt> {
        if length == 0 {
            return Ok(Vec::new());
        }
        match self.kernel.bytes(offset, length) {
            Some(bytes) => Ok(bytes.to_vec()),
            None => Err(Halt::ReadsOutside(format!("{length} bytes of a block at {offset}, past the kernel's memory"))),
        }
    }

    /// The text of a handle, or the host's UTF-8 error (Rust's own message).
    fn text_of(&self, handle: (u64, u64)) -> Result<String, Halt> {
        String::from_utf8(self.bytes_of(handle)?).map_err(|error| fail(error.utf8_error().to_string()))
    }

    /// A new block holding `bytes` (0 for none), as the host makes it.
    fn new_block(&mut self, bytes: &[u8]) -> Result<u64, Halt> {
        if bytes.is_empty() {
            return Ok(0);
        }
        let block = self.kernel.alloc(bytes.len() as u64)?;
        if block == 0 {
            return Err(Halt::Lost("the kernel is out of memory".to_owned()));
        }
        self.kernel.fill(block, bytes);
        Ok(block)
    }

    /// `config_get(key)` or `var_get(key)`: frees the key, returns a new
    /// block with the value, or 0.
    fn lookup(&mut self, key: u64, var: bool) -> Result<u64, Halt> {
        let what = if var { "var" } else { "config" };
        let handle = self.handle(key)?.ok_or_else(|| fail(format!("invalid handle offset for {what} key: {key}")))?;
        let key = self.text_of(handle)?;
        let value = if var { self.vars.get(&key) } else { self.config.get(&key) }.cloned();
        self.kernel.free(handle.0)?;
        match value {
            Some(value) => self.new_block(&value),
            None => Ok(0),
        }
    }

    /// `var_set(key, value)`: value 0 removes the key; the store may hold at
    /// most `max_var_bytes` by Extism's accounting (48 bytes more per variable,
    /// the old value of a key set again counted too); frees both handles.
    fn var_set(&mut self, key: u64, value: u64) -> Result<(), Halt> {
        let key_handle = self.handle(key)?.ok_or_else(|| fail(format!("invalid handle offset for var key: {key}")))?;
        let name = self.text_of(key_handle)?;
        if value == 0 {
            self.vars.remove(&name);
            return Ok(self.kernel.free(key_handle.0)?);
        }
        let value_handle = self.handle(value)?.ok_or_else(|| fail(format!("invalid handle offset for var value: {value}")))?;
        let stored: u64 = self.vars.iter().map(|(key, value)| key.len() as u64 + value.len() as u64 + VAR_OVERHEAD).sum();
        let size = VAR_OVERHEAD + name.len() as u64 + value_handle.1 + stored;
        if size > MAX_VAR_BYTES {
            return Err(fail("Variable store is full".to_owned()));
        }
        let bytes = self.bytes_of(value_handle)?;
        self.kernel.free(value_handle.0)?;
        self.kernel.free(key_handle.0)?;
        self.vars.insert(name, bytes);
        Ok(())
    }

    /// `http_request(request, body)`: refused in every case, since no HTTP is
    /// compiled in and no host is allowed; never touches the network.
    fn http_request(&mut self, request: u64) -> Halt {
        let handle = match self.handle(request) {
            Ok(Some(handle)) => handle,
            Ok(None) => return fail(format!("http_request input is invalid: {request}")),
            Err(halt) => return halt,
        };
        if let Err(stop) = self.kernel.free(handle.0) {
            return stop.into();
        }
        let bytes = match self.bytes_of(handle) {
            Ok(bytes) => bytes,
            Err(halt) => return halt,
        };
        match url_of(&bytes) {
            Some(url) => fail(format!("http_request is not enabled, request to {url} is not allowed")),
            None => Halt::End(Ending::ErrorLike(String::new())),
        }
    }

    /// `log_*(message)`: a line of the message's text (or Extism's own line
    /// for one that is not UTF-8); frees the handle.
    fn log(&mut self, message: u64) -> Result<(), Halt> {
        let handle = self.handle(message)?.ok_or_else(|| fail(format!("invalid handle offset for log message: {message}")))?;
        let line = match String::from_utf8(self.bytes_of(handle)?) {
            Ok(text) => LogLine::Exact(as_logged(&text)),
            // Extism logs the error's debug form, which may carry a backtrace.
            Err(error) => LogLine::Prefix(format!("unable to log message: Err({}", error.utf8_error())),
        };
        self.logs.push(line);
        Ok(self.kernel.free(handle.0)?)
    }

    /// What Extism does after the call, however it ended (`run`): reads the
    /// output's range and the error; a set error (an active block) fails the
    /// call with its text, whatever else ended it; then a call that returned
    /// reads its output.
    fn after(&mut self, run: Result<(), Halt>) -> Result<Vec<u8>, Halt> {
        if let Err(halt @ (Halt::Lost(_) | Halt::ReadsOutside(_))) = run {
            return Err(halt);
        }
        let offset = self.kernel.get("output_offset")?;
        let length = self.kernel.get("output_length")?;
        let error = self.kernel.get("error_get")?;
        let error_length = self.host_length(error)?;
        if error != 0 && error_length != 0 {
            let message = self.bytes_of((error, error_length))?;
            return Err(match String::from_utf8(message) {
                Ok(text) => fail(contract::printable_message(&text)),
                Err(_) => Halt::End(Ending::ErrorLike("unable to load error message from memory".to_owned())),
            });
        }
        run?;
        match self.kernel.bytes(offset, length) {
            _ if length == 0 => Ok(Vec::new()),
            Some(output) => Ok(output.to_vec()),
            None => Err(Halt::ReadsOutside(format!("an output of {length} bytes at {offset}, past the kernel's memory"))),
        }
    }
}

/// A message as the host's log formatter writes it: ESC, BEL, BS, FF and
/// DEL as `\xNN`, the C1 controls as `\u{NN}` (a guard against terminal
/// injection), the rest as it is.
fn as_logged(text: &str) -> String {
    let mut logged = String::with_capacity(text.len());
    for character in text.chars() {
        match u32::from(character) {
            code @ (0x07 | 0x08 | 0x0c | 0x1b | 0x7f) => logged.push_str(&format!("\\x{code:02x}")),
            code @ 0x80..=0x9f => logged.push_str(&format!("\\u{{{code:x}}}")),
            _ => logged.push(character),
        }
    }
    logged
}

/// The `url` of an HTTP request in JSON, if the bytes are one Extism reads.
fn url_of(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    let start = text.find("\"url\":\"")? + "\"url\":\"".len();
    let end = text[start..].find('"')? + start;
    (text.starts_with('{') && text.ends_with('}')).then(|| text[start..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host_api::calls::{PUT, op_of};
    use harness::commands::codec;

    fn call(name: &str, values: &[u64], dest: u64, mask: u64) -> Command {
        let mut args = [0u64; ARGS];
        args[..values.len()].copy_from_slice(values);
        (args[DEST], args[MASK]) = (dest, mask);
        Command::Host { op: op_of(name).unwrap(), args }
    }

    fn predict_for(commands: &[Command]) -> Prediction {
        let config = Store::from([(b"key".to_vec(), b"value".to_vec())]);
        predict(commands, &codec::encode(commands), &config, &Policy::fuzzing())
    }

    #[test]
    fn blocks_follow_the_input_and_lengths_and_loads_see_them() {
        let commands = [call("alloc", &[5], 0, 0), call("length", &[0], 1, 1), call("store_u8", &[0, 0x41], 2, 1), call("load_u8", &[0], 3, 1)];
        let prediction = predict_for(&commands);
        let request = codec::encode(&commands).len() as i64;
        assert_eq!(prediction.reports, [request, 77 + request + 12, 5, 0, 0x41]);
        assert_eq!((prediction.ending, prediction.lost), (Ending::Ok, None));
    }

    #[test]
    fn config_is_read_vars_are_capped_and_http_is_refused() {
        let mut commands = vec![Command::Write { address: 0x1_0000, bytes: b"key".to_vec() }];
        let put = |address: u64, len: u64, dest: u64| {
            let mut args = [0u64; ARGS];
            (args[0], args[1], args[DEST]) = (address, len, dest);
            Command::Host { op: PUT, args }
        };
        commands.push(put(0x1_0000, 3, 7));
        commands.push(call("config_get", &[7], 0, 1));
        commands.push(call("length", &[0], 1, 1));
        let prediction = predict_for(&commands);
        assert_eq!(prediction.reports[3], 5, "{prediction:?}");
        let mut full = commands.clone();
        full.push(Command::Write { address: 0x1_1000, bytes: vec![b'V'; 2000] });
        full.push(put(0x1_0000, 3, 7));
        full.push(put(0x1_1000, 2000, 6));
        full.push(call("var_set", &[7, 6], 0, 3));
        assert_eq!(predict_for(&full).ending, Ending::Error("Variable store is full".to_owned()));
        let mut http = commands;
        let request = br#"{"url":"https://example.com/"}"#;
        http.push(Command::Write { address: 0x1_2000, bytes: request.to_vec() });
        http.push(put(0x1_2000, request.len() as u64, 7));
        http.push(call("http_request", &[7, 0], 0, 1));
        let expected = "http_request is not enabled, request to https://example.com/ is not allowed";
        assert_eq!(predict_for(&http).ending, Ending::Error(expected.to_owned()));
    }

    #[test]
    fn the_output_is_what_output_set_names_and_an_error_fails_the_call() {
        let commands = [call("alloc", &[4], 0, 0), call("store_u64", &[0, 0x6f6c6c6568], 1, 1), call("output_set", &[0, 4], 2, 1)];
        assert_eq!(predict_for(&commands).output, b"hell");
        let mut failing = commands.to_vec();
        failing.push(call("error_set", &[0], 3, 1));
        assert_eq!(predict_for(&failing).ending, Ending::Error("hell".to_owned()));
    }
}
