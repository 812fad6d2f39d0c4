//! The page handlers: the packages page, buying, the waiting page and its status poll, and
//! vouchers. Each asks the backend and renders with `pages`.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::StatusCode;
use hyper::header;

use hotspot_core::clock::now_unix;
use hotspot_core::phone::PhoneNumber;
use hotspot_core::{MacAddr, PackageId, PurchaseId, VoucherCode};

use super::backend::{
    Guest, IdentifyError, PortalBackend, PurchaseProgress, PurchaseStartError, StatusError, VoucherLoginError,
};
use super::form::Form;
use super::plumbing::{Ctx, Resp, html, json, response, set_header};
use portal_pages::escape as esc;
use portal_pages::i18n::{self, Lang};
use portal_pages::pages::{self, Chrome, IndexView, WaitView};
use portal_pages::redirect::safe_destination;

const MAX_IDENTITY_CHARS: usize = 40;
const MAX_REFUSAL_CHARS: usize = 200;

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
        Err(IdentifyError::HiddenByNat) => {
            Err(cx.message(StatusCode::SERVICE_UNAVAILABLE, t.hidden_by_nat_title, t.hidden_by_nat_body, None))
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
    /// The wallet chosen on the form (kept when the page is shown again).
    wallet: &'a str,
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
    let csrf = cx.sh.csrf.issue(&cx.ip.octets(), now_unix());
    let wallets = cx.sh.backend.wallets().await;
    let country = cx.sh.backend.country().await;
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
        context: &[],
        banner: st.banner,
        buy_error: st.buy_error,
        voucher_error: st.voucher_error,
        wallets: wallets.as_slice(),
        wallet: st.wallet,
        country,
    };
    html(status, pages::index(&Chrome { lang: cx.lang, toggle_href: &toggle, base: "" }, &view))
}

/// `GET /`: the packages page, for a device the router knows, whose hints (if any) agree.
pub(crate) async fn index<B: PortalBackend>(cx: &Ctx<'_, B>) -> Resp {
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
        let chrome = Chrome { lang: cx.lang, toggle_href: &toggle, base: "" };
        let left = time_left(cx.lang, expires_at);
        return html(
            StatusCode::OK,
            pages::success(&chrome, t.online_title, t.online_body, left.as_deref(), dst, None),
        );
    }
    render_index(cx, StatusCode::OK, identity.as_deref(), dst, IndexState::default()).await
}

/// `POST /buy`: asks the cloud for an M-Pesa prompt, then sends the guest to the waiting page.
pub(crate) async fn buy<B: PortalBackend>(cx: &Ctx<'_, B>, form: &Form) -> Resp {
    let guest = match identify(cx).await {
        Ok(g) => g,
        Err(r) => return r,
    };
    let t = cx.lang.t();
    let dst = safe_destination(form.str("dst"));
    let package_raw = form.str("package");
    let phone_raw = form.str("phone");
    let st =
        IndexState { selected: Some(package_raw), phone: phone_raw, wallet: form.str("wallet"), ..Default::default() };
    if package_raw.is_empty() {
        let st = IndexState { buy_error: Some(t.choose_a_package), ..st };
        return render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await;
    }
    let Ok(package) = package_raw.parse::<PackageId>() else {
        let st = IndexState { buy_error: Some(t.no_such_package), ..st };
        return render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await;
    };
    let country = cx.sh.backend.country().await;
    let phone = match PhoneNumber::parse_in(country, phone_raw) {
        Ok(p) => p,
        Err(e) => {
            let msg = i18n::phone_error(cx.lang, &e);
            let st = IndexState { buy_error: Some(&msg), ..st };
            return render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await;
        }
    };
    let offered = cx.sh.backend.wallets().await;
    let Some(wallet) = offered.chosen(form.str("wallet"), &phone) else {
        let st = IndexState { buy_error: Some(t.not_this_wallet), ..st };
        return render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await;
    };
    match cx.sh.backend.start_purchase(guest, &package, &phone, wallet).await {
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
        Err(PurchaseStartError::RateLimited { retry_after_secs }) => {
            let wait = Duration::from_secs(retry_after_secs.clamp(1, 86_400) as u64);
            cx.too_many(wait, t.slow_down_title, t.too_many_attempts)
        }
        Err(PurchaseStartError::NoSuchPackage) => {
            let st = IndexState { buy_error: Some(t.no_such_package), ..st };
            render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await
        }
        Err(PurchaseStartError::PhoneStopped) => {
            let st = IndexState { buy_error: Some(t.phone_stopped), ..st };
            render_index(cx, StatusCode::FORBIDDEN, None, dst, st).await
        }
        Err(PurchaseStartError::HotspotDisabled) => {
            let st = IndexState { banner: Some(t.hotspot_disabled), ..st };
            render_index(cx, StatusCode::SERVICE_UNAVAILABLE, None, dst, st).await
        }
        Err(PurchaseStartError::PhoneDayLimit) => {
            let st = IndexState { buy_error: Some(t.phone_day_limit), ..st };
            render_index(cx, StatusCode::TOO_MANY_REQUESTS, None, dst, st).await
        }
        Err(PurchaseStartError::HotspotBusy { retry_after_secs }) => {
            let wait = Duration::from_secs(retry_after_secs.clamp(1, 86_400) as u64);
            cx.too_many(wait, t.slow_down_title, t.hotspot_busy)
        }
        Err(PurchaseStartError::Refused(msg)) => {
            let msg: String = msg.chars().take(MAX_REFUSAL_CHARS).collect();
            let st = IndexState { buy_error: Some(&msg), ..st };
            render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await
        }
        Err(PurchaseStartError::CloudUnavailable) => {
            let st = IndexState { banner: Some(t.cloud_unavailable), ..st };
            render_index(cx, StatusCode::SERVICE_UNAVAILABLE, None, dst, st).await
        }
    }
}

/// For a package of several devices: how another device joins (its code), else nothing.
async fn share_note<B: PortalBackend>(cx: &Ctx<'_, B>, guest: Guest, id: &PurchaseId) -> Option<String> {
    let (code, devices) = cx.sh.backend.share_code(guest, id).await?;
    Some(i18n::share_code(cx.lang, &code.grouped(), devices))
}

/// How long a grant has left, for the success page.
fn time_left(lang: Lang, expires_at: i64) -> Option<String> {
    let left = expires_at.saturating_sub(now_unix());
    (left > 0).then(|| i18n::duration(lang, left as u64))
}

/// `GET /wait/{id}`: the "check your phone" page, or what became of the purchase.
pub(crate) async fn wait<B: PortalBackend>(cx: &Ctx<'_, B>, raw_id: &str) -> Resp {
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
    let chrome = Chrome { lang: cx.lang, toggle_href: &toggle, base: "" };
    let retry = cx.start_href(cx.lang, dst);
    let waiting = |status: StatusCode, title: &str, body: &str| {
        let view = WaitView { id: &id, dst, title, body, retry_href: &retry };
        html(status, pages::waiting(&chrome, &view))
    };
    // Words that name M-Pesa only where it is the one wallet.
    let generic = !cx.sh.backend.wallets().await.is_mpesa_alone();
    let check_phone_body = if generic { t.check_phone_body_any } else { t.check_phone_body };
    match cx.sh.backend.purchase_progress(guest, &id).await {
        Ok(PurchaseProgress::AwaitingPayment) => waiting(StatusCode::OK, t.check_phone_title, check_phone_body),
        Ok(PurchaseProgress::Connecting) => waiting(StatusCode::OK, t.connecting_title, t.connecting_body),
        Ok(PurchaseProgress::Online { expires_at }) => {
            let left = time_left(cx.lang, expires_at);
            let share = share_note(cx, guest, &id).await;
            let page = pages::success(&chrome, t.online_title, t.online_body, left.as_deref(), dst, share.as_deref());
            html(StatusCode::OK, page)
        }
        Ok(PurchaseProgress::Ready { expires_at }) => {
            let left = time_left(cx.lang, expires_at);
            let share = share_note(cx, guest, &id).await;
            let page = pages::success(&chrome, t.ready_title, t.ready_body, left.as_deref(), dst, share.as_deref());
            html(StatusCode::OK, page)
        }
        Ok(PurchaseProgress::Failed(reason)) => {
            let body = i18n::failure_text(cx.lang, reason, generic);
            html(StatusCode::OK, pages::message(&chrome, t.failed_title, &body, Some((&retry, t.try_again))))
        }
        Err(StatusError::NotFound) => cx.message(StatusCode::NOT_FOUND, t.not_found_title, t.not_found_body, dst),
        Err(StatusError::Unavailable) => {
            waiting(StatusCode::SERVICE_UNAVAILABLE, t.check_phone_title, t.status_unavailable)
        }
    }
}

/// `GET /api/status/{id}`: the waiting page's script polls this.
pub(crate) async fn status_json<B: PortalBackend>(cx: &Ctx<'_, B>, raw_id: &str) -> Resp {
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
        Err(IdentifyError::HiddenByNat) => {
            return json(StatusCode::SERVICE_UNAVAILABLE, "hidden_by_nat", t.hidden_by_nat_title, t.hidden_by_nat_body);
        }
    };
    let generic = !cx.sh.backend.wallets().await.is_mpesa_alone();
    match cx.sh.backend.purchase_progress(guest, &id).await {
        Ok(PurchaseProgress::AwaitingPayment) => {
            let body = if generic { t.check_phone_body_any } else { t.check_phone_body };
            json(StatusCode::OK, "awaiting_payment", t.check_phone_title, body)
        }
        Ok(PurchaseProgress::Connecting) => json(StatusCode::OK, "connecting", t.connecting_title, t.connecting_body),
        Ok(PurchaseProgress::Online { .. }) => json(StatusCode::OK, "online", t.online_title, t.online_body),
        Ok(PurchaseProgress::Ready { .. }) => json(StatusCode::OK, "ready", t.ready_title, t.ready_body),
        Ok(PurchaseProgress::Failed(reason)) => {
            json(StatusCode::OK, "failed", t.failed_title, &i18n::failure_text(cx.lang, reason, generic))
        }
        Err(StatusError::NotFound) => json(StatusCode::NOT_FOUND, "not_found", t.not_found_title, t.not_found_body),
        Err(StatusError::Unavailable) => {
            json(StatusCode::SERVICE_UNAVAILABLE, "unavailable", t.check_phone_title, t.status_unavailable)
        }
    }
}

/// `POST /voucher`: logs the guest in with a code, limited per client so codes cannot be guessed.
pub(crate) async fn voucher<B: PortalBackend>(cx: &Ctx<'_, B>, form: &Form) -> Resp {
    let t = cx.lang.t();
    if let Err(wait) = cx.sh.voucher_limiter.check(cx.ip, Instant::now()) {
        tracing::warn!(ip = %cx.ip, "portal: voucher attempts limited");
        return cx.too_many(wait, t.slow_down_title, t.too_many_attempts);
    }
    // The router's budget of wrong codes, shared by every address: many guessers run out too.
    let everyone = std::net::Ipv4Addr::UNSPECIFIED;
    if let Err(wait) = cx.sh.voucher_failures.peek(everyone, Instant::now()) {
        tracing::warn!("portal: voucher failure budget spent, codes paused");
        return cx.too_many(wait, t.slow_down_title, t.codes_paused);
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
            let _ = cx.sh.voucher_failures.check(everyone, Instant::now());
            let msg = i18n::voucher_error(cx.lang, &e);
            let st = IndexState { code: raw, voucher_error: Some(&msg), ..Default::default() };
            return render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await;
        }
    };
    match cx.sh.backend.voucher_login(guest, &code).await {
        Ok(()) => {
            let toggle = cx.start_href(cx.lang.other(), dst);
            let chrome = Chrome { lang: cx.lang, toggle_href: &toggle, base: "" };
            html(StatusCode::OK, pages::success(&chrome, t.voucher_ok, t.online_body, None, dst, None))
        }
        Err(VoucherLoginError::Invalid) => {
            let _ = cx.sh.voucher_failures.check(everyone, Instant::now());
            let st = IndexState { code: raw, voucher_error: Some(t.voucher_invalid), ..Default::default() };
            render_index(cx, StatusCode::BAD_REQUEST, None, dst, st).await
        }
        Err(VoucherLoginError::DevicesFull { devices }) => {
            let msg = i18n::devices_full(cx.lang, devices);
            let st = IndexState { code: raw, voucher_error: Some(&msg), ..Default::default() };
            render_index(cx, StatusCode::CONFLICT, None, dst, st).await
        }
        Err(VoucherLoginError::RouterUnavailable) => {
            cx.message(StatusCode::SERVICE_UNAVAILABLE, t.router_unavailable_title, t.router_unavailable_body, dst)
        }
    }
}
