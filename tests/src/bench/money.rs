//! The money half of the benchmark: how long a guest whose callback was lost waits, and the
//! fault matrix, purchases under each fault we know, with what was paid, granted, doubled and
//! lost counted from the simulators (the phone's answers, the router's users), not from our own
//! records, and then the ledger judged over the same purchases.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use daraja_sim::{Answer, CallbackMode, Endpoint, Fault, Scenario};
use hotspot_core::MacAddr;
use hotspot_core::clock::now_unix;

use super::http::{self, Conn};
use super::load::{Guest, portal_target};
use super::progress;
use crate::stack::Stack;

/// A guest's purchase up to the prompt on the phone: the portal's connection (the waiting page
/// polls on it), the purchase and the prompt's CheckoutRequestID.
pub struct Bought {
    pub conn: Conn,
    pub id: String,
    pub checkout: String,
}

/// A guest opens the portal, buys the 1-hour package with `phone` (local form, 07…), and loads
/// the waiting page; the Daraja simulator holds the prompt under `scenario`.
pub async fn buy(stack: &Stack, g: &Guest, phone: &str, scenario: Scenario) -> Result<Bought, String> {
    let portal: SocketAddr =
        stack.portal_url.trim_start_matches("http://").parse().map_err(|e| format!("portal address: {e}"))?;
    stack.routeros.add_host(g.mac, g.ip);
    stack.daraja.push_scenario(scenario);
    let msisdn = format!("254{}", phone.trim_start_matches('0'));
    let mut c = Conn::connect(g.ip, portal).await.map_err(|e| format!("connect: {e}"))?;
    let page = c.request(&http::get(&portal_target(g))).await.map_err(|e| format!("portal page: {e}"))?;
    if page.status != 200 {
        return Err(format!("portal page: HTTP {}: {}", page.status, page.text()));
    }
    let text = page.text();
    let csrf = text
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or("no csrf field on the portal page")?
        .to_string();
    let body = format!("package=1h&phone={phone}&csrf={csrf}&lang=en&dst=http%3A%2F%2Fexample.com%2F");
    let r = c.request(&http::post_form("/buy", &body)).await.map_err(|e| format!("buy: {e}"))?;
    if r.status != 303 {
        return Err(format!("buy: HTTP {}: {}", r.status, r.text()));
    }
    let location = r.header("location").ok_or("buy: no Location")?.to_string();
    let wait_path = match location.find("/wait/") {
        Some(at) => location[at..].to_string(),
        None => return Err(format!("buy: unexpected Location {location}")),
    };
    let id = wait_path.trim_start_matches("/wait/").split('?').next().unwrap_or_default().to_string();
    // The waiting page loads (it asks the cloud once: the grant has not come yet).
    let w = c.request(&http::get(&wait_path)).await.map_err(|e| format!("waiting page: {e}"))?;
    if w.status != 200 {
        return Err(format!("waiting page: HTTP {}", w.status));
    }
    let checkout = stack
        .daraja
        .pushes()
        .into_iter()
        .rev()
        .find(|p| p.phone == msisdn && p.result_code.is_none())
        .map(|p| p.checkout_request_id)
        .ok_or("no STK push reached the Daraja simulator")?;
    Ok(Bought { conn: c, id, checkout })
}

/// The waiting page's script: asks the portal for the purchase's state every 1.5 s until it says
/// "online" or "failed" (at most `polls` times).
pub async fn waiting_page(mut conn: Conn, id: String, polls: u32) {
    for _ in 0..polls {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let Ok(r) = conn.request(&http::get(&format!("/api/status/{id}?lang=en"))).await else { return };
        let state = serde_json::from_slice::<serde_json::Value>(&r.body)
            .ok()
            .and_then(|v| v["state"].as_str().map(str::to_string))
            .unwrap_or_default();
        if r.status != 200 || state == "online" || state == "failed" {
            return;
        }
    }
}

/// When the guest's session appeared on the router, if it did within `limit` (checked every 20 ms).
pub async fn online_within(stack: &Stack, mac: MacAddr, limit: Duration) -> Option<Instant> {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if stack.routeros.state().session_of(mac).is_some() {
            return Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// `n` guests pay at once and Daraja never calls back: each waits on its waiting page, whose
/// polls make the cloud ask Daraja (`settle::ask_while_waiting`). Seconds from paying to online.
pub async fn lost_callbacks(stack: &Arc<Stack>, guests: Vec<(Guest, String)>) -> Result<Vec<f64>, String> {
    let mut set = tokio::task::JoinSet::new();
    for (g, phone) in guests {
        let stack = stack.clone();
        set.spawn(async move {
            let scenario = Scenario::await_phone().with_callback(CallbackMode::Never);
            let b = buy(&stack, &g, &phone, scenario).await?;
            let paid = Instant::now();
            if !stack.daraja.answer(&b.checkout, Answer::Pay) {
                return Err("the prompt could not be answered".to_string());
            }
            let page = tokio::spawn(waiting_page(b.conn, b.id, 60));
            let online = online_within(&stack, g.mac, Duration::from_secs(90)).await;
            page.abort();
            stack.routeros.remove_host(g.mac);
            online.map(|t| t.duration_since(paid).as_secs_f64()).ok_or_else(|| "not online 90 s after paying".into())
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.map_err(|e| e.to_string())??);
    }
    Ok(out)
}

/// One row of the fault matrix: what goes wrong around one guest's purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// Nothing: the callback comes once.
    Clean,
    /// Daraja sends the callback twice.
    CallbackTwice,
    /// The callback never comes (STK query finds the payment).
    CallbackLost,
    /// The callback comes after STK query has already settled the purchase.
    CallbackLate,
    /// The callback is lost and STK query answers 503 three times first.
    QueryDown,
    /// The callback is lost and STK query hits spike arrest twice first.
    QuerySpikeArrest,
    /// The agent restarts just after the guest paid.
    AgentRestart,
    /// The router is off the internet for 10 s from just before the guest pays.
    RouterOffline,
    /// The guest cancels the prompt: no payment, so no grant.
    Cancelled,
    /// The guest types a wrong PIN: no payment, so no grant.
    WrongPin,
}

pub const CASES: [Case; 10] = [
    Case::Clean,
    Case::CallbackTwice,
    Case::CallbackLost,
    Case::CallbackLate,
    Case::QueryDown,
    Case::QuerySpikeArrest,
    Case::AgentRestart,
    Case::RouterOffline,
    Case::Cancelled,
    Case::WrongPin,
];

impl Case {
    fn callback(self) -> CallbackMode {
        match self {
            Case::CallbackTwice => CallbackMode::Twice,
            Case::CallbackLost | Case::QueryDown | Case::QuerySpikeArrest => CallbackMode::Never,
            Case::CallbackLate => CallbackMode::Held,
            _ => CallbackMode::Once,
        }
    }

    fn answer(self) -> Answer {
        match self {
            Case::Cancelled => Answer::Cancel,
            Case::WrongPin => Answer::WrongPin,
            _ => Answer::Pay,
        }
    }
}

/// What the fault matrix found.
#[derive(Debug, Default)]
pub struct Matrix {
    pub purchases: usize,
    /// Payments the phone approved (the simulator's record).
    pub receipts: usize,
    /// Hotspot users on the router for the matrix's purchases.
    pub grants: usize,
    /// Paid, and no grant on the router.
    pub lost: usize,
    /// A grant beyond one per payment, or a grant nobody paid for.
    pub doubled: usize,
    /// Lines of the ledger over the matrix's purchases that need an operator.
    pub ledger_problems: usize,
    /// Paid → online, per paid case.
    pub online_secs: Vec<f64>,
}

/// Runs every case, one after another, each with its own guest and phone; then counts, and
/// judges the ledger once every grant had its time.
pub async fn fault_matrix(stack: &Arc<Stack>, guests: Vec<(Guest, String)>) -> Result<Matrix, String> {
    let started = now_unix();
    let mut m = Matrix::default();
    let mut ids = Vec::new();
    for (case, (g, phone)) in CASES.into_iter().zip(guests) {
        let b = buy(stack, &g, &phone, Scenario::await_phone().with_callback(case.callback())).await?;
        m.purchases += 1;
        ids.push((case, b.id.clone()));
        match case {
            Case::QueryDown => {
                (0..3).for_each(|_| stack.daraja.inject_fault(Endpoint::StkQuery, Fault::service_unavailable()))
            }
            Case::QuerySpikeArrest => {
                (0..2).for_each(|_| stack.daraja.inject_fault(Endpoint::StkQuery, Fault::spike_arrest()))
            }
            Case::RouterOffline => stack.uplink.cut(),
            _ => {}
        }
        let paid = Instant::now();
        if !stack.daraja.answer(&b.checkout, case.answer()) {
            return Err(format!("{case:?}: the prompt could not be answered"));
        }
        let page = tokio::spawn(waiting_page(b.conn, b.id.clone(), 60));
        match case {
            Case::AgentRestart => stack.restart_agent(&[]).await.map_err(|e| e.to_string())?,
            Case::RouterOffline => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                stack.uplink.restore();
            }
            _ => {}
        }
        if case.answer() == Answer::Pay {
            m.receipts += 1;
            match online_within(stack, g.mac, Duration::from_secs(90)).await {
                Some(t) => {
                    let s = t.duration_since(paid).as_secs_f64();
                    progress(format!("  {case:?}: online {s:.1} s after paying"));
                    m.online_secs.push(s);
                }
                None => progress(format!("  {case:?}: NOT online 90 s after paying")),
            }
            if case == Case::CallbackLate {
                stack.daraja.release_callbacks(&b.checkout);
            }
        } else {
            // Long enough for the failure's job to reach the router (and a wrong grant with it).
            let _ = online_within(stack, g.mac, Duration::from_secs(5)).await;
            progress(format!("  {case:?}: no payment"));
        }
        page.abort();
        stack.routeros.remove_host(g.mac);
    }
    // Session reports make the purchases active; the ledger allows a grant its grace, so wait
    // until it has nothing in flight (bounded).
    let until = Instant::now() + Duration::from_secs(60);
    let ledger = loop {
        let now = now_unix();
        let l =
            hotspot_cloud::ledger::load(&stack.store, started - 5, now + 60, now).await.map_err(|e| e.to_string())?;
        if l.is_settled() || Instant::now() > until {
            break l;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    m.ledger_problems = ledger.problems() + ledger.awaiting_grant.len();
    let st = stack.routeros.state();
    for (case, id) in &ids {
        let users = st.users.iter().filter(|u| u.name == format!("hs-{id}")).count();
        m.grants += users;
        match case.answer() {
            Answer::Pay if users == 0 => m.lost += 1,
            Answer::Pay => m.doubled += users - 1,
            _ => m.doubled += users,
        }
    }
    if !ledger.is_settled() {
        progress(format!("fault matrix: the ledger is not settled: {ledger:#?}"));
    }
    Ok(m)
}
