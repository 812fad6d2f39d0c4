//! `hotspotctl` against the whole local stack (moto, the Lambda functions, the agent and the
//! RouterOS simulator): a package change reaches the agent's portal, and generated vouchers
//! become hotspot users on the router, so they work without the cloud.
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

mod support;

use std::path::PathBuf;
use std::time::Duration;

use e2e::stack::{Options, Stack};
use hotspot_core::VoucherCode;
use support::{Identity, run_hotspotctl, text};

fn bin_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| testkit::workspace_root().join("target"));
    target.join("debug")
}

async fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn packages_and_vouchers_reach_the_router() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let admin = Identity { key_id: "test".into(), secret: "test".into(), arn: String::new() };
    let run = |args: Vec<&'static str>| {
        let (endpoint, dir, admin) = (stack.moto.endpoint.clone(), dir.path().to_path_buf(), admin.clone());
        async move {
            let out = run_hotspotctl(&endpoint, &dir, &admin, &args).await;
            assert!(out.status.success(), "{args:?}\nstdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
            text(&out.stdout)
        }
    };
    run(vec!["operator", "init"]).await;

    // A new package: the packages_sync job reaches the agent, whose portal then sells it.
    run(vec![
        "package",
        "add",
        "--router",
        "cafe-westlands",
        "--id",
        "2h",
        "--name",
        "Two hours special",
        "--price",
        "15",
        "--validity",
        "2h",
        "--rate-limit",
        "2M/4M",
    ])
    .await;
    let portal = stack.portal_url.trim_start_matches("http://").to_string();
    let target = stack.guest_portal_url()[stack.portal_url.len()..].to_string();
    let mut page = String::new();
    for _ in 0..300 {
        let req = format!("GET {target} HTTP/1.1\r\nHost: {portal}\r\nConnection: close\r\n\r\n");
        let (status, body) = testkit::raw_http(&portal, &req).await;
        if status == 200 && body.contains("Two hours special") {
            page = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(page.contains("Two hours special"), "the portal sells the new package");
    // Retired: the portal stops selling it.
    run(vec!["package", "retire", "--router", "cafe-westlands", "--id", "2h"]).await;
    let mut gone = false;
    for _ in 0..300 {
        let req = format!("GET {target} HTTP/1.1\r\nHost: {portal}\r\nConnection: close\r\n\r\n");
        let (status, body) = testkit::raw_http(&portal, &req).await;
        if status == 200 && !body.contains("Two hours special") && body.contains("24 hours") {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the retired package leaves the portal");

    // Vouchers: every code becomes a hotspot user on the router with the package's profile.
    let out =
        run(vec!["voucher", "generate", "--router", "cafe-westlands", "--package", "24h", "--count", "120"]).await;
    assert!(out.contains("120 voucher(s)"), "{out}");
    let stored = stack.store.list_vouchers(&stack.router.id, None).await.expect("vouchers");
    assert_eq!(stored.len(), 120);
    let codes: Vec<VoucherCode> = stored.iter().map(|v| v.code.clone()).collect();
    let users = eventually("voucher users on the router", || {
        let state = stack.routeros.state();
        let found: Vec<_> = codes.iter().filter_map(|c| state.user(c.as_str()).cloned()).collect();
        (found.len() == codes.len()).then_some(found)
    })
    .await;
    for u in &users {
        assert_eq!(u.password, u.name, "a voucher's password is its code");
        assert!(u.mac_address.is_none(), "not bound to a device until used");
        assert!(u.comment.as_deref().is_some_and(|c| c.contains("voucher")), "{:?}", u.comment);
    }
    assert_eq!(users.iter().map(|u| u.profile.clone()).collect::<std::collections::HashSet<_>>().len(), 1);
}
