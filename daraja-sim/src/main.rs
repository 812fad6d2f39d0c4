//! `daraja-sim`: runs the Daraja simulator for hand demos and the local stack.
//!
//! Settings come from the environment (see docs/daraja.md):
//! `DARAJA_SIM_LISTEN` (default 127.0.0.1:8089), `DARAJA_SIM_CONSUMER_KEY`,
//! `DARAJA_SIM_CONSUMER_SECRET`, `DARAJA_SIM_SHORTCODE`, `DARAJA_SIM_PASSKEY`,
//! `DARAJA_SIM_ALLOW_HTTP_LOOPBACK=1`, `DARAJA_SIM_PASCAL_ERRORS=1`,
//! `DARAJA_SIM_TOKEN_INVALIDATES_OLD=1`, `DARAJA_SIM_TOKEN_SECS`.

use std::net::SocketAddr;
use std::time::Duration;

use daraja_sim::{DarajaSim, SimConfig};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn flag(name: &str) -> bool {
    matches!(env(name).as_deref(), Some("1" | "true" | "yes"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listen: SocketAddr = env("DARAJA_SIM_LISTEN").unwrap_or_else(|| "127.0.0.1:8089".into()).parse()?;
    let mut cfg = SimConfig::default();
    if let Some(v) = env("DARAJA_SIM_CONSUMER_KEY") {
        cfg.consumer_key = v;
    }
    if let Some(v) = env("DARAJA_SIM_CONSUMER_SECRET") {
        cfg.consumer_secret = v;
    }
    if let Some(v) = env("DARAJA_SIM_SHORTCODE") {
        cfg.shortcode = v;
    }
    if let Some(v) = env("DARAJA_SIM_PASSKEY") {
        cfg.passkey = v;
    }
    if let Some(v) = env("DARAJA_SIM_TOKEN_SECS") {
        cfg.token_lifetime = Duration::from_secs(v.parse()?);
    }
    cfg.allow_http_loopback_callbacks = flag("DARAJA_SIM_ALLOW_HTTP_LOOPBACK");
    cfg.pascal_case_errors = flag("DARAJA_SIM_PASCAL_ERRORS");
    cfg.new_token_invalidates_old = flag("DARAJA_SIM_TOKEN_INVALIDATES_OLD");
    let sim = DarajaSim::start_on(listen, cfg).await?;
    println!("daraja-sim listening on {} (phone page: {}/phone)", sim.base_url(), sim.base_url());
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
