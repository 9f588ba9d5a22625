//! `harness list`: the targets, one line each.

use std::process::ExitCode;

/// Arguments of `harness list`.
#[derive(clap::Args)]
pub struct Args {
    /// Print only the names of the targets a default campaign fuzzes (for scripts).
    #[arg(long)]
    campaign: bool,
}

/// Prints each target's name, what it exercises and the libFuzzer flags campaigns give it.
pub fn run(args: &Args) -> Result<ExitCode, String> {
    for target in harness::TARGETS {
        if args.campaign {
            if target.in_default_campaign {
                println!("{}", target.name);
            }
        } else if target.libfuzzer_defaults.is_empty() {
            println!("{:<16} {}", target.name, target.about);
        } else {
            println!("{:<16} {} [libFuzzer: {}]", target.name, target.about, target.libfuzzer_defaults.join(" "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
