//! `hotspot-agent`: see the README for its settings (environment variables).

use aws_config::BehaviorVersion;
use hotspot_agent::{config, run};

fn main() {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--version") => {
            println!("hotspot-agent {}", hotspot_agent::agent::VERSION);
            return;
        }
        Some("--self-check") => match hotspot_agent::selfcheck::run() {
            Ok(s) => {
                println!("{s}");
                return;
            }
            Err(e) => {
                eprintln!("hotspot-agent: self-check failed: {e}");
                std::process::exit(1);
            }
        },
        Some("--help") | Some("-h") => {
            println!(
                "hotspot-agent {}: captive portal and grant agent for a RouterOS container\n",
                hotspot_agent::agent::VERSION
            );
            println!("Settings (environment variables):");
            for (name, default, meaning) in config::SETTINGS {
                println!("  {name:<42} {default:<22} {meaning}");
            }
            return;
        }
        Some(other) => {
            eprintln!("hotspot-agent: unknown argument {other:?} (try --help)");
            std::process::exit(2);
        }
        None => {}
    }
    init_logging();
    let cfg = match config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hotspot-agent: {e}");
            std::process::exit(2);
        }
    };
    // One thread: the agent is I/O-bound and a router's memory is small.
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hotspot-agent: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = rt.block_on(async move {
        // The SDK is built without a default HTTPS client: give it the agent's (compiled-in
        // trust roots; the image has no system store). `run` uses the same for SQS.
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        match hotspot_agent::https::sdk_http_client() {
            Ok(http) => loader = loader.http_client(http),
            Err(e) => return Err(run::StartError::Cloud(format!("TLS setup: {e}"))),
        }
        let sdk = loader.load().await;
        run::run(cfg, sdk, run::Intervals::default(), run::signal()).await
    });
    if let Err(e) = result {
        eprintln!("hotspot-agent: {e}");
        std::process::exit(1);
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(false).try_init();
}
