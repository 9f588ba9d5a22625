//! This repository's fuzzing command: the suite's `harness` driver over its targets.
fn main() -> std::process::ExitCode {
    driver::main(&minimal_embedder::TARGETS.iter().collect::<Vec<_>>())
}
