//! Request handling: limits, routing and the handlers for each page.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use hotspot_core::clock::now_unix;
use hotspot_core::{MacAddr, Msisdn, PackageId, PurchaseId, VoucherCode};

use super::backend::{
    Guest, IdentifyError, PortalBackend, PurchaseProgress, StartError, StatusError, VoucherLoginError,
};
use super::escape as esc;
use super::form::Form;
use super::i18n::{self, Lang};
use super::pages::{self, Chrome, IndexView, WaitView};
use super::redirect::safe_destination;
use super::server::Shared;

pub(crate) type Resp = Response<Full<Bytes>>;

/// Longest request target accepted (414 above): the login.html query with a long `dst` fits.
const MAX_URI_LEN: usize = 4096;
/// After a body proves too large, up to this much more is read and dropped so the client still
/// gets the 413 page rather than a connection reset.
const BODY_DRAIN_BYTES: usize = 64 * 1024;
const MAX_IDENTITY_CHARS: usize = 40;
const MAX_REFUSAL_CHARS: usize = 200;

// `connect-src 'self'`: the waiting page's script polls `/api/status/…` (without it a browser
// blocks the poll and a paying guest with JavaScript waits forever).
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn response(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn html(status: StatusCode, body: String) -> Resp {
    response(status, "text/html; charset=utf-8", body)
}

fn security_headers(h: &mut HeaderMap) {
    let set = |h: &mut HeaderMap, k: HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::X_FRAME_OPTIONS, "DENY");
}

fn set_header(r: &mut Resp, k: HeaderName, v: &str) {
    if let Ok(v) = HeaderValue::from_str(v) {
        r.headers_mut().insert(k, v);
    }
}

fn close(mut r: Resp) -> Resp {
    r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// What a request asks for, parsed once.
struct Ctx<'a, B> {
    sh: &'a Shared<B>,
    ip: Ipv4Addr,
    lang: Lang,
    query: Form,
}

impl<B> Ctx<'_, B> {
    /// Back to the packages page, keeping language and destination.
    fn start_href(&self, lang: Lang, dst: Option<&str>) -> String {
        let mut s = format!("/?lang={}", lang.code());
        if let Some(d) = dst {
            s.push_str("&dst=");
            s.push_str(&esc::url_component(d));
        }
        s
    }

    fn message(&self, status: StatusCode, title: &str, body: &str, dst: Option<&str>) -> Resp {
        let toggle = self.start_href(self.lang.other(), dst);
        let start = self.start_href(self.lang, dst);
        let page = pages::message(
            &Chrome { lang: self.lang, toggle_href: &toggle },
            title,
            body,
            Some((&start, self.lang.t().back_to_start)),
        );
        html(status, page)
    }

    fn too_many(&self, wait: Duration, title: &str, body: &str) -> Resp {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let text = format!("{body} {}.", i18n::duration(self.lang, secs.max(1)));
        let mut r = self.message(StatusCode::TOO_MANY_REQUESTS, title, &text, None);
        set_header(&mut r, header::RETRY_AFTER, &secs.max(1).to_string());
        r
    }
}

pub(crate) async fn handle<B: PortalBackend>(sh: &Shared<B>, peer: IpAddr, req: Request<Incoming>, nth: u32) -> Resp {
    let last = nth >= sh.cfg.max_requests_per_connection;
    let lang = Lang::choose(None, accept_language(req.headers()));
    let mut r = match tokio::time::timeout(sh.cfg.request_timeout, route(sh, peer, req)).await {
        Ok(r) => r,
        Err(_) => {
            tracing::warn!(%peer, "portal request timed out");
            let t = lang.t();
            let c = Chrome { lang, toggle_href: "/" };
            let page =
                pages::message(&c, t.router_unavailable_title, t.router_unavailable_body, Some(("/", t.back_to_start)));
            close(html(StatusCode::SERVICE_UNAVAILABLE, page))
        }
    };
    security_headers(r.headers_mut());
    if last { close(r) } else { r }
}

fn accept_language(h: &HeaderMap) -> Option<&str> {
    h.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

enum BodyError {
    TooLarge,
    Timeout,
    Broken,
}

async fn read_body(body: Incoming, max: usize, limit: Duration) -> Result<Bytes, BodyError> {
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

async fn route<B: PortalBackend>(sh: &Shared<B>, peer: IpAddr, req: Request<Incoming>) -> Resp {
    let header_lang = Lang::choose(None, accept_language(req.headers()));
    let IpAddr::V4(ip) = peer else {
        let t = header_lang.t();
        let c = Chrome { lang: header_lang, toggle_href: "/" };
        return close(html(StatusCode::FORBIDDEN, pages::message(&c, t.ipv6_title, t.ipv6_body, None)));
    };
    let bare = Ctx { sh, ip, lang: header_lang, query: Form::default() };
    if let Err(wait) = sh.limiter.check(ip, Instant::now()) {
        let t = header_lang.t();
        return bare.too_many(wait, t.slow_down_title, t.slow_down_body);
    }
    let t = header_lang.t();
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
    if !cx.sh.csrf.verify(form.str("csrf"), cx.ip, now_unix()) {
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

/// The guest as the router knows them, or the page that explains why there is none.
async fn identify<B: PortalBackend>(cx: &Ctx<'_, B>) -> Result<Guest, Resp> {
    identified(cx, cx.sh.backend.identify(cx.ip)).await
}

/// As `identify`, from a lookup made a moment ago if there is one (pages that only show things).
async fn identify_recent<B: PortalBackend>(cx: &Ctx<'_, B>) -> Result<Guest, Resp> {
    identified(cx, cx.sh.backend.identify_recent(cx.ip)).await
}

async fn identified<B>(
    cx: &Ctx<'_, B>,
    lookup: impl Future<Output = Result<MacAddr, IdentifyError>>,
) -> Result<Guest, Resp> {
    let t = cx.lang.t();
    match lookup.await {
        Ok(mac) => Ok(Guest { ip: cx.ip, mac }),
        Err(IdentifyError::NotAHost) => {
            Err(cx.message(StatusCode::FORBIDDEN, t.not_a_host_title, t.not_a_host_body, None))
        }
        Err(IdentifyError::RouterUnavailable) => Err(cx.message(
            StatusCode::SERVICE_UNAVAILABLE,
            t.router_unavailable_title,
            t.router_unavailable_body,
            None,
        )),
    }
}

fn identity_hint(q: &Form) -> Option<String> {
    let s: String = q.get("identity")?.chars().filter(|c| !c.is_control()).take(MAX_IDENTITY_CHARS).collect();
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// What the packages page shows besides the packages themselves.
#[derive(Default)]
struct IndexState<'a> {
    selected: Option<&'a str>,
    phone: &'a str,
    code: &'a str,
    banner: Option<&'a str>,
    buy_error: Option<&'a str>,
    voucher_error: Option<&'a str>,
}

async fn render_index<B: PortalBackend>(
    cx: &Ctx<'_, B>,
    status: StatusCode,
    identity: Option<&str>,
    dst: Option<&str>,
    st: IndexState<'_>,
) -> Resp {
    let all = cx.sh.backend.packages().await;
    let shown = &all[..all.len().min(cx.sh.cfg.max_packages_shown)];
    let cards = match st.selected {
        None => cx.sh.cards.get(cx.lang, &all, || pages::package_cards(cx.lang, shown, None)),
        Some(_) => pages::package_cards(cx.lang, shown, st.selected).into(),
    };
    let csrf = cx.sh.csrf.issue(cx.ip, now_unix());
    let mut toggle = cx.start_href(cx.lang.other(), dst);
    if let Some(name) = identity {
        toggle.push_str("&identity=");
        toggle.push_str(&esc::url_component(name));
    }
    let view = IndexView {
        identity,
        cards: &cards,
        phone: st.phone,
        code: st.code,
        csrf: &csrf,
        dst,
        banner: st.banner,
        buy_error: st.buy_error,
        voucher_error: st.voucher_error,
    };
    html(status, pages::index(&Chrome { lang: cx.lang, toggle_href: &toggle }, &view))
}

/// `GET /`: the packages page, for a device the router knows, whose hints (if any) agree.
async fn index<B: PortalBackend>(cx: &Ctx<'_, B>) -> Resp {
    // `resume`, the one thing here that changes the router, looks the device up again itself.
    let guest = match identify_recent(cx).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let t = cx.lang.t();
    let mac_ok = match cx.query.get("mac").map(str::trim).filter(|s| !s.is_empty()) {
        None => true,
        Some(hint) => hint.parse::<MacAddr>().is_ok_and(|m| m == guest.mac),
    };
    let ip_ok = match cx.query.get("ip").map(str::trim).filter(|s| !s.is_empty()) {
        None => true,
        Some(hint) => hint.parse::<Ipv4Addr>().is_ok_and(|i| i == guest.ip),
    };
    if !mac_ok || !ip_ok {
        tracing::warn!(ip = %cx.ip, "portal: device hints do not match the router's host table");
        return cx.message(StatusCode::FORBIDDEN, t.spoofed_title, t.spoofed_body, None);
    }
    let identity = identity_hint(&cx.query);
    let dst = safe_destination(cx.query.str("dst"));
    // Time already paid for: log the device back in rather than sell it more.
    if let Some(expires_at) = cx.sh.backend.resume(guest).await {
        let toggle = cx.start_href(cx.lang.other(), dst);
        let chrome = Chrome { lang: cx.lang, toggle_href: &toggle };
        let left = time_left(cx.lang, expires_at);
        return html(StatusCode::OK, pages::success(&chrome, t.online_title, t.online_body, left.as_deref(), dst));
    }
    render_index(cx, StatusCode::OK, identity.as_deref(), dst, IndexState::default()).await
}

/// `POST /buy`: asks the cloud for an M-Pesa prompt, then sends the guest to the waiting page.
async fn buy<B: PortalBackend>(cx: &Ctx<'_, B>, form: &Form) -> Resp {
    let guest = match identify(cx).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let t = cx.lang.t();
    let dst = safe_destination(form.str("dst"));
    let package_raw = form.str("package");
    let phone_raw = form.str("phone");
    let st = IndexState { selected: Some(package_raw), phone: phone_raw, ..Default::default() };
    if package_raw.is_empty() {
        let st = IndexState { buy_error: Some(t.choose_a_package), ..st };
        return render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await;
    }
    let Ok(package) = package_raw.parse::<PackageId>() else {
        let st = IndexState { buy_error: Some(t.no_such_package), ..st };
        return render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await;
    };
    let phone = match phone_raw.parse::<Msisdn>() {
        Ok(p) => p,
        Err(e) => {
            let msg = i18n::msisdn_error(cx.lang, &e);
            let st = IndexState { buy_error: Some(&msg), ..st };
            return render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await;
        }
    };
    match cx.sh.backend.start_purchase(guest, &package, &phone).await {
        Ok(started) => {
            let mut loc = format!("/wait/{}?lang={}", started.purchase_id.as_str(), cx.lang.code());
            if let Some(d) = dst {
                loc.push_str("&dst=");
                loc.push_str(&esc::url_component(d));
            }
            let mut r = response(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", Bytes::new());
            set_header(&mut r, header::LOCATION, &loc);
            r
        }
        Err(StartError::RateLimited { retry_after_secs }) => {
            let wait = Duration::from_secs(retry_after_secs.clamp(1, 86_400) as u64);
            cx.too_many(wait, t.slow_down_title, t.too_many_attempts)
        }
        Err(StartError::NoSuchPackage) => {
            let st = IndexState { buy_error: Some(t.no_such_package), ..st };
            render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await
        }
        Err(StartError::Refused(msg)) => {
            let msg: String = msg.chars().take(MAX_REFUSAL_CHARS).collect();
            let st = IndexState { buy_error: Some(&msg), ..st };
            render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await
        }
        Err(StartError::CloudUnavailable) => {
            let st = IndexState { banner: Some(t.cloud_unavailable), ..st };
            render_index(cx, StatusCode::SERVICE_UNAVAILABLE, None, dst, st).await
        }
    }
}

/// How long a grant has left, for the success page.
fn time_left(lang: Lang, expires_at: i64) -> Option<String> {
    let left = expires_at.saturating_sub(now_unix());
    (left > 0).then(|| i18n::duration(lang, left as u64))
}

/// `GET /wait/{id}`: the "check your phone" page, or what became of the purchase.
async fn wait<B: PortalBackend>(cx: &Ctx<'_, B>, raw_id: &str) -> Resp {
    let t = cx.lang.t();
    let dst = safe_destination(cx.query.str("dst"));
    let Ok(id) = raw_id.parse::<PurchaseId>() else {
        return cx.message(StatusCode::NOT_FOUND, t.not_found_title, t.not_found_body, dst);
    };
    let guest = match identify(cx).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let mut toggle = format!("/wait/{}?lang={}", id.as_str(), cx.lang.other().code());
    if let Some(d) = dst {
        toggle.push_str("&dst=");
        toggle.push_str(&esc::url_component(d));
    }
    let chrome = Chrome { lang: cx.lang, toggle_href: &toggle };
    let retry = cx.start_href(cx.lang, dst);
    let waiting = |status: StatusCode, title: &str, body: &str| {
        let view = WaitView { id: &id, dst, title, body, retry_href: &retry };
        html(status, pages::waiting(&chrome, &view))
    };
    match cx.sh.backend.purchase_progress(guest, &id).await {
        Ok(PurchaseProgress::AwaitingPayment) => waiting(StatusCode::OK, t.check_phone_title, t.check_phone_body),
        Ok(PurchaseProgress::Connecting) => waiting(StatusCode::OK, t.connecting_title, t.connecting_body),
        Ok(PurchaseProgress::Online { expires_at }) => {
            let left = time_left(cx.lang, expires_at);
            html(StatusCode::OK, pages::success(&chrome, t.online_title, t.online_body, left.as_deref(), dst))
        }
        Ok(PurchaseProgress::Ready { expires_at }) => {
            let left = time_left(cx.lang, expires_at);
            html(StatusCode::OK, pages::success(&chrome, t.ready_title, t.ready_body, left.as_deref(), dst))
        }
        Ok(PurchaseProgress::Failed(reason)) => {
            let body = i18n::payment_failure(cx.lang, reason);
            html(StatusCode::OK, pages::message(&chrome, t.failed_title, body, Some((&retry, t.try_again))))
        }
        Err(StatusError::NotFound) => cx.message(StatusCode::NOT_FOUND, t.not_found_title, t.not_found_body, dst),
        Err(StatusError::Unavailable) => {
            waiting(StatusCode::SERVICE_UNAVAILABLE, t.check_phone_title, t.status_unavailable)
        }
    }
}

fn json(status: StatusCode, state: &str, title: &str, message: &str) -> Resp {
    let v = serde_json::json!({ "state": state, "title": title, "message": message });
    response(status, "application/json", v.to_string())
}

/// `GET /api/status/{id}`: the waiting page's script polls this.
async fn status_json<B: PortalBackend>(cx: &Ctx<'_, B>, raw_id: &str) -> Resp {
    let t = cx.lang.t();
    let Ok(id) = raw_id.parse::<PurchaseId>() else {
        return json(StatusCode::NOT_FOUND, "not_found", t.not_found_title, t.not_found_body);
    };
    let guest = match cx.sh.backend.identify(cx.ip).await {
        Ok(mac) => Guest { ip: cx.ip, mac },
        Err(IdentifyError::NotAHost) => {
            return json(StatusCode::FORBIDDEN, "not_a_host", t.not_a_host_title, t.not_a_host_body);
        }
        Err(IdentifyError::RouterUnavailable) => {
            return json(StatusCode::SERVICE_UNAVAILABLE, "unavailable", t.check_phone_title, t.status_unavailable);
        }
    };
    match cx.sh.backend.purchase_progress(guest, &id).await {
        Ok(PurchaseProgress::AwaitingPayment) => {
            json(StatusCode::OK, "awaiting_payment", t.check_phone_title, t.check_phone_body)
        }
        Ok(PurchaseProgress::Connecting) => json(StatusCode::OK, "connecting", t.connecting_title, t.connecting_body),
        Ok(PurchaseProgress::Online { .. }) => json(StatusCode::OK, "online", t.online_title, t.online_body),
        Ok(PurchaseProgress::Ready { .. }) => json(StatusCode::OK, "ready", t.ready_title, t.ready_body),
        Ok(PurchaseProgress::Failed(reason)) => {
            json(StatusCode::OK, "failed", t.failed_title, i18n::payment_failure(cx.lang, reason))
        }
        Err(StatusError::NotFound) => json(StatusCode::NOT_FOUND, "not_found", t.not_found_title, t.not_found_body),
        Err(StatusError::Unavailable) => {
            json(StatusCode::SERVICE_UNAVAILABLE, "unavailable", t.check_phone_title, t.status_unavailable)
        }
    }
}

/// `POST /voucher`: logs the guest in with a code, limited per client so codes cannot be guessed.
async fn voucher<B: PortalBackend>(cx: &Ctx<'_, B>, form: &Form) -> Resp {
    let t = cx.lang.t();
    if let Err(wait) = cx.sh.voucher_limiter.check(cx.ip, Instant::now()) {
        tracing::warn!(ip = %cx.ip, "portal: voucher attempts limited");
        return cx.too_many(wait, t.slow_down_title, t.too_many_attempts);
    }
    let guest = match identify(cx).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let dst = safe_destination(form.str("dst"));
    let raw = form.str("code");
    let code = match raw.parse::<VoucherCode>() {
        Ok(c) => c,
        Err(e) => {
            let msg = i18n::voucher_error(cx.lang, &e);
            let st = IndexState { code: raw, voucher_error: Some(&msg), ..Default::default() };
            return render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await;
        }
    };
    match cx.sh.backend.voucher_login(guest, &code).await {
        Ok(()) => {
            let toggle = cx.start_href(cx.lang.other(), dst);
            let chrome = Chrome { lang: cx.lang, toggle_href: &toggle };
            html(StatusCode::OK, pages::success(&chrome, t.voucher_ok, t.online_body, None, dst))
        }
        Err(VoucherLoginError::Invalid) => {
            let st = IndexState { code: raw, voucher_error: Some(t.voucher_invalid), ..Default::default() };
            render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await
        }
        Err(VoucherLoginError::RouterUnavailable) => {
            cx.message(StatusCode::SERVICE_UNAVAILABLE, t.router_unavailable_title, t.router_unavailable_body, dst)
        }
    }
}
