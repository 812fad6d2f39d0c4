//! Routing: the limits every request meets first (rate, size, time), then which handler
//! answers it.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};

use hotspot_core::clock::now_unix;

use super::backend::PortalBackend;
use super::form::Form;
use super::handlers::{buy, index, status_json, voucher, wait};
use super::host;
use super::plumbing::{
    BODY_DRAIN_BYTES, BodyError, Ctx, Resp, accept_language, close, html, read_body, security_headers,
};
use super::state::Shared;
use portal_pages::i18n::Lang;
use portal_pages::pages::{self, Chrome};
use portal_pages::redirect::safe_destination;

/// Longest request target accepted (414 above): the login.html query with a long `dst` fits.
const MAX_URI_LEN: usize = 4096;

/// Where a connection came from and which of the portal's addresses it reached.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ends {
    pub peer: IpAddr,
    pub local: SocketAddr,
}

pub(crate) async fn handle<B: PortalBackend>(sh: &Shared<B>, ends: Ends, req: Request<Incoming>, nth: u32) -> Resp {
    let last = nth >= sh.cfg.max_requests_per_connection;
    let lang = Lang::choose(None, accept_language(req.headers()));
    let peer = ends.peer;
    let mut r = match tokio::time::timeout(sh.cfg.request_timeout, route(sh, ends, req)).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(%peer, "portal request timed out");
            let t = lang.t();
            let c = Chrome { lang, toggle_href: "/", base: "" };
            let page =
                pages::message(&c, t.router_unavailable_title, t.router_unavailable_body, Some(("/", t.back_to_start)));
            close(html(StatusCode::SERVICE_UNAVAILABLE, page))
        }
    };
    security_headers(r.headers_mut());
    if last { close(r) } else { r }
}

async fn route<B: PortalBackend>(sh: &Shared<B>, ends: Ends, req: Request<Incoming>) -> Resp {
    let header_lang = Lang::choose(None, accept_language(req.headers()));
    let IpAddr::V4(ip) = ends.peer else {
        let t = header_lang.t();
        let c = Chrome { lang: header_lang, toggle_href: "/", base: "" };
        return close(html(StatusCode::FORBIDDEN, pages::message(&c, t.ipv6_title, t.ipv6_body, None)));
    };
    let bare = Ctx { sh, ip, lang: header_lang, query: Form::default() };
    if let Err(wait) = sh.limiter.check(ip, Instant::now()) {
        let t = header_lang.t();
        // Closed, so a client over its limit cannot keep a connection slot either.
        return close(bare.too_many(wait, t.slow_down_title, t.slow_down_body));
    }
    let t = header_lang.t();
    let host_header = req.headers().get(header::HOST).map(HeaderValue::as_bytes);
    if !host::allowed(host_header, ends.local.ip(), &sh.cfg.names) {
        return wrong_host(&bare, ends.local, &req);
    }
    if req.uri().to_string().len() > MAX_URI_LEN {
        return close(bare.message(StatusCode::URI_TOO_LONG, t.bad_request_title, t.bad_request_body, None));
    }
    let query = match Form::parse(req.uri().query().unwrap_or("").as_bytes()) {
        Ok(q) => q,
        Err(_) => return bare.message(StatusCode::BAD_REQUEST, t.bad_request_title, t.bad_request_body, None),
    };
    let declared_len = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared_len.is_some_and(|n| n > (sh.cfg.max_body_bytes.saturating_add(BODY_DRAIN_BYTES)) as u64) {
        return close(bare.message(StatusCode::PAYLOAD_TOO_LARGE, t.too_large_title, t.too_large_body, None));
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let accept_lang = accept_language(req.headers()).map(str::to_string);
    // Every body is read (bounded) before routing, so no handler sees a half-read connection.
    let body = match read_body(req.into_body(), sh.cfg.max_body_bytes, sh.cfg.body_read_timeout).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            return close(bare.message(StatusCode::PAYLOAD_TOO_LARGE, t.too_large_title, t.too_large_body, None));
        }
        Err(BodyError::Timeout) => {
            return close(bare.message(StatusCode::REQUEST_TIMEOUT, t.bad_request_title, t.bad_request_body, None));
        }
        Err(BodyError::Broken) => {
            return close(bare.message(StatusCode::BAD_REQUEST, t.bad_request_title, t.bad_request_body, None));
        }
    };
    let lang = Lang::choose(query.get("lang"), accept_lang.as_deref());
    let cx = Ctx { sh, ip, lang, query };
    let get = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    match path.as_str() {
        "/" if get => index(&cx).await,
        "/buy" if post => match post_form(&cx, &body, accept_lang.as_deref()) {
            Ok((cx, form)) => buy(&cx, &form).await,
            Err(r) => *r,
        },
        "/voucher" if post => match post_form(&cx, &body, accept_lang.as_deref()) {
            Ok((cx, form)) => voucher(&cx, &form).await,
            Err(r) => *r,
        },
        "/" => not_allowed(&cx, "GET, HEAD"),
        "/buy" | "/voucher" => not_allowed(&cx, "POST"),
        p => {
            if let Some(id) = p.strip_prefix("/wait/") {
                if get { wait(&cx, id).await } else { not_allowed(&cx, "GET, HEAD") }
            } else if let Some(id) = p.strip_prefix("/api/status/") {
                if get { status_json(&cx, id).await } else { not_allowed(&cx, "GET, HEAD") }
            } else {
                let t = cx.lang.t();
                cx.message(StatusCode::NOT_FOUND, t.not_found_title, t.not_found_body, None)
            }
        }
    }
}

/// A request for another name (a rebinding page, a stale bookmark): a guest's GET is sent to the
/// portal's own address, anything else refused; nothing is read or changed.
fn wrong_host<B>(cx: &Ctx<'_, B>, local: SocketAddr, req: &Request<Incoming>) -> Resp {
    let t = cx.lang.t();
    let ip = host::canonical(local.ip());
    let base = match (ip, local.port()) {
        (IpAddr::V4(v4), 80) => format!("http://{v4}"),
        (IpAddr::V4(v4), port) => format!("http://{v4}:{port}"),
        (IpAddr::V6(v6), 80) => format!("http://[{v6}]"),
        (IpAddr::V6(v6), port) => format!("http://[{v6}]:{port}"),
    };
    let c = Chrome { lang: cx.lang, toggle_href: "/", base: "" };
    let home = format!("{base}/");
    let page = pages::message(&c, t.wrong_host_title, t.wrong_host_body, Some((&home, t.back_to_start)));
    if req.method() == Method::GET || req.method() == Method::HEAD {
        let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let mut r = html(StatusCode::FOUND, page);
        super::plumbing::set_header(&mut r, header::LOCATION, &format!("{base}{target}"));
        return close(r);
    }
    close(html(StatusCode::MISDIRECTED_REQUEST, page))
}

fn not_allowed<B>(cx: &Ctx<'_, B>, allow: &'static str) -> Resp {
    let t = cx.lang.t();
    let mut r = cx.message(StatusCode::METHOD_NOT_ALLOWED, t.method_title, t.method_body, None);
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

/// Parses a POSTed form and checks its CSRF token, before any handler (and so the backend) sees
/// it. The form's `lang` field picks the language of what follows.
fn post_form<'a, B>(cx: &Ctx<'a, B>, body: &[u8], accept_lang: Option<&str>) -> Result<(Ctx<'a, B>, Form), Box<Resp>> {
    let t = cx.lang.t();
    let Ok(form) = Form::parse(body) else {
        return Err(Box::new(cx.message(StatusCode::BAD_REQUEST, t.bad_request_title, t.bad_request_body, None)));
    };
    let lang = Lang::choose(form.get("lang").or(cx.query.get("lang")), accept_lang);
    let cx = Ctx { sh: cx.sh, ip: cx.ip, lang, query: cx.query.clone() };
    if !cx.sh.csrf.verify(form.str("csrf"), &cx.ip.octets(), now_unix()) {
        let t = lang.t();
        return Err(Box::new(cx.message(
            StatusCode::FORBIDDEN,
            t.csrf_title,
            t.csrf_body,
            safe_destination(form.str("dst")),
        )));
    }
    Ok((cx, form))
}
