//! `harness report`: rewrite a campaign's REPORT.md from its summary.json.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::campaign::{self, Layout, summary::Summary};
use anyhow::Result;

use super::say;

/// Arguments of `harness report`.
#[derive(clap::Args)]
pub struct Args {
    /// The campaign folder.
    campaign: PathBuf,
}

/// Rewrites `<campaign>/REPORT.md`.
pub fn run(args: &Args) -> Result<ExitCode> {
    let summary = Summary::read(&Layout::new(&args.campaign).summary())?;
    campaign::write_report(&args.campaign, &summary)?;
    say(args.campaign.join("REPORT.md").display())?;
    Ok(ExitCode::SUCCESS)
}
