//! How far one input got through the loader, and how it ended.

use std::fmt;

/// The stages an input passes through, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// The module is not over the size cap.
    SizeCheck,
    /// The bytes decode as a Wasm module.
    Parse,
    /// wasmtime validates the module with the loader's features.
    Validate,
    /// Imports, exports and declared limits follow the ABI and the policy.
    AbiCheck,
    /// Cranelift compiles the module.
    Compile,
    /// A fresh store instantiates the module.
    Instantiate,
    /// The guest's `main` runs.
    Execute,
    /// The guest called at least one `host` or WASI import.
    HostCall,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Stage; 8] = [
        Stage::SizeCheck,
        Stage::Parse,
        Stage::Validate,
        Stage::AbiCheck,
        Stage::Compile,
        Stage::Instantiate,
        Stage::Execute,
        Stage::HostCall,
    ];

    /// A short lowercase name, as printed by the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Stage::SizeCheck => "size-check",
            Stage::Parse => "parse",
            Stage::Validate => "validate",
            Stage::AbiCheck => "abi-check",
            Stage::Compile => "compile",
            Stage::Instantiate => "instantiate",
            Stage::Execute => "execute",
            Stage::HostCall => "host-call",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The most bytes a message in an [`Outcome`] (a rejection's reason, the text
/// of [`TrapCode::Other`]) holds. Messages are one line of printable text: a
/// service logs them, and they may quote names the guest chose.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// Why `load` refused a module: the stage that refused it and its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The stage that refused the module.
    pub stage: Stage,
    /// What was wrong, for people: one printable line of at most
    /// [`MAX_MESSAGE_BYTES`] ([`Rejection::new`] makes it so).
    pub reason: String,
}

impl Rejection {
    /// A rejection whose reason is made fit to log with [`printable_message`].
    pub fn new(stage: Stage, reason: &str) -> Rejection {
        Rejection { stage, reason: printable_message(reason) }
    }
}

/// `text` as one line of printable text of at most [`MAX_MESSAGE_BYTES`]:
/// control characters and other characters Rust's `Debug` would not print
/// as they are (line separators, bidirectional overrides) are escaped, and a
/// longer text is cut and ends in `…`.
pub fn printable_message(text: &str) -> String {
    let mut line = String::with_capacity(text.len().min(MAX_MESSAGE_BYTES));
    for character in text.chars() {
        if line.len() > MAX_MESSAGE_BYTES {
            break;
        }
        let escaped = character.escape_debug();
        if escaped.len() > 1 && !matches!(character, '"' | '\'' | '\\') {
            line.extend(escaped);
        } else {
            line.push(character);
        }
    }
    if line.len() > MAX_MESSAGE_BYTES {
        let mut cut = MAX_MESSAGE_BYTES - '…'.len_utf8();
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    line
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rejected at {}: {}", self.stage, self.reason)
    }
}

impl std::error::Error for Rejection {}

/// A trap, named independently of the engine so oracles can compare engines.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TrapCode {
    /// `unreachable` was executed.
    Unreachable,
    /// A load, store or bulk memory operation went outside linear memory.
    MemoryOutOfBounds,
    /// A table access or `call_indirect` index was out of range.
    TableOutOfBounds,
    /// `call_indirect` reached a null entry.
    IndirectCallToNull,
    /// `call_indirect` reached a function of another type.
    BadSignature,
    /// Integer overflow (`i32.div_s` of `MIN / -1`, or a truncation out of range).
    IntegerOverflow,
    /// Integer division or remainder by zero.
    IntegerDivisionByZero,
    /// A float that is NaN was truncated to an integer.
    BadConversionToInteger,
    /// The guest used more stack than `Policy::max_wasm_stack`.
    StackOverflow,
    /// Any other trap or host error, with its message (one printable line,
    /// see [`printable_message`]).
    Other(String),
}

/// A resource whose policy cap stopped an invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    /// Linear memory bytes.
    Memory,
    /// Table elements.
    TableElements,
    /// Instances, tables or memories per store.
    Instances,
    /// `host` calls per invocation.
    HostCalls,
}

/// How an invocation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// `main` returned (or WASI `proc_exit(0)` was called).
    Ok,
    /// The module was refused by `load`; the invocation never ran.
    Rejected(Rejection),
    /// The guest trapped.
    Trap(TrapCode),
    /// WASI `proc_exit` with a non-zero code.
    Exit(i32),
    /// The guest used up its fuel.
    OutOfFuel,
    /// The guest ran past its wall-clock deadline.
    DeadlineExceeded,
    /// A policy cap stopped the invocation.
    LimitExceeded(Resource),
}

impl End {
    /// A short name of the kind of end, without details, for histograms.
    pub fn class(&self) -> &'static str {
        match self {
            End::Ok => "ok",
            End::Rejected(_) => "rejected",
            End::Trap(_) => "trap",
            End::Exit(_) => "exit",
            End::OutOfFuel => "out-of-fuel",
            End::DeadlineExceeded => "deadline-exceeded",
            End::LimitExceeded(_) => "limit-exceeded",
        }
    }
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::Rejected(rejection) => write!(f, "rejected: {}", rejection.reason),
            End::Trap(code) => write!(f, "trap: {code:?}"),
            End::Exit(code) => write!(f, "exit: {code}"),
            End::LimitExceeded(resource) => write!(f, "limit-exceeded: {resource:?}"),
            other => f.write_str(other.class()),
        }
    }
}

/// One call the guest made to a `host` import, as the loader saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCall {
    /// The import's name in module `host`, or `wasi:<name>` for WASI.
    pub function: &'static str,
    /// The status returned, or `None` if the call ended the invocation.
    pub status: Option<crate::Status>,
}

/// Everything one input produced: the stage reached, the end, and what the guest left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The furthest stage the input reached.
    pub stage: Stage,
    /// How it ended.
    pub end: End,
    /// The last response written (empty if none).
    pub response: Vec<u8>,
    /// Log lines, in order.
    pub logs: Vec<String>,
    /// Captured WASI stdout, at most `Policy::max_stdio_bytes`.
    pub stdout: Vec<u8>,
    /// Captured WASI stderr, at most `Policy::max_stdio_bytes`.
    pub stderr: Vec<u8>,
    /// Every `host` call, in order.
    pub host_calls: Vec<HostCall>,
    /// The largest linear memory the limiter granted, in bytes.
    pub peak_memory_bytes: usize,
}

impl Outcome {
    /// The outcome of a module that `load` refused.
    pub fn rejected(rejection: Rejection) -> Outcome {
        Outcome {
            stage: rejection.stage,
            end: End::Rejected(rejection),
            response: Vec::new(),
            logs: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            host_calls: Vec::new(),
            peak_memory_bytes: 0,
        }
    }

    /// Whether the guest ran out of fuel or time: expected, counted, never a finding.
    pub fn is_timeout(&self) -> bool {
        matches!(self.end, End::OutOfFuel | End::DeadlineExceeded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text_is_kept_and_line_breaks_and_escapes_are_escaped() {
        assert_eq!(printable_message("import env.\"f\" is 'x' \\ ok"), "import env.\"f\" is 'x' \\ ok");
        assert_eq!(printable_message("a\nb\r\u{1b}[2J\u{2028}\u{202e}"), r"a\nb\r\u{1b}[2J\u{2028}\u{202e}");
    }

    #[test]
    fn text_up_to_the_bound_is_whole_and_longer_text_is_cut_on_a_char_boundary() {
        let exact = "x".repeat(MAX_MESSAGE_BYTES);
        assert_eq!(printable_message(&exact), exact);
        let long = "é".repeat(MAX_MESSAGE_BYTES);
        let cut = printable_message(&long);
        assert!(cut.len() <= MAX_MESSAGE_BYTES && cut.ends_with('…'), "{} bytes", cut.len());
        let escapes = "\n".repeat(MAX_MESSAGE_BYTES);
        let cut = printable_message(&escapes);
        assert!(cut.len() <= MAX_MESSAGE_BYTES && cut.starts_with(r"\n\n") && cut.ends_with('…'));
    }
}
