//! `harness list`: the targets, one line each.

use std::process::ExitCode;

/// Prints each target's name and what it exercises.
pub fn run() -> Result<ExitCode, String> {
    for target in harness::TARGETS {
        println!("{:<16} {}", target.name, target.about);
    }
    Ok(ExitCode::SUCCESS)
}
