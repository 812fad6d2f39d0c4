//! The `routeros-sim` binary: announces its random port, serves the API, obeys stdin control lines.

use std::process::Stdio;

use routeros::{Client, Config};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test]
async fn binary_serves_and_takes_control_lines() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_routeros-sim"))
        .args(["--password", "pw", "--identity", "cafe", "--host", "02:00:00:00:00:05=10.5.50.5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn routeros-sim");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    let addr = first["listening"].as_str().unwrap().to_string();

    let c = Client::connect(Config::new(addr, "admin", "pw")).await.unwrap();
    assert_eq!(c.identity().await.unwrap(), "cafe");
    let h = c.find_host_by_ip("10.5.50.5".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(h.mac_address.to_string(), "02:00:00:00:00:05");

    let mut ask = async |line: &str| -> serde_json::Value {
        stdin.write_all(format!("{line}\n").as_bytes()).await.unwrap();
        serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap()
    };
    assert_eq!(ask("clock advance 90").await["ok"], 90);
    assert_eq!(ask("host add 02:00:00:00:00:06 10.5.50.6").await["ok"], "*2");
    let st = ask("state").await;
    assert_eq!(st["ok"]["hosts"].as_array().unwrap().len(), 2);
    assert_eq!(st["ok"]["clock_secs"], 90);
    assert!(ask("bogus").await["error"].is_string());
    child.kill().await.unwrap();
}
