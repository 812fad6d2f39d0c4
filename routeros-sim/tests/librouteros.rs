//! The simulator checked against librouteros (Python), a client we did not write.
//! Needs `<workspace>/.venv/bin/python` with librouteros (or `HOTSPOT_PYTHON`); fails if missing.

mod common;

use std::path::PathBuf;

fn python() -> PathBuf {
    let p = std::env::var_os("HOTSPOT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python")));
    assert!(
        p.exists(),
        "Python for the librouteros check not found at {}: create the venv (python3 -m venv .venv && \
         .venv/bin/pip install librouteros==4.2.2) or set HOTSPOT_PYTHON",
        p.display()
    );
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librouteros_drives_the_simulator() {
    let py = python();
    let sim = common::sim().await;
    sim.add_host("02:00:00:00:00:07".parse().unwrap(), "10.5.50.7".parse().unwrap());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/librouteros_check.py");
    let out = tokio::process::Command::new(&py)
        .arg(script)
        .arg(sim.addr().ip().to_string())
        .arg(sim.addr().port().to_string())
        .arg("admin")
        .arg(common::PASSWORD)
        .kill_on_drop(true)
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("librouteros-ok"),
        "librouteros check failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // What librouteros did is really in the simulator.
    let st = sim.state();
    assert_eq!(st.users.len(), 1);
    assert_eq!(st.users[0].name, "bob");
    assert_eq!(st.users[0].comment.as_deref(), Some("updated"));
}
