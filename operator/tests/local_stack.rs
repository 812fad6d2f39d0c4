//! `hotspotctl` against the whole local stack (moto, the Lambda functions, the agent and the
//! RouterOS simulator): a package change reaches the agent's portal, generated vouchers become
//! hotspot users on the router, so they work without the cloud, and a subscriber account sold at
//! the counter ends on time offline and renews by Paybill, once however often M-Pesa confirms.
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

mod common;
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

/// A GET the gateway answers for a router signing with `key`: its HTTP status.
async fn signed_get(stack: &Stack, key: &hotspot_core::RouterKey, path: &str) -> u16 {
    use hotspot_core::reqsig;
    let t = hotspot_core::clock::now_unix();
    let parts = reqsig::Request { method: "GET", path, router: &stack.router.id, body: b"" };
    let sig = reqsig::sign(key, &parts, t);
    let addr = stack.gateway_url.trim_start_matches("http://");
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{}: {}\r\n{}: {t}\r\n{}: {sig}\r\nConnection: close\r\n\r\n",
        reqsig::HEADER_ROUTER,
        stack.router.id,
        reqsig::HEADER_TIME,
        reqsig::HEADER_SIGNATURE
    );
    testkit::raw_http(addr, &req).await.0
}

/// `router rotate` end to end: the script's secrets are applied as the router would (its API
/// user's password, the container's settings, a restart); a job signed before the switch is
/// still applied; then the old signing key is refused, the old access key is gone, guests buy as
/// before, and the audit log has both the rotation and the switch.
#[tokio::test]
async fn a_rotated_router_switches_and_its_old_secrets_stop_working() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let ctl = |args: Vec<&str>| {
        let (stack, dir) = (&stack, dir.path().to_path_buf());
        let args: Vec<String> = args.into_iter().map(str::to_string).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ctl(stack, &dir, &args).await
        }
    };
    assert!(ctl(vec!["operator", "init"]).await.0);
    // The router's IAM user and key, as `router add` made them.
    let iam = aws_sdk_iam::Client::new(&stack.moto.sdk_config());
    let user = "hotspot-router-cafe-westlands";
    iam.create_user().user_name(user).path("/hotspot/").send().await.expect("user");
    let old_key_id =
        iam.create_access_key().user_name(user).send().await.expect("key").access_key.expect("key").access_key_id;
    let old_key = stack.router.key.clone();
    assert_eq!(signed_get(&stack, &old_key, "/packages").await, 200);

    let script_path = dir.path().join("rotate.rsc");
    let path = script_path.display().to_string();
    let (ok, out) =
        ctl(vec!["router", "rotate", "--id", "cafe-westlands", "--routeros-version", "7.20", "--out", &path]).await;
    assert!(ok, "{out}");
    let other = dir.path().join("again.rsc").display().to_string();
    let (ok, out) =
        ctl(vec!["router", "rotate", "--id", "cafe-westlands", "--routeros-version", "7.20", "--out", &other]).await;
    assert!(!ok && out.contains("rotation waiting"), "a second rotate is refused: {out}");
    // The first script is lost: `--again` replaces it, and its unused access key goes.
    let first = common::env_of(&std::fs::read_to_string(&script_path).expect("script")).expect("parses");
    let (ok, out) = ctl(vec![
        "router",
        "rotate",
        "--id",
        "cafe-westlands",
        "--routeros-version",
        "7.20",
        "--out",
        &other,
        "--again",
    ])
    .await;
    assert!(ok, "{out}");
    let listed = iam.list_access_keys().user_name(user).send().await.expect("keys").access_key_metadata;
    let listed: Vec<String> = listed.into_iter().filter_map(|k| k.access_key_id).collect();
    assert!(!listed.contains(&first["AWS_ACCESS_KEY_ID"]) && listed.len() == 2, "{listed:?}");
    let (_, show) = ctl(vec!["router", "show", "--id", "cafe-westlands"]).await;
    assert!(show.contains("ROTATING"), "{show}");
    let script_path = std::path::PathBuf::from(&other);
    let script = std::fs::read_to_string(&script_path).expect("script");
    let env = common::env_of(&script).expect("script parses");
    assert_ne!(env["HOTSPOT_ROUTER_KEY"], first["HOTSPOT_ROUTER_KEY"]);
    let password = common::lines(&script)
        .expect("lines")
        .iter()
        .find(|l| l.first() == Some(&common::Tok::Word("/user".into())))
        .and_then(|l| common::prop(l, "password"))
        .expect("the script sets the API user's password");
    assert_eq!(env["ROUTEROS_PASSWORD"], password);
    assert_eq!(env["HOTSPOT_ROUTER_KEY_PREVIOUS"], old_key.to_hex());
    assert_ne!(env["HOTSPOT_ROUTER_KEY"], old_key.to_hex());
    assert_ne!(env["AWS_ACCESS_KEY_ID"], old_key_id);
    // Before the router switches, both keys are taken.
    let new_key: hotspot_core::RouterKey = env["HOTSPOT_ROUTER_KEY"].parse().expect("key");
    assert_eq!(signed_get(&stack, &old_key, "/packages").await, 200);
    assert_eq!(signed_get(&stack, &new_key, "/packages").await, 200);

    // The script stops the container; meanwhile a job is signed with the key the router had.
    stack.stop_agent();
    let (ok, out) =
        ctl(vec!["voucher", "generate", "--router", "cafe-westlands", "--package", "24h", "--count", "3"]).await;
    assert!(ok, "{out}");
    // It sets the password and the settings and starts the container again.
    stack.routeros.set_password(&password);
    let names = [
        "HOTSPOT_ROUTER_KEY",
        "HOTSPOT_ROUTER_KEY_PREVIOUS",
        "ROUTEROS_PASSWORD",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ];
    let overrides: Vec<(&str, &str)> = names.iter().map(|k| (*k, env[*k].as_str())).collect();
    stack.start_agent(&overrides).await.expect("the agent starts with its new secrets");

    // Its first report switches it: the new key only, the old access key deleted.
    let store = &stack.store;
    for _ in 0..300 {
        let r = store.get_router(&stack.router.id).await.expect("read").expect("router");
        if r.rotation.is_none() && r.retiring_access_key.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = store.get_router(&stack.router.id).await.expect("read").expect("router");
    assert_eq!(r.key, new_key, "the new key is the router's key");
    assert!(r.rotation.is_none() && r.retiring_access_key.is_none(), "{r:?}");
    let keys = iam.list_access_keys().user_name(user).send().await.expect("keys").access_key_metadata;
    let ids: Vec<String> = keys.into_iter().filter_map(|k| k.access_key_id).collect();
    assert_eq!(ids, vec![env["AWS_ACCESS_KEY_ID"].clone()], "only the new access key is left");
    assert_eq!(signed_get(&stack, &old_key, "/packages").await, 401, "the old key is dead");
    assert_eq!(signed_get(&stack, &new_key, "/packages").await, 200);

    // The job signed before the switch was applied: the vouchers are hotspot users.
    let codes: Vec<String> = stack
        .store
        .list_vouchers(&stack.router.id, None)
        .await
        .expect("vouchers")
        .iter()
        .map(|v| v.code.as_str().to_string())
        .collect();
    assert_eq!(codes.len(), 3);
    let mut on_router = 0;
    for _ in 0..300 {
        let state = stack.routeros.state();
        on_router = codes.iter().filter(|c| state.user(c).is_some()).count();
        if on_router == codes.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(on_router, codes.len(), "the old-key job was applied after the switch");
    // Guests buy as before.
    let guest = e2e::guest::Guest::new(&stack);
    stack.daraja.push_scenario(daraja_sim::Scenario::paid());
    let (_wait, id) = guest.buy("1h", "0712345678").await;
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "online", "a grant under the new key");
    let (ok, audit) = ctl(vec!["audit"]).await;
    assert!(ok, "{audit}");
    assert!(audit.contains("router rotate") && audit.contains("router switched"), "{audit}");
}

/// `ctl` with the arguments as one line (split at spaces; no argument here holds one).
async fn ctl_line(stack: &Stack, dir: &std::path::Path, line: &str) -> (bool, String) {
    let args: Vec<&str> = line.split_whitespace().collect();
    ctl(stack, dir, &args).await
}

/// `ctl_line` that must succeed; what it printed.
async fn ok_line(stack: &Stack, dir: &std::path::Path, line: &str) -> String {
    let (ok, out) = ctl_line(stack, dir, line).await;
    assert!(ok, "{line}\n{out}");
    out
}

/// The value printed after `label` on a line of `out` (`account  7012345`).
fn printed<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines().find_map(|l| l.strip_prefix(label)).map(str::trim).unwrap_or_else(|| panic!("no {label:?} in\n{out}"))
}

#[tokio::test]
async fn an_account_sold_ends_on_time_offline_and_renews_by_paybill_once() {
    use daraja_sim::C2bValidation;
    use hotspot_core::AccountNumber;
    use routeros_sim::PppRefusal;

    // The schedules each second (AWS: each minute), so the welcome SMS comes within the test.
    let options = Options { schedule_every: Duration::from_secs(1), ..Options::local(bin_dir()) };
    let stack = Stack::start(options).await.expect("the local stack starts");
    let dir = tempfile::tempdir().expect("tempdir");
    ok_line(&stack, dir.path(), "operator init").await;
    ok_line(&stack, dir.path(), "package add --router cafe-westlands --id home-10m --name Home --price 1500 --validity 30d --rate-limit 10M/10M").await;

    // Sold at the counter, paid until a few seconds from now.
    let until = hotspot_core::clock::now_unix() + 4;
    let sale = format!("account add --router cafe-westlands --package home-10m --until {until} --phone 0712345678");
    let out = ok_line(&stack, dir.path(), &sale).await;
    let number: AccountNumber = printed(&out, "account").parse().expect("an account number");
    let password = printed(&out, "password").to_string();
    let cpe = "AA:BB:CC:00:20:01";
    let secret_on = |on: bool| {
        let st = stack.routeros.state();
        st.ppp_secret(number.as_str())
            .is_some_and(|s| s.attrs.get("disabled").is_some_and(|d| d == if on { "false" } else { "true" }))
    };
    eventually("the secret on the router", || secret_on(true).then_some(())).await;
    stack.routeros.ppp_dial(number.as_str(), &password, "pppoe", cpe).expect("the subscriber's router connects");
    assert!(out.contains("sms      to 2547****5678"), "{out}");
    let welcome = eventually("the welcome SMS", || {
        stack.sms.messages().into_iter().find(|m| m.to == "+254712345678" && m.message.contains(number.as_str()))
    })
    .await;
    assert!(welcome.message.contains(&password) && welcome.message.contains("Paybill"), "{}", welcome.message);
    assert!(welcome.message.contains(&format!("{}/account", stack.gateway_url)), "their page: {}", welcome.message);

    // The uplink goes down; the agent ends the account on time by itself.
    stack.uplink.cut();
    eventually("the account ended", || {
        (secret_on(false) && stack.routeros.state().ppp_active.is_empty()).then_some(())
    })
    .await;
    let late = hotspot_core::clock::now_unix() - until;
    assert!((0..=3).contains(&late), "ended {late} s after it ran out");
    assert_eq!(stack.routeros.ppp_dial(number.as_str(), &password, "pppoe", cpe), Err(PppRefusal::Disabled));
    stack.uplink.restore();

    // The operator's Paybill URLs, registered once with hotspotctl; the subscriber pays from
    // their phone.
    let s = stack.daraja.config();
    let secret = e2e::stack::CALLBACK_SECRET;
    let daraja_env = [
        ("DARAJA_ENV", stack.daraja.base_url()),
        ("DARAJA_CONSUMER_KEY", s.consumer_key.clone()),
        ("DARAJA_CONSUMER_SECRET", s.consumer_secret.clone()),
        ("DARAJA_SHORTCODE", s.shortcode.clone()),
        ("CALLBACK_SECRET", secret.to_string()),
    ];
    let env: Vec<(&str, &str)> = daraja_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let admin = Identity { key_id: "test".into(), secret: "test".into(), arn: String::new() };
    let register = ["account", "paybill-urls", "--api-url", &stack.gateway_url];
    let out = support::run_hotspotctl_with(&stack.moto.endpoint, dir.path(), &admin, &register, &env).await;
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{said}");
    assert!(!said.contains(secret), "the callback secret is not printed:\n{said}");
    let (confirm, validate) = (
        format!("{}/cb/c2b/{secret}/confirmation", stack.gateway_url),
        format!("{}/cb/c2b/{secret}/validation", stack.gateway_url),
    );
    let registered = stack.daraja.c2b_registration().expect("the URLs registered with Daraja");
    assert_eq!(
        (registered.confirmation_url.as_str(), registered.validation_url.as_str(), registered.response_type.as_str()),
        (confirm.as_str(), validate.as_str(), "Completed")
    );
    let audit = ok_line(&stack, dir.path(), "audit").await;
    assert!(audit.contains("account paybill-urls") && !audit.contains(secret), "audited, without the secret:\n{audit}");
    let paid = stack.daraja.c2b_pay("254712345678", 1500, number.as_str()).await;
    assert_eq!(
        (paid.validation, paid.completed, paid.confirmation_status),
        (Some(C2bValidation::Accepted), true, Some(200))
    );
    eventually("the account on again", || secret_on(true).then_some(())).await;
    stack.routeros.ppp_dial(number.as_str(), &password, "pppoe", cpe).expect("online again");
    // The subscriber's session is in the router's health, beside the hotspot's (the heartbeat
    // follows a package change within seconds).
    ok_line(&stack, dir.path(), "package add --router cafe-westlands --id office-20m --name Office --price 3000 --validity 30d --rate-limit 20M/20M").await;
    let router_id: hotspot_core::RouterId = "cafe-westlands".parse().unwrap();
    for _ in 0..100 {
        let fleet = stack.store.list_fleet().await.unwrap();
        if fleet.iter().any(|f| f.router.id == router_id && f.health.as_ref().is_some_and(|h| h.ppp_sessions == 1)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let fleet = stack.store.list_fleet().await.unwrap();
    let health = fleet.iter().find(|f| f.router.id == router_id).and_then(|f| f.health.clone()).expect("a heartbeat");
    assert_eq!(health.ppp_sessions, 1, "{health:?}");
    let renewed = stack.store.get_account(&number).await.unwrap().expect("the account");
    assert_eq!(renewed.renewals, 1);
    assert_eq!(renewed.phone.map(|p| p.e164()), Some("254712345678".to_string()), "for its reminders");
    assert!(renewed.expires_at >= until + 30 * 86_400 - 60, "a month from the renewal");

    // M-Pesa confirms it again: acknowledged, renewed once.
    let body = paid.confirmation.expect("the confirmation");
    let http = daraja_sim::http_client().expect("http");
    for _ in 0..2 {
        let r = http.post(&confirm).body(body.clone()).send().await.expect("posted");
        assert_eq!(r.status().as_u16(), 200);
    }
    let again = stack.store.get_account(&number).await.unwrap().unwrap();
    assert_eq!((again.renewals, again.expires_at), (1, renewed.expires_at), "extended exactly once");

    let listed = ok_line(&stack, dir.path(), "account list --router cafe-westlands").await;
    assert!(
        listed.contains(number.as_str()) && listed.contains("running") && listed.contains("1 account(s), 1 running"),
        "{listed}"
    );
    assert!(!listed.contains("254712345678"), "phones are masked:\n{listed}");

    // The renewal is revenue, beside the hotspot's (which sold nothing here).
    let today = hotspot_core::calendar::day_string(hotspot_core::clock::now_unix(), 3 * 3600);
    let report = ok_line(&stack, dir.path(), &format!("report revenue --from {today} --to {today}")).await;
    let accounts_line = report.lines().find(|l| l.contains("of which accounts")).unwrap_or_else(|| panic!("{report}"));
    assert!(accounts_line.contains("1,500") && accounts_line.split_whitespace().any(|w| w == "1"), "{report}");

    // Crediting a payment that is not held is refused, and says why.
    let (ok, out) = ctl(
        &stack,
        dir.path(),
        &["account", "credit", "--router", "cafe-westlands", "--receipt", &paid.trans_id, "--number", number.as_str()],
    )
    .await;
    assert!(!ok && out.contains("already renewed account"), "{out}");

    // An account number nobody has is refused before any money moves.
    let stranger = AccountNumber::issue();
    let refused = stack.daraja.c2b_pay("254712345678", 1500, stranger.as_str()).await;
    assert_eq!(refused.validation, Some(C2bValidation::Rejected { code: "C2B00012".into() }));
    assert!(!refused.completed);
}

/// A WireGuard account sold at the counter: a peer on the router, and once the router has
/// reported its end of the tunnel, the buyer's client config and its QR code.
#[tokio::test]
async fn a_wireguard_account_gets_a_peer_and_the_buyer_a_config() {
    use hotspot_core::AccountNumber;

    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(ctl_line(&stack, dir.path(), "operator init").await.0);
    let pkg =
        "package add --router cafe-westlands --id vpn-30d --name VPN --price 500 --validity 30d --rate-limit 5M/5M";
    assert!(ctl_line(&stack, dir.path(), pkg).await.0);
    let (ok, out) = ctl_line(
        &stack,
        dir.path(),
        "account add --router cafe-westlands --package vpn-30d --service wireguard --endpoint vpn.cafe.example",
    )
    .await;
    assert!(ok, "{out}");
    let number: AccountNumber = printed(&out, "account").parse().expect("an account number");
    assert!(out.contains("hotspotctl account config"), "the next step is said:\n{out}");

    // The agent puts the peer on and reports the router's end; then the config can be written.
    let conf = dir.path().join("buyer.conf");
    let qr = dir.path().join("buyer.svg");
    let args = format!(
        "account config --router cafe-westlands --number {number} --endpoint vpn.cafe.example --dns 1.1.1.1 --out {} --qr {}",
        conf.display(),
        qr.display()
    );
    let mut written = (false, String::new());
    for _ in 0..100 {
        written = ctl_line(&stack, dir.path(), &args).await;
        if written.0 {
            break;
        }
        assert!(written.1.contains("has not reported"), "{}", written.1);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(written.0, "{}", written.1);
    let text = std::fs::read_to_string(&conf).expect("the config");
    let st = stack.routeros.state();
    let server_key =
        st.wireguard.iter().find(|w| w.attrs.get("name").is_some_and(|v| v == "hs-wg")).unwrap().attrs["public-key"]
            .clone();
    let acc = stack.store.get_account(&number).await.unwrap().unwrap();
    let wg = acc.wireguard.expect("a WireGuard account");
    assert!(text.contains(&format!("PrivateKey = {}\n", wg.private_key)), "{text}");
    assert!(text.contains("Address = 10.66.0.2/32\nDNS = 1.1.1.1\n"), "{text}");
    assert!(text.contains(&format!("PublicKey = {server_key}\nEndpoint = vpn.cafe.example:13231\n")), "{text}");
    let peer = st
        .wireguard_peers
        .iter()
        .find(|p| p.attrs.get("public-key") == Some(&wg.public_key.to_string()))
        .expect("the peer");
    assert_eq!(peer.attrs.get("allowed-address").map(String::as_str), Some("10.66.0.2/32"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&conf).unwrap().permissions().mode() & 0o777, 0o600, "it holds a private key");
    assert!(std::fs::read_to_string(&qr).unwrap().contains("<svg"));
    // Written once: never over an existing file.
    assert!(!ctl_line(&stack, dir.path(), &args).await.0);

    // The buyer's own page: the QR code to scan, and the same config (without the DNS the
    // operator chose above) to download.
    let http = daraja_sim::http_client().expect("http");
    let page = format!("{}/account", stack.gateway_url);
    let post = |url: String, body: String| {
        http.post(url).header("content-type", "application/x-www-form-urlencoded").body(body)
    };
    let (status, _, body) = browse(post(page.clone(), form(&[("n", number.as_str()), ("p", &acc.password)]))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<h2>WireGuard</h2>") && body.contains("<svg"), "{body}");
    let token = hidden_field(&body, "t");
    let r = post(format!("{page}/config"), form(&[("n", number.as_str()), ("t", &token)])).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let disposition = r.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(disposition, format!("attachment; filename=\"wg-{number}.conf\""));
    let downloaded = r.text().await.unwrap();
    assert_eq!(downloaded, text.replace("DNS = 1.1.1.1\n", ""), "the page's config is the CLI's");
    // Without the page's token: nothing.
    let r = post(format!("{page}/config"), form(&[("n", number.as_str()), ("t", "1.forged")])).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

/// A browser without JavaScript, redirects not followed: status, location, body.
async fn browse(req: reqwest::RequestBuilder) -> (u16, Option<String>, String) {
    let r = req.send().await.expect("answers");
    let status = r.status().as_u16();
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, location, r.text().await.unwrap_or_default())
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// The value of the hidden field `name` on a page.
fn hidden_field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no {name} in\n{page}")) + marker.len();
    page[start..start + page[start..].find('"').unwrap()].replace("&amp;", "&")
}

/// The subscriber's own page: signed in with the account number and password, they renew by an
/// M-Pesa prompt; M-Pesa's callback (sent twice) renews once and the router is told. A wrong
/// password shows nothing; a forged or another account's renew form sends no prompt.
#[tokio::test]
async fn a_subscriber_renews_from_their_page_once_and_forged_forms_send_nothing() {
    use daraja_sim::{CallbackMode, Scenario};
    use hotspot_core::AccountNumber;

    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let dir = tempfile::tempdir().expect("tempdir");
    ok_line(&stack, dir.path(), "operator init").await;
    ok_line(&stack, dir.path(), "package add --router cafe-westlands --id home-10m --name Home --price 1500 --validity 30d --rate-limit 10M/10M").await;
    let out = ok_line(
        &stack,
        dir.path(),
        "account add --router cafe-westlands --package home-10m --name Wanjiku --phone 0712345678",
    )
    .await;
    let number: AccountNumber = printed(&out, "account").parse().expect("an account number");
    let password = printed(&out, "password").to_string();
    // From now on the package renews odd amounts pro rata: accounts sold before keep their plan.
    ok_line(&stack, dir.path(), "package edit --router cafe-westlands --id home-10m --odd-amounts pro-rata").await;
    let other = ok_line(&stack, dir.path(), "account add --router cafe-westlands --package home-10m").await;
    let other: AccountNumber = printed(&other, "account").parse().unwrap();
    let forced =
        ok_line(&stack, dir.path(), "account add --router cafe-westlands --package home-10m --odd-amounts hold").await;
    let forced: AccountNumber = printed(&forced, "account").parse().unwrap();
    let odd = |n: &AccountNumber| {
        let store = stack.store.clone();
        let n = n.clone();
        async move { store.get_account(&n).await.unwrap().unwrap().plan.odd_amount }
    };
    use hotspot_cloud::renewal::OddAmount;
    assert_eq!(
        (odd(&number).await, odd(&other).await, odd(&forced).await),
        (OddAmount::Hold, OddAmount::ProRata, OddAmount::Hold)
    );
    let before = stack.store.get_account(&number).await.unwrap().unwrap();

    let http = daraja_sim::http_client().expect("http");
    let page = format!("{}/account", stack.gateway_url);
    let post =
        |url: &str, body: String| http.post(url).header("content-type", "application/x-www-form-urlencoded").body(body);
    let (status, _, body) = browse(http.get(&page)).await;
    assert!(status == 200 && body.contains("name=\"p\""), "{status} {body}");

    // A wrong password: refused, nothing of the account shown.
    let (status, _, body) = browse(post(&page, form(&[("n", number.as_str()), ("p", "guess")]))).await;
    assert_eq!(status, 403);
    assert!(!body.contains("Wanjiku") && !body.contains("Paid to"), "{body}");

    let (status, _, body) = browse(post(&page, form(&[("n", number.as_str()), ("p", &password)]))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Hello Wanjiku") && body.contains(number.as_str()) && body.contains("Paid to"), "{body}");
    assert!(body.contains("KES 1,500") && body.contains("value=\"0712345678\""), "{body}");
    let token = hidden_field(&body, "t");

    // Forged: no token, a made-up one, and this account's token on another account.
    let renew = format!("{page}/renew");
    let pushes = stack.daraja.pushes().len();
    for (n, t) in [(number.as_str(), ""), (number.as_str(), "1.abcdef"), (other.as_str(), token.as_str())] {
        let f = form(&[("n", n), ("t", t), ("periods", "1"), ("phone", "0712345678")]);
        let (status, _, _) = browse(post(&renew, f)).await;
        assert_eq!(status, 403, "{n} {t}");
    }
    assert_eq!(stack.daraja.pushes().len(), pushes, "no prompt for a forged form");

    // Renewed for two months; M-Pesa calls back twice.
    stack.daraja.push_scenario(Scenario::paid().with_callback(CallbackMode::Twice));
    let f = form(&[("n", number.as_str()), ("t", &token), ("periods", "2"), ("phone", "0712345678")]);
    let (status, location, body) = browse(post(&renew, f)).await;
    assert_eq!(status, 303, "{body}");
    let wait = format!("{}{}", stack.gateway_url, location.expect("to the waiting page"));
    let push = stack.daraja.pushes().last().cloned().expect("the prompt");
    assert_eq!(push.amount, 3000, "two months");
    assert_eq!(push.account_reference, number.as_str(), "the payer's statement names the account");
    let mut renewed = String::new();
    for _ in 0..100 {
        let (status, _, body) = browse(http.get(&wait)).await;
        assert_eq!(status, 200, "{body}");
        if body.contains("Renewed") {
            renewed = body;
            break;
        }
        assert!(body.contains("http-equiv=\"refresh\""), "waits without script: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(renewed.contains("now runs to"), "renewed: {renewed}");
    eventually("both callbacks delivered", || (stack.daraja.callbacks().len() >= 2).then_some(())).await;
    let after = stack.store.get_account(&number).await.unwrap().unwrap();
    assert_eq!(after.renewals, 1, "two callbacks, one renewal");
    assert_eq!(after.expires_at, before.expires_at + 2 * 30 * 86_400, "counted on from the old expiry");
    // The router is told: its journal has the new expiry (the secret stays on).
    eventually("the router told", || {
        let st = stack.routeros.state();
        st.ppp_secret(number.as_str())
            .and_then(|s| s.attrs.get("comment").cloned())
            .filter(|c| c.contains(&after.expires_at.to_string()))
    })
    .await;

    // The waiting page's link needs its token.
    let bare = wait.split('?').next().unwrap().to_string();
    assert_eq!(browse(http.get(&bare)).await.0, 404);
}
