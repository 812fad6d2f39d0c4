//! `routeros-sim`: run the simulator for hand demos and the benchmark.
//!
//! Prints `{"listening":"IP:PORT"}` first, then reads control lines on stdin:
//! `host add MAC IP`, `host remove MAC`, `clock advance SECS`, `traffic IP IN OUT`,
//! `latency MS`, `login-delay MS`, `drop N`, `fatal REASON`, `kill [REASON]`, `state`, `stats`.

use std::time::Duration;

use routeros_sim::{RosVersion, SimConfig, Simulator, tls_server_config};
use tokio::io::{AsyncBufReadExt, BufReader};

const USAGE: &str = "usage: routeros-sim [--listen ADDR] [--user NAME] [--password PW] [--version 7.18] \
[--identity NAME] [--latency-ms N] [--tls-cert PEM --tls-key PEM] [--host MAC=IP]...";

fn main() {
    if let Err(e) = real_main() {
        eprintln!("routeros-sim: {e}");
        std::process::exit(2);
    }
}

fn real_main() -> Result<(), String> {
    let mut cfg = SimConfig::default();
    let mut latency = Duration::ZERO;
    let mut hosts = Vec::new();
    let (mut cert, mut key) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or_else(|| format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--listen" => cfg.listen = val()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--user" => cfg.username = val()?,
            "--password" => cfg.password = val()?,
            "--version" => cfg.version = val()?.parse::<RosVersion>()?,
            "--identity" => cfg.identity = val()?,
            "--latency-ms" => {
                latency = Duration::from_millis(val()?.parse().map_err(|e| format!("--latency-ms: {e}"))?)
            }
            "--tls-cert" => cert = Some(val()?),
            "--tls-key" => key = Some(val()?),
            "--host" => {
                let v = val()?;
                let (m, ip) = v.split_once('=').ok_or("--host wants MAC=IP")?;
                hosts.push((
                    m.parse().map_err(|e| format!("--host MAC: {e}"))?,
                    ip.parse().map_err(|e| format!("--host IP: {e}"))?,
                ));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    match (cert, key) {
        (Some(c), Some(k)) => {
            let c = std::fs::read(&c).map_err(|e| format!("{c}: {e}"))?;
            let k = std::fs::read(&k).map_err(|e| format!("{k}: {e}"))?;
            cfg.tls = Some(tls_server_config(&c, &k)?);
        }
        (None, None) => {}
        _ => return Err("--tls-cert and --tls-key go together".into()),
    }
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let sim = Simulator::start(cfg).await.map_err(|e| format!("listen: {e}"))?;
        sim.update_faults(|f| f.command_latency = latency);
        for (m, ip) in hosts {
            sim.add_host(m, ip);
        }
        println!("{}", serde_json::json!({ "listening": sim.addr().to_string() }));
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        loop {
            tokio::select! {
                line = lines.next_line() => match line {
                    Ok(Some(l)) => println!("{}", control(&sim, &l)),
                    // stdin closed (e.g. started with </dev/null): keep serving until killed.
                    _ => std::future::pending::<()>().await,
                },
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
        }
    })
}

fn control(sim: &Simulator, line: &str) -> String {
    let w: Vec<&str> = line.split_whitespace().collect();
    let res: Result<serde_json::Value, String> = (|| {
        let num = |s: Option<&&str>| s.ok_or("missing number".to_string())?.parse::<u64>().map_err(|e| e.to_string());
        match w.as_slice() {
            ["host", "add", m, ip] => {
                Ok(sim.add_host(m.parse().map_err(|e| format!("{e}"))?, ip.parse().map_err(|e| format!("{e}"))?).into())
            }
            ["host", "remove", m] => Ok(sim.remove_host(m.parse().map_err(|e| format!("{e}"))?).into()),
            ["clock", "advance", _] => {
                sim.advance_clock(Duration::from_secs(num(w.get(2))?));
                Ok(sim.now_secs().into())
            }
            ["traffic", ip, _, _] => {
                Ok(sim.add_traffic(ip.parse().map_err(|e| format!("{e}"))?, num(w.get(2))?, num(w.get(3))?).into())
            }
            ["latency", _] => {
                let ms = num(w.get(1))?;
                sim.update_faults(|f| f.command_latency = Duration::from_millis(ms));
                Ok(ms.into())
            }
            ["login-delay", _] => {
                let ms = num(w.get(1))?;
                sim.update_faults(|f| f.login_delay = Duration::from_millis(ms));
                Ok(ms.into())
            }
            ["drop", _] => {
                let n = num(w.get(1))?;
                sim.update_faults(|f| f.drop_mid_reply = n.min(u32::MAX as u64) as u32);
                Ok(n.into())
            }
            ["fatal", rest @ ..] if !rest.is_empty() => {
                let reason = rest.join(" ");
                sim.update_faults(|f| f.fatal_next = Some(reason.clone()));
                Ok(reason.into())
            }
            ["kill", rest @ ..] => {
                let reason = rest.join(" ");
                sim.kill_sessions(if reason.is_empty() { None } else { Some(reason.as_str()) });
                Ok(true.into())
            }
            ["state"] => serde_json::to_value(sim.state()).map_err(|e| e.to_string()),
            ["stats"] => serde_json::to_value(sim.stats()).map_err(|e| e.to_string()),
            _ => Err(format!("unknown control line {line:?}")),
        }
    })();
    match res {
        Ok(v) => serde_json::json!({ "ok": v }).to_string(),
        Err(e) => serde_json::json!({ "error": e }).to_string(),
    }
}
