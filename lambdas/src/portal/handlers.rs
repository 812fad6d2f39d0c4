//! The cloud portal's pages, one function per route; the decisions are the purchase function's
//! (`purchase::purchase_within`), the wording `portal-pages`'.

use std::time::Duration;

use hotspot_cloud::store::RouterRecord;
use hotspot_core::api::{ApiError, PurchaseRequest, PurchaseState, PurchaseView, codes};
use hotspot_core::phone::PhoneNumber;
use hotspot_core::wire::PaymentFailure;
use hotspot_core::{PackageId, PurchaseId, VoucherCode};
use portal_pages::csrf::CsrfKey;
use portal_pages::i18n::{self, Lang};
use portal_pages::pages::{self, Chrome, IndexView, WaitView};
use serde_json::json;

use super::context::{Context, Fields, field};
use super::{Page, Portal};
use crate::providers::Payments;
use crate::purchase::{purchase_asking, purchase_within};

/// A refusal's own words are shown at most this long.
const MAX_REFUSAL_CHARS: usize = 200;

pub struct Handler<'a, 'p, P> {
    pub portal: &'a Portal<'p, P>,
    pub router: &'a RouterRecord,
    pub now: i64,
}

/// What the package page shows besides the packages.
#[derive(Default)]
struct IndexState<'a> {
    selected: Option<&'a str>,
    phone: &'a str,
    code: &'a str,
    wallet: &'a str,
    banner: Option<&'a str>,
    buy_error: Option<&'a str>,
    voucher_error: Option<&'a str>,
}

/// A page that only says something.
pub fn notice(lang: Lang, status: u16, title: &str, body: &str) -> Page {
    let toggle = format!("?lang={}", lang.other().code());
    Page::html(status, pages::message(&Chrome { lang, toggle_href: &toggle, base: "" }, title, body, None))
}

impl<P: Payments> Handler<'_, '_, P> {
    fn portal_base(&self) -> String {
        format!("/portal/{}", self.router.id)
    }

    fn csrf_key(&self) -> CsrfKey {
        CsrfKey::derive(self.router.key.as_bytes())
    }

    /// The device and login page, or the page that says to start from the WiFi.
    fn device_context(&self, f: &Fields, lang: Lang) -> Result<Context, Page> {
        let t = lang.t();
        Context::parse(f).ok_or_else(|| notice(lang, 400, t.not_a_host_title, t.not_a_host_body))
    }

    /// `GET /portal/{router}`: the packages and the voucher form.
    /// With `error`: the router refused the last login (its `login.html` passes `$(error)`), so
    /// the page says why, in the router's words, escaped and cut short.
    pub async fn packages_page(&self, q: &Fields, lang: Lang) -> Page {
        let cx = match self.device_context(q, lang) {
            Ok(cx) => cx,
            Err(p) => return p,
        };
        let refused = field(q, "error").trim();
        let banner = (!refused.is_empty()).then(|| {
            format!("{} {}", lang.t().router_refused, refused.chars().take(MAX_REFUSAL_CHARS).collect::<String>())
        });
        self.render_packages(&cx, lang, 200, IndexState { banner: banner.as_deref(), ..Default::default() }).await
    }

    async fn render_packages(&self, cx: &Context, lang: Lang, status: u16, st: IndexState<'_>) -> Page {
        let t = lang.t();
        let store = self.portal.purchases.settle.store;
        let (packages, banner) = match store.list_packages(&self.router.id).await {
            Ok(list) => (list.into_iter().filter(|p| p.on_sale).map(|p| p.package).collect(), st.banner),
            Err(e) => {
                tracing::error!(error = %e, "storage unavailable");
                (Vec::new(), Some(t.cloud_unavailable))
            }
        };
        let banner = if self.router.disabled_at.is_some() { Some(t.hotspot_disabled) } else { banner };
        let cards = pages::package_cards(lang, &packages, st.selected);
        let hidden = cx.hidden();
        let context: Vec<(&str, &str)> = hidden.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let csrf = self.csrf_key().issue(&cx.mac.octets(), self.now);
        let base = self.portal_base();
        let toggle = format!("{base}?{}", cx.query(lang.other()));
        let view = IndexView {
            identity: Some(&self.router.name),
            cards: &cards,
            phone: st.phone,
            code: st.code,
            csrf: &csrf,
            dst: cx.dst.as_deref(),
            context: &context,
            banner,
            buy_error: st.buy_error,
            voucher_error: st.voucher_error,
            wallets: self.router.wallets.as_slice(),
            wallet: st.wallet,
            country: self.router.country,
        };
        Page::html(status, pages::index(&Chrome { lang, toggle_href: &toggle, base: &base }, &view))
    }

    /// The context and a CSRF token this router's portal gave this device within the hour.
    fn form_device_context(&self, f: &Fields, lang: Lang) -> Result<Context, Page> {
        let cx = self.device_context(f, lang)?;
        if !self.csrf_key().verify(field(f, "csrf"), &cx.mac.octets(), self.now) {
            let t = lang.t();
            return Err(notice(lang, 403, t.csrf_title, t.csrf_body));
        }
        Ok(cx)
    }

    /// `POST /portal/{router}/buy`: the payment prompt, then the waiting page.
    pub async fn buy_page(&self, f: &Fields, lang: Lang, remaining: Option<Duration>) -> Page {
        let cx = match self.form_device_context(f, lang) {
            Ok(c) => c,
            Err(p) => return p,
        };
        let t = lang.t();
        let refusal = match self.purchase_request(&cx, f, lang) {
            Err(msg) => (400, None, Some(msg), None),
            Ok(req) => {
                let body = serde_json::to_vec(&req).unwrap_or_default();
                let reply = purchase_within(&self.portal.purchases, self.router, &body, remaining, self.now).await;
                if reply.status == 201
                    && let Ok(v) = serde_json::from_value::<PurchaseView>(reply.body.clone())
                {
                    return Page::redirect(format!("{}/wait/{}?{}", self.portal_base(), v.purchase_id, cx.query(lang)));
                }
                let e: ApiError =
                    serde_json::from_value(reply.body).unwrap_or_else(|_| ApiError::new("unavailable", ""));
                let (status, banner, error) = match (reply.status, e.error.as_str()) {
                    (_, codes::PROMPTS_STOPPED) => (403, None, Some(t.phone_stopped.to_string())),
                    (_, codes::PHONE_DAY_LIMIT) => (429, None, Some(t.phone_day_limit.to_string())),
                    (_, codes::ROUTER_BUSY) => (429, None, Some(t.hotspot_busy.to_string())),
                    (_, codes::ROUTER_DISABLED) => (503, Some(t.hotspot_disabled), None),
                    (429, _) => (429, None, Some(t.too_many_attempts.to_string())),
                    (404, _) => (400, None, Some(t.no_such_package.to_string())),
                    (400, _) => (400, None, Some(e.message.chars().take(MAX_REFUSAL_CHARS).collect())),
                    _ => (503, Some(t.cloud_unavailable), None),
                };
                (status, banner, error, e.retry_after)
            }
        };
        let (status, banner, error, retry_after) = refusal;
        let st = IndexState {
            selected: Some(field(f, "package")),
            phone: field(f, "phone"),
            wallet: field(f, "wallet"),
            banner,
            buy_error: error.as_deref(),
            ..Default::default()
        };
        let mut page = self.render_packages(&cx, lang, status, st).await;
        page.retry_after = retry_after.map(|s| s.clamp(1, 86_400) as u64);
        page
    }

    /// The purchase the form asks for, or what to tell the guest about the form.
    fn purchase_request(&self, cx: &Context, f: &Fields, lang: Lang) -> Result<PurchaseRequest, String> {
        let t = lang.t();
        let package_raw = field(f, "package");
        let Ok(package_id) = package_raw.parse::<PackageId>() else {
            return Err(if package_raw.is_empty() { t.choose_a_package } else { t.no_such_package }.to_string());
        };
        let phone =
            PhoneNumber::parse_in(self.router.country, field(f, "phone")).map_err(|e| i18n::phone_error(lang, &e))?;
        let wallet = self.router.wallets.chosen(field(f, "wallet"), &phone).ok_or(t.not_this_wallet)?;
        Ok(PurchaseRequest { mac: cx.mac, ip: cx.ip, package_id, phone, wallet: Some(wallet) })
    }

    /// `POST /portal/{router}/voucher`: a well-formed code goes straight to the router's login
    /// page as the user (and password); the router asks RADIUS, which decides. Nothing is looked
    /// up here, so this page is no way to test codes faster than the router's own login.
    pub async fn voucher_page(&self, f: &Fields, lang: Lang) -> Page {
        let cx = match self.form_device_context(f, lang) {
            Ok(c) => c,
            Err(p) => return p,
        };
        let raw = field(f, "code");
        match raw.parse::<VoucherCode>() {
            Ok(code) => Page::redirect(cx.login.with_credentials(code.as_str(), code.as_str(), cx.dst.as_deref())),
            Err(e) => {
                let msg = i18n::voucher_error(lang, &e);
                self.render_packages(
                    &cx,
                    lang,
                    400,
                    IndexState { code: raw, voucher_error: Some(&msg), ..Default::default() },
                )
                .await
            }
        }
    }

    /// The purchase, if it is this router's and was made for this device.
    async fn guest_purchase(&self, raw_id: &str, cx: Option<&Context>) -> Result<hotspot_cloud::store::Purchase, u16> {
        let id: PurchaseId = raw_id.parse().map_err(|_| 404u16)?;
        match purchase_asking(&self.portal.purchases, self.router, &id, self.now).await {
            Ok(Some(p)) if cx.is_none_or(|c| c.mac == p.mac) => Ok(p),
            Ok(_) => Err(404),
            Err(e) => {
                tracing::error!(error = %e, "storage unavailable");
                Err(503)
            }
        }
    }

    /// `GET /portal/{router}/wait/{id}`: "check your phone" while it is pending (the page reloads
    /// itself without JavaScript, or its script polls `api/status`); once paid, the browser goes
    /// to the router's login page with the grant's credentials.
    pub async fn waiting_page(&self, q: &Fields, lang: Lang, raw_id: &str) -> Page {
        let cx = match self.device_context(q, lang) {
            Ok(c) => c,
            Err(p) => return p,
        };
        let t = lang.t();
        let base = self.portal_base();
        let retry = format!("{base}?{}", cx.query(lang));
        let p = match self.guest_purchase(raw_id, Some(&cx)).await {
            Ok(p) => p,
            Err(404) => return notice(lang, 404, t.not_found_title, t.not_found_body),
            Err(status) => return notice(lang, status, t.check_phone_title, t.status_unavailable),
        };
        let generic = !self.router.wallets.is_mpesa_alone();
        match p.state {
            PurchaseState::Pending => {
                let toggle = format!("{base}/wait/{}?{}", p.id, cx.query(lang.other()));
                let chrome = Chrome { lang, toggle_href: &toggle, base: &base };
                let body = if generic { t.check_phone_body_any } else { t.check_phone_body };
                let view = WaitView {
                    id: &p.id,
                    dst: cx.dst.as_deref(),
                    title: t.check_phone_title,
                    body,
                    retry_href: &retry,
                };
                Page::html(200, pages::waiting(&chrome, &view))
            }
            PurchaseState::Paid | PurchaseState::Active => {
                let password = hotspot_cloud::radius::password(&self.router.key, &p.id);
                Page::redirect(cx.login.with_credentials(p.id.as_str(), &password, cx.dst.as_deref()))
            }
            PurchaseState::Failed | PurchaseState::AmountMismatch | PurchaseState::Unknown => {
                let toggle = format!("{base}/wait/{}?{}", p.id, cx.query(lang.other()));
                let chrome = Chrome { lang, toggle_href: &toggle, base: &base };
                let body = i18n::failure_text(lang, p.failure.unwrap_or(PaymentFailure::Unknown), generic);
                Page::html(200, pages::message(&chrome, t.failed_title, &body, Some((&retry, t.try_again))))
            }
        }
    }

    /// `GET /portal/{router}/api/status/{id}`: what the waiting page's script polls. Says only
    /// how the purchase stands (no credentials): on `ready` the script reloads the waiting page.
    pub async fn status_poll(&self, lang: Lang, raw_id: &str) -> Page {
        let t = lang.t();
        let (status, state, title, body) = match self.guest_purchase(raw_id, None).await {
            Ok(p) => match p.state {
                PurchaseState::Pending => {
                    let generic = !self.router.wallets.is_mpesa_alone();
                    let body = if generic { t.check_phone_body_any } else { t.check_phone_body };
                    (200, "awaiting_payment", t.check_phone_title, body.into())
                }
                PurchaseState::Paid | PurchaseState::Active => {
                    (200, "ready", t.connecting_title, t.connecting_body.into())
                }
                _ => {
                    let generic = !self.router.wallets.is_mpesa_alone();
                    let body = i18n::failure_text(lang, p.failure.unwrap_or(PaymentFailure::Unknown), generic);
                    (200, "failed", t.failed_title, body)
                }
            },
            Err(404) => (404, "not_found", t.not_found_title, t.not_found_body.into()),
            Err(s) => (s, "unavailable", t.check_phone_title, t.status_unavailable.into()),
        };
        Page::json(status, json!({ "state": state, "title": title, "message": body }).to_string())
    }
}
