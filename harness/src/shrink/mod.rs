//! Making a failing input smaller while it keeps failing: delta debugging
//! over any list, and a module's own reductions (wasm-shrink, whole
//! sections). Below the layers: a layer's structured form uses these, and
//! triage drives them.

pub mod delta;
pub mod module;
pub mod sections;

pub use delta::delta_debug;
