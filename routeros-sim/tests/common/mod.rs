#![allow(dead_code)] // each test binary uses a different part

use std::time::Duration;

use routeros::{Client, Config};
use routeros_sim::{SimConfig, Simulator};

pub const PASSWORD: &str = "s3cret";

pub async fn sim() -> Simulator {
    sim_with(SimConfig::default()).await
}

pub async fn sim_with(mut cfg: SimConfig) -> Simulator {
    cfg.password = PASSWORD.into();
    Simulator::start(cfg).await.expect("start simulator")
}

pub fn config(sim: &Simulator) -> Config {
    let mut c = Config::new(sim.addr().to_string(), "admin", PASSWORD);
    c.backoff_min = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(200);
    c.command_timeout = Duration::from_secs(5);
    c
}

pub async fn client(sim: &Simulator) -> Client {
    Client::connect(config(sim)).await.expect("connect to simulator")
}

/// Polls `f` until it holds, for conditions reached asynchronously on the simulator side.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for: {what}");
}
