//! Layer 3: well-formed modules that probe memory bounds. (Not built yet: every input is only loaded as raw bytes.)

use crate::report::Report;

/// Runs one input of this layer.
pub fn run(data: &[u8]) -> Report {
    crate::raw_bytes::run(data)
}
