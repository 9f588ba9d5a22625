//! How an invocation ended and what the guest left behind.

use std::fmt;

use crate::{Rejection, Stage};

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
    /// see [`crate::printable_message`]).
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
    /// Host calls per invocation.
    HostCalls,
    /// WASI descriptors and streams held open at once.
    OpenFiles,
}

/// How an invocation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// The entry function returned successfully (or WASI `proc_exit(0)` was called).
    Ok,
    /// The module was refused; the invocation never ran.
    Rejected(Rejection),
    /// The guest trapped, or the embedder ended the invocation with an error.
    Trap(TrapCode),
    /// WASI `proc_exit` with a non-zero code, or an entry function that returned a failure code.
    Exit(i32),
    /// The guest used up its fuel.
    OutOfFuel,
    /// The guest ran past its wall-clock deadline.
    DeadlineExceeded,
    /// A policy cap stopped the invocation.
    LimitExceeded(Resource),
    /// The guest reported a failure with a message of its own (Extism's
    /// `error_set`), made one printable line.
    Error(String),
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
            End::Error(_) => "error",
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
            End::Error(message) => write!(f, "error: {message}"),
            other => f.write_str(other.class()),
        }
    }
}

/// One call the guest made to a host function, as the embedder saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCall {
    /// The function's name in its import module (the ABI says which module).
    pub function: &'static str,
    /// What it returned to the guest (a status code, a handle, a length), or
    /// `None` if the call ended the invocation.
    pub result: Option<i64>,
}

/// Everything one input produced: the stage reached, the end, and what the guest left behind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The furthest stage the input reached.
    pub stage: Stage,
    /// How it ended.
    pub end: End,
    /// The response the guest left (empty if none).
    pub response: Vec<u8>,
    /// Log lines, in order.
    pub logs: Vec<String>,
    /// Captured WASI stdout, if the embedder captures it.
    pub stdout: Vec<u8>,
    /// Captured WASI stderr, if the embedder captures it.
    pub stderr: Vec<u8>,
    /// The host calls the embedder saw, in order.
    pub host_calls: Vec<HostCall>,
    /// The largest linear memory granted, in bytes, if the embedder can tell.
    pub peak_memory_bytes: Option<usize>,
    /// The largest table granted, in elements, if the embedder can tell.
    pub peak_table_elements: Option<usize>,
}

impl Outcome {
    /// The outcome of a module that was refused.
    pub fn rejected(rejection: Rejection) -> Outcome {
        Outcome {
            stage: rejection.stage,
            end: End::Rejected(rejection),
            response: Vec::new(),
            logs: Vec::new(),
            stdout: Vec::new(),
            stderr: Vec::new(),
            host_calls: Vec::new(),
            peak_memory_bytes: None,
            peak_table_elements: None,
        }
    }

    /// An outcome that reached `stage` and ended with `end`, with nothing left behind.
    pub fn ended(stage: Stage, end: End) -> Outcome {
        Outcome { stage, end, ..Outcome::rejected(Rejection { stage, reason: String::new() }) }
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
    fn ends_render_their_class_and_details() {
        assert_eq!(End::Ok.to_string(), "ok");
        assert_eq!(End::Exit(3).to_string(), "exit: 3");
        assert_eq!(End::LimitExceeded(Resource::HostCalls).to_string(), "limit-exceeded: HostCalls");
        assert_eq!(End::Trap(TrapCode::Unreachable).class(), "trap");
    }

    #[test]
    fn an_ended_outcome_has_its_stage_and_end_and_nothing_else() {
        let outcome = Outcome::ended(Stage::Execute, End::OutOfFuel);
        assert_eq!((outcome.stage, outcome.is_timeout()), (Stage::Execute, true));
        assert!(outcome.response.is_empty() && outcome.host_calls.is_empty());
    }
}
