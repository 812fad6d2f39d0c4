//! The cloud portal (RADIUS mode) end to end, as a browser without JavaScript walks it: the
//! router's login page (our `login.html` rendered as RouterOS renders it) sends the guest to the
//! portal function through the gateway; they buy, the Daraja simulator's payment settles it, and
//! the waiting page sends the browser to the router's login page with the grant's credentials,
//! which the router checks with FreeRADIUS (the real server, our configuration), which asks the
//! radius function. Then what a hostile guest or link can try, and that it changes nothing.
//! (The same walk in headless Chromium, with JavaScript on and off: `tests/browser/radius.mjs`.)
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

use daraja_sim::Scenario;
use e2e::guest::{bin_dir, db_state};
use e2e::stack::{Options, RADIUS_ROUTER, Stack};
use hotspot_cloud::store::PurchaseState;
use hotspot_core::PurchaseId;

struct Browser {
    http: reqwest::Client,
}

struct Reply {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Browser {
    fn new() -> Browser {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { http }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("answers");
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        Reply { status, location, body: resp.text().await.unwrap_or_default() }
    }

    async fn get(&self, url: &str) -> Reply {
        self.send(self.http.get(url)).await
    }

    async fn post(&self, url: &str, form: &[(&str, &str)]) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        self.send(self.http.post(url).header("content-type", "application/x-www-form-urlencoded").body(body)).await
    }
}

/// An HTML attribute's value as the browser reads it.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The value of the hidden field `name` in `page`.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no field {name} in:\n{page}")) + marker.len();
    unescape(&page[start..start + page[start..].find('"').unwrap()])
}

/// Where the router's login page sends the guest (its meta refresh).
fn portal_link(login_page: &str) -> String {
    let start = login_page.find("url=").expect("a meta refresh") + 4;
    unescape(&login_page[start..start + login_page[start..].find('"').unwrap()])
}

async fn site() -> Stack {
    Stack::start(Options { radius_site: true, ..Options::local(bin_dir()) }).await.expect("the local stack starts")
}

/// The package page's form, filled in: its hidden fields and the guest's choices.
fn buy_form(page: &str, phone: &str) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> =
        ["csrf", "lang", "dst", "mac", "ip", "login"].iter().map(|n| (n.to_string(), hidden(page, n))).collect();
    f.push(("package".into(), "1h".into()));
    f.push(("phone".into(), phone.into()));
    f
}

fn pairs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn a_guest_of_a_radius_router_pays_on_the_cloud_portal_and_is_logged_in_by_the_router() {
    let stack = site().await;
    let site = stack.radius_site.as_ref().unwrap();
    let b = Browser::new();

    // 1. The router's login page sends the guest to the cloud portal with their device.
    let login = b.get(&site.hotspot.login_url()).await;
    assert_eq!(login.status, 200);
    let link = portal_link(&login.body);
    assert!(link.starts_with(&format!("{}/portal/{RADIUS_ROUTER}/?", stack.gateway_url)), "{link}");
    let start = b.get(&link).await;
    assert_eq!(start.status, 200, "{}", start.body);
    assert!(start.body.contains("Welcome to Cafe Kilimani") && start.body.contains("1 hour"), "{}", start.body);
    assert_eq!(hidden(&start.body, "mac"), stack.options.guest_mac.to_string());
    assert_eq!(hidden(&start.body, "login"), site.hotspot.login_url());
    assert_eq!(hidden(&start.body, "dst"), site.hotspot.wanted_url());
    assert!(start.body.contains(&format!("action=\"/portal/{RADIUS_ROUTER}/buy\"")));
    // The agent's two languages: the toggle leads to the same page in Swahili, context kept.
    let toggle = unescape(start.body.split("class=\"lang\" href=\"").nth(1).unwrap().split('"').next().unwrap());
    let sw = b.get(&format!("{}{toggle}", stack.gateway_url)).await;
    assert!(sw.body.contains("<html lang=\"sw\">") && sw.body.contains("Cafe Kilimani"), "{}", sw.body);
    assert_eq!(hidden(&sw.body, "login"), site.hotspot.login_url());

    // 2. Pay: the STK push goes out and the browser is sent to the waiting page.
    stack.daraja.push_scenario(Scenario::await_phone());
    let form = buy_form(&start.body, "0712 345 678");
    let bought = b.post(&format!("{}/portal/{RADIUS_ROUTER}/buy", stack.gateway_url), &pairs(&form)).await;
    assert_eq!(bought.status, 303, "{}", bought.body);
    let wait = format!("{}{}", stack.gateway_url, bought.location.unwrap());
    assert!(wait.contains(&format!("/portal/{RADIUS_ROUTER}/wait/p")), "{wait}");
    let id: PurchaseId = wait.split("/wait/").nth(1).unwrap().split('?').next().unwrap().parse().unwrap();
    let pushes = stack.daraja.pushes();
    assert_eq!(pushes.len(), 1);
    let waiting = b.get(&wait).await;
    assert_eq!(waiting.status, 200);
    assert!(waiting.body.contains("Check your phone") && waiting.body.contains("http-equiv=\"refresh\""));
    let status = b.get(&format!("{}/portal/{RADIUS_ROUTER}/api/status/{id}", stack.gateway_url)).await;
    assert!(status.body.contains("\"state\":\"awaiting_payment\""), "{}", status.body);

    // Before payment the router's RADIUS refuses the purchase as a login, whatever the password.
    let early = b.get(&format!("{}?username={id}&password=guess", site.hotspot.login_url())).await;
    // Refused: the login page again, which leads back to the portal with the router's reason.
    let back = portal_link(&early.body);
    assert!(back.starts_with(&format!("{}/portal/{RADIUS_ROUTER}/?", stack.gateway_url)), "{back}");
    let again = b.get(&back).await;
    assert!(again.body.contains("The WiFi did not let you on: invalid username or password"), "{}", again.body);
    let attempts = site.hotspot.attempts();
    assert_eq!(attempts.last().map(|a| (a.user.as_str(), a.accepted)), Some((id.as_str(), false)), "{attempts:?}");

    // 3. The guest approves; the waiting page now sends the browser to the router's login page.
    assert!(stack.daraja.answer(&pushes[0].checkout_request_id, daraja_sim::Answer::Pay));
    db_state(&stack, &id, PurchaseState::Paid).await;
    let status = b.get(&format!("{}/portal/{RADIUS_ROUTER}/api/status/{id}", stack.gateway_url)).await;
    assert!(status.body.contains("\"state\":\"ready\""), "{}", status.body);
    assert!(
        !status.body.contains(&hotspot_cloud::radius::password(&site.router.key, &id)),
        "no credentials in the poll"
    );
    let paid = b.get(&wait).await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    let to_router = paid.location.unwrap();
    let password = hotspot_cloud::radius::password(&site.router.key, &id);
    assert!(to_router.starts_with(&format!("{}?username={id}&password={password}&dst=", site.hotspot.login_url())));

    // 4. The router asks RADIUS, which accepts: the guest is online and goes on where they were going.
    let online = b.get(&to_router).await;
    assert_eq!(online.status, 200);
    assert!(online.body.contains("You are online"), "{}", online.body);
    assert!(online.body.contains(&hotspot_html::url_escape_strict(&site.hotspot.wanted_url())));
    let attempts = site.hotspot.attempts();
    assert_eq!(attempts.last().map(|a| (a.user.as_str(), a.accepted)), Some((id.as_str(), true)), "{attempts:?}");
    assert_eq!(stack.daraja.pushes().len(), 1, "one payment prompt in all");

    // The receipt SMS offers no re-login code: only an agent takes one; here devices log in by MAC.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let sms = loop {
        if let Some(m) = stack.sms.messages().into_iter().find(|m| m.to == "+254712345678") {
            break m;
        }
        assert!(std::time::Instant::now() < deadline, "no SMS receipt");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(
        sms.message.starts_with("WiFi paid: KES 10 for 1 hour.") && !sms.message.contains("code"),
        "{}",
        sms.message
    );
}

#[tokio::test]
async fn hostile_links_and_forms_are_refused_and_change_nothing() {
    let stack = site().await;
    let site = stack.radius_site.as_ref().unwrap();
    let b = Browser::new();
    let gw = &stack.gateway_url;
    let link = portal_link(&b.get(&site.hotspot.login_url()).await.body);
    let start = b.get(&link).await.body;
    let form = buy_form(&start, "0712 345 678");
    let buy = format!("{gw}/portal/{RADIUS_ROUTER}/buy");
    let with = |name: &str, value: &str| {
        let mut f = form.clone();
        f.iter_mut().filter(|(k, _)| k == name).for_each(|(_, v)| *v = value.to_string());
        f
    };

    // A portal link (or form) naming a login page that is not a hotspot's: the grant's
    // credentials would go there. Refused before anything is sold.
    let evil = link
        .replace(&hotspot_html::url_escape_strict(&site.hotspot.login_url()), "http%3A%2F%2Fevil.example.com%2Flogin");
    assert_ne!(evil, link);
    let r = b.get(&evil).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("Device not recognised"));
    let r = b.post(&buy, &pairs(&with("login", "https://evil.example.com/login"))).await;
    assert_eq!(r.status, 400);
    // The router's reason for a refused login is shown as text, never as markup.
    assert!(link.ends_with("&error="), "login.html passes the router's (empty) reason: {link}");
    let r = b.get(&link.replace("&error=", "&error=%3Cscript%3Ealert(1)%3C%2Fscript%3E")).await;
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("<script>") && r.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{}", r.body);
    // No CSRF token, another device's token, a forged one: refused.
    for f in [with("csrf", ""), with("mac", "DA:A1:19:3C:5E:99"), with("csrf", "1.00")] {
        let r = b.post(&buy, &pairs(&f)).await;
        assert_eq!(r.status, 403, "{}", r.body);
    }
    // A bad number, an unknown package: the form again with the reason.
    let r = b.post(&buy, &pairs(&with("phone", "12"))).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("class=\"err\""), "{}", r.body);
    let r = b.post(&buy, &pairs(&with("package", "<script>"))).await;
    assert_eq!(r.status, 400);
    assert!(!r.body.contains("<script>") && r.body.contains("class=\"err\""), "{}", r.body);
    // Junk and oversized bodies.
    let r = b.post(&buy, &[("x", &"y".repeat(20_000))]).await;
    assert_eq!(r.status, 413);
    let r = b.send(b.http.post(&buy).body(vec![0xff, 0xfe, b'%', b'%'])).await;
    assert_eq!(r.status, 400);
    // Not a RADIUS-mode router (the agent's router serves its own portal), no such router.
    for path in [format!("/portal/{}?{}", stack.router.id, link.split_once('?').unwrap().1), "/portal/nope".into()] {
        assert_eq!(b.get(&format!("{gw}{path}")).await.status, 404, "{path}");
    }
    assert!(stack.daraja.pushes().is_empty(), "no payment prompt for any of it");
    let purchases = stack.store.purchases_by_mac(&stack.options.guest_mac, 10).await.unwrap();
    assert!(purchases.is_empty(), "no purchase recorded: {purchases:?}");

    // A real purchase's waiting page opened for another device: nothing to see.
    stack.daraja.push_scenario(Scenario::paid());
    let r = b.post(&buy, &pairs(&form)).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let wait = r.location.unwrap();
    let other = wait
        .replace(&hotspot_html::url_escape_strict(&stack.options.guest_mac.to_string()), "DA%3AA1%3A19%3A3C%3A5E%3A99");
    assert_ne!(other, wait);
    let id: PurchaseId = wait.split("/wait/").nth(1).unwrap().split('?').next().unwrap().parse().unwrap();
    db_state(&stack, &id, PurchaseState::Paid).await;
    let r = b.get(&format!("{gw}{other}")).await;
    assert_eq!((r.status, r.location), (404, None));
    let r = b.get(&format!("{gw}{wait}")).await;
    assert_eq!(r.status, 303, "the buyer's own device is sent on");

    // Vouchers: a malformed code is shown again with the reason; a well-formed one goes to the
    // router's login page as the user, for RADIUS to decide (nothing looked up here).
    let voucher = format!("{gw}/portal/{RADIUS_ROUTER}/voucher");
    let mut vf = form.clone();
    vf.push(("code".into(), "not a code!".into()));
    let r = b.post(&voucher, &pairs(&vf)).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("class=\"err\""));
    let mut vf = form.clone();
    vf.push(("code".into(), "abcd-2345".into()));
    let r = b.post(&voucher, &pairs(&vf)).await;
    assert_eq!(r.status, 303);
    assert!(
        r.location.unwrap().starts_with(&format!("{}?username=ABCD2345&password=ABCD2345", site.hotspot.login_url()))
    );
}
