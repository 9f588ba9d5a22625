//! `harness list`: the targets, one line each.

use std::process::ExitCode;

use anyhow::Result;

use super::say;

/// Arguments of `harness list`.
#[derive(clap::Args)]
pub struct Args {
    /// Print only the names of the targets a default campaign fuzzes (for scripts).
    #[arg(long)]
    campaign: bool,
}

/// Prints each target's name, the embedder it fuzzes, what it exercises,
/// its structured input and the libFuzzer flags campaigns give it.
pub fn run(args: &Args) -> Result<ExitCode> {
    for target in super::targets() {
        if args.campaign {
            if target.in_default_campaign {
                say(target.name)?;
            }
            continue;
        }
        let mut line = format!("{:<24} {:<10} {}", target.name, target.embedder, target.about());
        if let Some(kind) = target.structured() {
            line.push_str(&format!(" (structured input: --input-kind {})", kind.name()));
        }
        if !target.libfuzzer_defaults().is_empty() {
            line.push_str(&format!(" [libFuzzer: {}]", target.libfuzzer_defaults().join(" ")));
        }
        say(line)?;
    }
    Ok(ExitCode::SUCCESS)
}
