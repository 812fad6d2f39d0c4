//! The operators' dashboard (`/admin`) over the whole local stack, through the gateway and the
//! Lambda runtime interface: sign-in, the fleet, the support desk settling "I paid but I'm not
//! online", and what a hostile operator or guest cannot do.
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use daraja_sim::Scenario;
use e2e::browser::{Browser, hidden};
use e2e::guest::{Guest, bin_dir, db_state};
use e2e::stack::{DASHBOARD_LOGIN, DASHBOARD_PASSWORD, Options, Stack};
use hotspot_cloud::store::dashboard::{DashboardSession, dashboard_arn, new_token};
use hotspot_cloud::store::{
    AuditResult, LoginName, NewPurchase, OperatorRecord, Paid, PurchaseState, RouterRecord, ScopedRole,
};
use hotspot_core::dates::{Day, UtcOffset};
use hotspot_core::{PurchaseId, RouterKey};

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn stack() -> Stack {
    Stack::start(Options { dashboard_admin: true, ..Options::local(bin_dir()) }).await.expect("the local stack starts")
}

async fn paid_guest(stack: &Stack) -> PurchaseId {
    let guest = Guest::new(stack);
    stack.daraja.push_scenario(Scenario::paid());
    let (_, id) = guest.buy("1h", "0712 345 678").await;
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "online");
    db_state(stack, &id, PurchaseState::Active).await;
    id
}

#[tokio::test]
async fn the_desk_finds_a_paid_guest_and_gives_them_their_time_back() {
    let stack = stack().await;
    let id = paid_guest(&stack).await;
    let mut b = Browser::new(&stack);

    // Signed out: every page sends the browser to sign in; a wrong password is refused.
    assert_eq!(b.get("/admin").await.location.as_deref(), Some("/admin/login"));
    let wrong = b.sign_in(DASHBOARD_LOGIN, "not-the-password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong login or password."), "{}", wrong.body);
    let ok = b.sign_in(DASHBOARD_LOGIN, DASHBOARD_PASSWORD).await;
    assert_eq!((ok.status, ok.location.as_deref()), (303, Some("/admin")), "{}", ok.body);
    let session_cookie = b.set_cookies.iter().find(|c| c.starts_with("hs_session=")).expect("a session cookie");
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
        assert!(session_cookie.contains(attr), "{session_cookie}");
    }

    // The fleet: the router is online, selling the store's three packages (its heartbeat
    // follows the packages it was sent within seconds).
    let fleet = b.get("/admin").await;
    assert!(fleet.body.contains("Cafe Westlands") && fleet.body.contains(">online<"), "{}", fleet.body);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let fleet = b.get("/admin").await;
        if fleet.body.contains("3 on sale") {
            assert!(!fleet.body.contains("not the store's list"), "{}", fleet.body);
            break;
        }
        assert!(Instant::now() < deadline, "the fleet never showed the packages on sale: {}", fleet.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The desk finds the purchase by phone, however it is typed, and by MAC.
    for q in ["0712345678", "%2B254%20712%20345%20678", "DA:A1:19:3C:5E:01"] {
        let found = b.get(&format!("/admin/support?q={q}")).await;
        assert!(found.body.contains(&format!("/admin/purchases/{id}")), "{q}: {}", found.body);
    }
    let page = b.get(&format!("/admin/purchases/{id}")).await;
    for step in ["Prompt sent", "Paid", "Grant queued", "Applied on the router"] {
        assert!(page.body.contains(step), "{step}: {}", page.body);
    }
    let receipt = stack.store.get_purchase(&id).await.unwrap().unwrap().receipt.expect("a receipt");
    assert!(page.body.contains(&receipt));
    let by_receipt = b.get(&format!("/admin/support?q={receipt}")).await;
    assert!(by_receipt.body.contains(&format!("/admin/purchases/{id}")), "{}", by_receipt.body);

    // "I paid but I'm not online": the router lost its users. Re-sending the grant puts the
    // guest back online; a form without the CSRF token changes nothing.
    stack.routeros.reset_hotspot_users();
    assert!(stack.routeros.state().users.is_empty());
    let forged = b.post(&format!("/admin/purchases/{id}/resend"), &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(stack.routeros.state().users.is_empty(), "a refused form sends nothing");
    let csrf = b.csrf().await;
    let sent = b.post(&format!("/admin/purchases/{id}/resend"), &[("csrf", &csrf)]).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.contains("grant sent to the router again"), "{}", sent.body);
    let mac = stack.options.guest_mac;
    until("the guest is online again", || stack.routeros.state().session_of(mac).is_some()).await;

    // More time: only the form's choices; an hour moves the session's end by 3,600 s.
    let live = |s: Option<hotspot_cloud::store::LiveSession>| s.expect("a live session").expires_at;
    let before = live(stack.store.get_live_session(&id, &stack.router.id).await.unwrap());
    for by in ["99y", "0s", "", "<b>1h</b>"] {
        let bad = b.post(&format!("/admin/purchases/{id}/extend"), &[("csrf", &csrf), ("by", by)]).await;
        assert_eq!(bad.status, 409, "{by}");
        assert!(bad.body.contains("nothing was changed") && !bad.body.contains("<b>1h"), "{by}: {}", bad.body);
    }
    assert_eq!(live(stack.store.get_live_session(&id, &stack.router.id).await.unwrap()), before);
    let more = b.post(&format!("/admin/purchases/{id}/extend"), &[("csrf", &csrf), ("by", "1h")]).await;
    assert_eq!(more.status, 200, "{}", more.body);
    assert!(more.body.contains("extended by 1h: the session now ends"), "{}", more.body);
    assert_eq!(live(stack.store.get_live_session(&id, &stack.router.id).await.unwrap()), before + 3600);

    // Disconnect: the session ends on the router and leaves the live list.
    let gone = b.post(&format!("/admin/purchases/{id}/disconnect"), &[("csrf", &csrf)]).await;
    assert!(gone.body.contains("disconnected"), "{}", gone.body);
    until("the session ends on the router", || stack.routeros.state().session_of(mac).is_none()).await;
    assert!(stack.store.get_live_session(&id, &stack.router.id).await.unwrap().is_none());
    assert!(!gone.body.contains("Re-send the grant"), "an ended purchase offers no grant: {}", gone.body);

    // Both actions are in the audit log under the operator who did them.
    let now = hotspot_core::clock::now_unix();
    let audit = stack.store.list_audit(now - 3600, now + 60, Some("dashboard:admin")).await.unwrap();
    let done: Vec<(&str, &str)> = audit.iter().map(|e| (e.action.as_str(), e.result.as_str())).collect();
    for action in ["grant resend", "session extend", "session disconnect"] {
        assert!(done.contains(&(action, "ok")), "{action}: {done:?}");
    }

    // The audit log page shows them, for a login or an ARN; nonsense is refused.
    let log = b.get("/admin/audit").await;
    assert_eq!(log.status, 200, "{}", log.body);
    // (Newest first by second: actions within one second are in no set order.)
    for action in ["grant resend", "session extend", "session disconnect"] {
        assert!(log.body.contains(action), "{action}: {}", log.body);
    }
    assert!(b.get("/admin/audit?who=admin").await.body.contains("session extend"));
    assert!(b.get("/admin/audit?who=dashboard%3Aadmin").await.body.contains("session extend"));
    assert!(b.get("/admin/audit?who=nobody").await.body.contains("0 entries"));
    assert_eq!(b.get("/admin/audit?from=2020-01-01").await.status, 400);

    // Signing out ends the session: the old cookie opens nothing.
    let old = b.cookies.get("hs_session").cloned().unwrap();
    let csrf = b.csrf().await;
    b.post("/admin/logout", &[("csrf", &csrf)]).await;
    b.cookies.insert("hs_session".into(), old);
    assert_eq!(b.get("/admin").await.location.as_deref(), Some("/admin/login"));
}

#[tokio::test]
async fn staff_see_their_router_only_and_nothing_anyone_typed_runs() {
    let stack = stack().await;
    let now = hotspot_core::clock::now_unix();
    // Another router, named by someone hostile, with a guest's purchase.
    let other = RouterRecord {
        id: "other-site".parse().unwrap(),
        name: "<script>alert(1)</script>".into(),
        queue_url: stack.router.queue_url.clone(),
        key: RouterKey::generate(),
        created_at: now,
        disabled_at: None,
        rotation: None,
        retiring_access_key: None,
        wallets: Default::default(),
        country: Default::default(),
    };
    stack.store.put_router(&other).await.unwrap();
    let theirs = stack
        .store
        .create_purchase(&NewPurchase {
            id: PurchaseId::derived_from("other-site purchase"),
            router_id: other.id.clone(),
            package: e2e::stack::packages()[0].clone(),
            mac: "DA:A1:19:00:00:09".parse().unwrap(),
            ip: None,
            phone: "254799000111".parse().unwrap(),
            wallet: hotspot_core::wallet::Wallet::Mpesa,
            created_at: now,
        })
        .await
        .unwrap();

    // A staff member for the café, invited by link: the link sets the password, once.
    let login: LoginName = "wanjiku@cafe.ke".parse().unwrap();
    let arn = dashboard_arn(&login);
    let staff = OperatorRecord {
        arn: arn.clone(),
        access: ScopedRole::Staff(stack.router.id.clone()),
        added_by: "test".into(),
        added_at: now,
    };
    stack.store.add_operator(&staff).await.unwrap();
    let invite = new_token();
    stack.store.create_login(&login, &arn, &invite, now + 3600).await.unwrap();
    let mut s = Browser::new(&stack);
    let form = s.get(&format!("/admin/invite?t={invite}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = hidden(&form.body, "csrf");
    let short =
        s.post("/admin/invite", &[("csrf", &csrf), ("t", &invite), ("password", "short"), ("again", "short")]).await;
    assert_eq!(short.status, 400, "{}", short.body);
    let csrf = hidden(&short.body, "csrf");
    let pw = "a long staff password";
    let set = s.post("/admin/invite", &[("csrf", &csrf), ("t", &invite), ("password", pw), ("again", pw)]).await;
    assert!(set.body.contains("Password set"), "{}", set.body);
    assert_eq!(s.get(&format!("/admin/invite?t={invite}")).await.status, 410, "an invite works once");
    assert_eq!(s.sign_in("wanjiku@cafe.ke", pw).await.status, 303);

    // Their fleet is their router; the other router's purchase is not there, by any URL.
    let fleet = s.get("/admin").await;
    assert!(fleet.body.contains("Cafe Westlands") && !fleet.body.contains("other-site"), "{}", fleet.body);
    assert_eq!(s.get(&format!("/admin/purchases/{}", theirs.id)).await.status, 404);
    let csrf = s.csrf().await;
    for act in ["resend", "disconnect", "extend"] {
        let form = [("csrf", csrf.as_str()), ("by", "1h")];
        assert_eq!(s.post(&format!("/admin/purchases/{}/{act}", theirs.id), &form).await.status, 404, "{act}");
    }
    let search = s.get("/admin/support?q=0799000111").await;
    assert!(search.body.contains("No purchases found."), "{}", search.body);
    // Accounts: their router's page; the other router's reads as absent, and sells nothing there.
    assert_eq!(s.get("/admin/accounts").await.location.as_deref(), Some("/admin/accounts/cafe-westlands"));
    assert_eq!(s.get("/admin/accounts/other-site").await.status, 404);
    let sale = [("csrf", csrf.as_str()), ("package", "1h"), ("service", "pppoe"), ("paid", "on")];
    assert_eq!(s.post("/admin/accounts/other-site", &sale).await.status, 404);
    assert!(stack.store.router_accounts(&other.id).await.unwrap().is_empty());
    // The takings are for admins and managers: no link, and the page reads as absent.
    assert!(!fleet.body.contains("/admin/revenue"), "{}", fleet.body);
    assert_eq!(s.get("/admin/revenue").await.status, 404);
    assert_eq!(s.get_file("/admin/revenue?format=csv").await.0, 404);
    // The audit log and packages are for admins.
    assert!(!fleet.body.contains("/admin/audit") && !fleet.body.contains("/admin/packages"), "{}", fleet.body);
    assert_eq!(s.get("/admin/audit").await.status, 404);
    assert_eq!(s.get(&format!("/admin/packages/{}", stack.router.id)).await.status, 404);
    let form = [("csrf", csrf.as_str()), ("do", "retire")];
    assert_eq!(s.post(&format!("/admin/packages/{}/1h", stack.router.id), &form).await.status, 404);
    // Crediting money is for admins and managers too; operators are for admins.
    assert_eq!(s.get("/admin/receipts/TLA1B2C3D4").await.status, 404);
    assert_eq!(s.get("/admin/receipts").await.status, 404);
    assert!(!fleet.body.contains("/admin/operators"), "{}", fleet.body);
    assert_eq!(s.get("/admin/operators").await.status, 404);
    let form = [("csrf", csrf.as_str()), ("do", "invite"), ("login", "mole@cafe.ke"), ("role", "admin")];
    assert_eq!(s.post("/admin/operators", &form).await.status, 404);
    assert!(stack.store.get_login(&"mole@cafe.ke".parse().unwrap()).await.unwrap().is_none());

    // What a guest or an operator typed is shown, never run.
    let mut a = Browser::new(&stack);
    assert_eq!(a.sign_in(DASHBOARD_LOGIN, DASHBOARD_PASSWORD).await.status, 303);
    let fleet = a.get("/admin").await;
    assert!(fleet.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", fleet.body);
    assert!(!fleet.body.contains("<script>"), "{}", fleet.body);
    let echo = a.get("/admin/support?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E").await;
    assert!(!echo.body.contains("<img") && echo.body.contains("&lt;img"), "{}", echo.body);
    let page = a.get(&format!("/admin/purchases/{}", theirs.id)).await;
    assert!(page.body.contains("&lt;script&gt;") && !page.body.contains("<script>"), "{}", page.body);
    let hostile = hotspot_cloud::store::AuditEntry {
        at: now,
        id: "hostile".into(),
        who: "<img src=x onerror=alert(1)>".into(),
        role: "admin".into(),
        action: "router add".into(),
        args: BTreeMap::from([("name".to_string(), "<script>alert(2)</script>".to_string())]),
        result: AuditResult::Ok,
        detail: "<script>alert(3)</script>".into(),
    };
    stack.store.put_audit(&hostile).await.unwrap();
    let log = a.get("/admin/audit").await;
    assert!(log.body.contains("&lt;img src=x") && log.body.contains("&lt;script&gt;alert(3)"), "{}", log.body);
    assert!(!log.body.contains("<img") && !log.body.contains("<script>"), "{}", log.body);

    // Forged and expired sessions open nothing; a cross-site form is refused.
    let mut f = Browser::new(&stack);
    f.cookies.insert("hs_session".into(), new_token());
    assert_eq!(f.get("/admin").await.location.as_deref(), Some("/admin/login"));
    let expired = new_token();
    let sess = DashboardSession { login: login.clone(), arn: arn.clone(), csrf: new_token(), expires_at: now - 1 };
    stack.store.create_dashboard_session(&expired, &sess).await.unwrap();
    f.cookies.insert("hs_session".into(), expired);
    assert_eq!(f.get("/admin").await.location.as_deref(), Some("/admin/login"));
    let cross = a
        .send(a.http.post(format!("{}/admin/logout", a.base)).header("origin", "https://evil.example").body("csrf=x"))
        .await;
    assert_eq!(cross.status, 403);

    // Guessing a password: the login is locked for the window after 10 tries.
    let mut g = Browser::new(&stack);
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(g.sign_in("wanjiku@cafe.ke", "guess-guess-guess").await.status);
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    assert_eq!(g.sign_in("wanjiku@cafe.ke", pw).await.status, 429, "even the right password waits");
    // A removed operator's session ends at once.
    stack.store.remove_operator(&arn).await.unwrap();
    assert_eq!(s.get("/admin").await.location.as_deref(), Some("/admin/login"));
}

#[tokio::test]
async fn vouchers_are_made_on_the_dashboard_and_printed_from_its_pdf() {
    let stack = stack().await;
    let router = stack.router.id.clone();
    let mut a = Browser::new(&stack);
    assert_eq!(a.sign_in(DASHBOARD_LOGIN, DASHBOARD_PASSWORD).await.status, 303);
    let list = a.get("/admin/vouchers").await;
    assert!(list.body.contains(&format!("href=\"/admin/vouchers/{router}\"")), "{}", list.body);
    let page = a.get(&format!("/admin/vouchers/{router}")).await;
    assert!(page.body.contains("<option value=\"1h\">1 hour"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let path = format!("/admin/vouchers/{router}");

    // Bad forms change nothing: no batch, nothing sent to the router.
    for form in [
        [("package", "1h"), ("count", "0")],
        [("package", "1h"), ("count", "1001")],
        [("package", "1h"), ("count", "ten")],
        [("package", "nope"), ("count", "5")],
        [("package", "<b>"), ("count", "5")],
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form);
        let r = a.post(&path, &f).await;
        assert_eq!(r.status, 409, "{form:?}: {}", r.body);
        assert!(r.body.contains("nothing was changed"), "{form:?}: {}", r.body);
    }
    assert!(a.post(&path, &[("csrf", "forged"), ("package", "1h"), ("count", "5")]).await.status == 403);
    assert!(stack.store.list_voucher_batches(&router).await.unwrap().is_empty());

    // 25 codes: one batch, recorded, and on the router as hotspot users.
    let made = a.post(&path, &[("csrf", &csrf), ("package", "1h"), ("count", "25")]).await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.body.contains("25 voucher(s) pushed to the router"), "{}", made.body);
    let batches = stack.store.list_voucher_batches(&router).await.unwrap();
    assert_eq!(batches.len(), 1);
    let batch = &batches[0];
    assert_eq!((batch.count, batch.pushed), (25, 25));
    assert!(made.body.contains("25 of 25 on the router"), "{}", made.body);
    let codes = stack.store.list_vouchers(&router, Some(&batch.batch_id)).await.unwrap();
    assert_eq!(codes.len(), 25);
    until("the router holds every code", || {
        let users = stack.routeros.state().users;
        codes.iter().all(|c| users.iter().any(|u| u.name == c.code.as_str()))
    })
    .await;

    // A guest comes online with one: the router reports it, and the batch shows it used, when
    // and on which device; the desk finds the code too.
    let used = &codes[3].code;
    let mac: hotspot_core::MacAddr = "DA:A1:19:00:0E:07".parse().unwrap();
    let guest = Guest::device(&stack, mac, std::net::Ipv4Addr::new(127, 0, 1, 77));
    let (status, body) = guest.enter_code(used.as_str()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stack.routeros.state().session_of(mac).map(|s| s.user.clone()), Some(used.to_string()));
    let batch_page = format!("{path}/{}", batch.batch_id);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = a.get(&batch_page).await;
        if page.body.contains("1 of 25 used") {
            assert!(page.body.contains("DA:A1:19:00:0E:07"), "{}", page.body);
            break;
        }
        assert!(Instant::now() < deadline, "the voucher was never shown used: {}", page.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(a.get(&path).await.body.contains("1 used"), "the batch list counts it");
    let found = a.get(&format!("/admin/support?q={}", used.as_str().to_lowercase())).await;
    let to = format!("{batch_page}#v-{used}");
    assert_eq!((found.status, found.location.as_deref()), (303, Some(to.as_str())));
    let unknown = a.get("/admin/support?q=ZZZZZZZZ").await;
    assert!(unknown.body.contains("No voucher ZZZZZZZZ at your routers."), "{}", unknown.body);
    // The same session reported again (a redelivered event) counts once.
    let stored = stack.store.get_voucher(&router, used).await.unwrap().unwrap();
    let at = stored.used.as_ref().expect("used").at;
    let mac = "DA:A1:19:00:0E:08".parse().unwrap();
    assert!(!stack.store.mark_voucher_used(&router, used, at + 5, &mac).await.unwrap());
    assert_eq!(stack.store.list_voucher_batches(&router).await.unwrap()[0].used, 1);
    assert_eq!(stack.store.get_voucher(&router, used).await.unwrap().unwrap(), stored);

    // The sheet as PDF, read by poppler: every code, the package, the portal in the QR's caption.
    let pdf_path = format!("{path}/{}/pdf?portal=http%3A%2F%2Fwifi.cafe%2F", batch.batch_id);
    let (status, ct, bytes) = a.get_file(&pdf_path).await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert!(bytes.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sheet.pdf");
    std::fs::write(&file, &bytes).unwrap();
    let out = std::process::Command::new("pdftotext").args(["-layout"]).arg(&file).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for c in &codes {
        assert!(text.contains(&c.code.grouped()), "{} in the PDF", c.code);
    }
    assert!(text.contains("1 hour") && text.contains("KES 10") && text.contains("http://wifi.cafe/"), "{text}");
    // A portal address that is not one is refused; an unknown batch is not there.
    let bad = a.get(&format!("{path}/{}/pdf?portal=javascript%3Aalert(1)", batch.batch_id)).await;
    assert_eq!(bad.status, 409, "{}", bad.body);
    assert_eq!(a.get_file(&format!("{path}/vb-19700101-000000/pdf?portal=http%3A%2F%2Fa%2F")).await.0, 404);

    // Who did it is in the audit log.
    let t = hotspot_core::clock::now_unix();
    let log = stack.store.list_audit(t - 3600, t + 60, None).await.unwrap();
    let generated: Vec<_> =
        log.iter().filter(|e| e.action == "voucher generate" && e.result == AuditResult::Ok).collect();
    assert_eq!(generated.len(), 1, "{log:?}");
    assert!(log.iter().any(|e| e.result == AuditResult::Refused && e.detail.contains("package nope")), "{log:?}");
    assert_eq!(generated[0].args.get("via").map(String::as_str), Some("dashboard"));
    assert_eq!(generated[0].args.get("login").map(String::as_str), Some(DASHBOARD_LOGIN));
    assert!(log.iter().any(|e| e.action == "voucher export" && e.args.get("batch") == Some(&batch.batch_id)));

    // Staff of another router see none of it, by any URL.
    let now = hotspot_core::clock::now_unix();
    let login: LoginName = "otieno@elsewhere.ke".parse().unwrap();
    let arn = dashboard_arn(&login);
    let staff = OperatorRecord {
        arn: arn.clone(),
        access: ScopedRole::Staff("other-site".parse().unwrap()),
        added_by: "test".into(),
        added_at: now,
    };
    stack.store.add_operator(&staff).await.unwrap();
    let token = new_token();
    let sess = DashboardSession { login, arn, csrf: new_token(), expires_at: now + 3600 };
    stack.store.create_dashboard_session(&token, &sess).await.unwrap();
    let mut s = Browser::new(&stack);
    s.cookies.insert("hs_session".into(), token);
    assert_eq!(s.get("/admin/vouchers").await.location.as_deref(), Some("/admin/vouchers/other-site"));
    assert_eq!(s.get(&path).await.status, 404);
    assert_eq!(s.post(&path, &[("csrf", &sess.csrf), ("package", "1h"), ("count", "5")]).await.status, 404);
    assert_eq!(s.get_file(&pdf_path).await.0, 404);
    assert_eq!(s.get(&batch_page).await.status, 404);
    let theirs = s.get(&format!("/admin/support?q={used}")).await;
    assert!(theirs.body.contains("No voucher") && !theirs.body.contains(&batch.batch_id), "{}", theirs.body);
    assert_eq!(stack.store.list_voucher_batches(&router).await.unwrap().len(), 1);
}

#[tokio::test]
async fn revenue_shows_the_reports_numbers_as_a_chart_and_csv() {
    let stack = stack().await;
    // A guest pays through the whole stack (KES 10); more money arrives in the store itself: a
    // 24-hour pass paid on another router, a payment of the wrong amount, one never confirmed.
    let journey = paid_guest(&stack).await;
    let now = hotspot_core::clock::now_unix();
    let packages = e2e::stack::packages();
    let mut made = Vec::new();
    for (n, router) in ["other-site", "cafe-westlands", "cafe-westlands"].iter().enumerate() {
        let p = stack
            .store
            .create_purchase(&NewPurchase {
                id: PurchaseId::derived_from(&format!("revenue purchase {n}")),
                router_id: router.parse().unwrap(),
                package: packages[if n == 0 { 1 } else { 0 }].clone(),
                mac: format!("DA:A1:19:00:07:0{n}").parse().unwrap(),
                ip: None,
                phone: "254799000222".parse().unwrap(),
                wallet: hotspot_core::wallet::Wallet::Mpesa,
                created_at: now - 60,
            })
            .await
            .unwrap();
        made.push(p.id);
    }
    let paid = Paid { receipt: "TKR0000001".into(), amount: packages[1].price(), paid_at: now - 30 };
    assert!(stack.store.mark_paid(&made[0], &paid).await.unwrap().applied());
    let short = hotspot_core::currency::Money::whole_units(hotspot_core::currency::Currency::Kes, 3).unwrap();
    assert!(stack.store.mark_amount_mismatch(&made[1], "TKR0000002", Some(short), now - 30).await.unwrap().applied());
    assert!(stack.store.mark_unknown(&made[2], None, now - 20).await.unwrap().applied());
    assert_eq!(stack.router.id.as_str(), "cafe-westlands", "the stack's router");

    let mut a = Browser::new(&stack);
    assert_eq!(a.sign_in(DASHBOARD_LOGIN, DASHBOARD_PASSWORD).await.status, 303);
    assert!(a.get("/admin").await.body.contains("href=\"/admin/revenue\""), "admins see the Revenue link");
    let today = Day::of(now, UtcOffset::NAIROBI);
    let page = a.get(&format!("/admin/revenue?from={today}&to={today}&by=router")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // KES 10 (the journey) + KES 50; the wrong amount and the unconfirmed are listed apart.
    assert!(page.body.contains("<strong>KES 60</strong> from 2 payment(s)"), "{}", page.body);
    assert!(page.body.contains("<svg") && page.body.contains("viewBox=\"0 0 320"), "{}", page.body);
    assert!(page.body.contains("1 payment(s) of the wrong amount") && page.body.contains("and 1 never confirmed"));

    // The CSV is the report's: the same function `hotspotctl report revenue` prints, over the
    // same read of the ledger index; and it adds up to the receipts this test made.
    let (status, ct, csv) = a.get_file(&format!("/admin/revenue?from={today}&to={today}&by=router&format=csv")).await;
    assert_eq!((status, ct.as_str()), (200, "text/csv; charset=utf-8"));
    let csv = String::from_utf8(csv).unwrap();
    let rows =
        stack.store.payments_between(today.start(UtcOffset::NAIROBI), today.end(UtcOffset::NAIROBI)).await.unwrap();
    let by = hotspot_cloud::revenue::GroupBy::Router;
    let report = hotspot_cloud::revenue::totals_csv(&hotspot_cloud::revenue::build(&rows, by, 3 * 3600), by);
    assert_eq!(csv, report);
    assert_eq!(csv, "router,currency,payments,amount\ncafe-westlands,KES,1,10\nother-site,KES,1,50\nTOTAL,KES,2,60\n");
    assert!(rows.iter().any(|r| r.id == journey));

    // By wallet: every purchase here was M-Pesa's, in shillings.
    let by_wallet = a.get(&format!("/admin/revenue?from={}&to={today}&by=wallet", today.add_days(-6))).await;
    assert!(by_wallet.body.contains("<tr><td>M-Pesa</td><td>2</td><td>KES 60</td></tr>"), "{}", by_wallet.body);

    // By day the chart has a column for each day of the range, zero days too.
    let week = a.get(&format!("/admin/revenue?from={}&to={today}", today.add_days(-6))).await;
    assert_eq!(week.body.matches("<rect").count(), 7, "{}", week.body);
    assert!(week.body.contains(&format!("<title>{today}: KES 60</title>")), "{}", week.body);

    // Nonsense is refused with the reason and shows no numbers; nothing typed runs.
    for (q, why) in [
        ("from=2026-02-30", "is not a date in the calendar"),
        ("from=2026-03-02&to=2026-03-01", "before it starts"),
        ("from=2020-01-01&to=2026-01-01", "at most 366 days"),
        ("by=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "group by day, router, package or wallet"),
    ] {
        let bad = a.get(&format!("/admin/revenue?{q}")).await;
        assert_eq!(bad.status, 400, "{q}");
        assert!(bad.body.contains(why) && !bad.body.contains("KES 60"), "{q}: {}", bad.body);
        assert!(!bad.body.contains("<script>"), "{q}: {}", bad.body);
    }
}

#[tokio::test]
async fn money_no_purchase_claims_is_credited_from_the_desk() {
    use hotspot_cloud::store::{ReceiptRecord, ReceiptSource};
    let stack = stack().await;
    let now = hotspot_core::clock::now_unix();
    // The guest paid KES 10; the reply that would have linked it to their purchase was lost.
    let key = "TLA1B2C3D4";
    let receipt = ReceiptRecord {
        key: key.into(),
        checkout_id: None,
        phone: Some("254712000999".parse().unwrap()),
        amount: Some(hotspot_core::currency::Money::whole_units(hotspot_core::currency::Currency::Kes, 10).unwrap()),
        at: now - 120,
        source: ReceiptSource::Callback,
        purchase_id: None,
        router_id: None,
        credited_by: None,
    };
    assert!(stack.store.record_receipt(&receipt).await.unwrap());
    let mut a = Browser::new(&stack);
    assert_eq!(a.sign_in(DASHBOARD_LOGIN, DASHBOARD_PASSWORD).await.status, 303);

    // The list of money no purchase claims has it, with the total.
    let list = a.get("/admin/receipts").await;
    assert!(list.body.contains(&format!("href=\"/admin/receipts/{key}\"")), "{}", list.body);
    assert!(list.body.contains("1 unmatched receipt(s), KES 10"), "{}", list.body);
    assert!(list.body.contains("2547****0999") && !list.body.contains("254712000999"), "{}", list.body);
    assert_eq!(a.get("/admin/receipts?from=2026-13-01").await.status, 400);

    // The desk's search by the receipt on the guest's SMS leads to it (typed in lower case too).
    let found = a.get(&format!("/admin/support?q={}", key.to_lowercase())).await;
    assert_eq!((found.status, found.location.as_deref()), (303, Some(format!("/admin/receipts/{key}").as_str())));
    let page = a.get(&format!("/admin/receipts/{key}")).await;
    assert!(page.body.contains("No purchase claims this money") && page.body.contains("KES 10"), "{}", page.body);
    assert!(page.body.contains("2547****0999") && !page.body.contains("254712000999"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let path = format!("/admin/receipts/{key}");
    let router = stack.router.id.to_string();

    // Bad forms and a package of another price change nothing.
    let users_before = stack.routeros.state().users.len();
    for (form, why) in [
        (vec![("router", router.as_str()), ("package", "1h"), ("mac", "not-a-mac")], "type the MAC of the device"),
        (vec![("router", "other-site"), ("package", "1h"), ("mac", "DA:A1:19:00:0C:01")], "Choose a router"),
        (
            vec![("router", router.as_str()), ("package", "24h"), ("mac", "DA:A1:19:00:0C:01")],
            "package 24h costs KES 50",
        ),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form);
        let bad = a.post(&path, &f).await;
        assert_eq!(bad.status, 409, "{why}: {}", bad.body);
        assert!(bad.body.contains(why) && bad.body.contains("nothing was changed"), "{why}: {}", bad.body);
    }
    assert_eq!(stack.store.get_receipt(key).await.unwrap().unwrap().purchase_id, None);

    // Credited: a purchase paid with the receipt, the grant on the router; again is the same one.
    let form = [("csrf", csrf.as_str()), ("router", router.as_str()), ("package", "1h"), ("mac", "DA:A1:19:00:0C:01")];
    let done = a.post(&path, &form).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains(&format!("Receipt {key} credited: grant sent to the router")), "{}", done.body);
    let id = hotspot_cloud::credit::purchase_for(key);
    assert_eq!(stack.store.get_receipt(key).await.unwrap().unwrap().purchase_id, Some(id.clone()));
    until("the credited grant is on the router", || stack.routeros.state().users.len() > users_before).await;
    let again = a.post(&path, &form).await;
    assert!(again.body.contains("the grant was already sent"), "{}", again.body);
    let receipt_page = a.get(&path).await;
    assert!(receipt_page.body.contains(&format!("/admin/purchases/{id}")), "{}", receipt_page.body);
    let list = a.get("/admin/receipts").await;
    assert!(
        list.body.contains("0 unmatched receipt(s)") && !list.body.contains(key),
        "credited: off the list {}",
        list.body
    );
    assert!(receipt_page.body.contains("credited by dashboard:admin"), "{}", receipt_page.body);
    let audit = stack.store.list_audit(now - 60, now + 60, Some("dashboard:admin")).await.unwrap();
    // Entries of one second are in no set order.
    let mut credits: Vec<&str> =
        audit.iter().filter(|e| e.action == "report ledger --credit").map(|e| e.result.as_str()).collect();
    credits.sort_unstable();
    assert_eq!(credits, ["ok", "ok", "refused"], "forms that do not parse are not audited; the refused price is");
}

#[tokio::test]
async fn packages_changed_on_the_dashboard_reach_the_routers_portal() {
    let stack = stack().await;
    let router = stack.router.id.clone();
    let guest = Guest::new(&stack);
    let portal = stack.guest_portal_url()[stack.portal_url.len()..].to_string();
    let mut a = Browser::new(&stack);
    assert_eq!(a.sign_in(DASHBOARD_LOGIN, DASHBOARD_PASSWORD).await.status, 303);
    assert!(a.get("/admin").await.body.contains("href=\"/admin/packages\""), "admins see the Packages link");
    let path = format!("/admin/packages/{router}");
    let page = a.get(&path).await;
    assert!(page.body.contains("1 hour") && page.body.contains("on sale"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");

    // Bad forms change nothing; a name someone typed is shown, never run.
    let before = stack.store.list_packages(&router).await.unwrap();
    for (form, why) in [
        (
            vec![
                ("id", "2h"),
                ("name", "2 hours"),
                ("price", "0"),
                ("validity", "2h"),
                ("rate_limit", "2M/5M"),
                ("devices", "1"),
            ],
            "price",
        ),
        (
            vec![
                ("id", "2h"),
                ("name", "2 hours"),
                ("price", "20"),
                ("validity", "forever"),
                ("rate_limit", "2M/5M"),
                ("devices", "1"),
            ],
            "validity",
        ),
        (
            vec![
                ("id", "<b>"),
                ("name", "x"),
                ("price", "20"),
                ("validity", "2h"),
                ("rate_limit", "2M/5M"),
                ("devices", "1"),
            ],
            "id",
        ),
        (
            vec![
                ("id", "1h"),
                ("name", "again"),
                ("price", "20"),
                ("validity", "2h"),
                ("rate_limit", "2M/5M"),
                ("devices", "1"),
            ],
            "already exists",
        ),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form);
        let bad = a.post(&path, &f).await;
        assert_eq!(bad.status, 409, "{why}: {}", bad.body);
        assert!(bad.body.contains(why) && bad.body.contains("nothing was changed"), "{why}: {}", bad.body);
    }
    assert_eq!(stack.store.list_packages(&router).await.unwrap(), before);

    // Added: the router's portal sells it within moments.
    let name = "2 hours <script>alert(1)</script>";
    let form = [
        ("csrf", csrf.as_str()),
        ("id", "2h"),
        ("name", name),
        ("price", "20"),
        ("validity", "2h"),
        ("rate_limit", "2M/5M"),
        ("devices", "1"),
    ];
    let added = a.post(&path, &form).await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(added.body.contains("Package 2h added; 4 package(s) on sale sent to the router."), "{}", added.body);
    assert!(added.body.contains("&lt;script&gt;") && !added.body.contains("<script>"), "{}", added.body);
    let on_portal = || async { guest.get(&portal).await.1 };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut front = on_portal().await;
    while !front.contains("2 hours &lt;script&gt;") {
        assert!(Instant::now() < deadline, "the new package never reached the portal: {front}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        front = on_portal().await;
    }
    assert!(!front.contains("<script>alert(1)"), "the portal escapes it too");
    // The fleet follows: the router's heartbeat says it sells four now.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !a.get("/admin").await.body.contains("4 on sale") {
        assert!(Instant::now() < deadline, "the fleet never showed the fourth package");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Edited and retired: the portal follows; retired packages stay listed here, and come back.
    let pkg = format!("{path}/2h");
    let edit = a.post(&pkg, &[("csrf", &csrf), ("do", "edit"), ("name", "Two hours"), ("price", "25")]).await;
    assert!(edit.body.contains("Package 2h changed"), "{}", edit.body);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !on_portal().await.contains("Two hours") {
        assert!(Instant::now() < deadline, "the edit never reached the portal");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time, speed, devices and limits too; a bad one changes nothing.
    let full = [
        ("csrf", csrf.as_str()),
        ("do", "edit"),
        ("validity", "3h"),
        ("rate_limit", "1M/3M"),
        ("devices", "2"),
        ("uptime_limit", "1h30m"),
        ("data_cap_mb", "500"),
    ];
    let edited = a.post(&pkg, &full).await;
    assert!(edited.body.contains("Package 2h changed"), "{}", edited.body);
    let p = stack.store.get_package(&router, &"2h".parse().unwrap()).await.unwrap().unwrap().package;
    assert_eq!(
        (p.validity().to_string(), p.rate_limit().to_string(), p.devices(), p.data_cap_bytes()),
        ("3h".to_string(), "1M/3M".to_string(), 2, Some(500_000_000))
    );
    assert_eq!(p.uptime_limit().map(|u| u.to_string()).as_deref(), Some("1h30m"));
    for (field, value) in [("validity", "soon"), ("devices", "0"), ("data_cap_mb", "lots"), ("uptime_limit", "x")] {
        let bad = a.post(&pkg, &[("csrf", &csrf), ("do", "edit"), (field, value)]).await;
        assert!(bad.status == 409 && bad.body.contains("nothing was changed"), "{field}: {}", bad.body);
    }
    assert_eq!(stack.store.get_package(&router, &"2h".parse().unwrap()).await.unwrap().unwrap().package, p);
    let cleared = a.post(&pkg, &[("csrf", &csrf), ("do", "edit"), ("uptime_limit", ""), ("data_cap_mb", "")]).await;
    assert!(cleared.body.contains("Package 2h changed"), "{}", cleared.body);
    let p = stack.store.get_package(&router, &"2h".parse().unwrap()).await.unwrap().unwrap().package;
    assert_eq!((p.uptime_limit(), p.data_cap_bytes()), (None, None));

    let same = a.post(&pkg, &[("csrf", &csrf), ("do", "edit"), ("name", "Two hours"), ("price", "25")]).await;
    assert!(same.status == 409 && same.body.contains("no change given"), "{}", same.body);
    let retired = a.post(&pkg, &[("csrf", &csrf), ("do", "retire")]).await;
    assert!(retired.body.contains("Package 2h retired") && retired.body.contains("retired"), "{}", retired.body);
    let deadline = Instant::now() + Duration::from_secs(30);
    while on_portal().await.contains("Two hours") {
        assert!(Instant::now() < deadline, "the retired package is still sold");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(a.post(&pkg, &[("csrf", &csrf), ("do", "retire")]).await.status, 409, "retired twice");
    let back = a.post(&pkg, &[("csrf", &csrf), ("do", "resume")]).await;
    assert!(back.body.contains("Package 2h is on sale again"), "{}", back.body);
    assert_eq!(a.get(&format!("{path}/nope")).await.status, 404);

    let now = hotspot_core::clock::now_unix();
    let audit = stack.store.list_audit(now - 120, now + 60, Some("dashboard:admin")).await.unwrap();
    let mut done: Vec<&str> =
        audit.iter().filter(|e| e.action.starts_with("package ")).map(|e| e.action.as_str()).collect();
    done.sort_unstable();
    assert_eq!(done, ["package add", "package edit", "package edit", "package edit", "package edit", "package retire"]);
}

#[tokio::test]
async fn operators_are_invited_given_roles_and_removed_on_the_dashboard() {
    let stack = stack().await;
    let router = stack.router.id.to_string();
    let mut a = Browser::new(&stack);
    assert_eq!(a.sign_in(DASHBOARD_LOGIN, DASHBOARD_PASSWORD).await.status, 303);
    assert!(a.get("/admin").await.body.contains("href=\"/admin/operators\""), "admins see the Operators link");
    let page = a.get("/admin/operators").await;
    assert!(page.body.contains("1 operator(s).") && page.body.contains("<small>(you)</small>"), "{}", page.body);
    let csrf = hidden(&page.body, "csrf");
    let before = stack.store.list_operators().await.unwrap();

    // Bad invites change nothing: no login, no operator.
    for (form, why) in [
        (vec![("login", "<script>"), ("role", "staff"), ("router", router.as_str())], "A login is 3-64 characters"),
        (vec![("login", "amina@cafe.ke"), ("role", "staff"), ("router", "")], "staff work at one router"),
        (vec![("login", "amina@cafe.ke"), ("role", "staff"), ("router", "nowhere")], "router nowhere not found"),
        (vec![("login", "amina@cafe.ke"), ("role", "root"), ("router", "")], "the role is admin, manager or staff"),
        (vec![("login", DASHBOARD_LOGIN), ("role", "manager"), ("router", "")], "is taken"),
    ] {
        let mut f = vec![("csrf", csrf.as_str()), ("do", "invite")];
        f.extend(form);
        let bad = a.post("/admin/operators", &f).await;
        assert_eq!(bad.status, 409, "{why}: {}", bad.body);
        assert!(bad.body.contains(why) && bad.body.contains("nothing was changed"), "{why}: {}", bad.body);
        assert!(!bad.body.contains("<script>"), "{}", bad.body);
    }
    assert_eq!(stack.store.list_operators().await.unwrap(), before);
    assert!(stack.store.get_login(&"amina@cafe.ke".parse().unwrap()).await.unwrap().is_none());

    // Invited as staff at the café: the page shows the one-time link, which sets her password.
    let form = [
        ("csrf", csrf.as_str()),
        ("do", "invite"),
        ("login", "Amina@Cafe.ke"),
        ("role", "staff"),
        ("router", router.as_str()),
    ];
    let invited = a.post("/admin/operators", &form).await;
    assert_eq!(invited.status, 200, "{}", invited.body);
    assert!(invited.body.contains(&format!("amina@cafe.ke invited as staff for {router}")), "{}", invited.body);
    let link = invited
        .body
        .split("value=\"")
        .find(|v| v.contains("/admin/invite?t="))
        .expect("the link")
        .split('"')
        .next()
        .unwrap();
    let token = link.split("t=").nth(1).unwrap().to_string();
    assert!(link.starts_with("http"), "an address to send: {link}");
    let mut m = Browser::new(&stack);
    let set_form = m.get(&format!("/admin/invite?t={token}")).await;
    assert_eq!(set_form.status, 200, "{}", set_form.body);
    let f_csrf = hidden(&set_form.body, "csrf");
    let pw = "amina's long password";
    let set = m.post("/admin/invite", &[("csrf", &f_csrf), ("t", &token), ("password", pw), ("again", pw)]).await;
    assert!(set.body.contains("Password set"), "{}", set.body);
    assert_eq!(m.sign_in("amina@cafe.ke", pw).await.status, 303);
    let fleet = m.get("/admin").await;
    assert!(!fleet.body.contains("/admin/revenue"), "staff: no takings {}", fleet.body);
    assert_eq!(m.get("/admin/revenue").await.status, 404);

    // Made manager: her next page has the takings; staff again at no router is refused.
    let arn = "dashboard:amina@cafe.ke";
    let list = a.get("/admin/operators").await;
    assert!(list.body.contains("amina@cafe.ke") && list.body.contains(&format!("staff for {router}")), "{}", list.body);
    let role = |role: &'static str, router: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("do", "role".into()),
            ("arn", arn.into()),
            ("role", role.into()),
            ("router", router.into()),
        ]
    };
    let promote = a.post("/admin/operators", &to_refs(&role("manager", ""))).await;
    assert!(
        promote.body.contains(&format!("amina@cafe.ke was staff for {router}, is now manager.")),
        "{}",
        promote.body
    );
    assert!(m.get("/admin").await.body.contains("/admin/revenue"), "the new role counts at once");
    let same = a.post("/admin/operators", &to_refs(&role("manager", ""))).await;
    assert!(same.status == 409 && same.body.contains("already is manager"), "{}", same.body);
    let bad = a.post("/admin/operators", &to_refs(&role("staff", ""))).await;
    assert!(bad.status == 409 && bad.body.contains("nothing was changed"), "{}", bad.body);
    assert_eq!(stack.store.get_operator(arn).await.unwrap().unwrap().access, ScopedRole::Manager);

    // A manager cannot manage operators; an admin cannot demote or remove themselves here.
    assert_eq!(m.get("/admin/operators").await.status, 404);
    let m_csrf = m.csrf().await;
    let coup = [
        ("csrf", m_csrf.as_str()),
        ("do", "role"),
        ("arn", "dashboard:admin"),
        ("role", "staff"),
        ("router", router.as_str()),
    ];
    assert_eq!(m.post("/admin/operators", &coup).await.status, 404);
    for act in ["role", "remove"] {
        let f = [("csrf", csrf.as_str()), ("do", act), ("arn", "dashboard:admin"), ("role", "manager"), ("router", "")];
        let me = a.post("/admin/operators", &f).await;
        assert!(me.status == 409 && me.body.contains("cannot change or remove yourself"), "{act}: {}", me.body);
    }
    assert_eq!(stack.store.get_operator("dashboard:admin").await.unwrap().unwrap().access, ScopedRole::Admin);

    // A lost link: a new one is issued, shown once.
    let again = a.post("/admin/operators", &[("csrf", csrf.as_str()), ("do", "link"), ("arn", arn)]).await;
    assert!(again.body.contains("A new link for amina@cafe.ke"), "{}", again.body);

    // Removed: her sign-in ends at her next request and the login is gone.
    let gone = a.post("/admin/operators", &[("csrf", csrf.as_str()), ("do", "remove"), ("arn", arn)]).await;
    assert!(gone.body.contains("amina@cafe.ke (manager) removed"), "{}", gone.body);
    assert_eq!(m.get("/admin").await.location.as_deref(), Some("/admin/login"));
    assert!(stack.store.get_login(&"amina@cafe.ke".parse().unwrap()).await.unwrap().is_none());
    assert_eq!(m.sign_in("amina@cafe.ke", pw).await.status, 401);
    let twice = a.post("/admin/operators", &[("csrf", csrf.as_str()), ("do", "remove"), ("arn", arn)]).await;
    assert!(twice.status == 409 && twice.body.contains("is not an operator"), "{}", twice.body);

    // Every change is audited with who made it; the invite link is in no entry.
    let now = hotspot_core::clock::now_unix();
    let audit = stack.store.list_audit(now - 300, now + 60, Some("dashboard:admin")).await.unwrap();
    let mut ok: Vec<&str> = audit
        .iter()
        .filter(|e| e.action.starts_with("operator ") && e.result == AuditResult::Ok)
        .map(|e| e.action.as_str())
        .collect();
    ok.sort_unstable();
    assert_eq!(ok, ["operator add", "operator add", "operator remove", "operator role"], "{audit:?}");
    assert!(audit.iter().all(|e| !e.detail.contains(&token) && !format!("{:?}", e.args).contains(&token)));
}

fn to_refs<'a>(f: &'a [(&'static str, String); 5]) -> Vec<(&'static str, &'a str)> {
    f.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Selling a subscriber account at the counter from the dashboard: the number and password are
/// shown on the answer, the account is put on the router, listed with the others, audited, and
/// its welcome SMS queued; a bad phone, an unknown package or service, or a forged form sells
/// nothing.
#[tokio::test]
async fn accounts_are_sold_and_listed_on_the_dashboard() {
    let stack = stack().await;
    let router = stack.router.id.clone();
    let mut a = Browser::new(&stack);
    assert_eq!(a.sign_in(DASHBOARD_LOGIN, DASHBOARD_PASSWORD).await.status, 303);
    let list = a.get("/admin/accounts").await;
    assert!(list.body.contains(&format!("href=\"/admin/accounts/{router}\"")), "{}", list.body);
    let path = format!("/admin/accounts/{router}");
    let page = a.get(&path).await;
    assert!(
        page.body.contains("<option value=\"24h\">24 hours") && page.body.contains("0 account(s)"),
        "{}",
        page.body
    );
    let csrf = hidden(&page.body, "csrf");

    for (form, why) in [
        ([("package", "24h"), ("service", "pppoe"), ("phone", "12")], "Phone"),
        ([("package", "nope"), ("service", "pppoe"), ("phone", "")], "sells no package"),
        ([("package", "24h"), ("service", "telnet"), ("phone", "")], "service must be"),
    ] {
        let mut f = vec![("csrf", csrf.as_str()), ("paid", "on")];
        f.extend(form);
        let r = a.post(&path, &f).await;
        assert_eq!(r.status, 409, "{form:?}: {}", r.body);
        assert!(r.body.contains(why) && r.body.contains("nothing was changed"), "{form:?}: {}", r.body);
    }
    for (service, endpoint, why) in
        [("wireguard", "bad host", "is not a host name"), ("pppoe", "vpn.cafe.example", "for WireGuard accounts")]
    {
        let f = [("csrf", csrf.as_str()), ("package", "24h"), ("service", service), ("endpoint", endpoint)];
        let r = a.post(&path, &f).await;
        assert!(r.status == 409 && r.body.contains(why), "{service} {endpoint}: {}", r.body);
    }
    let forged = [("csrf", "forged"), ("package", "24h"), ("service", "pppoe"), ("paid", "on")];
    assert_eq!(a.post(&path, &forged).await.status, 403);
    assert!(stack.store.router_accounts(&router).await.unwrap().is_empty(), "nothing sold");

    let sold = a
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("package", "24h"),
                ("service", "pppoe"),
                ("name", "Achieng <O.>"),
                ("phone", "0712 345 678"),
                ("paid", "on"),
            ],
        )
        .await;
    assert_eq!(sold.status, 201, "{}", sold.body);
    let accounts = stack.store.router_accounts(&router).await.unwrap();
    assert_eq!(accounts.len(), 1);
    let acc = &accounts[0];
    assert!(sold.body.contains(acc.number.as_str()) && sold.body.contains(&acc.password), "{}", sold.body);
    assert!(sold.body.contains("Achieng &lt;O.&gt;") && !sold.body.contains("Achieng <O.>"), "escaped: {}", sold.body);
    assert!(sold.body.contains("An SMS with these goes to 2547****5678"), "{}", sold.body);
    assert_eq!(acc.name.as_deref(), Some("Achieng <O.>"));
    until("the secret on the router", || stack.routeros.state().ppp_secret(acc.number.as_str()).is_some()).await;
    let listed = a.get(&path).await;
    assert!(
        listed.body.contains("1 account(s), 1 running") && listed.body.contains(acc.number.as_str()),
        "{}",
        listed.body
    );
    assert!(!listed.body.contains(&acc.password), "the password is shown once, at the sale");
    let audit = stack.store.list_audit(0, i64::MAX, None).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "account add" && e.args.get("account") == Some(&acc.number.to_string())));
}
