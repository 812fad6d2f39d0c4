//! The dashboard over a big store (issue 17): routers and purchases seeded into moto, then the
//! fleet, support and revenue pages fetched through the gateway as a signed-in admin, timed, and
//! the DynamoDB requests each page makes counted from moto's log (no Scan on any page).
//!
//! moto answers an index Query by walking every item of the table, so the times here grow with
//! the table as DynamoDB's would not: they are an upper bound. The request counts are what
//! DynamoDB would serve and bill.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use hotspot_cloud::store::RouterRecord;
use hotspot_cloud::store::schema::{LEDGER_PURCHASES, ledger_month};
use hotspot_core::RouterKey;

use super::aws::MotoLog;
use crate::browser::Browser;
use crate::stack::{DASHBOARD_LOGIN, DASHBOARD_PASSWORD, Stack};

/// A seeded phone with purchases, for the support page.
pub const SEEDED_PHONE: &str = "254700000123";
/// Seeded phones: purchase `j` is paid from phone `j % PHONES`, so each has a few.
const PHONES: u32 = 20_000;
/// Purchases spread back from now, one every this many seconds (100,000 cover about 30 days).
const SPACING_SECS: i64 = 26;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Writes `routers` routers (ids `site-0000`…) and `purchases` paid purchases across them.
pub async fn seed(stack: &Stack, routers: u32, purchases: u32, now: i64) -> Result<(), String> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..routers {
        let mut r: RouterRecord = stack.router.clone();
        r.id = format!("site-{i:04}").parse().map_err(|e| format!("router id: {e}"))?;
        r.name = format!("Site {i}");
        r.key = RouterKey::generate();
        let store = stack.store.clone();
        set.spawn(async move { store.put_router(&r).await.map_err(|e| e.to_string()) });
        while set.len() >= 16 {
            set.join_next().await.ok_or("no task")?.map_err(|e| e.to_string())??;
        }
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| e.to_string())??;
    }
    let package = crate::stack::packages()[0].clone();
    let package_json = serde_json::to_string(&package).map_err(|e| e.to_string())?;
    let price = package.price().whole().and_then(|w| i64::try_from(w).ok()).ok_or("a whole price")?;
    let db = stack.moto.dynamodb();
    let mut batch = Vec::with_capacity(25);
    let mut set = tokio::task::JoinSet::new();
    for j in 0..purchases {
        let id = format!("p{j:024x}");
        let created = now - i64::from(j) * SPACING_SECS;
        let paid_at = created + 20;
        let phone = format!("2547{:08}", j % PHONES);
        let mac =
            format!("DA:A1:{:02X}:{:02X}:{:02X}:{:02X}", (j >> 24) & 0xff, (j >> 16) & 0xff, (j >> 8) & 0xff, j & 0xff);
        let item = HashMap::from([
            ("pk".to_string(), s(format!("PURCHASE#{id}"))),
            ("sk".into(), s("META")),
            ("purchase_id".into(), s(&id)),
            ("router_id".into(), s(format!("site-{:04}", j % routers.max(1)))),
            ("package_id".into(), s(package.id().as_str())),
            ("package".into(), s(&package_json)),
            ("price".into(), n(price)),
            ("mac".into(), s(&mac)),
            ("by_mac".into(), s(&mac)),
            ("phone".into(), s(&phone)),
            ("by_phone".into(), s(&phone)),
            ("state".into(), s("active")),
            ("created_at".into(), n(created)),
            ("updated_at".into(), n(paid_at)),
            ("receipt".into(), s(format!("S{j:09}"))),
            ("paid_amount".into(), n(price)),
            ("paid_at".into(), n(paid_at)),
            ("expires_at".into(), n(paid_at + 3600)),
            ("ledger".into(), s(ledger_month(LEDGER_PURCHASES, paid_at))),
            ("ledger_at".into(), n(paid_at)),
        ]);
        let put = PutRequest::builder().set_item(Some(item)).build().map_err(|e| e.to_string())?;
        batch.push(WriteRequest::builder().put_request(put).build());
        if batch.len() == 25 || j + 1 == purchases {
            let req = db.batch_write_item().request_items("hotspot", std::mem::take(&mut batch));
            set.spawn(async move {
                let out = req.send().await.map_err(|e| format!("seed: {e}"))?;
                match out.unprocessed_items.unwrap_or_default().values().map(Vec::len).sum::<usize>() {
                    0 => Ok(()),
                    left => Err(format!("seed: moto left {left} items unprocessed")),
                }
            });
            while set.len() >= 8 {
                set.join_next().await.ok_or("no task")?.map_err(|e| e.to_string())??;
            }
        }
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// A browser signed in as the stack's seeded admin.
pub async fn sign_in(stack: &Stack) -> Result<Browser, String> {
    let mut b = Browser::new(stack);
    let reply = b.sign_in(DASHBOARD_LOGIN, DASHBOARD_PASSWORD).await;
    match (reply.status, b.cookies.contains_key("hs_session")) {
        (303, true) => Ok(b),
        (status, _) => Err(format!("sign-in answered {status} without a session")),
    }
}

/// One page's figures: the median time and the DynamoDB requests of one load, by action.
pub struct PageFigures {
    pub p50_ms: f64,
    pub bytes: usize,
    pub requests: BTreeMap<String, u64>,
}

/// Loads `path` `rounds` times; every load must answer 200 and contain `expect`.
pub async fn time_page(
    a: &mut Browser,
    log: &MotoLog,
    path: &str,
    expect: &str,
    rounds: usize,
) -> Result<PageFigures, String> {
    let mark = log.mark();
    let reply = a.get(path).await;
    let (status, body) = (reply.status, reply.body);
    let requests = log.dynamodb_actions_between(mark, log.mark());
    if status != 200 || !body.contains(expect) {
        return Err(format!("{path} answered {status} without {expect:?}"));
    }
    let mut ms = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        let status = a.get(path).await.status;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            return Err(format!("{path} answered {status}"));
        }
    }
    Ok(PageFigures { p50_ms: super::median(&ms).unwrap_or(0.0), bytes: body.len(), requests })
}
