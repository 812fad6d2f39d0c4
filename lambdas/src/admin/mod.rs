//! The operators' dashboard under `/admin`: sign-in (argon2id passwords, one-time invites),
//! sessions in `HttpOnly; Secure; SameSite=Strict` cookies with a CSRF token on every form,
//! the fleet, and the support desk (find a purchase, read its timeline, re-send the grant,
//! disconnect). It works on the same store, roles and audit log as `hotspotctl`.

mod accounts;
mod audit;
mod html;
mod operators;
mod packages;
pub mod password;
mod receipts;
mod revenue;
mod vouchers;

use std::collections::BTreeMap;

use hotspot_cloud::access::{self, Action, Scope};
use hotspot_cloud::desk::{self, DeskError};
use hotspot_cloud::store::dashboard::{DashboardSession, csrf_matches, new_token};
use hotspot_cloud::store::{
    AuditEntry, AuditResult, LoginName, OperatorRecord, Purchase, RouterRecord, Slot, Store, StoreError,
};
use hotspot_core::phone::{Country, PhoneNumber};
use hotspot_core::{MacAddr, PurchaseId, RosDuration, RouterId, VoucherCode};

use html::Chrome;

/// The session cookie and the sign-in form's token cookie (before there is a session).
const SESSION_COOKIE: &str = "hs_session";
const FORM_COOKIE: &str = "hs_form";
const SESSION_SECS: i64 = 12 * 3600;
/// Sign-in attempts per login name, and per address, in a window.
const SIGNIN_PER_LOGIN: i64 = 10;
const SIGNIN_PER_ADDRESS: i64 = 30;
const SIGNIN_WINDOW_SECS: i64 = 900;
const MAX_FORM_BYTES: usize = 8 * 1024;
/// What the desk may add to a live session (RouterOS durations).
const EXTEND_CHOICES: [&str; 3] = ["30m", "1h", "1d"];
/// Kenya's UTC offset, for times on the pages (the CLI's default too).
const OFFSET: hotspot_core::dates::UtcOffset = hotspot_core::dates::UtcOffset::NAIROBI;
const OFFSET_SECS: i64 = OFFSET.secs();

pub struct Admin<'a> {
    pub store: &'a Store,
    pub sqs: &'a aws_sdk_sqs::Client,
}

/// A request as the dashboard needs it.
pub struct Req<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub cookie: Option<&'a str>,
    /// `Origin` on a POST: a cross-site form is refused even before the CSRF token is read.
    pub origin: Option<&'a str>,
    pub host: Option<&'a str>,
    /// How the browser reached us (`X-Forwarded-Proto`: "http" or "https"), for links we hand out.
    pub proto: Option<&'a str>,
    pub body: &'a [u8],
    pub source_ip: Option<std::net::IpAddr>,
}

/// An HTML reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub cookies: Vec<String>,
    pub body: String,
    /// A file to download instead of the page (a voucher sheet).
    pub download: Option<Download>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub content_type: &'static str,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl Page {
    fn html(status: u16, body: String) -> Page {
        Page { status, location: None, cookies: Vec::new(), body, download: None }
    }
    fn redirect(to: impl Into<String>) -> Page {
        Page { status: 303, location: Some(to.into()), cookies: Vec::new(), body: String::new(), download: None }
    }
    fn download(d: Download) -> Page {
        Page { status: 200, location: None, cookies: Vec::new(), body: String::new(), download: Some(d) }
    }
    fn cookie(mut self, c: String) -> Page {
        self.cookies.push(c);
        self
    }

    /// Headers every page carries: no caching, no framing, no scripts, no referrer to another
    /// site (an invite link's token must not leak). Not `no-referrer`: with it Chromium sends
    /// `Origin: null` on the dashboard's own forms, which the origin check must refuse.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let content_type = self.download.as_ref().map_or("text/html; charset=utf-8", |d| d.content_type);
        let mut h = vec![
            ("content-type", content_type.to_string()),
            ("cache-control", "no-store".into()),
            (
                "content-security-policy",
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'"
                    .into(),
            ),
            ("x-content-type-options", "nosniff".into()),
            ("referrer-policy", "same-origin".into()),
        ];
        if let Some(l) = &self.location {
            h.push(("location", l.clone()));
        }
        if let Some(d) = &self.download {
            // The name is ours (a batch id), never typed by anyone: no quoting needed beyond this.
            h.push(("content-disposition", format!("attachment; filename=\"{}\"", d.file_name)));
        }
        h
    }
}

fn set_cookie(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age}")
}

fn cookie<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn form(body: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// What the desk's search found.
enum Found {
    Purchases(Vec<Purchase>),
    /// A receipt on record that no purchase claims.
    Unmatched(String),
    /// A printed voucher: its batch page says whether and when it was used.
    Voucher(Box<hotspot_cloud::store::VoucherRecord>),
    /// Nothing to search for, or nothing there, and why.
    Problem(String),
}

/// The signed-in operator behind a request.
struct Who {
    session: DashboardSession,
    op: OperatorRecord,
}

impl Who {
    fn chrome(&self) -> (String, String) {
        (self.session.login.to_string(), self.op.access.to_string())
    }
}

fn unavailable(e: &StoreError) -> Page {
    tracing::error!(error = %e, "storage unavailable");
    Page::html(503, html::problem_page(None, "Busy", "The service is busy; try again in a moment."))
}

fn not_found() -> Page {
    Page::html(404, html::problem_page(None, "Not found", "There is nothing here."))
}

impl Admin<'_> {
    pub async fn handle(&self, req: &Req<'_>, now: i64) -> Page {
        match self.route(req, now).await {
            Ok(p) => p,
            Err(e) => unavailable(&e),
        }
    }

    async fn route(&self, req: &Req<'_>, now: i64) -> Result<Page, StoreError> {
        let path = req.path.trim_end_matches('/');
        if req.method == "POST" && !same_origin(req) {
            return Ok(Page::html(403, html::problem_page(None, "Refused", "This form came from another site.")));
        }
        match (req.method, path) {
            ("GET", "/admin/login") => Ok(self.sign_in_form(None)),
            ("POST", "/admin/login") => self.sign_in(req, now).await,
            ("GET", "/admin/invite") => self.invite_form(req, now).await,
            ("POST", "/admin/invite") => self.accept_invite(req, now).await,
            _ => {
                let Some(who) = self.who(req, now).await? else {
                    return Ok(match req.method {
                        "GET" => Page::redirect("/admin/login"),
                        _ => Page::html(401, html::problem_page(None, "Signed out", "Sign in again.")),
                    });
                };
                if req.method == "POST" && !csrf_matches(&who.session, form(req.body).get("csrf").map_or("", |s| s)) {
                    return Ok(Page::html(
                        403,
                        html::problem_page(None, "Refused", "The form has expired; go back and try again."),
                    ));
                }
                self.signed_in(req, path, &who, now).await
            }
        }
    }

    async fn signed_in(&self, req: &Req<'_>, path: &str, who: &Who, now: i64) -> Result<Page, StoreError> {
        let (login, role) = who.chrome();
        let revenue = allowed(who, Action::ReportRevenue, None).is_some();
        let admin = allowed(who, Action::Audit, None).is_some();
        let chrome = Chrome { login: &login, role: &role, csrf: &who.session.csrf, revenue, admin };
        match (req.method, path) {
            ("GET", "/admin") => {
                let rows = match allowed(who, Action::RouterShow, None) {
                    Some(Scope::Only(r)) => self.store.fleet_row(&r).await?.into_iter().collect(),
                    Some(Scope::Any) => self.store.list_fleet().await?,
                    None => Vec::new(),
                };
                Ok(Page::html(200, html::fleet_page(&chrome, &rows, now)))
            }
            ("GET", "/admin/support") => {
                let q = form(req.query.as_bytes()).remove("q").unwrap_or_default();
                let found = match q.trim() {
                    "" => None,
                    q => match self.search(who, q).await? {
                        Found::Purchases(list) => Some(Ok(list)),
                        Found::Problem(why) => Some(Err(why)),
                        // Money no purchase claims: to the receipt, where it can be credited.
                        Found::Unmatched(key) if allowed(who, Action::LedgerCredit, None).is_some() => {
                            return Ok(Page::redirect(format!("/admin/receipts/{key}")));
                        }
                        Found::Unmatched(key) => Some(Err(format!(
                            "Receipt {key} is not matched to a purchase: an admin or manager can credit it."
                        ))),
                        Found::Voucher(v) => {
                            let to = format!("/admin/vouchers/{}/{}#v-{}", v.router_id, v.batch_id, v.code);
                            return Ok(Page::redirect(to));
                        }
                    },
                };
                let found = found.as_ref().map(|r| r.as_deref().map_err(String::as_str));
                Ok(Page::html(200, html::support_page(&chrome, &q, found, OFFSET_SECS)))
            }
            ("GET", "/admin/revenue") => self.revenue(req, &chrome, who, now).await,
            ("GET", "/admin/audit") => self.audit_log(req, &chrome, who, now).await,
            ("GET", "/admin/receipts") => self.unmatched(req, &chrome, who, now).await,
            (_, "/admin/operators") => self.operators(req, &chrome, who, now).await,
            ("POST", "/admin/logout") => {
                if let Some(t) = cookie(req.cookie, SESSION_COOKIE) {
                    self.store.end_dashboard_session(t).await?;
                }
                Ok(Page::redirect("/admin/login").cookie(set_cookie(SESSION_COOKIE, "", 0)))
            }
            (_, p) if p.starts_with("/admin/receipts/") => {
                self.receipt(req, &p["/admin/receipts/".len()..], &chrome, who, now).await
            }
            (_, p) if p == "/admin/packages" || p.starts_with("/admin/packages/") => {
                self.packages(req, &p["/admin/packages".len()..], &chrome, who, now).await
            }
            (_, p) if p == "/admin/vouchers" || p.starts_with("/admin/vouchers/") => {
                self.vouchers(req, &p["/admin/vouchers".len()..], &chrome, who, now).await
            }
            (_, p) if p == "/admin/accounts" || p.starts_with("/admin/accounts/") => {
                self.accounts(req, &p["/admin/accounts".len()..], &chrome, who, now).await
            }
            (method, p) => {
                let Some(rest) = p.strip_prefix("/admin/purchases/") else { return Ok(not_found()) };
                let (id, act) = rest.split_once('/').map_or((rest, None), |(i, a)| (i, Some(a)));
                let Ok(id) = id.parse::<PurchaseId>() else { return Ok(not_found()) };
                // Out of the operator's scope reads as absent: a tampered URL learns nothing.
                let Some(p) = self.store.get_purchase(&id).await? else { return Ok(not_found()) };
                if allowed(who, Action::SessionList, Some(&p.router_id)).is_none() {
                    return Ok(not_found());
                }
                match (method, act) {
                    ("GET", None) => self.purchase_page(&chrome, &p, None, now).await,
                    ("POST", Some("resend")) => self.resend(&chrome, who, &p, now).await,
                    ("POST", Some("disconnect")) => self.disconnect(&chrome, who, &p, now).await,
                    ("POST", Some("extend")) => self.extend_session(req, &chrome, who, &p, now).await,
                    _ => Ok(not_found()),
                }
            }
        }
    }

    async fn purchase_page(
        &self,
        chrome: &Chrome<'_>,
        p: &Purchase,
        note: Option<(&str, bool)>,
        now: i64,
    ) -> Result<Page, StoreError> {
        let session = self.store.get_session(&p.id).await?;
        let live = self.store.get_live_session(&p.id, &p.router_id).await?.is_some();
        let router = self.store.get_router(&p.router_id).await?;
        let steps = desk::timeline(p, session.as_ref(), now);
        let view = html::PurchaseView {
            purchase: p,
            router_name: router.as_ref().map_or("", |r| r.name.as_str()),
            session: session.as_ref(),
            steps: &steps,
            live,
            note,
            offset: OFFSET_SECS,
        };
        Ok(Page::html(if note.is_some_and(|(_, e)| e) { 409 } else { 200 }, html::purchase_view(chrome, &view)))
    }

    async fn resend(&self, chrome: &Chrome<'_>, who: &Who, p: &Purchase, now: i64) -> Result<Page, StoreError> {
        if allowed(who, Action::GrantResend, Some(&p.router_id)).is_none() {
            return Ok(not_found());
        }
        let Some(router) = self.store.get_router(&p.router_id).await? else { return Ok(not_found()) };
        let session = self.store.get_session(&p.id).await?;
        let out = desk::resend_grant(self.sqs, &router, p, session.as_ref(), now).await;
        self.finish(chrome, who, Action::GrantResend, p, out.map(|_| true), "grant sent to the router again", now).await
    }

    async fn disconnect(&self, chrome: &Chrome<'_>, who: &Who, p: &Purchase, now: i64) -> Result<Page, StoreError> {
        if allowed(who, Action::SessionDisconnect, Some(&p.router_id)).is_none() {
            return Ok(not_found());
        }
        let Some(router) = self.store.get_router(&p.router_id).await? else { return Ok(not_found()) };
        let out = desk::disconnect(self.store, self.sqs, &router, &p.id, &who.op.arn, now).await;
        self.finish(chrome, who, Action::SessionDisconnect, p, out, "disconnected (revoke job sent)", now).await
    }

    /// More time for a live session: one of the form's choices only.
    async fn extend_session(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        p: &Purchase,
        now: i64,
    ) -> Result<Page, StoreError> {
        if allowed(who, Action::SessionExtend, Some(&p.router_id)).is_none() {
            return Ok(not_found());
        }
        let Some(router) = self.store.get_router(&p.router_id).await? else { return Ok(not_found()) };
        let by = form(req.body).remove("by").unwrap_or_default();
        let Some(by) = EXTEND_CHOICES.contains(&by.as_str()).then(|| by.parse::<RosDuration>().ok()).flatten() else {
            let why = "Choose 30 minutes, 1 hour or 1 day; nothing was changed.";
            return self.purchase_page(chrome, p, Some((why, true)), now).await;
        };
        let out = desk::extend_session(self.store, self.sqs, &router, &p.id, by, now).await;
        let done = match &out {
            Ok(new) => format!("extended by {by}: the session now ends {}", html::when(*new, OFFSET_SECS)),
            Err(_) => String::new(),
        };
        self.finish(chrome, who, Action::SessionExtend, p, out.map(|_| true), &done, now).await
    }

    /// Audits an action's outcome and shows the purchase with what happened.
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        chrome: &Chrome<'_>,
        who: &Who,
        action: Action,
        p: &Purchase,
        out: Result<bool, DeskError>,
        done: &str,
        now: i64,
    ) -> Result<Page, StoreError> {
        let (result, note, error) = match out {
            Ok(_) => (AuditResult::Ok, done.to_string(), false),
            Err(DeskError::Store(e)) => return Err(e),
            Err(DeskError::Refused(why)) => (AuditResult::Refused, why, true),
            Err(DeskError::Job(e)) => {
                tracing::error!(error = %e, "job not sent");
                (
                    AuditResult::Error,
                    "The router's queue did not take the job; nothing was changed. Try again.".into(),
                    true,
                )
            }
        };
        self.audit(who, action, p, result, &note, now).await?;
        let p = self.store.get_purchase(&p.id).await?.unwrap_or_else(|| p.clone());
        self.purchase_page(chrome, &p, Some((&note, error)), now).await
    }

    async fn audit(
        &self,
        who: &Who,
        action: Action,
        p: &Purchase,
        result: AuditResult,
        detail: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let args = BTreeMap::from([
            ("router".to_string(), p.router_id.to_string()),
            ("purchase".to_string(), p.id.to_string()),
        ]);
        self.audit_action(who, action, args, result, detail, now).await
    }

    /// One audit entry for something done on the dashboard, with who (ARN and login) did it.
    async fn audit_action(
        &self,
        who: &Who,
        action: Action,
        mut args: BTreeMap<String, String>,
        result: AuditResult,
        detail: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        args.insert("via".to_string(), "dashboard".to_string());
        args.insert("login".to_string(), who.session.login.to_string());
        let entry = AuditEntry {
            at: now,
            id: hex::encode(rand::random::<[u8; 8]>()),
            who: who.op.arn.clone(),
            role: access::role_label(Some(&who.op.access)),
            action: action.name().to_string(),
            args,
            result,
            detail: detail.chars().take(1000).collect(),
        };
        self.store.put_audit(&entry).await
    }

    /// Purchases matching what the desk typed, within the operator's routers, newest first.
    async fn search(&self, who: &Who, q: &str) -> Result<Found, StoreError> {
        const LIMIT: usize = 50;
        // A number as the desk types it: Kenya's local form, or any country's whole.
        let found = if let Ok(phone) = PhoneNumber::parse(Country::Kenya, q) {
            self.store.purchases_by_phone(&phone, LIMIT).await?
        } else if let Ok(mac) = q.parse::<MacAddr>() {
            self.store.purchases_by_mac(&mac, LIMIT).await?
        } else if let Ok(id) = q.parse::<PurchaseId>() {
            self.store.get_purchase(&id).await?.into_iter().collect()
        } else if is_receipt(q)
            && let Some(r) = self.store.get_receipt(&q.to_ascii_uppercase()).await?
        {
            match r.purchase_id {
                Some(id) => self.store.get_purchase(&id).await?.into_iter().collect(),
                None => return Ok(Found::Unmatched(r.key)),
            }
        } else if let Ok(code) = q.parse::<VoucherCode>() {
            let routers: Vec<RouterId> =
                self.routers_in_scope(who, Action::VoucherList).await?.into_iter().map(|r| r.id).collect();
            let found = self.store.find_voucher(&routers, &code).await?;
            return Ok(match found.as_slice() {
                [v] => Found::Voucher(Box::new(v.clone())),
                [] if is_receipt(q) => Found::Problem(format!("No M-Pesa receipt or voucher {code} on record.")),
                [] => Found::Problem(format!("No voucher {code} at your routers.")),
                many => Found::Problem(format!(
                    "Voucher {code} was printed at {} routers ({}): open it from Vouchers at the guest's router.",
                    many.len(),
                    many.iter().map(|v| v.router_id.to_string()).collect::<Vec<_>>().join(", ")
                )),
            });
        } else if is_receipt(q) {
            return Ok(Found::Problem(format!("No M-Pesa receipt {} on record.", q.to_ascii_uppercase())));
        } else {
            return Ok(Found::Problem(
                "Type a phone number (0712 345 678), an M-Pesa receipt (10 letters and digits), a MAC, a voucher code or a purchase id."
                    .into(),
            ));
        };
        let mine = found.into_iter().filter(|p| allowed(who, Action::SessionList, Some(&p.router_id)).is_some());
        Ok(Found::Purchases(mine.collect()))
    }

    async fn who(&self, req: &Req<'_>, now: i64) -> Result<Option<Who>, StoreError> {
        let Some(token) = cookie(req.cookie, SESSION_COOKIE).filter(|t| !t.is_empty() && t.len() <= 128) else {
            return Ok(None);
        };
        let Some(session) = self.store.dashboard_session(token, now).await? else { return Ok(None) };
        // A removed operator's sessions stop here, at their next request.
        let Some(op) = self.store.get_operator(&session.arn).await? else { return Ok(None) };
        Ok(Some(Who { session, op }))
    }

    fn sign_in_form(&self, note: Option<(&str, bool)>) -> Page {
        let token = new_token();
        Page::html(if note.is_some_and(|(_, e)| e) { 401 } else { 200 }, html::sign_in_page(&token, note))
            .cookie(set_cookie(FORM_COOKIE, &token, 3600))
    }

    async fn sign_in(&self, req: &Req<'_>, now: i64) -> Result<Page, StoreError> {
        let f = form(req.body);
        if req.body.len() > MAX_FORM_BYTES || !form_token_ok(req, &f) {
            return Ok(self.sign_in_form(Some(("The form has expired; sign in again.", true))));
        }
        let refused = "Wrong login or password.";
        let Ok(login) = f.get("login").map_or("", |s| s).parse::<LoginName>() else {
            password::burn();
            return Ok(self.sign_in_form(Some((refused, true))));
        };
        let ip = req.source_ip.map(|i| i.to_string()).unwrap_or_default();
        for (key, limit) in [(format!("login:{login}"), SIGNIN_PER_LOGIN), (format!("ip:{ip}"), SIGNIN_PER_ADDRESS)] {
            if let Slot::Limited { retry_after_secs } =
                self.store.take_signin_slot(&key, limit, SIGNIN_WINDOW_SECS, now).await?
            {
                let mins = (retry_after_secs + 59) / 60;
                let mut p =
                    self.sign_in_form(Some((&format!("Too many sign-in attempts; try again in {mins} min."), true)));
                p.status = 429;
                return Ok(p);
            }
        }
        let record = self.store.get_login(&login).await?;
        let hash = record.as_ref().and_then(|r| r.password_hash.as_deref());
        let ok = password::verify(f.get("password").map_or("", |s| s), hash);
        let op = match (&record, ok) {
            (Some(r), true) => self.store.get_operator(&r.arn).await?,
            _ => None,
        };
        let (Some(record), Some(op)) = (record, op) else {
            tracing::warn!(login_len = login.as_str().len(), "dashboard sign-in refused");
            return Ok(self.sign_in_form(Some((refused, true))));
        };
        let token = new_token();
        let session =
            DashboardSession { login: record.login, arn: op.arn, csrf: new_token(), expires_at: now + SESSION_SECS };
        self.store.create_dashboard_session(&token, &session).await?;
        Ok(Page::redirect("/admin").cookie(set_cookie(SESSION_COOKIE, &token, SESSION_SECS)).cookie(set_cookie(
            FORM_COOKIE,
            "",
            0,
        )))
    }

    async fn invite_form(&self, req: &Req<'_>, now: i64) -> Result<Page, StoreError> {
        let t = form(req.query.as_bytes()).remove("t").unwrap_or_default();
        let Some(login) = self.valid_invite(&t, now).await? else { return Ok(expired_invite()) };
        let token = new_token();
        Ok(Page::html(200, html::password_page(&token, &t, login.as_str(), None)).cookie(set_cookie(
            FORM_COOKIE,
            &token,
            3600,
        )))
    }

    async fn valid_invite(&self, t: &str, now: i64) -> Result<Option<LoginName>, StoreError> {
        if t.is_empty() || t.len() > 128 {
            return Ok(None);
        }
        self.store.invite_login(t, now).await
    }

    async fn accept_invite(&self, req: &Req<'_>, now: i64) -> Result<Page, StoreError> {
        let f = form(req.body);
        let t = f.get("t").map_or("", |s| s);
        let Some(login) = self.valid_invite(t, now).await? else { return Ok(expired_invite()) };
        let again = |why: &str| {
            let token = new_token();
            Page::html(400, html::password_page(&token, t, login.as_str(), Some(why))).cookie(set_cookie(
                FORM_COOKIE,
                &token,
                3600,
            ))
        };
        if req.body.len() > MAX_FORM_BYTES || !form_token_ok(req, &f) {
            return Ok(again("The form has expired; try again."));
        }
        let pw = f.get("password").map_or("", |s| s);
        if let Err(why) = password::acceptable(pw, f.get("again").map_or("", |s| s)) {
            return Ok(again(why));
        }
        let Some(hash) = password::hash(pw) else { return Ok(again("That password cannot be used; choose another.")) };
        match self.store.accept_invite(t, &hash, now).await? {
            Some(_) => Ok(self.sign_in_form(Some(("Password set. Sign in.", false)))),
            None => Ok(expired_invite()),
        }
    }
}

fn expired_invite() -> Page {
    Page::html(
        410,
        html::problem_page(
            None,
            "Invite expired",
            "This link was used already or has expired. Ask an admin for a new one.",
        ),
    )
}

/// The sign-in and invite forms carry the token their cookie holds (double submit).
fn form_token_ok(req: &Req<'_>, f: &BTreeMap<String, String>) -> bool {
    match (cookie(req.cookie, FORM_COOKIE), f.get("csrf")) {
        (Some(c), Some(g)) if !c.is_empty() => hotspot_core::ct::eq(c.as_bytes(), g.as_bytes()),
        _ => false,
    }
}

/// A POST's `Origin`, when the browser sends one, names this host.
fn same_origin(req: &Req<'_>) -> bool {
    match (req.origin, req.host) {
        (None, _) => true,
        (Some(o), Some(h)) => o.split_once("://").is_some_and(|(_, rest)| rest == h),
        (Some(_), None) => false,
    }
}

/// What the operator's role allows for `action` on `router`.
fn allowed(who: &Who, action: Action, router: Option<&RouterId>) -> Option<Scope> {
    access::authorize(action, Some(&who.op.access), router, &who.op.arn, true).ok()
}

impl Admin<'_> {
    /// The routers an operator may do `action` at: every one (the `fleet` index) or their own.
    async fn routers_in_scope(&self, who: &Who, action: Action) -> Result<Vec<RouterRecord>, StoreError> {
        Ok(match allowed(who, action, None) {
            Some(Scope::Any) => self.store.list_fleet().await?.into_iter().map(|f| f.router).collect(),
            Some(Scope::Only(id)) => self.store.get_router(&id).await?.into_iter().collect(),
            None => Vec::new(),
        })
    }

    /// A section's first page: staff go straight to their router's page, others choose one.
    async fn router_chooser(
        &self,
        chrome: &html::Chrome<'_>,
        who: &Who,
        action: Action,
        title: &str,
        base: &str,
    ) -> Result<Page, StoreError> {
        match allowed(who, action, None) {
            Some(Scope::Only(r)) => Ok(Page::redirect(format!("{base}/{r}"))),
            Some(Scope::Any) => {
                let rows = self.store.list_fleet().await?;
                let routers: Vec<&RouterRecord> = rows.iter().map(|r| &r.router).collect();
                Ok(Page::html(200, html::router_list_page(chrome, title, base, &routers)))
            }
            None => Ok(Page::html(200, html::router_list_page(chrome, title, base, &[]))),
        }
    }

    /// The router a URL names, if the operator may do `action` there: another router's pages
    /// read as absent, however the URL was made.
    async fn router_in_scope(&self, who: &Who, action: Action, raw: &str) -> Result<Option<RouterRecord>, StoreError> {
        let Ok(id) = raw.parse::<RouterId>() else { return Ok(None) };
        if allowed(who, action, Some(&id)).is_none() {
            return Ok(None);
        }
        self.store.get_router(&id).await
    }
}

/// An M-Pesa receipt number: 10 ASCII letters and digits.
fn is_receipt(q: &str) -> bool {
    q.len() == 10 && q.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_name() {
        let h = Some("a=1; hs_session=abc; hs_form=x=y");
        assert_eq!(cookie(h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(h, FORM_COOKIE), Some("x=y"));
        assert_eq!(cookie(h, "nope"), None);
        assert_eq!(cookie(None, SESSION_COOKIE), None);
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let req = |origin, host| Req {
            method: "POST",
            path: "/admin/login",
            query: "",
            cookie: None,
            origin,
            host,
            proto: None,
            body: b"",
            source_ip: None,
        };
        assert!(same_origin(&req(None, Some("api.example.com"))));
        assert!(same_origin(&req(Some("https://api.example.com"), Some("api.example.com"))));
        assert!(!same_origin(&req(Some("https://evil.example"), Some("api.example.com"))));
        assert!(!same_origin(&req(Some("null"), Some("api.example.com"))));
    }

    #[test]
    fn cookies_are_locked_down() {
        let c = set_cookie(SESSION_COOKIE, "t", 60);
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
            assert!(c.contains(part), "{c}");
        }
    }
}
