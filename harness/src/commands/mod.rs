//! Layer 4's vocabulary: the commands an interpreter module performs, how
//! they are derived from fuzz input and encoded into the request, the WASI
//! functions they call, the generic half of every interpreter, and the
//! guest memory a reference model follows. An ABI brings the other half
//! through [`HostApi`].

pub mod api;
pub mod codec;
pub mod command;
pub mod generator;
pub mod interpreter;
pub mod memory;
pub mod wasi;

pub use api::{Fragments, HostApi, HostOp, Step, label};
pub use command::{ARGS, Command, RECORD_BYTES};
pub use generator::{Content, Generator};
pub use memory::GuestMemory;
