//! Whether a fuzz target runs its layer's bare work instead of the layer:
//! what the layer cannot avoid for its embedder, without oracles
//! (`Layer::bare_input` and `Layer::run_bare`). `harness bench` runs the
//! bare work beside the layer in process; with [`VAR`] set, the fuzz
//! targets run it alone, so that libFuzzer measures the bare limit under its
//! own instrumentation (`-runs=0` over a corpus reports exec/s at `INITED`).
//!
//! - layer 1: the embedder's load of the bytes;
//! - layer 2: generating the module (defects included) and the embedder's load;
//! - layer 3: the embedder's load of the generated module and one call;
//! - layer 4: the embedder's call of its interpreter (loaded once) with the
//!   command list (a call that would crash the process on a known defect
//!   defused, as the layer does), without a sandbox directory or any oracle.

use std::sync::OnceLock;

/// The environment variable that makes `Layer::run` do the bare work only.
pub const VAR: &str = "SUITE_BARE_WORK";

/// Whether [`VAR`] is set in this process (read once).
pub fn requested() -> bool {
    static REQUESTED: OnceLock<bool> = OnceLock::new();
    *REQUESTED.get_or_init(|| std::env::var_os(VAR).is_some())
}
