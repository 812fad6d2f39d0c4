//! The cloud portal (`GET|POST /portal/{router}/…`): the guest pages for a router in RADIUS mode,
//! which has no agent to serve them (`docs/radius.md`). The router's `login.html` sends the guest
//! here with their device and the router's login page; they buy or enter a voucher, and once paid
//! their browser is sent to the router's `$(link-login-only)` with the grant's user and password,
//! which the router checks through RADIUS. Same pages, languages and rules as the agent's portal
//! (`portal-pages`), usable without JavaScript; the purchase itself is the purchase function's.
//! The same function serves subscribers their own page (`/account`, `account`).

mod account;
mod context;
mod handlers;

use std::time::Duration;

use hotspot_cloud::store::RouterRecord;
use hotspot_core::RouterId;
use portal_pages::i18n::Lang;

use crate::providers::Payments;
use crate::purchase::PurchaseCtx;

pub use context::Context;

/// A form body larger than this is refused (the portal's forms are well under 1 KiB).
pub const MAX_BODY: usize = 8 * 1024;

pub struct Portal<'a, P> {
    pub purchases: PurchaseCtx<'a, P>,
}

/// A request as the portal needs it.
pub struct Req<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub body: &'a [u8],
    pub accept_language: Option<&'a str>,
    /// Time left in this invocation (the STK push is fitted into it).
    pub remaining: Option<Duration>,
}

/// A reply: an HTML page, the waiting page's JSON, or a redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub status: u16,
    pub content_type: &'static str,
    pub location: Option<String>,
    pub retry_after: Option<u64>,
    /// A file to save (`Content-Disposition: attachment`), by this name.
    pub attachment: Option<String>,
    pub body: String,
}

impl Page {
    fn html(status: u16, body: String) -> Page {
        Page {
            status,
            content_type: "text/html; charset=utf-8",
            location: None,
            retry_after: None,
            attachment: None,
            body,
        }
    }
    fn json(status: u16, body: String) -> Page {
        Page { content_type: "application/json", ..Page::html(status, body) }
    }
    fn redirect(to: String) -> Page {
        Page { location: Some(to), ..Page::html(303, String::new()) }
    }

    /// Headers every reply carries: never cached (it holds a device's state, a redirect holds
    /// credentials), no framing, no referrer (the URLs name the device), scripts only our own
    /// inline one. No `form-action`: Chromium applies it to the redirect after a form, and the
    /// voucher form's redirect goes to the router.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("content-type", self.content_type.to_string()),
            ("cache-control", "no-store".into()),
            (
                "content-security-policy",
                "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; \
                 frame-ancestors 'none'; base-uri 'none'"
                    .into(),
            ),
            ("x-content-type-options", "nosniff".into()),
            ("referrer-policy", "no-referrer".into()),
        ];
        if let Some(l) = &self.location {
            h.push(("location", l.clone()));
        }
        if let Some(s) = self.retry_after {
            h.push(("retry-after", s.to_string()));
        }
        if let Some(name) = &self.attachment {
            h.push(("content-disposition", format!("attachment; filename=\"{name}\"")));
        }
        h
    }
}

/// Where in the portal a request goes.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Start,
    Buy,
    Voucher,
    Wait(&'a str),
    Status(&'a str),
}

/// `/portal/{router}/…` → the router and the route; `None` for anything else.
fn portal_route<'a>(method: &str, path: &'a str) -> Option<(&'a str, Route<'a>)> {
    let rest = path.strip_prefix("/portal/")?;
    let (router, sub) = rest.split_once('/').map_or((rest, ""), |(r, s)| (r, s));
    let r = match (method, sub) {
        ("GET", "") => Route::Start,
        ("POST", "buy") => Route::Buy,
        ("POST", "voucher") => Route::Voucher,
        ("GET", s) => match (s.strip_prefix("wait/"), s.strip_prefix("api/status/")) {
            (Some(id), _) => Route::Wait(id),
            (_, Some(id)) => Route::Status(id),
            _ => return None,
        },
        _ => return None,
    };
    Some((router, r))
}

impl<P: Payments> Portal<'_, P> {
    pub async fn serve_portal(&self, req: &Req<'_>, now: i64) -> Page {
        if account::is_account_path(req.path) {
            return self.serve_account(req, now).await;
        }
        let query = context::fields(req.query.as_bytes());
        let lang = Lang::choose(query.get("lang").map(String::as_str), req.accept_language);
        let t = lang.t();
        let Some((router_id, r)) = portal_route(req.method, req.path) else {
            return handlers::notice(lang, 404, t.not_found_title, t.not_found_body);
        };
        let Some(router) = self.radius_router(router_id).await else {
            return handlers::notice(lang, 404, t.not_found_title, t.not_found_body);
        };
        let router = match router {
            Ok(r) => r,
            Err(page) => return page,
        };
        let h = handlers::Handler { portal: self, router: &router, now };
        match r {
            Route::Start => h.packages_page(&query, lang).await,
            Route::Wait(id) => h.waiting_page(&query, lang, id).await,
            Route::Status(id) => h.status_poll(lang, id).await,
            Route::Buy | Route::Voucher if req.body.len() > MAX_BODY => {
                handlers::notice(lang, 413, t.too_large_title, t.too_large_body)
            }
            Route::Buy | Route::Voucher => {
                let form = context::fields(req.body);
                // The form's own language wins over the query's (there is none on a POST).
                let lang = Lang::choose(form.get("lang").map(String::as_str), req.accept_language);
                match r {
                    Route::Buy => h.buy_page(&form, lang, req.remaining).await,
                    _ => h.voucher_page(&form, lang).await,
                }
            }
        }
    }

    /// The router the path names: `None` when there is no such router in RADIUS mode (an
    /// agent's router serves its own portal); `Err` with the page to show when it cannot sell.
    async fn radius_router(&self, raw: &str) -> Option<Result<RouterRecord, Page>> {
        let id: RouterId = raw.parse().ok()?;
        match self.purchases.settle.store.get_router(&id).await {
            Ok(Some(r)) if r.mode() == hotspot_cloud::store::router::RouterMode::Radius => Some(Ok(r)),
            Ok(_) => None,
            Err(e) => {
                tracing::error!(error = %e, "storage unavailable");
                let t = Lang::En.t();
                Some(Err(handlers::notice(Lang::En, 503, t.router_unavailable_title, t.cloud_unavailable)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(portal_route("GET", "/portal/cafe"), Some(("cafe", Route::Start)));
        assert_eq!(portal_route("GET", "/portal/cafe/"), Some(("cafe", Route::Start)));
        assert_eq!(portal_route("POST", "/portal/cafe/buy"), Some(("cafe", Route::Buy)));
        assert_eq!(portal_route("POST", "/portal/cafe/voucher"), Some(("cafe", Route::Voucher)));
        assert_eq!(portal_route("GET", "/portal/cafe/wait/p1"), Some(("cafe", Route::Wait("p1"))));
        assert_eq!(portal_route("GET", "/portal/cafe/api/status/p1"), Some(("cafe", Route::Status("p1"))));
        for (m, p) in
            [("POST", "/portal/cafe"), ("GET", "/portal/cafe/buy"), ("GET", "/portal/cafe/x"), ("GET", "/admin")]
        {
            assert_eq!(portal_route(m, p), None, "{m} {p}");
        }
    }
}
