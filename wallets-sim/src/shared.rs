//! The state one running simulator shares between its connections.

use std::sync::Arc;

use crate::book::{Book, Delivery, PayState, PaymentRecord};
use crate::config::{AirtelSimConfig, MtnSimConfig};

pub(crate) enum Kind {
    Mtn(MtnSimConfig),
    Airtel(AirtelSimConfig),
}

pub(crate) struct Shared {
    pub kind: Kind,
    pub book: Book,
    pub http: reqwest::Client,
}

/// Builds a provider's callback request for a decided payment.
pub(crate) type Build = fn(&reqwest::Client, &str, &Kind, &PaymentRecord) -> reqwest::RequestBuilder;

/// Sends a decided payment's callback as its scenario says, in the background.
pub(crate) fn deliver(shared: Arc<Shared>, p: PaymentRecord, build: Build) {
    let (Some(url), false) = (p.callback_url.clone(), p.state == PayState::Pending) else { return };
    let times = match p.delivery {
        Delivery::Never => 0,
        Delivery::Once => 1,
        Delivery::Twice => 2,
    };
    tokio::spawn(async move {
        for _ in 0..times {
            let req = build(&shared.http, &url, &shared.kind, &p);
            match req.send().await {
                Ok(r) => tracing::debug!(status = r.status().as_u16(), "callback delivered"),
                Err(e) => tracing::warn!(error = %e, "callback not delivered"),
            }
            shared.book.count_callback(&p.reference);
        }
    });
}

/// Takes a payment (its scenario decides it), sends its callback in the background, and says
/// whether its answer is to be lost: the HTTP status to answer instead, if one was queued.
pub(crate) fn take(shared: &Arc<Shared>, p: PaymentRecord, receipt: fn(u64) -> String, build: Build) -> Option<u16> {
    let p = shared.book.take(p, receipt);
    deliver(shared.clone(), p, build);
    shared.book.lost_answer()
}

/// A request header as text.
pub(crate) fn header<'a>(h: &'a hyper::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the request carries a token this simulator issued and that has not expired.
pub(crate) fn bearer_ok(shared: &Shared, h: &hyper::HeaderMap) -> bool {
    header(h, "Authorization").and_then(|a| a.strip_prefix("Bearer ")).is_some_and(|t| shared.book.token_ok(t))
}
