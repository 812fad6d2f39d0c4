use std::process::ExitCode;

use clap::Parser;
use hotspotctl::cli::{Cli, Command, RouterCmd};
use hotspotctl::router;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Router(RouterCmd::Add(args)) => router::add(&cli.aws, &args).await,
        Command::Router(RouterCmd::List) => router::list(&cli.aws).await,
        Command::Router(RouterCmd::Show { id }) => router::show(&cli.aws, &id).await,
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hotspotctl: {e}");
            ExitCode::FAILURE
        }
    }
}
