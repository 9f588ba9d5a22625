//! `harness list`: the targets, one line each.

use std::process::ExitCode;

/// Arguments of `harness list`.
#[derive(clap::Args)]
pub struct Args {
    /// Print only the names of the targets a default campaign fuzzes (for scripts).
    #[arg(long)]
    campaign: bool,
}

/// Prints each target's name, what it exercises and its structured input, if any.
pub fn run(args: &Args) -> Result<ExitCode, String> {
    for target in harness::TARGETS {
        if args.campaign {
            if target.in_default_campaign {
                println!("{}", target.name);
            }
        } else {
            match target.structured {
                Some(form) => println!("{:<16} {} (structured input: --input-kind {})", target.name, target.about, form.kind.name()),
                None => println!("{:<16} {}", target.name, target.about),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
