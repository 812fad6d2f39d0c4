//! A guest as the journeys drive one: raw HTTP to the portal (through the hotspot bridge), the
//! buying form, the waiting page's status poll; and the records to check against.

use std::path::PathBuf;
use std::time::Duration;

use hotspot_cloud::store::PurchaseState;
use hotspot_core::PurchaseId;

use crate::stack::Stack;

pub fn bin_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| testkit::workspace_root().join("target"));
    target.join("debug")
}

pub async fn http(addr: &str, req: String) -> (u16, String) {
    testkit::raw_http(addr, &req).await
}

pub struct Guest<'a> {
    pub stack: &'a Stack,
    pub host: String,
    /// The device's own address, for a guest other than the stack's (`None`: 127.0.0.1).
    pub ip: Option<std::net::Ipv4Addr>,
}

impl<'a> Guest<'a> {
    pub fn new(stack: &'a Stack) -> Self {
        Guest { stack, host: stack.portal_url.trim_start_matches("http://").to_string(), ip: None }
    }

    /// Another device on the hotspot: joined to the router's host table at `ip` (a loopback
    /// address of its own) with `mac`.
    pub fn device(stack: &'a Stack, mac: hotspot_core::MacAddr, ip: std::net::Ipv4Addr) -> Self {
        stack.routeros.add_host(mac, ip);
        Guest { ip: Some(ip), ..Guest::new(stack) }
    }

    /// Types a voucher (or SMS) code in the portal's code box.
    pub async fn enter_code(&self, code: &str) -> (u16, String) {
        let (_, page) = self.get("/?lang=en").await;
        let at = page.find("name=\"csrf\" value=\"").map(|a| a + 19).unwrap_or(0);
        let csrf = page[at..].split('"').next().unwrap_or_default().to_string();
        self.post("/voucher", &format!("code={}&csrf={csrf}&lang=en", code.replace(' ', "+"))).await
    }

    pub async fn get(&self, target: &str) -> (u16, String) {
        self.send(format!("GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.host)).await
    }

    async fn send(&self, req: String) -> (u16, String) {
        testkit::raw_http_from(self.ip, &self.host, &req).await
    }

    pub async fn post(&self, target: &str, body: &str) -> (u16, String) {
        let req = format!(
            "POST {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.send(req).await
    }

    /// Opens the portal as login.html sends them, picks a package, enters a phone number.
    /// Returns the waiting page's path and the purchase id.
    pub async fn buy(&self, package: &str, phone: &str) -> (String, PurchaseId) {
        self.buy_with(package, phone, None).await
    }

    /// As `buy`, choosing the wallet on the form (`airtel_money`, `auto`...).
    pub async fn buy_with(&self, package: &str, phone: &str, wallet: Option<&str>) -> (String, PurchaseId) {
        // login.html's hints (MAC, IP) are the stack's own guest's; another device opens the portal bare.
        let start = match self.ip {
            None => self.stack.guest_portal_url()[self.stack.portal_url.len()..].to_string(),
            Some(_) => "/?lang=en".to_string(),
        };
        // The agent learns its wallets with its packages, from the cloud, after it starts: the
        // choice is on the page once it has them (a cold start on a fresh machine takes seconds).
        let offer = wallet.map(|w| format!("name=\"wallet\" value=\"{w}\""));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let (status, page) = loop {
            let (status, page) = self.get(&start).await;
            let ready = offer.as_ref().is_none_or(|o| page.contains(o.as_str()));
            if status != 200 || ready || std::time::Instant::now() >= deadline {
                break (status, page);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(status, 200, "{page}");
        let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = page[at..].split('"').next().unwrap().to_string();
        let mut body = format!(
            "package={package}&phone={}&csrf={csrf}&lang=en&dst=http%3A%2F%2Fexample.com%2F",
            phone.replace(' ', "+")
        );
        if let Some(w) = wallet {
            assert!(page.contains(&format!("name=\"wallet\" value=\"{w}\"")), "the portal offers {w}: {page}");
            body.push_str(&format!("&wallet={w}"));
        }
        let (status, resp) = self.post("/buy", &body).await;
        if status != 303 {
            // What the purchase function and the agent said is what an engineer needs here.
            let log = |f: &str| std::fs::read_to_string(self.stack.state_dir.join(f)).unwrap_or_default();
            panic!(
                "buy: HTTP {status}\n--- purchase function:\n{}\n--- agent:\n{}\n--- page:\n{}",
                log("purchase.log"),
                log("agent.log"),
                resp.chars().take(600).collect::<String>()
            );
        }
        let location = resp
            .lines()
            .find_map(|l| l.strip_prefix("location: ").or_else(|| l.strip_prefix("Location: ")))
            .unwrap()
            .trim()
            .to_string();
        let path = location.trim_start_matches(&self.stack.portal_url).to_string();
        let id = path.trim_start_matches("/wait/").split('?').next().unwrap().parse().unwrap();
        (path, id)
    }

    /// The waiting page's state, as its JavaScript polls it.
    pub async fn state(&self, id: &PurchaseId) -> String {
        let (_, resp) = self.get(&format!("/api/status/{id}")).await;
        let body = resp.split("\r\n\r\n").nth(1).unwrap_or("");
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["state"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub async fn wait_for_state(&self, id: &PurchaseId, done: &[&str]) -> String {
        for _ in 0..300 {
            let s = self.state(id).await;
            if done.contains(&s.as_str()) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("purchase {id} never reached {done:?}");
    }
}

pub async fn db_state(stack: &Stack, id: &PurchaseId, want: PurchaseState) {
    for _ in 0..100 {
        if stack.store.get_purchase(id).await.unwrap().map(|p| p.state) == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("purchase {id} never became {want} in DynamoDB");
}
