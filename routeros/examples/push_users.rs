//! Benchmark client: pushes N hotspot users and prints one JSON line with the elapsed time.
//!
//! `push_users ADDR USER PASSWORD COUNT MODE [WINDOW] [PREFIX]` where MODE is `pipelined` or `serial`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use routeros::{Client, Config, NewHotspotUser};
use tokio::sync::Semaphore;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("push_users: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), String> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 6 {
        return Err("usage: push_users ADDR USER PASSWORD COUNT pipelined|serial [WINDOW] [PREFIX]".into());
    }
    let count: usize = a[4].parse().map_err(|e| format!("COUNT: {e}"))?;
    let mode = a[5].as_str();
    let window: usize = a.get(6).map(|w| w.parse()).transpose().map_err(|e| format!("WINDOW: {e}"))?.unwrap_or(1000);
    let prefix = a.get(7).cloned().unwrap_or_else(|| format!("bench-{mode}-"));
    let mut cfg = Config::new(a[1].clone(), a[2].clone(), a[3].clone());
    cfg.command_timeout = Duration::from_secs(120);
    let client = Client::connect(cfg).await.map_err(|e| e.to_string())?;
    let user = |i: usize| NewHotspotUser {
        name: format!("{prefix}{i}"),
        password: format!("pw{i}"),
        comment: Some("bench".into()),
        ..Default::default()
    };
    let start = Instant::now();
    match mode {
        "serial" => {
            for i in 0..count {
                client.add_hotspot_user(&user(i)).await.map_err(|e| e.to_string())?;
            }
        }
        "pipelined" => {
            // A window bounds memory and the router's queue; each permit is one command in flight.
            let sem = Arc::new(Semaphore::new(window.max(1)));
            let mut tasks = Vec::with_capacity(count);
            for i in 0..count {
                let permit = sem.clone().acquire_owned().await.map_err(|e| e.to_string())?;
                let (c, u) = (client.clone(), user(i));
                tasks.push(tokio::spawn(async move {
                    let r = c.add_hotspot_user(&u).await;
                    drop(permit);
                    r
                }));
            }
            for t in tasks {
                t.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
            }
        }
        other => return Err(format!("unknown mode {other}")),
    }
    let secs = start.elapsed().as_secs_f64();
    println!("{{\"mode\":\"{mode}\",\"count\":{count},\"seconds\":{secs:.3}}}");
    Ok(())
}
