//! The real binary killed at the worst moments, then restarted: the end state is the one a clean
//! run leaves (one user, the guest online, one report), and SIGTERM stops it cleanly.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Rig, wait_until};
use hotspot_agent::journal::{JobState, Journal};
use hotspot_agent::router::naming::username_for;
use hotspot_core::MessageId;
use hotspot_core::wire::Payload;

fn spawn(rig: &Rig, crash_at: Option<&str>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotspot-agent"));
    cmd.env_clear().envs(rig.env()).env("RUST_LOG", "info").stdout(Stdio::null()).stderr(Stdio::null());
    if let Some(point) = crash_at {
        cmd.env("HOTSPOT_AGENT_CRASH_AT", point);
    }
    cmd.spawn().expect("agent starts")
}

async fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    panic!("agent did not exit");
}

async fn crash_then_restart(point: &str) {
    let rig = Rig::start().await;
    let mac = "DA:A1:19:00:00:01".parse().unwrap();
    rig.sim.add_host(mac, "10.5.50.23".parse().unwrap());
    let (pid, body) = rig.grant(mac, "10.5.50.23".parse().unwrap(), 3600, "hotspot_user");
    rig.send(&body, pid.as_str()).await;

    let mut first = spawn(&rig, Some(point));
    let status = wait_exit(&mut first).await;
    assert!(!status.success(), "the agent was killed at {point}");
    assert!(rig.sim.state().user(&username_for(&pid)).is_some(), "the router add happened before the crash");

    let mut second = spawn(&rig, None);
    let id = MessageId::derived("grant", &pid);
    let dir = rig.state_dir.clone();
    wait_until("grant applied after restart", || {
        Journal::open(&dir).ok().and_then(|j| j.job_state(&id).ok().flatten()) == Some(JobState::Applied)
    })
    .await;
    let st = rig.sim.state();
    assert_eq!(st.users.len(), 1, "one user, not two");
    assert_eq!(st.active.len(), 1);
    assert_eq!(st.session_of(mac).map(|s| s.user.clone()), Some(username_for(&pid)), "the guest is online");
    let mut applied = Vec::new();
    for _ in 0..300 {
        applied.extend(rig.events().await.into_iter().filter(|e| matches!(e, Payload::Applied(_))));
        if !applied.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!applied.is_empty(), "the applied report reached the events queue");
    // SIGTERM: a clean stop.
    let killed = Command::new("kill").args(["-TERM", &second.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = wait_exit(&mut second).await;
    assert!(status.success(), "graceful stop on SIGTERM: {status:?}");
    applied.extend(rig.events().await.into_iter().filter(|e| matches!(e, Payload::Applied(_))));
    assert_eq!(applied.len(), 1, "one report: {applied:?}");
}

#[tokio::test]
async fn killed_between_the_router_add_and_the_journal_outcome() {
    crash_then_restart("after_router_apply").await;
}

#[tokio::test]
async fn killed_between_the_journal_outcome_and_the_sqs_delete() {
    crash_then_restart("before_sqs_delete").await;
}
