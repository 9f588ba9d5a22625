//! `harness`: the command line of the fuzzing suite over the targets of every
//! embedder crate that `cli/Cargo.toml` depends on (Extism's with the
//! `extism` feature); `build.rs` writes that list.

fn main() -> std::process::ExitCode {
    driver::main(&include!(concat!(env!("OUT_DIR"), "/embedders.rs")))
}
