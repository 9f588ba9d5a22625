//! A reference model of the `host` ABI, written from the ABI's
//! documentation and its check order, without calling loader code. It
//! follows the interpreter through a command list and predicts every `host`
//! call's status, the final response and the logs.
//!
//! Check order it implements: every guest range in bounds (u32 pointer plus
//! u32 length, no wrapping, against the memory size) else out-of-bounds; then
//! policy caps (too-large); then content (bad-utf8, not-found). The alloc
//! protocol: both 4-byte out-slots in bounds, then `alloc(len)`, then the
//! returned range in bounds of memory as it is after `alloc` (else
//! alloc-failed; a trapping `alloc` also gives alloc-failed; a looping one ends
//! the invocation), then the data, `ptr` and `len` are written in that order.
//! A host call is recorded when it starts, so a call made from inside
//! `alloc` (re-entry) comes after the call it was made from.
//!
//! The model tracks the interpreter's memory as far as it matters: the bytes
//! the commands and the alloc protocol write are known; bytes a WASI call may
//! write are unknown. It stops predicting ("lost") at the first call whose
//! status depends on unknown bytes (a log line's UTF-8, a storage key), or when
//! something overwrites commands the interpreter has yet to read. A response
//! with unknown bytes is not compared.

use contract::{End, HostCall, Outcome, Policy, Stage};
use harness::commands::generator::{INITIAL_PAGES, REQUEST_AT};
use harness::commands::memory::in_bounds;
use harness::commands::{ARGS, Command, GuestMemory, RECORD_BYTES};
use harness::embedder::Store;

use super::calls::{AllocMode, Call};
use super::status::Status;

const PAGE: u64 = 65536;

/// The policy caps the model needs.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `Policy::max_response_bytes`.
    pub max_response_bytes: u64,
    /// `Policy::max_log_bytes`.
    pub max_log_bytes: u64,
    /// `Policy::max_memory_bytes`.
    pub max_memory_bytes: u64,
}

impl Limits {
    /// The caps of `policy`.
    pub fn of(policy: &Policy) -> Limits {
        let wide = |value: usize| u64::try_from(value).unwrap_or(u64::MAX);
        Limits {
            max_response_bytes: wide(policy.max_response_bytes),
            max_log_bytes: wide(policy.max_log_bytes),
            max_memory_bytes: wide(policy.max_memory_bytes),
        }
    }
}

/// What the model expects of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prediction {
    /// Each `host` call in order, with its status; `None` for a call whose
    /// `alloc` loops, which ends the invocation.
    pub calls: Vec<(&'static str, Option<Status>)>,
    /// The final response, or `None` if it holds bytes the model cannot know.
    pub response: Option<Vec<u8>>,
    /// Log lines, in order.
    pub logs: Vec<String>,
    /// Why the model stopped following the run early, if it did; `calls` and
    /// `logs` then cover only the run up to that point.
    pub lost: Option<String>,
    /// For each call, whether the interpreter makes a WASI call after it and
    /// before the next `host` call.
    pub wasi_after: Vec<bool>,
}

impl Prediction {
    /// Whether the model expects the run to end by running out of fuel or time.
    pub fn loops(&self) -> bool {
        self.lost.is_none() && self.calls.last().is_some_and(|(_, status)| status.is_none())
    }
}

/// Predicts the run of `commands`, encoded as `request`, against `storage`.
pub fn predict(commands: &[Command], request: &[u8], storage: &Store, limits: Limits) -> Prediction {
    let mut model = Model {
        memory: GuestMemory::new(u64::from(INITIAL_PAGES) * PAGE),
        bump: REQUEST_AT,
        mode: AllocMode::Bump,
        response: Some(Vec::new()),
        logs: Vec::new(),
        log_bytes: 0,
        calls: Vec::new(),
        wasi_after: Vec::new(),
        storage,
        request,
        limits,
        args: [0; ARGS],
    };
    let lost = model.run(commands).err().and_then(|halt| match halt {
        Halt::Loop => None,
        Halt::Lost(reason) => Some(reason),
    });
    Prediction { calls: model.calls, response: model.response, logs: model.logs, lost, wasi_after: model.wasi_after }
}

/// The oracle: the loader's outcome agrees with the model's prediction.
///
/// A run that ended by fuel or deadline is compared only over the calls that
/// completed; a run the model lost track of, only up to that point. A run that
/// trapped is compared over the calls before the trap, which must come from a
/// WASI call: preview1 traps on out-of-bounds and misaligned pointers, and
/// nothing else in the interpreter traps.
pub fn check(prediction: &Prediction, outcome: &Outcome) {
    assert!(
        outcome.stage == Stage::HostCall,
        "oracle: the interpreter always calls read_request first, but the run stopped at {} ({})",
        outcome.stage,
        outcome.end
    );
    let timeout = outcome.is_timeout();
    let trapped = matches!(outcome.end, End::Trap(_));
    if trapped {
        check_trap(prediction, outcome);
    }
    if prediction.lost.is_none() {
        assert!(
            outcome.host_calls.len() <= prediction.calls.len(),
            "oracle: the loader recorded {} host calls, the model predicts {}",
            outcome.host_calls.len(),
            prediction.calls.len()
        );
    }
    for (index, (name, status)) in prediction.calls.iter().enumerate() {
        let Some(call) = outcome.host_calls.get(index) else {
            assert!(
                timeout || trapped || prediction.lost.is_some(),
                "oracle: the model predicts host call #{index} host.{name}, the loader recorded only {} calls",
                outcome.host_calls.len()
            );
            break;
        };
        assert!(call.function == *name, "oracle: host call #{index} is host.{}, the model predicts host.{name}", call.function);
        if timeout && call.result.is_none() {
            break;
        }
        assert!(
            call.result == status.map(|status| i64::from(status.code())),
            "oracle: host call #{index} host.{name} returned {}, the model predicts {status:?}",
            shown(call)
        );
    }
    let common = prediction.logs.len().min(outcome.logs.len());
    for index in 0..common {
        assert!(
            prediction.logs[index] == outcome.logs[index],
            "oracle: log line #{index} is {:?}, the model predicts {:?}",
            outcome.logs[index],
            prediction.logs[index]
        );
    }
    if timeout || trapped || prediction.lost.is_some() {
        return;
    }
    assert!(!prediction.loops(), "oracle: alloc loops forever, but the invocation ended with {}", outcome.end);
    assert!(outcome.end == End::Ok, "oracle: the invocation ended with {}, the model predicts ok", outcome.end);
    assert!(
        outcome.host_calls.len() == prediction.calls.len(),
        "oracle: the loader recorded {} host calls, the model predicts {}",
        outcome.host_calls.len(),
        prediction.calls.len()
    );
    assert!(
        outcome.logs.len() == prediction.logs.len(),
        "oracle: the loader kept {} log lines, the model predicts {}",
        outcome.logs.len(),
        prediction.logs.len()
    );
    if let Some(response) = &prediction.response {
        assert!(
            outcome.response == *response,
            "oracle: the response ({} bytes) differs from the model's ({} bytes)",
            outcome.response.len(),
            response.len()
        );
    }
}

/// A call's result as the model's status, for messages: `Some(NotFound)`,
/// or the raw code if it is no status at all.
fn shown(call: &HostCall) -> String {
    match call.result {
        Some(code) => match i32::try_from(code).ok().and_then(Status::from_code) {
            Some(status) => format!("Some({status:?})"),
            None => format!("code {code}"),
        },
        None => "None".to_owned(),
    }
}

/// A trapped run: every recorded call returned, and a WASI call follows the last.
fn check_trap(prediction: &Prediction, outcome: &Outcome) {
    if let Some(index) = outcome.host_calls.iter().position(|call| call.result.is_none()) {
        panic!("oracle: host call #{index} never returned, yet the invocation trapped: {}", outcome.end);
    }
    let Some(last) = outcome.host_calls.len().checked_sub(1) else { return };
    let followed_completely = prediction.lost.is_none() || last + 1 < prediction.calls.len();
    if followed_completely && prediction.wasi_after.get(last) == Some(&false) {
        panic!("oracle: the invocation trapped after host call #{last} with no WASI call in between: {}", outcome.end);
    }
}

/// Why the model stopped following a run.
enum Halt {
    /// `alloc` loops: the call never returns and the invocation ends.
    Loop,
    /// The next prediction depends on bytes the model cannot know.
    Lost(String),
}

/// The model's view of one run.
struct Model<'a> {
    memory: GuestMemory,
    bump: u32,
    mode: AllocMode,
    response: Option<Vec<u8>>,
    logs: Vec<String>,
    log_bytes: u64,
    calls: Vec<(&'static str, Option<Status>)>,
    wasi_after: Vec<bool>,
    storage: &'a Store,
    request: &'a [u8],
    limits: Limits,
    /// The arguments of the record being performed, which a re-entering
    /// `alloc` calls its host op with.
    args: [u64; ARGS],
}

impl Model<'_> {
    /// The interpreter's `main`: the bootstrap `read_request(0, 4)`, then each command.
    fn run(&mut self, commands: &[Command]) -> Result<(), Halt> {
        if self.call("read_request", |model| model.read_request(0, 4))? != Status::Ok {
            return Ok(());
        }
        let end = u64::from(REQUEST_AT) + self.request.len() as u64;
        let mut cursor = u64::from(REQUEST_AT);
        for command in commands {
            cursor += RECORD_BYTES as u64;
            if let Command::Write { bytes, .. } = command {
                cursor += bytes.len() as u64;
            }
            let before = self.memory.writes();
            self.perform(command)?;
            if self.memory.touched_since(before, cursor..end) {
                return Err(Halt::Lost("a command overwrote the commands still to run".to_owned()));
            }
        }
        Ok(())
    }

    fn perform(&mut self, command: &Command) -> Result<(), Halt> {
        match command {
            Command::Host { op, args } => {
                self.args = *args;
                self.host(*op)?;
            }
            Command::Write { address, bytes } => {
                if in_bounds(*address, bytes.len() as u64, self.memory.size) {
                    self.memory.store(u64::from(*address), bytes);
                }
            }
            Command::Grow { pages } => {
                self.grow(*pages);
            }
            Command::Wasi { function, args } => {
                if let Some(last) = self.wasi_after.last_mut() {
                    *last = true;
                }
                self.memory.wasi_writes(*function, args);
            }
        }
        Ok(())
    }

    /// The interpreter's `$host`: performs host op `op` with the record's arguments.
    fn host(&mut self, op: u32) -> Result<(), Halt> {
        match Call::of(op, &self.args) {
            Some(Call::ReadRequest { ptr_ptr, len_ptr }) => {
                self.call("read_request", |model| model.read_request(ptr_ptr, len_ptr))?;
            }
            Some(Call::WriteResponse { ptr, len }) => {
                self.call("write_response", |model| model.write_response(ptr, len))?;
            }
            Some(Call::Log { ptr, len }) => {
                self.call("log", |model| model.log(ptr, len))?;
            }
            Some(Call::StorageGet { key_ptr, key_len, value_ptr_ptr, value_len_ptr }) => {
                self.call("storage_get", |model| model.storage_get(key_ptr, key_len, value_ptr_ptr, value_len_ptr))?;
            }
            Some(Call::SetAlloc(mode)) => self.mode = mode,
            // The interpreter skips ops it does not know.
            None => {}
        }
        Ok(())
    }

    /// Records one `host` call as it starts, then its status once its body
    /// (which may make other calls from `alloc`) returns.
    fn call(&mut self, name: &'static str, body: impl FnOnce(&mut Self) -> Result<Status, Halt>) -> Result<Status, Halt> {
        let index = self.calls.len();
        self.calls.push((name, None));
        self.wasi_after.push(false);
        match body(self) {
            Ok(status) => {
                if let Some((_, recorded)) = self.calls.get_mut(index) {
                    *recorded = Some(status);
                }
                Ok(status)
            }
            // The call never returns: it stays recorded without a status.
            Err(Halt::Loop) => Err(Halt::Loop),
            Err(lost) => {
                self.calls.truncate(index);
                self.wasi_after.truncate(index);
                Err(lost)
            }
        }
    }

    fn read_request(&mut self, ptr_ptr: u32, len_ptr: u32) -> Result<Status, Halt> {
        let request = self.request;
        self.place(request, ptr_ptr, len_ptr)
    }

    fn write_response(&mut self, ptr: u32, len: u32) -> Result<Status, Halt> {
        if !in_bounds(ptr, u64::from(len), self.memory.size) {
            return Ok(Status::OutOfBounds);
        }
        if u64::from(len) > self.limits.max_response_bytes {
            return Ok(Status::TooLarge);
        }
        self.response = self.memory.load(u64::from(ptr), u64::from(len));
        Ok(Status::Ok)
    }

    fn log(&mut self, ptr: u32, len: u32) -> Result<Status, Halt> {
        if !in_bounds(ptr, u64::from(len), self.memory.size) {
            return Ok(Status::OutOfBounds);
        }
        if self.log_bytes + u64::from(len) > self.limits.max_log_bytes {
            return Ok(Status::TooLarge);
        }
        let Some(bytes) = self.memory.load(u64::from(ptr), u64::from(len)) else {
            return Err(Halt::Lost("log of bytes a WASI call may have written".to_owned()));
        };
        let Ok(line) = String::from_utf8(bytes) else { return Ok(Status::BadUtf8) };
        self.log_bytes += u64::from(len);
        self.logs.push(line);
        Ok(Status::Ok)
    }

    fn storage_get(&mut self, key_ptr: u32, key_len: u32, value_ptr_ptr: u32, value_len_ptr: u32) -> Result<Status, Halt> {
        let size = self.memory.size;
        if !in_bounds(key_ptr, u64::from(key_len), size) || !in_bounds(value_ptr_ptr, 4, size) || !in_bounds(value_len_ptr, 4, size) {
            return Ok(Status::OutOfBounds);
        }
        if !self.storage.keys().any(|key| key.len() as u64 == u64::from(key_len)) {
            return Ok(Status::NotFound);
        }
        let Some(key) = self.memory.load(u64::from(key_ptr), u64::from(key_len)) else {
            return Err(Halt::Lost("storage key of bytes a WASI call may have written".to_owned()));
        };
        let Some(value) = self.storage.get(&key).cloned() else { return Ok(Status::NotFound) };
        self.place(&value, value_ptr_ptr, value_len_ptr)
    }

    /// The alloc protocol: slots, `alloc`, range after `alloc`, then data, ptr, len.
    fn place(&mut self, data: &[u8], ptr_ptr: u32, len_ptr: u32) -> Result<Status, Halt> {
        if !in_bounds(ptr_ptr, 4, self.memory.size) || !in_bounds(len_ptr, 4, self.memory.size) {
            return Ok(Status::OutOfBounds);
        }
        let Ok(len) = u32::try_from(data.len()) else { return Ok(Status::TooLarge) };
        if len > i32::MAX as u32 {
            return Ok(Status::TooLarge);
        }
        let Some(ptr) = self.alloc(len)? else { return Ok(Status::AllocFailed) };
        if !in_bounds(ptr, u64::from(len), self.memory.size) {
            return Ok(Status::AllocFailed);
        }
        self.memory.store(u64::from(ptr), data);
        self.memory.store(u64::from(ptr_ptr), &ptr.to_le_bytes());
        self.memory.store(u64::from(len_ptr), &len.to_le_bytes());
        Ok(Status::Ok)
    }

    /// The interpreter's `alloc(len)`: `None` if it traps.
    fn alloc(&mut self, len: u32) -> Result<Option<u32>, Halt> {
        Ok(match self.mode {
            AllocMode::Bump => Some(self.bump(len)),
            AllocMode::Fixed(ptr) => Some(ptr),
            AllocMode::Trap => None,
            AllocMode::Loop => return Err(Halt::Loop),
            AllocMode::Grow(pages) => {
                let old = self.memory.size / PAGE;
                // `memory.grow` gives -1 on failure, and -1 * 65536 wraps to 0xFFFF_0000.
                Some(if self.grow(pages) { (old as u32).wrapping_mul(PAGE as u32) } else { 0xFFFF_0000 })
            }
            AllocMode::Reenter(op) => {
                self.mode = AllocMode::Bump;
                self.host(op)?;
                Some(self.bump(len))
            }
        })
    }

    /// The bump allocator: the current pointer, advanced by `len`.
    fn bump(&mut self, len: u32) -> u32 {
        let ptr = self.bump;
        self.bump = self.bump.wrapping_add(len);
        ptr
    }

    /// `memory.grow(pages)`: whether it succeeded (within 4 GiB and the policy's cap).
    fn grow(&mut self, pages: u32) -> bool {
        let new_size = self.memory.size + u64::from(pages) * PAGE;
        if new_size > self.limits.max_memory_bytes.min(1 << 32) {
            return false;
        }
        self.memory.size = new_size;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::commands::{ARGS, codec, wasi};

    use crate::host_api::calls::{LOG, WRITE_RESPONSE};

    fn limits() -> Limits {
        Limits { max_response_bytes: 100, max_log_bytes: 10, max_memory_bytes: 4 * PAGE }
    }

    fn storage() -> Store {
        Store::from([(b"key".to_vec(), b"value".to_vec())])
    }

    fn statuses(commands: &[Command]) -> Vec<Option<Status>> {
        let request = codec::encode(commands);
        predict(commands, &request, &storage(), limits()).calls.into_iter().map(|(_, status)| status).collect()
    }

    const SIZE: u32 = INITIAL_PAGES * PAGE as u32;

    #[test]
    fn zero_lengths_are_in_bounds_up_to_the_end_of_memory() {
        let calls = statuses(&[
            Call::WriteResponse { ptr: SIZE, len: 0 }.command(),
            Call::WriteResponse { ptr: SIZE + 1, len: 0 }.command(),
            Call::Log { ptr: 0, len: 0 }.command(),
        ]);
        assert_eq!(calls, [Some(Status::Ok), Some(Status::Ok), Some(Status::OutOfBounds), Some(Status::Ok)]);
    }

    #[test]
    fn ranges_that_wrap_past_u32_max_are_out_of_bounds() {
        let calls = statuses(&[
            Call::Log { ptr: 16, len: u32::MAX - 15 }.command(),
            Call::WriteResponse { ptr: u32::MAX, len: 1 }.command(),
            Call::WriteResponse { ptr: SIZE - 4, len: 4 }.command(),
            Call::StorageGet { key_ptr: 0, key_len: 3, value_ptr_ptr: u32::MAX - 1, value_len_ptr: 8 }.command(),
        ]);
        assert_eq!(calls[1..], [Some(Status::OutOfBounds), Some(Status::OutOfBounds), Some(Status::Ok), Some(Status::OutOfBounds)]);
    }

    #[test]
    fn bounds_come_before_caps_and_caps_before_content() {
        let calls = statuses(&[
            Command::Write { address: 100, bytes: vec![0xff; 20] },
            Call::Log { ptr: SIZE - 5, len: 20 }.command(),
            Call::Log { ptr: 100, len: 20 }.command(),
            Call::Log { ptr: 100, len: 2 }.command(),
            Call::StorageGet { key_ptr: 100, key_len: 7, value_ptr_ptr: 8, value_len_ptr: 12 }.command(),
        ]);
        let expected = [Status::OutOfBounds, Status::TooLarge, Status::BadUtf8, Status::NotFound];
        assert_eq!(calls[1..], expected.map(Some));
    }

    #[test]
    fn misbehaving_alloc_gives_alloc_failed_or_ends_the_run() {
        let key = [Command::Write { address: 100, bytes: b"key".to_vec() }];
        let get = Call::StorageGet { key_ptr: 100, key_len: 3, value_ptr_ptr: 8, value_len_ptr: 12 }.command();
        let mut commands = key.to_vec();
        for mode in [AllocMode::Trap, AllocMode::Fixed(SIZE - 4), AllocMode::Fixed(u32::MAX), AllocMode::Grow(u32::MAX)] {
            commands.extend([Call::SetAlloc(mode).command(), get.clone()]);
        }
        // Growing by one page makes room: the value lands at the old end of memory.
        commands.extend([Call::SetAlloc(AllocMode::Grow(1)).command(), get.clone(), Call::SetAlloc(AllocMode::Loop).command(), get.clone(), get]);
        let calls = statuses(&commands);
        let failed = Some(Status::AllocFailed);
        assert_eq!(calls[1..], [failed, failed, failed, failed, Some(Status::Ok), None]);
    }

    #[test]
    fn a_call_made_from_alloc_is_recorded_after_the_call_it_serves_and_alloc_bumps_after_it() {
        let commands = [
            Command::Write { address: 200, bytes: b"hello".to_vec() },
            Call::SetAlloc(AllocMode::Reenter(LOG)).command(),
            // read_request(200, 5) runs log(200, 5) from inside its `alloc`,
            // which then allocates; the next `alloc` bumps without re-entering.
            Call::ReadRequest { ptr_ptr: 200, len_ptr: 5 }.command(),
            Call::SetAlloc(AllocMode::Reenter(WRITE_RESPONSE)).command(),
            Call::ReadRequest { ptr_ptr: 300, len_ptr: 2 }.command(),
            Call::ReadRequest { ptr_ptr: 8, len_ptr: 12 }.command(),
        ];
        let request = codec::encode(&commands);
        let prediction = predict(&commands, &request, &storage(), limits());
        let names: Vec<&str> = prediction.calls.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["read_request", "read_request", "log", "read_request", "write_response", "read_request"]);
        assert!(prediction.calls.iter().all(|(_, status)| *status == Some(Status::Ok)), "{:?}", prediction.calls);
        assert_eq!(prediction.logs, ["hello"]);
        // write_response(300, 2) ran before read_request wrote its pointer at 300.
        assert_eq!(prediction.response.as_deref(), Some(&[0, 0][..]));
    }

    #[test]
    fn alloc_overlapping_the_slots_is_written_data_then_ptr_then_len() {
        let commands = [
            Command::Write { address: 200, bytes: b"key".to_vec() },
            Call::SetAlloc(AllocMode::Fixed(10)).command(),
            Call::StorageGet { key_ptr: 200, key_len: 3, value_ptr_ptr: 8, value_len_ptr: 4 }.command(),
            Call::WriteResponse { ptr: 4, len: 12 }.command(),
        ];
        let request = codec::encode(&commands);
        let prediction = predict(&commands, &request, &storage(), limits());
        // "value" at 10..15, then ptr 10 at 8..12, then len 5 at 4..8.
        assert_eq!(prediction.response.as_deref(), Some(&[5, 0, 0, 0, 10, 0, 0, 0, b'l', b'u', b'e', 0][..]));
    }

    #[test]
    fn bytes_a_wasi_call_may_write_make_the_model_stop_at_content_checks() {
        let random_get = wasi::FUNCTIONS.iter().position(|function| function.name == "random_get").unwrap();
        let mut args = [0; ARGS];
        args[..2].copy_from_slice(&[300, 4]);
        let commands = [
            Command::Wasi { function: random_get, args },
            Call::WriteResponse { ptr: 300, len: 4 }.command(),
            Call::Log { ptr: 296, len: 4 }.command(),
            Call::Log { ptr: 300, len: 1 }.command(),
        ];
        let request = codec::encode(&commands);
        let prediction = predict(&commands, &request, &storage(), limits());
        assert_eq!(prediction.response, None);
        assert_eq!(prediction.calls.len(), 3);
        assert!(prediction.lost.is_some());
    }
}
