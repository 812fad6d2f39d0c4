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

/// Runs `hotspotctl` against the stack as its admin; the outcome and what it printed.
async fn ctl(stack: &Stack, dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let admin = Identity { key_id: "test".into(), secret: "test".into(), arn: String::new() };
    let out = run_hotspotctl(&stack.moto.endpoint, dir, &admin, args).await;
    (out.status.success(), format!("{}{}", text(&out.stdout), text(&out.stderr)))
}

#[tokio::test]
async fn packages_and_vouchers_reach_the_router() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: Vec<&'static str>| {
        let (stack, dir) = (&stack, dir.path().to_path_buf());
        async move {
            let (ok, out) = ctl(stack, &dir, &args).await;
            assert!(ok, "{args:?}\n{out}");
            out
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

/// A stolen or compromised router is disabled: its guests are told the hotspot is not selling
/// and no prompt goes out; enabled again, it sells. Both are in the audit log with the reason.
#[tokio::test]
async fn a_disabled_router_sells_nothing_until_enabled() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let ctl = |args: &'static [&'static str]| ctl(&stack, dir.path(), args);
    assert!(ctl(&["operator", "init"]).await.0);
    let (ok, out) = ctl(&["router", "disable", "--id", "cafe-westlands", "--reason", "stolen from the counter"]).await;
    assert!(ok, "{out}");
    let (ok, out) = ctl(&["router", "disable", "--id", "cafe-westlands", "--reason", "again"]).await;
    assert!(!ok && out.contains("already disabled"), "{out}");
    let (_, out) = ctl(&["router", "show", "--id", "cafe-westlands"]).await;
    assert!(out.contains("DISABLED"), "{out}");

    let guest = e2e::guest::Guest::new(&stack);
    let start = stack.guest_portal_url()[stack.portal_url.len()..].to_string();
    let (status, page) = guest.get(&start).await;
    assert_eq!(status, 200, "the portal still opens: {page}");
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    let csrf = page[at..].split('"').next().unwrap_or_default().to_string();
    let (status, page) = guest.post("/buy", &format!("package=1h&phone=0712345678&csrf={csrf}&lang=en")).await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("not selling access right now"), "the guest is told: {page}");
    assert!(stack.daraja.pushes().is_empty(), "no prompt from a disabled router");

    let (ok, out) = ctl(&["router", "enable", "--id", "cafe-westlands"]).await;
    assert!(ok, "{out}");
    let (_wait, id) = guest.buy("1h", "0712345678").await;
    assert!(stack.store.get_purchase(&id).await.unwrap().is_some());
    assert_eq!(stack.daraja.pushes().len(), 1);
    let (ok, audit) = ctl(&["audit"]).await;
    assert!(ok, "{audit}");
    assert!(audit.contains("router disable") && audit.contains("stolen from the counter"), "{audit}");
    assert!(audit.contains("router enable"), "{audit}");
}
