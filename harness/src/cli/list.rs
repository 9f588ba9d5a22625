//! `harness list`: the targets, one line each.

use std::process::ExitCode;

/// Arguments of `harness list`.
#[derive(clap::Args)]
pub struct Args {
    /// Print only the names of the targets a default campaign fuzzes (for scripts).
    #[arg(long)]
    campaign: bool,
}

/// Prints each target's name, what it exercises, its structured input and the
/// libFuzzer flags campaigns give it.
pub fn run(args: &Args) -> Result<ExitCode, String> {
    for target in harness::TARGETS {
        if args.campaign {
            if target.in_default_campaign {
                println!("{}", target.name);
            }
        } else {
            let mut line = format!("{:<16} {}", target.name, target.about);
            if let Some(form) = target.structured {
                line.push_str(&format!(" (structured input: --input-kind {})", form.kind.name()));
            }
            if !target.libfuzzer_defaults.is_empty() {
                line.push_str(&format!(" [libFuzzer: {}]", target.libfuzzer_defaults.join(" ")));
            }
            println!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
