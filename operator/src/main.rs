use std::process::ExitCode;

use clap::Parser;
use hotspotctl::cli::Cli;
use hotspotctl::commands;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match commands::run(&cli, argv).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotspotctl: {e}");
            ExitCode::FAILURE
        }
    }
}
