//! The portal over real HTTP, against a fake backend whose host table maps 127.0.0.1 (and
//! 127.0.0.2, for a second client) to MACs.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hotspot_agent::portal::{
    Guest, IdentifyError, PortalBackend, PortalConfig, PurchaseProgress, PurchaseStartError, PurchaseStarted,
    RateLimitConfig, StatusError, VoucherLoginError, serve,
};
use hotspot_core::phone::{Country, PhoneNumber};
use hotspot_core::wallet::{Offered, Wallet};
use hotspot_core::wire::PaymentFailure;
use hotspot_core::{MacAddr, Package, PackageId, PurchaseId, VoucherCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

const GUEST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const OTHER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const GUEST_MAC: &str = "DA:A1:19:00:00:01";
const OTHER_MAC: &str = "DA:A1:19:00:00:02";
const PURCHASE: &str = "p0123456789abcdef01234567";
const GOOD_VOUCHER: &str = "ABCD2345";
const XSS: &str = "\"'><script>alert(1)</script>";

const FAILURES: [PaymentFailure; 10] = [
    PaymentFailure::Cancelled,
    PaymentFailure::InsufficientFunds,
    PaymentFailure::PhoneUnreachable,
    PaymentFailure::WrongPin,
    PaymentFailure::Expired,
    PaymentFailure::PromptFailed,
    PaymentFailure::TooSoon,
    PaymentFailure::AmountMismatch,
    PaymentFailure::Unknown,
    PaymentFailure::Other,
];

fn package(id: &str, name: &str, price: u32, validity: &str, rate: &str) -> Package {
    serde_json::from_value(serde_json::json!({
        "id": id, "name": name, "price": price, "validity": validity, "rate_limit": rate, "devices": 1,
        "data_cap_bytes": 2_000_000_000u64,
    }))
    .unwrap()
}

struct Fake {
    hosts: HashMap<Ipv4Addr, MacAddr>,
    packages: Mutex<Vec<Package>>,
    calls: Mutex<Vec<String>>,
    progress: Mutex<Result<PurchaseProgress, StatusError>>,
    start: Mutex<Result<PurchaseStarted, PurchaseStartError>>,
    /// Makes `identify` never answer, like a router that stopped responding.
    hang: AtomicBool,
    wallets: Mutex<Offered>,
    country: Mutex<Country>,
}

impl Fake {
    fn new() -> Arc<Fake> {
        let hosts = HashMap::from([(GUEST, GUEST_MAC.parse().unwrap()), (OTHER, OTHER_MAC.parse().unwrap())]);
        Self::with_hosts(hosts)
    }

    fn with_hosts(hosts: HashMap<Ipv4Addr, MacAddr>) -> Arc<Fake> {
        Arc::new(Fake {
            hosts,
            packages: Mutex::new(vec![
                package("1h", "1 Hour", 50, "1h", "2M/5M"),
                package("24h", "All Day", 1000, "1d", "2M/10M"),
            ]),
            calls: Mutex::new(Vec::new()),
            progress: Mutex::new(Ok(PurchaseProgress::AwaitingPayment)),
            start: Mutex::new(Ok(PurchaseStarted {
                purchase_id: PURCHASE.parse().unwrap(),
                message: "Success. Request accepted for processing".into(),
            })),
            hang: AtomicBool::new(false),
            wallets: Mutex::new(Offered::default()),
            country: Mutex::new(Country::Kenya),
        })
    }

    fn record(&self, s: String) {
        self.calls.lock().unwrap().push(s);
    }

    /// Calls other than look-ups (identify, packages): the ones that could change something.
    fn actions(&self) -> Vec<String> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.starts_with("start") || c.starts_with("voucher"))
            .cloned()
            .collect()
    }

    fn set_progress(&self, p: Result<PurchaseProgress, StatusError>) {
        *self.progress.lock().unwrap() = p;
    }
}

impl PortalBackend for Fake {
    async fn packages(&self) -> Arc<Vec<Package>> {
        self.record("packages".into());
        Arc::new(self.packages.lock().unwrap().clone())
    }

    async fn identify(&self, ip: Ipv4Addr) -> Result<MacAddr, IdentifyError> {
        self.record(format!("identify:{ip}"));
        if self.hang.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        self.hosts.get(&ip).copied().ok_or(IdentifyError::NotAHost)
    }

    async fn wallets(&self) -> Offered {
        self.wallets.lock().unwrap().clone()
    }

    async fn country(&self) -> Country {
        *self.country.lock().unwrap()
    }

    async fn start_purchase(
        &self,
        guest: Guest,
        package: &PackageId,
        phone: &PhoneNumber,
        wallet: Wallet,
    ) -> Result<PurchaseStarted, PurchaseStartError> {
        // M-Pesa unnamed, as before the choice.
        let w = if wallet == Wallet::Mpesa { String::new() } else { format!(":{}", wallet.as_str()) };
        self.record(format!("start:{}:{}:{}{w}", guest.mac, package, phone.e164()));
        self.start.lock().unwrap().clone()
    }

    async fn purchase_progress(&self, guest: Guest, id: &PurchaseId) -> Result<PurchaseProgress, StatusError> {
        self.record(format!("progress:{}:{id}", guest.mac));
        if id.as_str() != PURCHASE || guest.mac.to_string() != GUEST_MAC {
            return Err(StatusError::NotFound);
        }
        self.progress.lock().unwrap().clone()
    }

    async fn voucher_login(&self, guest: Guest, code: &VoucherCode) -> Result<(), VoucherLoginError> {
        self.record(format!("voucher:{}:{}", guest.mac, code.as_str()));
        if code.as_str() == GOOD_VOUCHER { Ok(()) } else { Err(VoucherLoginError::Invalid) }
    }
}

struct Portal {
    addr: SocketAddr,
    backend: Arc<Fake>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Portal {
    async fn start(backend: Arc<Fake>, cfg: PortalConfig) -> Portal {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, backend.clone(), cfg, async move {
            let _ = rx.await;
        }));
        Portal { addr, backend, stop: Some(tx), task }
    }

    async fn with_defaults() -> Portal {
        Portal::start(Fake::new(), PortalConfig::default()).await
    }

    async fn raw_from(&self, src: Ipv4Addr, req: &[u8]) -> Vec<u8> {
        let sock = TcpSocket::new_v4().unwrap();
        sock.bind(SocketAddr::new(src.into(), 0)).unwrap();
        let mut s = sock.connect(self.addr).await.unwrap();
        s.write_all(req).await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        out
    }

    async fn request_from(
        &self,
        src: Ipv4Addr,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if method == "POST" {
            req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        Reply::parse(&self.raw_from(src, req.as_bytes()).await)
    }

    async fn get(&self, target: &str) -> Reply {
        self.request_from(GUEST, "GET", target, &[], "").await
    }

    async fn post(&self, target: &str, body: &str) -> Reply {
        self.request_from(GUEST, "POST", target, &[], body).await
    }

    /// A valid CSRF token for `src`, read from the packages page as a browser would.
    async fn csrf_for(&self, src: Ipv4Addr) -> String {
        let r = self.request_from(src, "GET", "/", &[], "").await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.csrf()
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        // A hang guard, not a timing assertion.
        tokio::time::timeout(Duration::from_secs(60), self.task).await.expect("serve returned").unwrap();
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn parse(raw: &[u8]) -> Reply {
        let text = String::from_utf8_lossy(raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no response head in {text:?}"));
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Reply { status, headers, body: body.to_string() }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn csrf(&self) -> String {
        let start = self.body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
        let end = self.body[start..].find('"').unwrap();
        self.body[start..start + end].to_string()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The URL a meta refresh would follow, if any.
    fn refresh_target(&self) -> Option<&str> {
        let i = self.body.find("http-equiv=\"refresh\"")?;
        let rest = &self.body[i..];
        let c = rest.find("content=\"")? + 9;
        let content = &rest[c..c + rest[c..].find('"')?];
        content.split_once("url=").map(|(_, u)| u)
    }
}

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

fn assert_security_headers(r: &Reply) {
    let csp = r.header("content-security-policy").expect("CSP");
    for part in [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "script-src 'unsafe-inline'",
        "img-src data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn packages_page_lists_prices_in_both_languages() {
    let p = Portal::with_defaults().await;
    let target = format!(
        "/?mac={}&ip=127.0.0.1&dst={}&login={}&identity=Cafe+Java",
        enc(GUEST_MAC),
        enc("http://example.com/news"),
        enc("http://10.5.50.1/login")
    );
    let r = p.get(&target).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_security_headers(&r);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    for s in [
        "Welcome to Cafe Java",
        "1 Hour",
        "KES 50",
        "All Day",
        "KES 1,000",
        "Valid for 1 day",
        "Speed up to 10 Mbps",
        "Data 2 GB",
        "action=\"/buy\"",
        "name=\"phone\"",
        "action=\"/voucher\"",
        "name=\"code\"",
        "name=\"dst\" value=\"http://example.com/news\"",
        ">Kiswahili</a>",
    ] {
        assert!(r.body.contains(s), "missing {s:?} in {}", r.body);
    }
    assert!(!r.csrf().is_empty());

    let sw = p.get("/?lang=sw").await;
    assert!(
        sw.body.contains("Chagua kifurushi") && sw.body.contains("Lipa kwa M-Pesa") && sw.body.contains("Muda siku 1")
    );
    assert!(sw.body.contains("lang=\"sw\"") && sw.body.contains(">English</a>"));
    let sw = p.request_from(GUEST, "GET", "/", &[("Accept-Language", "sw-KE,sw;q=0.9,en;q=0.5")], "").await;
    assert!(sw.body.contains("Una vocha?"), "{}", sw.body);
    let en = p.request_from(GUEST, "GET", "/?lang=en", &[("Accept-Language", "sw")], "").await;
    assert!(en.body.contains("Have a voucher?"));
    p.stop().await;
}

#[tokio::test]
async fn purchase_goes_to_wait_and_through_every_state() {
    let p = Portal::with_defaults().await;
    let csrf = p.csrf_for(GUEST).await;
    let dst = "http://example.com/a?b=1&c=2";
    let r = p
        .post(
            "/buy",
            &form(&[("package", "24h"), ("phone", "0712 345 678"), ("csrf", &csrf), ("dst", dst), ("lang", "en")]),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let loc = r.header("location").unwrap().to_string();
    assert_eq!(loc, format!("/wait/{PURCHASE}?lang=en&dst={}", enc(dst).replace("%2E", ".")));
    assert_eq!(p.backend.actions(), vec![format!("start:{GUEST_MAC}:24h:254712345678")]);

    let status_url = format!("/api/status/{PURCHASE}?lang=en");
    let cases = [
        (PurchaseProgress::AwaitingPayment, "awaiting_payment", "Check your phone"),
        (PurchaseProgress::Connecting, "connecting", "Payment received"),
    ];
    for (progress, state, title) in cases {
        p.backend.set_progress(Ok(progress));
        let w = p.get(&loc).await;
        assert_eq!(w.status, 200);
        assert_security_headers(&w);
        assert!(w.body.contains(title), "{}", w.body);
        assert!(w.body.contains("<meta http-equiv=\"refresh\" content=\"3\">"), "no-JS refresh");
        assert!(w.body.contains("<script>") && w.body.contains("/api/status/"));
        assert!(w.body.contains(&format!("data-id=\"{PURCHASE}\"")));
        assert!(w.body.contains("data-dst=\"http://example.com/a?b=1&amp;c=2\""));
        assert_eq!(w.refresh_target(), None, "still waiting: no forwarding");
        let j = p.get(&status_url).await;
        assert_eq!(j.status, 200);
        assert_eq!(j.header("content-type"), Some("application/json"));
        assert_eq!(j.json()["state"], state);
        assert_eq!(j.json()["title"], title);
    }

    let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + 86_400;
    for (progress, state, title) in [
        (PurchaseProgress::Ready { expires_at: later }, "ready", "You are ready"),
        (PurchaseProgress::Online { expires_at: later }, "online", "You are online"),
    ] {
        p.backend.set_progress(Ok(progress));
        let w = p.get(&loc).await;
        assert_eq!(w.status, 200);
        assert!(w.body.contains(title), "{}", w.body);
        assert_eq!(w.refresh_target(), Some("http://example.com/a?b=1&amp;c=2"));
        assert!(w.body.contains("href=\"http://example.com/a?b=1&amp;c=2\""));
        assert!(w.body.contains("Time left: 23 hours") || w.body.contains("Time left: 1 day"), "{}", w.body);
        assert_eq!(p.get(&status_url).await.json()["state"], state);
    }

    // Without a destination, success is a neutral page that forwards nowhere.
    let w = p.get(&format!("/wait/{PURCHASE}")).await;
    assert!(w.body.contains("You are online") && w.refresh_target().is_none());

    // A purchase of another device (or an unknown one) is not found, for the page and the API.
    let other = p.request_from(OTHER, "GET", &format!("/wait/{PURCHASE}"), &[], "").await;
    assert_eq!(other.status, 404);
    let j = p.request_from(OTHER, "GET", &format!("/api/status/{PURCHASE}"), &[], "").await;
    assert_eq!((j.status, j.json()["state"].as_str()), (404, Some("not_found")));
    assert_eq!(p.get("/wait/p999").await.status, 404);
    assert_eq!(p.get("/api/status/nope").await.json()["state"], "not_found");

    p.backend.set_progress(Err(StatusError::Unavailable));
    let w = p.get(&loc).await;
    assert_eq!(w.status, 503);
    assert!(w.body.contains("content=\"3\""), "keeps refreshing while the status is unavailable");
    p.stop().await;
}

#[tokio::test]
async fn failure_reasons_in_english_and_swahili() {
    let p = Portal::start(Fake::new(), generous()).await;
    for f in FAILURES {
        p.backend.set_progress(Ok(PurchaseProgress::Failed(f)));
        let en = p.get(&format!("/wait/{PURCHASE}?lang=en&dst=http%3A%2F%2Fexample.com%2F")).await;
        assert_eq!(en.status, 200);
        assert!(en.body.contains("Payment not completed"));
        assert!(en.body.contains(f.guest_message()), "{f:?}: {}", en.body);
        assert!(en.body.contains("href=\"/?lang=en&amp;dst=http%3A%2F%2Fexample.com%2F\""), "try again link");
        assert!(en.body.contains(">Try again<"));
        assert_eq!(en.refresh_target(), None);
        let j = p.get(&format!("/api/status/{PURCHASE}?lang=en")).await.json();
        assert_eq!((j["state"].as_str(), j["message"].as_str()), (Some("failed"), Some(f.guest_message())));

        let sw = p.get(&format!("/wait/{PURCHASE}?lang=sw")).await;
        assert!(sw.body.contains("Malipo hayakukamilika") && sw.body.contains(">Jaribu tena<"));
        assert!(!sw.body.contains(f.guest_message()), "{f:?} is translated");
        let j = p.get(&format!("/api/status/{PURCHASE}?lang=sw")).await.json();
        let msg = j["message"].as_str().unwrap().to_string();
        assert!(sw.body.contains(&msg) && msg != f.guest_message());
    }
    let sw = {
        p.backend.set_progress(Ok(PurchaseProgress::Failed(PaymentFailure::InsufficientFunds)));
        p.get(&format!("/wait/{PURCHASE}?lang=sw")).await
    };
    assert!(sw.body.contains("Salio lako la M-Pesa halikutosha."));
    p.stop().await;
}

#[tokio::test]
async fn bad_phone_and_cloud_errors_show_clear_messages() {
    let p = Portal::with_defaults().await;
    let csrf = p.csrf_for(GUEST).await;
    let r = p.post("/buy", &form(&[("package", "1h"), ("phone", "0812345678"), ("csrf", &csrf)])).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Not a mobile number in Kenya."), "{}", r.body);
    assert!(r.body.contains("value=\"0812345678\"") && r.body.contains("value=\"1h\" checked"));
    let r = p.post("/buy", &form(&[("package", "1h"), ("phone", "07123"), ("csrf", &csrf), ("lang", "sw")])).await;
    assert!(r.body.contains("Nambari za Kenya zina tarakimu 9 baada ya 0"), "{}", r.body);
    let r = p.post("/buy", &form(&[("phone", "0712345678"), ("csrf", &csrf)])).await;
    assert!(r.status == 400 && r.body.contains("Choose a package first."));
    assert!(p.backend.actions().is_empty(), "no purchase for a bad form");

    *p.backend.start.lock().unwrap() = Err(PurchaseStartError::RateLimited { retry_after_secs: 90 });
    let r = p.post("/buy", &form(&[("package", "1h"), ("phone", "0712345678"), ("csrf", &csrf)])).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("90"));
    assert!(r.body.contains("Try again in 1 minute 30 seconds."), "{}", r.body);

    *p.backend.start.lock().unwrap() = Err(PurchaseStartError::CloudUnavailable);
    let r = p.post("/buy", &form(&[("package", "1h"), ("phone", "0712345678"), ("csrf", &csrf), ("lang", "sw")])).await;
    assert_eq!(r.status, 503);
    assert!(r.body.contains("Malipo ya M-Pesa hayapatikani") && r.body.contains("action=\"/voucher\""));

    *p.backend.start.lock().unwrap() = Err(PurchaseStartError::NoSuchPackage);
    let r = p.post("/buy", &form(&[("package", "99h"), ("phone", "0712345678"), ("csrf", &csrf)])).await;
    assert!(r.status == 400 && r.body.contains("That package is not on sale"));
    let r = p.post("/buy", &form(&[("package", "Bad Id!"), ("phone", "0712345678"), ("csrf", &csrf)])).await;
    assert!(r.status == 400 && r.body.contains("That package is not on sale"));
    p.stop().await;
}

#[tokio::test]
async fn spoofed_hints_are_refused_and_nothing_offered() {
    let p = Portal::with_defaults().await;
    for q in [
        format!("/?mac={}", enc(OTHER_MAC)),
        "/?mac=not-a-mac".to_string(),
        "/?mac=FF%3AFF%3AFF%3AFF%3AFF%3AFF".to_string(),
        format!("/?mac={}&ip=127.0.0.2", enc(GUEST_MAC)),
        "/?ip=10.5.50.9".to_string(),
        "/?ip=banana".to_string(),
    ] {
        let r = p.get(&q).await;
        assert_eq!(r.status, 403, "{q}");
        assert!(r.body.contains("Device not recognised") && r.body.contains("spoofed MAC"), "{q}");
        assert!(!r.body.contains("action=\"/buy\"") && !r.body.contains("KES"), "nothing offered for {q}");
    }
    // Hints that agree (any accepted spelling) are fine.
    let r = p.get("/?mac=da-a1-19-00-00-01&ip=127.0.0.1").await;
    assert_eq!(r.status, 200);
    let sw = p.get(&format!("/?mac={}&lang=sw", enc(OTHER_MAC))).await;
    assert!(sw.body.contains("Kifaa hakitambuliwi"));
    p.stop().await;
}

#[tokio::test]
async fn ip_not_in_host_table_is_refused() {
    let backend = Fake::with_hosts(HashMap::from([(OTHER, OTHER_MAC.parse().unwrap())]));
    let p = Portal::start(backend, PortalConfig::default()).await;
    let r = p.get("/").await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("not connected to the hotspot"), "{}", r.body);
    assert!(!r.body.contains("action=\"/buy\""));
    assert_eq!(p.get(&format!("/wait/{PURCHASE}")).await.status, 403);
    assert_eq!(p.get(&format!("/api/status/{PURCHASE}")).await.json()["state"], "not_a_host");
    // Nor can it use a token issued to a device that is a guest.
    let token = {
        let other = p.csrf_for(OTHER).await;
        assert!(!other.is_empty());
        other
    };
    let r = p.post("/voucher", &form(&[("code", GOOD_VOUCHER), ("csrf", &token)])).await;
    assert_eq!(r.status, 403);
    assert!(p.backend.actions().is_empty());
    p.stop().await;
}

const HOSTILE_DST: &[&str] = &[
    "javascript:alert(1)",
    "JAVASCRIPT:alert(document.cookie)",
    " javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "//evil.test/",
    "/\\evil.test",
    "\\\\evil.test",
    "http:\\\\evil.test",
    "https:/\\evil.test",
    "http:///evil.test",
    "http://good.test@evil.test/",
    "http://evil.test/\r\nSet-Cookie: a=b",
    "http://evil.test/\u{0}",
    "http://evil.test/\"><script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "ftp://evil.test/",
    "/local/path",
];

#[tokio::test]
async fn open_redirect_attempts_never_reach_location_or_refresh() {
    let p = Portal::start(Fake::new(), generous()).await;
    let long = format!("http://evil.test/{}", "a".repeat(3000));
    let mut hostile: Vec<&str> = HOSTILE_DST.to_vec();
    hostile.push(&long);
    let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + 3600;
    p.backend.set_progress(Ok(PurchaseProgress::Online { expires_at: later }));
    for dst in hostile {
        let csrf = p.csrf_for(GUEST).await;
        let page = p.get(&format!("/?dst={}", enc(dst))).await;
        assert_eq!(page.status, 200, "{dst:?}");
        assert!(!page.body.contains("name=\"dst\""), "{dst:?} kept as a destination");

        let r =
            p.post("/buy", &form(&[("package", "1h"), ("phone", "0712345678"), ("csrf", &csrf), ("dst", dst)])).await;
        assert_eq!(r.status, 303);
        let loc = r.header("location").unwrap();
        assert_eq!(loc, format!("/wait/{PURCHASE}?lang=en"), "{dst:?}");

        for target in [format!("/wait/{PURCHASE}?dst={}", enc(dst)), format!("/api/status/{PURCHASE}?dst={}", enc(dst))]
        {
            let w = p.get(&target).await;
            assert_eq!(w.refresh_target(), None, "{dst:?}");
            assert!(w.header("location").is_none());
            assert!(!w.body.contains("evil.test") && !w.body.contains("data-dst") && !w.body.contains(">Continue<"));
            assert!(!w.body.to_ascii_lowercase().contains("javascript:alert"));
        }

        let v = p.post("/voucher", &form(&[("code", GOOD_VOUCHER), ("csrf", &csrf), ("dst", dst)])).await;
        assert_eq!(v.status, 200, "{}", v.body);
        assert!(v.body.contains("Voucher accepted"));
        assert_eq!(v.refresh_target(), None, "{dst:?}");
        assert!(!v.body.contains("evil.test"));
    }
    p.stop().await;
}

fn generous() -> PortalConfig {
    PortalConfig {
        rate_limit: RateLimitConfig { burst: 100_000, refill_every: Duration::from_millis(1) },
        voucher_rate_limit: RateLimitConfig { burst: 100_000, refill_every: Duration::from_millis(1) },
        voucher_failure_budget: RateLimitConfig { burst: 100_000, refill_every: Duration::from_millis(1) },
        ..PortalConfig::default()
    }
}

#[tokio::test]
async fn reflected_fields_come_back_escaped() {
    let p = Portal::start(Fake::new(), generous()).await;
    let csrf = p.csrf_for(GUEST).await;
    let escaped = "&quot;&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;";
    let mut pages = Vec::new();

    let r = p.get(&format!("/?identity={}&lang={}&dst={}&mac=&ip=", enc(XSS), enc(XSS), enc(XSS))).await;
    assert!(r.body.contains(escaped), "identity is shown, escaped: {}", r.body);
    pages.push(r);
    let r =
        p.post("/buy", &form(&[("package", XSS), ("phone", XSS), ("csrf", &csrf), ("dst", XSS), ("lang", XSS)])).await;
    assert!(r.body.contains(escaped), "phone is shown again, escaped");
    pages.push(r);
    let r = p.post("/voucher", &form(&[("code", XSS), ("csrf", &csrf), ("dst", XSS)])).await;
    assert!(r.body.contains(escaped), "code is shown again, escaped: {}", r.body);
    assert!(r.body.contains("&#39;&quot;&#39;"), "the bad character is named, escaped");
    pages.push(r);
    let r = p.post("/voucher", &form(&[("code", &format!("ZZZZ9999{XSS}")), ("csrf", &csrf)])).await;
    pages.push(r);
    *p.backend.start.lock().unwrap() = Err(PurchaseStartError::Refused(XSS.to_string()));
    let r = p.post("/buy", &form(&[("package", "1h"), ("phone", "0712345678"), ("csrf", &csrf)])).await;
    assert!(r.body.contains(escaped), "the cloud's message is shown, escaped");
    pages.push(r);
    pages.push(p.get(&format!("/wait/{}?dst={}&lang={}", enc(XSS), enc(XSS), enc(XSS))).await);
    pages.push(p.get(&format!("/wait/{PURCHASE}?dst={}", enc(XSS))).await);
    pages.push(p.get(&format!("/{}", enc(XSS))).await);
    pages.push(p.post("/buy", &form(&[("csrf", XSS), ("dst", XSS)])).await);
    pages.push(p.request_from(GUEST, "GET", "/", &[("Accept-Language", XSS)], "").await);
    for r in &pages {
        assert!(!r.body.contains("<script>alert"), "unescaped payload: {}", r.body);
        assert!(!r.body.contains("\"'>"), "attribute broken out of: {}", r.body);
        assert!(r.body.matches("<script>").count() <= 1, "only the portal's own script");
        for (_, v) in &r.headers {
            assert!(!v.contains("<script>"));
        }
    }
    let j = p.get(&format!("/api/status/{}?lang={}", enc(XSS), enc(XSS))).await;
    assert_eq!(j.json()["state"], "not_found");
    p.stop().await;
}

#[tokio::test]
async fn posts_without_a_valid_token_for_this_ip_are_refused() {
    let p = Portal::start(Fake::new(), generous()).await;
    let mine = p.csrf_for(GUEST).await;
    let theirs = p.csrf_for(OTHER).await;
    assert_ne!(mine, theirs);
    let (t, sig) = mine.split_once('.').unwrap();
    let tampered_time = format!("{}.{sig}", t.parse::<i64>().unwrap() + 1);
    let flipped = format!("{t}.{}{}", if sig.starts_with('0') { "1" } else { "0" }, &sig[1..]);
    let old = format!("{}.{sig}", t.parse::<i64>().unwrap() - 7200);
    for token in
        [None, Some(""), Some("123.abcd"), Some(theirs.as_str()), Some(&tampered_time), Some(&flipped), Some(&old)]
    {
        let mut buy = vec![("package", "1h"), ("phone", "0712345678")];
        let mut voucher = vec![("code", GOOD_VOUCHER)];
        if let Some(tok) = token {
            buy.push(("csrf", tok));
            voucher.push(("csrf", tok));
        }
        let r = p.post("/buy", &form(&buy)).await;
        assert_eq!(r.status, 403, "{token:?}");
        assert!(r.body.contains("Form expired"));
        let r = p.post("/voucher", &form(&voucher)).await;
        assert_eq!(r.status, 403, "{token:?}");
    }
    assert!(p.backend.actions().is_empty(), "{:?}", p.backend.actions());
    // The right token for this IP works.
    assert_eq!(p.post("/buy", &form(&[("package", "1h"), ("phone", "0712345678"), ("csrf", &mine)])).await.status, 303);
    let r = p.request_from(OTHER, "POST", "/voucher", &[], &form(&[("code", GOOD_VOUCHER), ("csrf", &theirs)])).await;
    assert_eq!(r.status, 200);
    assert_eq!(p.backend.actions().len(), 2);
    p.stop().await;
}

#[tokio::test]
async fn oversized_or_malformed_bodies_change_nothing() {
    let p = Portal::start(Fake::new(), generous()).await;
    let csrf = p.csrf_for(GUEST).await;
    let big =
        format!("{}&pad={}", form(&[("package", "1h"), ("phone", "0712345678"), ("csrf", &csrf)]), "x".repeat(5000));
    let r = p.post("/buy", &big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("too large"));
    // Declared far too large: refused without reading.
    let raw = "POST /voucher HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n";
    assert_eq!(Reply::parse(&p.raw_from(GUEST, raw.as_bytes()).await).status, 413);
    // Chunked, with no length declared.
    let chunk = "y".repeat(6000);
    let raw = format!(
        "POST /buy HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\ncsrf={csrf}&{chunk}\r\n0\r\n\r\n",
        chunk.len() + csrf.len() + 6
    );
    assert_eq!(Reply::parse(&p.raw_from(GUEST, raw.as_bytes()).await).status, 413);
    // Exactly at the limit is fine (and then refused for its content, not its size).
    let at_limit = format!("csrf={csrf}&pad={}", "z".repeat(4096 - csrf.len() - 10));
    assert_eq!(at_limit.len(), 4096);
    assert_eq!(p.post("/buy", &at_limit).await.status, 400);

    for bad in ["a=%zz", "package=%", "phone=%C3%28", &format!("csrf={csrf}&phone=%E2%82")] {
        let r = p.post("/buy", bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.body.contains("Bad request"));
    }
    assert_eq!(p.get("/?dst=%zz").await.status, 400);
    assert!(p.backend.actions().is_empty(), "{:?}", p.backend.actions());
    p.stop().await;
}

#[tokio::test]
async fn requests_are_rate_limited_per_client_ip() {
    let cfg = PortalConfig {
        rate_limit: RateLimitConfig { burst: 5, refill_every: Duration::from_secs(3600) },
        ..PortalConfig::default()
    };
    let p = Portal::start(Fake::new(), cfg).await;
    for _ in 0..5 {
        assert_eq!(p.get("/").await.status, 200);
    }
    let r = p.get("/").await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("Too many requests"));
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(secs > 0);
    assert_eq!(r.header("connection"), Some("close"), "a limited client does not keep its connection");
    assert_eq!(p.get("/api/status/x").await.status, 429);
    // Another client is unaffected.
    assert_eq!(p.request_from(OTHER, "GET", "/", &[], "").await.status, 200);
    p.stop().await;
}

#[tokio::test]
async fn voucher_codes_wrong_right_and_brute_force_limited() {
    let cfg = PortalConfig {
        rate_limit: RateLimitConfig { burst: 1000, refill_every: Duration::from_millis(1) },
        ..PortalConfig::default()
    };
    let p = Portal::start(Fake::new(), cfg).await;
    let csrf = p.csrf_for(GUEST).await;
    let r = p.post("/voucher", &form(&[("code", "abcd-2345"), ("csrf", &csrf), ("dst", "https://example.com/")])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Voucher accepted"));
    assert_eq!(r.refresh_target(), Some("https://example.com/"));
    let r = p.post("/voucher", &form(&[("code", "ZZZZ9999"), ("csrf", &csrf)])).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("That voucher code is not valid."));
    assert!(r.body.contains("value=\"ZZZZ9999\""));
    let r = p.post("/voucher", &form(&[("code", "ZZZZ9998"), ("csrf", &csrf), ("lang", "sw")])).await;
    assert!(r.body.contains("Nambari hiyo ya vocha si sahihi."));
    let r = p.post("/voucher", &form(&[("code", "OOOO1111"), ("csrf", &csrf)])).await;
    assert!(r.body.contains("never contain"), "a typo is explained: {}", r.body);
    // Attempt 5 is still allowed; from then on every guess is refused before reaching the router.
    assert_eq!(p.post("/voucher", &form(&[("code", "ZZZZ9997"), ("csrf", &csrf)])).await.status, 400);
    for _ in 0..20 {
        let r = p.post("/voucher", &form(&[("code", GOOD_VOUCHER), ("csrf", &csrf)])).await;
        assert_eq!(r.status, 429);
        assert!(r.body.contains("Too many attempts"));
        assert!(r.header("retry-after").is_some());
    }
    assert_eq!(p.backend.actions().iter().filter(|a| a.starts_with("voucher")).count(), 4);
    // Other clients have their own allowance.
    let theirs = p.csrf_for(OTHER).await;
    let r = p.request_from(OTHER, "POST", "/voucher", &[], &form(&[("code", GOOD_VOUCHER), ("csrf", &theirs)])).await;
    assert_eq!(r.status, 200);
    // Buying is not affected by the voucher limit.
    assert_eq!(p.post("/buy", &form(&[("package", "1h"), ("phone", "0712345678"), ("csrf", &csrf)])).await.status, 303);
    p.stop().await;
}

#[tokio::test]
async fn every_page_is_small_and_self_contained() {
    let backend = Fake::new();
    // The worst case: many packages with the longest names.
    *backend.packages.lock().unwrap() = (0..40)
        .map(|i| package(&format!("pkg-{i}"), &"\u{e9}".repeat(40), 250_000, "1w6d23h59m59s", "99999999/99999999"))
        .collect();
    let p = Portal::start(backend, generous()).await;
    let csrf = p.csrf_for(GUEST).await;
    let mut pages: Vec<(String, Reply)> = Vec::new();
    for lang in ["en", "sw"] {
        pages.push((format!("index {lang}"), p.get(&format!("/?lang={lang}&identity={}", "W".repeat(500))).await));
        for (name, progress) in [
            ("awaiting", PurchaseProgress::AwaitingPayment),
            ("connecting", PurchaseProgress::Connecting),
            ("online", PurchaseProgress::Online { expires_at: i64::MAX }),
            ("ready", PurchaseProgress::Ready { expires_at: 0 }),
            ("failed", PurchaseProgress::Failed(PaymentFailure::TooSoon)),
        ] {
            p.backend.set_progress(Ok(progress));
            pages.push((format!("{name} {lang}"), p.get(&format!("/wait/{PURCHASE}?lang={lang}")).await));
        }
        let buy =
            |phone: &'static str| form(&[("package", "pkg-1"), ("phone", phone), ("csrf", &csrf), ("lang", lang)]);
        pages.push((format!("bad phone {lang}"), p.post("/buy", &buy("12")).await));
        pages.push((
            format!("voucher ok {lang}"),
            p.post("/voucher", &form(&[("code", GOOD_VOUCHER), ("csrf", &csrf), ("lang", lang)])).await,
        ));
        pages.push((
            format!("voucher bad {lang}"),
            p.post("/voucher", &form(&[("code", "ZZZZ9999"), ("csrf", &csrf), ("lang", lang)])).await,
        ));
        pages.push((format!("csrf {lang}"), p.post("/buy", &form(&[("lang", lang)])).await));
        pages.push((format!("404 {lang}"), p.get(&format!("/nothing?lang={lang}")).await));
        pages.push((format!("405 {lang}"), p.post(&format!("/?lang={lang}"), "").await));
        pages.push((format!("spoofed {lang}"), p.get(&format!("/?mac=02:00:00:00:00:09&lang={lang}")).await));
        pages.push((format!("413 {lang}"), p.post(&format!("/buy?lang={lang}"), &"a".repeat(5000)).await));
    }
    let mut largest = ("", 0usize);
    for (name, r) in &pages {
        let size = r.body.len();
        assert!(size < 30 * 1024, "{name} is {size} bytes");
        if size > largest.1 {
            largest = (name, size);
        }
        let lower = r.body.to_ascii_lowercase();
        assert!(!lower.contains("http://") && !lower.contains("https://"), "{name} refers outside: {}", r.body);
        for asset in ["src=", "<link", "url(", "@import", "<img", "<iframe"] {
            assert!(!lower.contains(asset), "{name} loads an asset ({asset})");
        }
        assert!(lower.starts_with("<!doctype html>"), "{name}");
        assert_security_headers(r);
    }
    eprintln!("largest page: {} at {} bytes", largest.0, largest.1);
    p.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods() {
    let p = Portal::with_defaults().await;
    let r = p.get("/favicon.ico").await;
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Page not found"));
    assert_eq!(p.get("/wait/not-an-id").await.status, 404);
    for (method, path, allow) in [
        ("POST", "/", "GET, HEAD"),
        ("GET", "/buy", "POST"),
        ("PUT", "/voucher", "POST"),
        ("DELETE", &format!("/wait/{PURCHASE}"), "GET, HEAD"),
        ("POST", "/api/status/x", "GET, HEAD"),
    ] {
        let r = p.request_from(GUEST, method, path, &[], "").await;
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.header("allow"), Some(allow));
    }
    let head = p.request_from(GUEST, "HEAD", "/", &[], "").await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert!(p.backend.actions().is_empty());
    p.stop().await;
}

#[tokio::test]
async fn a_hung_backend_gets_an_answer_not_a_stuck_connection() {
    let cfg = PortalConfig { request_timeout: Duration::from_millis(300), ..generous() };
    let p = Portal::start(Fake::new(), cfg).await;
    p.backend.hang.store(true, Ordering::SeqCst);
    let r = p.get("/").await;
    assert_eq!(r.status, 503);
    assert!(r.body.contains("The router is not answering"));
    assert_eq!(r.header("connection"), Some("close"));
    p.backend.hang.store(false, Ordering::SeqCst);
    assert_eq!(p.get("/").await.status, 200);
    p.stop().await;
}

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[tokio::test]
async fn random_bytes_and_malformed_requests_do_not_kill_the_server() {
    let cfg = PortalConfig { header_read_timeout: Duration::from_secs(2), ..generous() };
    let p = Portal::start(Fake::new(), cfg).await;
    let csrf = p.csrf_for(GUEST).await;
    let mut fixed: Vec<Vec<u8>> = vec![
        b"\r\n\r\n".to_vec(),
        b"GET\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"GET /%%%% HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        b"GET /?a=%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        b"GET /?lang=%00%01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        b"POST /buy HTTP/1.1\r\nContent-Length: -5\r\n\r\n".to_vec(),
        b"POST /buy HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef".to_vec(),
        b"POST /buy HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
        b"POST /buy HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc".to_vec(),
        format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(70_000)).into_bytes(),
        format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "b".repeat(70_000)).into_bytes(),
        format!("GET / HTTP/1.1\r\n{}\r\n", "H: v\r\n".repeat(500)).into_bytes(),
        b"GET / HTTP/1.1\r\nHost: \xff\xfe\r\nAccept-Language: \xff\r\nConnection: close\r\n\r\n".to_vec(),
        format!("GET /?{} HTTP/1.1\r\nConnection: close\r\n\r\n", "a=1&".repeat(1000)).into_bytes(),
        [
            format!(
                "POST /voucher HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\ncsrf={csrf}&code=",
                csrf.len() + 12
            )
            .as_bytes(),
            b"\xff\xfe",
        ]
        .concat(),
    ];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for i in 0..150 {
        let len = (xorshift(&mut x) % 600) as usize;
        let mut buf: Vec<u8> = (0..len).map(|_| xorshift(&mut x) as u8).collect();
        if i % 3 == 0 {
            // Plausible starts get further into the parser and the handlers.
            let prefix: &[u8] = match i % 4 {
                0 => b"GET /?",
                1 => b"POST /buy HTTP/1.1\r\nContent-Length: 40\r\n\r\n",
                2 => b"GET /wait/",
                _ => b"POST /voucher HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            };
            buf.splice(0..0, prefix.iter().copied());
        }
        buf.extend_from_slice(b"\r\n\r\n");
        fixed.push(buf);
    }
    for chunk in fixed.chunks(16) {
        let mut tasks = Vec::new();
        for req in chunk {
            let req = req.clone();
            let addr = p.addr;
            tasks.push(tokio::spawn(async move {
                let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else { return };
                let _ = s.write_all(&req).await;
                let _ = s.shutdown().await;
                let mut out = Vec::new();
                let _ = s.read_to_end(&mut out).await;
                if out.starts_with(b"HTTP/1.1 500") {
                    panic!("server error for {:?}: {}", String::from_utf8_lossy(&req), String::from_utf8_lossy(&out));
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
    // Random form fields and query strings through the real handlers.
    let alphabet: &[u8] = b"%+&=aZ09\xc3\xa9<>\"'/\\:;.-_ ";
    for _ in 0..150 {
        let mut field = || -> String {
            let n = xorshift(&mut x) % 30;
            let bytes: Vec<u8> =
                (0..n).map(|_| alphabet[(xorshift(&mut x) % alphabet.len() as u64) as usize]).collect();
            enc(&String::from_utf8_lossy(&bytes))
        };
        let body = format!(
            "package={}&phone={}&code={}&dst={}&csrf={csrf}&lang={}",
            field(),
            field(),
            field(),
            field(),
            field()
        );
        let raw_q = field().replace("%25", "%");
        for r in [
            p.post("/buy", &body).await,
            p.get(&format!("/?mac={}&ip={}&dst={}&identity={}", field(), field(), field(), field())).await,
            p.get(&format!("/wait/{}?{raw_q}", field())).await,
        ] {
            assert!(r.status < 500, "{} {}", r.status, r.body);
        }
    }
    let r = p.get("/").await;
    assert_eq!(r.status, 200, "still serving");
    p.stop().await;
}

#[tokio::test]
async fn ipv6_clients_get_a_clear_page() {
    let Ok(listener) = TcpListener::bind("[::1]:0").await else {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    };
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let backend = Fake::new();
    let task = tokio::spawn(serve(listener, backend.clone(), PortalConfig::default(), async move {
        let _ = rx.await;
    }));
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    let r = Reply::parse(&out);
    assert_eq!(r.status, 403);
    assert!(r.body.contains("IPv4"));
    assert!(backend.calls.lock().unwrap().is_empty(), "the router is not asked about IPv6 clients");
    let _ = tx.send(());
    tokio::time::timeout(Duration::from_secs(60), task).await.unwrap().unwrap();
}

/// Reads one response (headers and a Content-Length body) from a kept-alive connection.
async fn read_one(s: &mut tokio::net::TcpStream) -> Option<Reply> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = Reply::parse(&buf);
    let len: usize = head.header("content-length").map(|v| v.parse().unwrap()).unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.ok()?;
    Some(Reply { body: String::from_utf8_lossy(&body).into_owned(), ..head })
}

#[tokio::test]
async fn keep_alive_connections_are_capped_and_shutdown_is_graceful() {
    let cfg = PortalConfig { max_requests_per_connection: 3, ..generous() };
    let p = Portal::start(Fake::new(), cfg).await;
    let mut s = tokio::net::TcpStream::connect(p.addr).await.unwrap();
    let one = b"GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for n in 1..=3 {
        s.write_all(one).await.unwrap();
        let r = read_one(&mut s).await.expect("a response");
        assert_eq!(r.status, 404);
        assert_eq!(r.header("connection") == Some("close"), n == 3, "request {n}");
    }
    // The server closed after the third.
    let _ = s.write_all(one).await;
    assert!(read_one(&mut s).await.is_none());

    // An idle keep-alive connection does not hold shutdown up.
    let mut idle = tokio::net::TcpStream::connect(p.addr).await.unwrap();
    idle.write_all(one).await.unwrap();
    assert_eq!(read_one(&mut idle).await.unwrap().status, 404);
    p.stop().await;
}

/// A page on another name that resolves to the portal (DNS rebinding) is same-origin with it:
/// it must get neither a CSRF token nor a purchase. The portal's own address and configured
/// names work, whatever the port.
#[tokio::test]
async fn only_the_portals_own_address_and_names_are_served() {
    let cfg = PortalConfig { names: vec!["wifi.cafe.lan".into()], ..generous() };
    let p = Portal::start(Fake::new(), cfg).await;
    let csrf = p.csrf_for(GUEST).await;
    let raw = |host: &str, method: &str, target: &str, body: &str| {
        let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        if method == "POST" {
            req.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(body);
        req
    };
    let buy = form(&[("package", "1h"), ("phone", "0712345678"), ("csrf", &csrf)]);
    let own = p.addr.to_string();
    for host in ["evil.example", "evil.example:80", "127.0.0.2", "wifi.cafe.lan.evil.example", ""] {
        let r = Reply::parse(&p.raw_from(GUEST, raw(host, "GET", "/?mac=x", "").as_bytes()).await);
        assert_eq!(r.status, 302, "{host}: {}", r.body);
        assert_eq!(r.header("location"), Some(format!("http://{own}/?mac=x").as_str()), "{host}");
        assert!(!r.body.contains("csrf"), "{host}: no token for another origin");
        let r = Reply::parse(&p.raw_from(GUEST, raw(host, "POST", "/buy", &buy).as_bytes()).await);
        assert_eq!(r.status, 421, "{host}: {}", r.body);
        assert!(r.body.contains(&format!("http://{own}/")), "the guest is shown the way: {}", r.body);
    }
    // No Host at all is refused too.
    let r = Reply::parse(&p.raw_from(GUEST, b"GET / HTTP/1.0\r\n\r\n").await);
    assert_eq!(r.status, 302);
    assert!(p.backend.actions().is_empty(), "nothing was bought: {:?}", p.backend.actions());
    for host in [own.as_str(), "127.0.0.1", "WIFI.cafe.lan", "wifi.cafe.lan.:8080"] {
        let r = Reply::parse(&p.raw_from(GUEST, raw(host, "GET", "/", "").as_bytes()).await);
        assert_eq!(r.status, 200, "{host}");
    }
    let r = Reply::parse(&p.raw_from(GUEST, raw("wifi.cafe.lan", "POST", "/buy", &buy).as_bytes()).await);
    assert_eq!(r.status, 303, "{}", r.body);
    p.stop().await;
}

/// One address holding connections (idle, or with half a request) keeps at most its share; the
/// rest of the portal's slots stay for other guests, and a refused connection is closed at once.
#[tokio::test]
async fn one_address_cannot_hold_every_connection() {
    let cfg = PortalConfig { max_connections: 8, max_connections_per_address: 3, ..generous() };
    let p = Portal::start(Fake::new(), cfg).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = tokio::net::TcpStream::connect(p.addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: 127").await.unwrap();
        held.push(s);
    }
    // Give the server time to accept them: a readiness check, the portal answers this one.
    for _ in 0..4 {
        let mut extra = tokio::net::TcpStream::connect(p.addr).await.unwrap();
        let _ = extra.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await;
        let mut out = Vec::new();
        // Closed without an answer (or reset), never served and never left hanging.
        let r = tokio::time::timeout(Duration::from_secs(5), extra.read_to_end(&mut out)).await;
        assert!(r.is_ok(), "a refused connection is closed, not kept waiting");
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    }
    // Another guest is served while the first address is at its limit.
    assert_eq!(p.request_from(OTHER, "GET", "/", &[], "").await.status, 200);
    // Once one of its connections ends, the address may open another.
    drop(held.pop());
    let mut ok = false;
    for _ in 0..100 {
        let req = format!("GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", p.addr);
        let out = p.raw_from(GUEST, req.as_bytes()).await;
        if !out.is_empty() && Reply::parse(&out).status == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "a slot given back is usable again");
    drop(held);
    p.stop().await;
}

/// Guessing from many addresses runs into the router's budget of wrong codes: once it is spent,
/// every code is refused before the router is asked, right ones too, until it refills.
#[tokio::test]
async fn wrong_codes_from_many_addresses_spend_the_routers_budget() {
    let guessers: Vec<Ipv4Addr> = (10..30).map(|n| Ipv4Addr::new(127, 0, 1, n)).collect();
    let mut hosts: HashMap<Ipv4Addr, MacAddr> = HashMap::new();
    for (i, ip) in guessers.iter().enumerate() {
        hosts.insert(*ip, format!("DA:A1:19:00:01:{i:02X}").parse().unwrap());
    }
    hosts.insert(GUEST, GUEST_MAC.parse().unwrap());
    let cfg = PortalConfig {
        // Each address may try 3 codes; the router as a whole 12 wrong ones.
        voucher_rate_limit: RateLimitConfig { burst: 3, refill_every: Duration::from_secs(3600) },
        voucher_failure_budget: RateLimitConfig { burst: 12, refill_every: Duration::from_secs(3600) },
        rate_limit: RateLimitConfig { burst: 1000, refill_every: Duration::from_millis(1) },
        ..PortalConfig::default()
    };
    let p = Portal::start(Fake::with_hosts(hosts), cfg).await;
    let mut wrong = 0;
    let mut paused = 0;
    for (i, ip) in guessers.iter().enumerate() {
        let csrf = p.csrf_for(*ip).await;
        for j in 0..3 {
            // Well-formed codes (no 0, 1, O or I), each a different guess.
            let n = i * 3 + j;
            let code: String = [n / 8, n % 8].iter().map(|d| char::from(b"23456789"[*d])).collect();
            let code = format!("ZZZZZZ{code}");
            let r = p.request_from(*ip, "POST", "/voucher", &[], &form(&[("code", &code), ("csrf", &csrf)])).await;
            match r.status {
                400 => wrong += 1,
                429 => {
                    assert!(r.body.contains("Too many wrong codes on this WiFi"), "{}", r.body);
                    assert!(r.header("retry-after").is_some());
                    paused += 1;
                }
                s => panic!("HTTP {s}: {}", r.body),
            }
        }
    }
    assert_eq!(wrong, 12, "exactly the budget reached the router");
    assert_eq!(paused, 60 - 12);
    // A guest with a right code, from a fresh address, waits too; the router was not asked.
    let csrf = p.csrf_for(GUEST).await;
    let r = p.post("/voucher", &form(&[("code", GOOD_VOUCHER), ("csrf", &csrf), ("lang", "sw")])).await;
    assert_eq!(r.status, 429);
    assert!(r.body.contains("Misimbo mingi isiyo sahihi"), "{}", r.body);
    assert_eq!(p.backend.actions().iter().filter(|a| a.starts_with("voucher")).count(), 12);
    // Buying still works.
    assert_eq!(p.post("/buy", &form(&[("package", "1h"), ("phone", "0712345678"), ("csrf", &csrf)])).await.status, 303);
    p.stop().await;
}

/// A hotspot that takes several wallets: the guest chooses one, or lets their number's network
/// choose; a wallet it does not take is refused before anything is asked of the cloud. The
/// words name no wallet, in English and Swahili.
#[tokio::test]
async fn the_guest_chooses_a_wallet_where_there_are_several() {
    let p = Portal::with_defaults().await;
    *p.backend.wallets.lock().unwrap() = "mpesa,airtel_money".parse().unwrap();
    let page = p.get("/?lang=en").await;
    assert!(page.body.contains("<legend>Pay with</legend>"), "{}", page.body);
    assert!(page.body.contains("value=\"auto\" checked") && page.body.contains("value=\"airtel_money\""));
    assert!(page.body.contains("Airtel Money") && !page.body.contains("Pay with M-Pesa"));
    let sw = p.get("/?lang=sw").await;
    assert!(sw.body.contains("<legend>Lipa kwa</legend>") && sw.body.contains("Ya mtandao wa nambari yangu"));

    let csrf = p.csrf_for(GUEST).await;
    let buy = |phone: &'static str, wallet: &'static str| {
        let csrf = csrf.clone();
        let p = &p;
        async move {
            p.post("/buy", &form(&[("package", "1h"), ("phone", phone), ("wallet", wallet), ("csrf", &csrf)])).await
        }
    };
    assert_eq!(buy("0712345678", "airtel_money").await.status, 303);
    // Not chosen: an Airtel number pays with Airtel Money, a Safaricom one with M-Pesa.
    assert_eq!(buy("0733123456", "auto").await.status, 303);
    assert_eq!(buy("0712345678", "").await.status, 303);
    let r = buy("0712345678", "mtn_momo").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("Choose how to pay from the list."), "{}", r.body);
    let r = buy("0712345678", "<script>").await;
    assert!(r.status == 400 && !r.body.contains("<script>"));
    assert_eq!(
        p.backend.actions(),
        vec![
            format!("start:{GUEST_MAC}:1h:254712345678:airtel_money"),
            format!("start:{GUEST_MAC}:1h:254733123456:airtel_money"),
            format!("start:{GUEST_MAC}:1h:254712345678"),
        ]
    );
    // Waiting and failing, in words that name no wallet.
    let wait = format!("/wait/{PURCHASE}?lang=en");
    assert!(p.get(&wait).await.body.contains("A payment prompt has been sent to your phone."));
    p.backend.set_progress(Ok(PurchaseProgress::Failed(PaymentFailure::InsufficientFunds)));
    let failed = p.get(&wait).await;
    assert!(failed.body.contains("Your mobile money balance was not enough."), "{}", failed.body);
    p.backend.set_progress(Ok(PurchaseProgress::Failed(PaymentFailure::NotMpesa)));
    let sw = p.get(&format!("/wait/{PURCHASE}?lang=sw")).await;
    assert!(sw.body.contains("Nambari hiyo haiwezi kulipa kwa njia uliyochagua."), "{}", sw.body);
    assert!(!sw.body.contains("M-Pesa"), "{}", sw.body);
    p.stop().await;
}

/// A hotspot in Uganda: numbers are read the Ugandan way (`0772…`), a Kenyan one is refused
/// before the cloud is asked, MTN MoMo is its network's wallet, and no word names M-Pesa.
#[tokio::test]
async fn a_hotspot_abroad_reads_its_own_countrys_numbers() {
    let p = Portal::with_defaults().await;
    *p.backend.wallets.lock().unwrap() = "airtel_money,mtn_momo".parse().unwrap();
    *p.backend.country.lock().unwrap() = Country::Uganda;
    let page = p.get("/?lang=en").await;
    assert!(page.body.contains("placeholder=\"07XX XXX XXX\""), "{}", page.body);
    assert!(!page.body.contains("M-Pesa"), "{}", page.body);
    let csrf = p.csrf_for(GUEST).await;
    let buy = |phone: &'static str, lang: &'static str| {
        let csrf = csrf.clone();
        let p = &p;
        async move { p.post("/buy", &form(&[("package", "1h"), ("phone", phone), ("csrf", &csrf), ("lang", lang)])).await }
    };
    assert_eq!(buy("0772 123 456", "en").await.status, 303);
    assert_eq!(buy("0752123456", "en").await.status, 303);
    let r = buy("+254712345678", "en").await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("A Kenya number: only Uganda numbers are taken here."), "{}", r.body);
    let r = buy("+254712345678", "sw").await;
    assert!(r.body.contains("hapa zinapokelewa nambari za Uganda tu"), "{}", r.body);
    assert_eq!(
        p.backend.actions(),
        vec![
            format!("start:{GUEST_MAC}:1h:256772123456:mtn_momo"),
            format!("start:{GUEST_MAC}:1h:256752123456:airtel_money"),
        ]
    );
    p.stop().await;
}
