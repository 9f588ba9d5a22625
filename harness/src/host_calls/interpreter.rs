//! The fixed interpreter module (`interpreter.wat`), compiled and loaded once
//! per process by the shared loader.

use std::sync::OnceLock;

use loader::Function;

use crate::shared_loader::loader;

/// The interpreter's WAT source.
pub const SOURCE: &str = include_str!("interpreter.wat");

/// The interpreter's binary.
///
/// # Panics
/// If the checked-in WAT does not compile: a broken build, not a finding.
pub fn bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| match wat::parse_str(SOURCE) {
        Ok(bytes) => bytes,
        Err(error) => panic!("setup: the interpreter WAT does not compile: {error}"),
    })
}

/// The interpreter, loaded once by the process-wide loader.
///
/// # Panics
/// If the loader refuses the interpreter: a broken setup, not a finding.
pub fn function() -> &'static Function {
    static FUNCTION: OnceLock<Function> = OnceLock::new();
    FUNCTION.get_or_init(|| match loader().load(bytes()) {
        Ok(function) => function,
        Err(rejection) => panic!("setup: the loader refuses the interpreter: {rejection}"),
    })
}
