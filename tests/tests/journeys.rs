//! Guest journeys through the whole system on the local stack: portal → purchase λ → STK push →
//! the phone → callback λ → SQS → agent → an active hotspot session; each checked in DynamoDB,
//! on the router and on the guest's page.
//!
//! Needs the workspace binaries built first (`scripts/test.sh` runs `cargo build --workspace --bins`).

use std::path::PathBuf;
use std::time::Duration;

use daraja_sim::{Answer, Scenario};
use e2e::stack::{Options, Stack};
use hotspot_core::PurchaseId;
use lambdas::store::PurchaseState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn bin_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| testkit::workspace_root().join("target"));
    target.join("debug")
}

async fn http(addr: &str, req: String) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    (text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0), text)
}

struct Guest<'a> {
    stack: &'a Stack,
    host: String,
}

impl<'a> Guest<'a> {
    fn new(stack: &'a Stack) -> Self {
        Guest { stack, host: stack.portal_url.trim_start_matches("http://").to_string() }
    }

    async fn get(&self, target: &str) -> (u16, String) {
        http(&self.host, format!("GET {target} HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n")).await
    }

    async fn post(&self, target: &str, body: &str) -> (u16, String) {
        let req = format!(
            "POST {target} HTTP/1.1\r\nHost: portal\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        http(&self.host, req).await
    }

    /// Opens the portal as login.html sends them, picks a package, enters a phone number.
    /// Returns the waiting page's path and the purchase id.
    async fn buy(&self, package: &str, phone: &str) -> (String, PurchaseId) {
        let start = self.stack.guest_portal_url();
        let (status, page) = self.get(&start[self.stack.portal_url.len()..]).await;
        assert_eq!(status, 200, "{page}");
        let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = page[at..].split('"').next().unwrap().to_string();
        let body = format!(
            "package={package}&phone={}&csrf={csrf}&lang=en&dst=http%3A%2F%2Fexample.com%2F",
            phone.replace(' ', "+")
        );
        let (status, resp) = self.post("/buy", &body).await;
        assert_eq!(status, 303, "{resp}");
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
    async fn state(&self, id: &PurchaseId) -> String {
        let (_, resp) = self.get(&format!("/api/status/{id}")).await;
        let body = resp.split("\r\n\r\n").nth(1).unwrap_or("");
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["state"].as_str().map(str::to_string))
            .unwrap_or_default()
    }

    async fn wait_for_state(&self, id: &PurchaseId, done: &[&str]) -> String {
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

async fn db_state(stack: &Stack, id: &PurchaseId, want: PurchaseState) {
    for _ in 0..100 {
        if stack.store.get_purchase(id).await.unwrap().map(|p| p.state) == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("purchase {id} never became {want} in DynamoDB");
}

#[tokio::test]
async fn a_guest_pays_and_is_online_without_typing_a_code() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::await_phone());
    let (wait, id) = guest.buy("24h", "0712 345 678").await;
    let (_, page) = guest.get(&wait).await;
    assert!(page.contains("Check your phone"), "{page}");
    // The guest approves the prompt on their phone.
    let push = stack.daraja.pushes().pop().expect("an STK push");
    assert_eq!((push.amount, push.phone.as_str()), (50, "254712345678"));
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Pay));
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "online");
    let (_, page) = guest.get(&wait).await;
    assert!(page.contains("http://example.com/"), "forwards the guest where they were going: {page}");
    // On the router: a user bound to the guest's MAC, logged in.
    let st = stack.routeros.state();
    let session = st.session_of(stack.options.guest_mac).expect("an active hotspot session");
    assert_eq!(session.user, format!("hs-{id}"));
    // In DynamoDB: paid, then active once the agent's report came back.
    db_state(&stack, &id, PurchaseState::Active).await;
    let p = stack.store.get_purchase(&id).await.unwrap().unwrap();
    assert_eq!(p.expires_at.zip(p.paid_at).map(|(e, s)| e - s), Some(86_400));
}

#[tokio::test]
async fn a_cancelled_prompt_is_explained_to_the_guest() {
    let stack = Stack::start(Options::local(bin_dir())).await.expect("the local stack starts");
    let guest = Guest::new(&stack);
    stack.daraja.push_scenario(Scenario::await_phone());
    let (wait, id) = guest.buy("1h", "0712 345 678").await;
    let push = stack.daraja.pushes().pop().unwrap();
    assert!(stack.daraja.answer(&push.checkout_request_id, Answer::Cancel));
    assert_eq!(guest.wait_for_state(&id, &["online", "failed"]).await, "failed");
    let (_, page) = guest.get(&wait).await;
    assert!(page.contains("You cancelled the M-Pesa request."), "{page}");
    db_state(&stack, &id, PurchaseState::Failed).await;
    assert!(stack.routeros.state().users.is_empty(), "no grant");
}
