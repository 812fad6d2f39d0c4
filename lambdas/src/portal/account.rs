//! The subscriber's page (`/account`): sign in with the account number and password, see the
//! account, renew it by an M-Pesa prompt on the phone (`renewals` settles it), wait for the
//! payment. Public like the guest portal; the password is the PPP secret's, and a renew form is
//! good only for the account it was shown for, for an hour (`CsrfKey` bound to the number).

use hotspot_cloud::store::{AccountRecord, RouterRecord, Slot, StkRenewal, StkRenewalState};
use hotspot_core::AccountNumber;
use hotspot_core::currency::Money;
use hotspot_core::phone::PhoneNumber;
use hotspot_core::wallet::Wallet;
use portal_pages::account::{self as pages, AccountView, WireguardView};
use portal_pages::csrf::CsrfKey;
use portal_pages::i18n::{self, Lang};
use portal_pages::pages::Chrome;
use wallets::PaymentRequest;

use super::context::{Fields, field};
use super::{MAX_BODY, Page, Portal, Req};
use crate::providers::{Payments, callback_url_for};
use crate::purchase::push_budget;

pub const BASE: &str = "/account";
/// Sign-in attempts per account number in `SIGNIN_WINDOW_SECS`.
const SIGNIN_LIMIT: i64 = 10;
const SIGNIN_WINDOW_SECS: i64 = 900;
/// How many periods a subscriber may pay for at once (the renewal counts up to 12).
const CHOICES: [u32; 4] = [1, 2, 3, 6];

#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    SignIn,
    Show,
    Renew,
    Config,
    Wait(&'a str),
}

fn route<'a>(method: &str, path: &'a str) -> Option<Route<'a>> {
    let rest = path.strip_prefix(BASE)?;
    match (method, rest) {
        ("GET", "" | "/") => Some(Route::SignIn),
        ("POST", "" | "/") => Some(Route::Show),
        ("POST", "/renew") => Some(Route::Renew),
        ("POST", "/config") => Some(Route::Config),
        ("GET", r) => r.strip_prefix("/pay/").filter(|c| !c.is_empty() && !c.contains('/')).map(Route::Wait),
        _ => None,
    }
}

/// Whether a request is the subscriber page's.
pub fn is_account_path(path: &str) -> bool {
    path == BASE || path.starts_with("/account/")
}

/// "12 Jan 2027 14:00 EAT", in the router's country's time.
fn local_time(unix: i64, router: &RouterRecord) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (offset, zone) = router.country.time_zone();
    let (y, m, d) = hotspot_core::calendar::date_of(unix, offset);
    let secs = (unix + offset).rem_euclid(86_400);
    let month = MONTHS.get((m as usize).wrapping_sub(1)).unwrap_or(&"");
    format!("{d} {month} {y} {:02}:{:02} {zone}", secs / 3600, (secs % 3600) / 60)
}

/// A WireGuard account's client config, once the router has made its end and the sale named the
/// endpoint; `None` otherwise.
fn wireguard_config_text(a: &AccountRecord) -> Option<String> {
    let w = a.wireguard.as_ref()?;
    let (server_key, _) = w.server.as_ref()?;
    let endpoint = w.endpoint.as_deref()?;
    Some(hotspot_cloud::wireguard::client_config(&hotspot_cloud::wireguard::ClientConfig {
        private_key: &w.private_key,
        address: w.address,
        server_key,
        endpoint,
        dns: None,
    }))
}

fn chrome(lang: Lang, toggle: &str) -> Chrome<'_> {
    Chrome { lang, toggle_href: toggle, base: BASE }
}

fn csrf_key(router: &RouterRecord) -> CsrfKey {
    // Its own key, not the guest portal's: a token from one is no good on the other.
    let mut secret = router.key.as_bytes().to_vec();
    secret.extend_from_slice(b"/account");
    CsrfKey::derive(&secret)
}

/// A page that only says something.
fn notice(lang: Lang, status: u16, title: &str, body: &str) -> Page {
    let toggle = format!("{BASE}?lang={}", lang.other().code());
    Page::html(status, portal_pages::pages::message(&chrome(lang, &toggle), title, body, None))
}

fn say(lang: Lang, en: &'static str, sw: &'static str) -> &'static str {
    if lang == Lang::Sw { sw } else { en }
}

impl<P: Payments> Portal<'_, P> {
    /// A request whose path is the subscriber page's (`is_account_path`).
    pub async fn serve_account(&self, req: &Req<'_>, now: i64) -> Page {
        let r = route(req.method, req.path);
        let query = super::context::fields(req.query.as_bytes());
        let lang = Lang::choose(query.get("lang").map(String::as_str), req.accept_language);
        let Some(r) = r else {
            let t = lang.t();
            return notice(lang, 404, t.not_found_title, t.not_found_body);
        };
        if req.body.len() > MAX_BODY {
            let t = lang.t();
            return notice(lang, 413, t.too_large_title, t.too_large_body);
        }
        let form = super::context::fields(req.body);
        let lang = match r {
            Route::Show | Route::Renew | Route::Config => {
                Lang::choose(form.get("lang").map(String::as_str), req.accept_language)
            }
            _ => lang,
        };
        match r {
            Route::SignIn => {
                let toggle = format!("{BASE}?lang={}", lang.other().code());
                Page::html(200, pages::signin(&chrome(lang, &toggle), field(&query, "n"), None))
            }
            Route::Show => self.show(&form, lang, now).await,
            Route::Renew => self.renew(&form, lang, req, now).await,
            Route::Config => self.wireguard_config(&form, lang, now).await,
            Route::Wait(checkout) => self.wait(checkout, &query, lang).await,
        }
    }

    fn signin_again(&self, lang: Lang, number: &str, status: u16, why: &str) -> Page {
        let toggle = format!("{BASE}?lang={}", lang.other().code());
        Page::html(status, pages::signin(&chrome(lang, &toggle), number, Some(why)))
    }

    fn unavailable(&self, lang: Lang, e: &dyn std::fmt::Display) -> Page {
        tracing::error!(error = %e, "subscriber page: storage unavailable");
        let t = lang.t();
        notice(lang, 503, t.router_unavailable_title, t.cloud_unavailable)
    }

    /// The account and its router, when the number names one (a typo'd number is the same
    /// "not found" as an unknown one).
    async fn account(&self, raw: &str) -> Result<Option<(AccountRecord, RouterRecord)>, Page> {
        let store = self.purchases.settle.store;
        let Ok(number) = raw.trim().parse::<AccountNumber>() else { return Ok(None) };
        let a = store.get_account(&number).await.map_err(|e| self.unavailable(Lang::En, &e))?;
        let Some(a) = a else { return Ok(None) };
        match store.get_router(&a.router_id).await {
            Ok(Some(r)) => Ok(Some((a, r))),
            Ok(None) => Ok(None),
            Err(e) => Err(self.unavailable(Lang::En, &e)),
        }
    }

    /// The account a form from its signed-in page names (`n`, with that page's token `t`), or
    /// the page to show instead.
    async fn form_account(&self, form: &Fields, lang: Lang, now: i64) -> Result<(AccountRecord, RouterRecord), Page> {
        let (a, router) = match self.account(field(form, "n")).await? {
            Some(found) => found,
            None => {
                return Err(self.signin_again(lang, "", 404, say(lang, "No such account.", "Hakuna akaunti hiyo.")));
            }
        };
        if !csrf_key(&router).verify(field(form, "t"), a.number.as_str().as_bytes(), now) {
            let why = say(lang, "That page is old: sign in again.", "Ukurasa huo ni wa zamani: ingia tena.");
            return Err(self.signin_again(lang, a.number.as_str(), 403, why));
        }
        Ok((a, router))
    }

    /// `POST /account`: the password checked, the account shown.
    async fn show(&self, form: &Fields, lang: Lang, now: i64) -> Page {
        let raw = field(form, "n").trim();
        let refused =
            say(lang, "That account number and password do not match.", "Nambari ya akaunti na nenosiri havilingani.");
        if raw.is_empty() || raw.len() > 12 {
            return self.signin_again(lang, raw, 400, refused);
        }
        match self
            .purchases
            .settle
            .store
            .take_signin_slot(&format!("account:{raw}"), SIGNIN_LIMIT, SIGNIN_WINDOW_SECS, now)
            .await
        {
            Ok(Slot::Taken) => {}
            Ok(Slot::Limited { .. }) => {
                let why = say(
                    lang,
                    "Too many tries. Wait 15 minutes and try again.",
                    "Majaribio mengi mno. Subiri dakika 15 ujaribu tena.",
                );
                return self.signin_again(lang, raw, 429, why);
            }
            Err(e) => return self.unavailable(lang, &e),
        }
        let (a, router) = match self.account(raw).await {
            Ok(Some(found)) => found,
            Ok(None) => return self.signin_again(lang, raw, 403, refused),
            Err(p) => return p,
        };
        if !hotspot_core::ct::eq(a.password.as_bytes(), field(form, "p").trim().as_bytes()) {
            return self.signin_again(lang, raw, 403, refused);
        }
        self.account_page(&a, &router, lang, 200, None, None, now).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn account_page(
        &self,
        a: &AccountRecord,
        router: &RouterRecord,
        lang: Lang,
        status: u16,
        phone: Option<&str>,
        error: Option<&str>,
        now: i64,
    ) -> Page {
        let package = match self.purchases.settle.store.get_package(&a.router_id, &a.package_id).await {
            Ok(p) => p.map(|p| p.package.name().to_string()).unwrap_or_else(|| a.package_id.to_string()),
            Err(e) => return self.unavailable(lang, &e),
        };
        let period = i18n::duration(lang, u64::try_from(a.plan.period_secs).unwrap_or(0));
        let plan = format!("{package}, {} / {period}", a.plan.price);
        let choices: Vec<(u32, String)> = CHOICES
            .iter()
            .filter_map(|&k| {
                let total =
                    Money::from_minor(a.plan.price.currency(), a.plan.price.minor().checked_mul(u64::from(k))?).ok()?;
                let secs = u64::try_from(a.plan.period_secs).unwrap_or(0).saturating_mul(u64::from(k));
                Some((k, format!("{} \u{2014} {total}", i18n::duration(lang, secs))))
            })
            .collect();
        let phone = phone
            .map(str::to_string)
            .or_else(|| a.phone.as_ref().map(|p| format!("0{}", p.national())))
            .unwrap_or_default();
        let token = csrf_key(router).issue(a.number.as_str().as_bytes(), now);
        let runs_to = local_time(a.expires_at, router);
        let toggle = format!("{BASE}?lang={}&n={}", lang.other().code(), a.number);
        let qr = wireguard_config_text(a).map(|c| hotspot_cloud::wireguard::config_qr_inline(&c));
        let wireguard = match (&a.wireguard, &qr) {
            (None, _) => None,
            (Some(_), Some(Ok(svg))) => Some(WireguardView::Ready { qr_svg: svg }),
            (Some(w), _) if w.server.is_none() => Some(WireguardView::Later(say(
                lang,
                "The router is still setting up your tunnel: sign in again in a minute.",
                "Ruta bado inaandaa muunganisho wako: ingia tena baada ya dakika moja.",
            ))),
            (Some(_), _) => Some(WireguardView::Later(say(
                lang,
                "Ask the shop for your WireGuard config.",
                "Omba mipangilio yako ya WireGuard dukani.",
            ))),
        };
        let v = AccountView {
            wireguard,
            name: a.name.as_deref(),
            number: a.number.as_str(),
            plan: &plan,
            runs_to: &runs_to,
            running: a.expires_at > now,
            choices: &choices,
            phone: &phone,
            token: &token,
            error,
        };
        Page::html(status, pages::account(&chrome(lang, &toggle), &v))
    }

    /// `POST /account/renew`: the M-Pesa prompt to the phone given, then the waiting page.
    async fn renew(&self, form: &Fields, lang: Lang, req: &Req<'_>, now: i64) -> Page {
        let started = std::time::Instant::now();
        let store = self.purchases.settle.store;
        let (a, router) = match self.form_account(form, lang, now).await {
            Ok(found) => found,
            Err(p) => return p,
        };
        let phone_raw = field(form, "phone");
        let again = |status: u16, why: &'static str| {
            self.account_page(&a, &router, lang, status, Some(phone_raw), Some(why), now)
        };
        let Some(periods) = field(form, "periods").parse::<u32>().ok().filter(|k| CHOICES.contains(k)) else {
            return again(400, say(lang, "Choose how long.", "Chagua muda.")).await;
        };
        let payer = match PhoneNumber::parse_in(router.country, phone_raw) {
            Ok(p) if p.country() == router.country => p,
            _ => {
                return again(400, say(lang, "That is not an M-Pesa number here.", "Hiyo si nambari ya M-Pesa hapa."))
                    .await;
            }
        };
        if self.purchases.wallets.merchant_country(Wallet::Mpesa) != Some(router.country) {
            return again(
                503,
                say(lang, "M-Pesa is not taken here; pay at the shop.", "M-Pesa haipokelewi hapa; lipa dukani."),
            )
            .await;
        }
        let Some(amount) = a
            .plan
            .price
            .minor()
            .checked_mul(u64::from(periods))
            .and_then(|m| Money::from_minor(a.plan.price.currency(), m).ok())
        else {
            return again(400, say(lang, "Choose how long.", "Chagua muda.")).await;
        };
        match store.take_phone_slot(&payer, now).await {
            Ok(Slot::Taken) => {}
            Ok(Slot::Limited { .. }) => {
                let why = say(
                    lang,
                    "A prompt was just sent to this number. Answer it, or wait a minute.",
                    "Ombi limetumwa kwa nambari hii sasa hivi. Lijibu, au subiri dakika moja.",
                );
                return again(429, why).await;
            }
            Err(e) => return self.unavailable(lang, &e),
        }
        let Some(budget) = push_budget(req.remaining.map(|r| r.saturating_sub(started.elapsed()))) else {
            return again(503, say(lang, "Busy; try again in a moment.", "Kuna shughuli nyingi; jaribu tena baadaye."))
                .await;
        };
        let pay = PaymentRequest {
            payer: payer.clone(),
            amount,
            reference: a.number.to_string(),
            // M-Pesa's AccountReference: the prompt and the payer's statement show the account
            // number, as a Paybill payment to it would.
            label: a.number.to_string(),
            description: "Renewal".into(),
            callback_url: callback_url_for(Wallet::Mpesa, self.purchases.callback_url),
        };
        tracing::info!(account = %a.number, phone = %payer.masked(), periods, "subscriber renewal prompt");
        let pushed = tokio::time::timeout(budget, self.purchases.wallets.start_payment(Wallet::Mpesa, &pay)).await;
        let started = match pushed {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::warn!(account = %a.number, error = %e, "renewal prompt refused");
                return again(
                    502,
                    say(lang, "M-Pesa did not take the request. Try again.", "M-Pesa haikupokea ombi. Jaribu tena."),
                )
                .await;
            }
            Err(_) => {
                tracing::warn!(account = %a.number, "renewal prompt out of time");
                return again(
                    504,
                    say(
                        lang,
                        "M-Pesa did not answer. If your phone asks for your PIN, the payment still counts.",
                        "M-Pesa haikujibu. Simu ikiomba PIN, malipo bado yanahesabiwa.",
                    ),
                )
                .await;
            }
        };
        let r = StkRenewal {
            checkout: started.reference.clone(),
            account: a.number.clone(),
            amount,
            phone: payer,
            token: hex::encode(rand::random::<[u8; 16]>()),
            created_at: now,
            state: StkRenewalState::Pending,
        };
        // Recorded, then linked: a callback that came first is settled here.
        if let Err(e) = store.put_stk_renewal(&r).await {
            tracing::error!(alarm = "stk_renewal_unrecorded", account = %a.number, checkout_request_id = %r.checkout, error = %e, "renewal prompt out, not recorded");
            return self.unavailable(lang, &e);
        }
        match store.link_renewal(&r.checkout, now).await {
            Ok(None) => {}
            Ok(Some(body)) => {
                if let Ok(cb) = self.purchases.settle.notices.read_notice(Wallet::Mpesa, body.as_bytes())
                    && let Some(outcome) = crate::renewals::stk_outcome(&cb.outcome)
                    && let Err(e) = crate::renewals::settle(store, self.purchases.settle.sqs, &r, &outcome, now).await
                {
                    tracing::warn!(error = %e, "early callback not settled; the reconciler will");
                }
            }
            Err(e) => {
                tracing::warn!(checkout_request_id = %r.checkout, error = %e, "renewal not linked; the reconciler asks M-Pesa")
            }
        }
        Page::redirect(format!(
            "{BASE}/pay/{}?t={}&lang={}",
            portal_pages::escape::url_component(&r.checkout),
            r.token,
            lang.code()
        ))
    }

    /// `POST /account/config`: a WireGuard account's client config, as a file to save.
    async fn wireguard_config(&self, form: &Fields, lang: Lang, now: i64) -> Page {
        let (a, _) = match self.form_account(form, lang, now).await {
            Ok(found) => found,
            Err(p) => return p,
        };
        match wireguard_config_text(&a) {
            Some(text) => Page {
                content_type: "text/plain; charset=utf-8",
                attachment: Some(format!("wg-{}.conf", a.number)),
                ..Page::html(200, text)
            },
            None => {
                let t = lang.t();
                notice(lang, 404, t.not_found_title, t.not_found_body)
            }
        }
    }

    /// `GET /account/pay/{checkout}?t=`: the renewal's state; refreshes itself while undecided.
    async fn wait(&self, checkout: &str, query: &Fields, lang: Lang) -> Page {
        let t = lang.t();
        let r = match self.purchases.settle.store.get_stk_renewal(checkout).await {
            Ok(Some(r)) if hotspot_core::ct::eq(r.token.as_bytes(), field(query, "t").as_bytes()) => r,
            Ok(_) => return notice(lang, 404, t.not_found_title, t.not_found_body),
            Err(e) => return self.unavailable(lang, &e),
        };
        let toggle = format!("{BASE}/pay/{checkout}?t={}&lang={}", r.token, lang.other().code());
        let back = format!("{BASE}?n={}&lang={}", r.account, lang.code());
        let back_text = say(lang, "Back to my account", "Rudi kwa akaunti yangu");
        let c = chrome(lang, &toggle);
        let page = match &r.state {
            StkRenewalState::Pending => {
                let body = say(
                    lang,
                    "Check your phone and enter your M-Pesa PIN.",
                    "Angalia simu yako na uweke PIN yako ya M-Pesa.",
                );
                pages::renewal(
                    &c,
                    say(lang, "Waiting for payment", "Tunasubiri malipo"),
                    body,
                    true,
                    (&back, back_text),
                )
            }
            StkRenewalState::Renewed { until } => {
                let router = match self.account(r.account.as_str()).await {
                    Ok(Some((_, router))) => router,
                    Ok(None) => return notice(lang, 404, t.not_found_title, t.not_found_body),
                    Err(p) => return p,
                };
                let body = format!(
                    "{} {} {} {}.",
                    say(lang, "Paid. Account", "Imelipwa. Akaunti"),
                    r.account,
                    say(lang, "now runs to", "sasa inaendelea hadi"),
                    local_time(*until, &router)
                );
                pages::renewal(&c, say(lang, "Renewed", "Imeongezwa"), &body, false, (&back, back_text))
            }
            StkRenewalState::Failed { why } => {
                pages::renewal(&c, say(lang, "Not renewed", "Haijaongezwa"), why, false, (&back, back_text))
            }
        };
        Page::html(200, page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("GET", "/account"), Some(Route::SignIn));
        assert_eq!(route("POST", "/account"), Some(Route::Show));
        assert_eq!(route("POST", "/account/renew"), Some(Route::Renew));
        assert_eq!(route("POST", "/account/config"), Some(Route::Config));
        assert_eq!(route("GET", "/account/pay/ws_CO_1"), Some(Route::Wait("ws_CO_1")));
        for (m, p) in
            [("GET", "/account/pay/"), ("GET", "/account/pay/a/b"), ("GET", "/account/renew"), ("PUT", "/account")]
        {
            assert_eq!(route(m, p), None, "{m} {p}");
        }
        assert!(is_account_path("/account") && is_account_path("/account/pay/x") && !is_account_path("/accounts"));
    }
}
