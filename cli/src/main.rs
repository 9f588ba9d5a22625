//! `harness`: the command line of the fuzzing suite over the reference
//! embedder's targets and, with the `extism` feature, Extism's.

fn main() -> std::process::ExitCode {
    #[cfg(feature = "extism")]
    let extism = extism_embedder::TARGETS.iter();
    #[cfg(not(feature = "extism"))]
    let extism = [].iter();
    driver::main(&reference::TARGETS.iter().chain(extism).collect::<Vec<_>>())
}
