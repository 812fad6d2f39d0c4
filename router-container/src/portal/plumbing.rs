//! The portal's HTTP plumbing: reply builders and the headers every page carries, the bounded
//! body reader, and the per-request context handlers render with.

use std::net::Ipv4Addr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

use super::form::Form;
use super::state::Shared;
use portal_pages::escape as esc;
use portal_pages::i18n::{self, Lang};
use portal_pages::pages::{self, Chrome};

pub(crate) type Resp = Response<Full<Bytes>>;

/// After a body proves too large, up to this much more is read and dropped so the client still
/// gets the 413 page rather than a connection reset.
pub(crate) const BODY_DRAIN_BYTES: usize = 64 * 1024;

// `connect-src 'self'`: the waiting page's script polls `/api/status/…` (without it a browser
// blocks the poll and a paying guest with JavaScript waits forever).
pub(crate) const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub(crate) fn response(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

pub(crate) fn html(status: StatusCode, body: String) -> Resp {
    response(status, "text/html; charset=utf-8", body)
}

pub(crate) fn security_headers(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k: HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::X_FRAME_OPTIONS, "DENY");
}

pub(crate) fn set_header(r: &mut Resp, k: HeaderName, v: &str) {
    if let Ok(v) = HeaderValue::from_str(v) {
        r.headers_mut().insert(k, v);
    }
}

pub(crate) fn close(mut r: Resp) -> Resp {
    r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// What a request asks for, parsed once.
pub(crate) struct Ctx<'a, B> {
    pub sh: &'a Shared<B>,
    pub ip: Ipv4Addr,
    pub lang: Lang,
    pub query: Form,
}

impl<B> Ctx<'_, B> {
    /// Back to the packages page, keeping language and destination.
    pub(crate) fn start_href(&self, lang: Lang, dst: Option<&str>) -> String {
        let mut s = format!("/?lang={}", lang.code());
        if let Some(d) = dst {
            s.push_str("&dst=");
            s.push_str(&esc::url_component(d));
        }
        s
    }

    pub(crate) fn message(&self, status: StatusCode, title: &str, body: &str, dst: Option<&str>) -> Resp {
        let toggle = self.start_href(self.lang.other(), dst);
        let start = self.start_href(self.lang, dst);
        let page = pages::message(
            &Chrome { lang: self.lang, toggle_href: &toggle, base: "" },
            title,
            body,
            Some((&start, self.lang.t().back_to_start)),
        );
        html(status, page)
    }

    pub(crate) fn too_many(&self, wait: Duration, title: &str, body: &str) -> Resp {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let text = format!("{body} {}.", i18n::duration(self.lang, secs.max(1)));
        let mut r = self.message(StatusCode::TOO_MANY_REQUESTS, title, &text, None);
        set_header(&mut r, header::RETRY_AFTER, &secs.max(1).to_string());
        r
    }
}

pub(crate) fn accept_language(h: &HeaderMap) -> Option<&str> {
    h.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

pub(crate) enum BodyError {
    TooLarge,
    Timeout,
    Broken,
}

pub(crate) async fn read_body(body: Incoming, max: usize, limit: Duration) -> Result<Bytes, BodyError> {
    let read = async move {
        let mut body = body;
        let mut buf = Vec::new();
        let mut total = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Broken)?;
            let Ok(data) = frame.into_data() else { continue };
            total = total.saturating_add(data.len());
            if total > max {
                if total > max.saturating_add(BODY_DRAIN_BYTES) {
                    break;
                }
                continue;
            }
            buf.extend_from_slice(&data);
        }
        if total > max { Err(BodyError::TooLarge) } else { Ok(Bytes::from(buf)) }
    };
    tokio::time::timeout(limit, read).await.unwrap_or(Err(BodyError::Timeout))
}

pub(crate) fn json(status: StatusCode, state: &str, title: &str, message: &str) -> Resp {
    let v = serde_json::json!({ "state": state, "title": title, "message": message });
    response(status, "application/json", v.to_string())
}
