//! Subscriber accounts on the dashboard: a router's accounts (who, what, until when, renewals),
//! and selling one at the counter (the same `hotspot_cloud::accounts::sell` as `hotspotctl
//! account add`): the number and password are shown once, on the answer to the sale.
//!
//!   GET  /admin/accounts                 routers the operator may sell at
//!   GET  /admin/accounts/{router}        the accounts and the sell form
//!   POST /admin/accounts/{router}        sell (package, service, name, phone, paid or not)

use std::collections::BTreeMap;
use std::fmt::Write;

use hotspot_cloud::access::Action;
use hotspot_cloud::accounts::{SERVICES, Sale, SellError, Sold, sell};
use hotspot_cloud::renewal::OddAmount;
use hotspot_cloud::store::{AccountRecord, AuditResult, PackageRecord, RouterRecord, StoreError};
use hotspot_core::PackageId;
use hotspot_core::phone::PhoneNumber;

use hotspot_core::escape::Html;

use super::html::{self, Chrome, note_html};
use super::{Admin, Page, Req, Who, allowed, form, not_found};

impl Admin<'_> {
    pub(super) async fn accounts(
        &self,
        req: &Req<'_>,
        rest: &str,
        chrome: &Chrome<'_>,
        who: &Who,
        now: i64,
    ) -> Result<Page, StoreError> {
        let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        match (req.method, parts.as_slice()) {
            ("GET", []) => self.router_chooser(chrome, who, Action::AccountList, "Accounts", "/admin/accounts").await,
            (method, [router]) => {
                let Some(r) = self.router_in_scope(who, Action::AccountList, router).await? else {
                    return Ok(not_found());
                };
                match method {
                    "GET" => self.show_accounts(chrome, &r, None, now).await,
                    "POST" => self.sell_account(req, chrome, who, &r, now).await,
                    _ => Ok(not_found()),
                }
            }
            _ => Ok(not_found()),
        }
    }

    async fn show_accounts(
        &self,
        chrome: &Chrome<'_>,
        r: &RouterRecord,
        note: Option<(&str, bool)>,
        now: i64,
    ) -> Result<Page, StoreError> {
        let (packages, accounts) =
            tokio::try_join!(self.store.list_packages(&r.id), self.store.router_accounts(&r.id))?;
        let status = if note.is_some_and(|(_, e)| e) { 409 } else { 200 };
        Ok(Page::html(status, accounts_page(chrome, r, &packages, &accounts, note, now)))
    }

    async fn sell_account(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        r: &RouterRecord,
        now: i64,
    ) -> Result<Page, StoreError> {
        if allowed(who, Action::AccountAdd, Some(&r.id)).is_none() {
            return Ok(not_found());
        }
        let f = form(req.body);
        let get = |k: &str| f.get(k).map(|v| v.trim()).unwrap_or("");
        let refuse = |why: String| async move { self.show_accounts(chrome, r, Some((&why, true)), now).await };
        let Ok(package) = get("package").parse::<PackageId>() else {
            return refuse("Choose a package; nothing was changed.".into()).await;
        };
        let service = get("service");
        let phone = match get("phone") {
            "" => None,
            p => match PhoneNumber::parse_in(r.country, p) {
                Ok(p) => Some(p),
                Err(e) => return refuse(format!("Phone: {e}; nothing was changed.")).await,
            },
        };
        let name = Some(get("name")).filter(|n| !n.is_empty()).map(str::to_string);
        // Empty: as the package says.
        let odd_amount = match get("odd") {
            "" => None,
            o => match o.parse::<OddAmount>() {
                Ok(o) => Some(o),
                Err(_) => return refuse("Choose what odd amounts do; nothing was changed.".into()).await,
            },
        };
        // Paid at the counter (one period from now), or waiting for the first Paybill payment.
        let expires_at = (get("paid") != "on").then_some(now);
        let wg_endpoint = Some(get("endpoint")).filter(|e| !e.is_empty()).map(str::to_string);
        let sale = Sale { router: &r.id, package: &package, service, odd_amount, expires_at, phone, name, wg_endpoint };
        let mut args = BTreeMap::from([
            ("router".to_string(), r.id.to_string()),
            ("package".to_string(), package.to_string()),
            ("service".to_string(), service.to_string()),
        ]);
        let sold = match sell(self.store, self.sqs, &sale, now).await {
            Ok(s) => s,
            Err(SellError::Store(e)) => return Err(e),
            Err(SellError::Refused(why)) => {
                self.audit_action(who, Action::AccountAdd, args, AuditResult::Refused, &why, now).await?;
                return refuse(why).await;
            }
        };
        args.insert("account".into(), sold.number.to_string());
        let (result, detail) = match &sold.job {
            Ok(_) => (AuditResult::Ok, format!("account {} sold", sold.number)),
            Err(why) => (AuditResult::Error, format!("account {} sold, router not told: {why}", sold.number)),
        };
        self.audit_action(who, Action::AccountAdd, args, result, &detail, now).await?;
        let (packages, accounts) =
            tokio::try_join!(self.store.list_packages(&r.id), self.store.router_accounts(&r.id))?;
        let mut b = sold_html(&sold, &sale, r);
        b.push_str(&accounts_body(chrome, r, &packages, &accounts, now));
        Ok(Page::html(201, html::layout("Accounts", Some(chrome), &b)))
    }
}

/// The answer to a sale: what the subscriber needs, shown this once (the password is on record,
/// but no page shows it again).
fn sold_html(s: &Sold, sale: &Sale<'_>, r: &RouterRecord) -> String {
    let (offset, zone) = r.country.time_zone();
    let mut b = format!(
        "<div class=\"msg\" role=\"status\"><strong>Account {n} sold.</strong> Give the subscriber:<br>\
         account (user name) <strong>{n}</strong><br>password <strong>{pw}</strong><br>paid to {to} {zone}<br>\
         renew: M-Pesa Paybill, account number {n}",
        n = Html(s.number.as_str()),
        pw = Html(&s.password),
        to = Html(&hotspot_core::calendar::minute_string(s.expires_at, offset)),
    );
    if let Some(p) = &sale.phone {
        let _ = match &s.welcome {
            Some(Ok(())) => write!(b, "<br>An SMS with these goes to {} within a minute.", Html(&p.masked())),
            _ => write!(b, "<br>The SMS to {} could not be queued: give them a slip.", Html(&p.masked())),
        };
    }
    if let Err(why) = &s.job {
        let _ = write!(
            b,
            "<br><span class=\"bad\">The router was not told ({}); it is sent again at the next renewal.</span>",
            Html(why)
        );
    }
    b.push_str("</div>");
    b
}

fn accounts_page(
    chrome: &Chrome<'_>,
    r: &RouterRecord,
    packages: &[PackageRecord],
    accounts: &[AccountRecord],
    note: Option<(&str, bool)>,
    now: i64,
) -> String {
    let mut b = note.map(|(t, e)| note_html(t, e)).unwrap_or_default();
    b.push_str(&accounts_body(chrome, r, packages, accounts, now));
    html::layout("Accounts", Some(chrome), &b)
}

fn accounts_body(
    chrome: &Chrome<'_>,
    r: &RouterRecord,
    packages: &[PackageRecord],
    accounts: &[AccountRecord],
    now: i64,
) -> String {
    let id = Html(r.id.as_str());
    let (offset, zone) = r.country.time_zone();
    let mut b = format!("<p>{} <small>{id}</small></p>", Html(&r.name));
    let on_sale: Vec<&PackageRecord> = packages.iter().filter(|p| p.on_sale).collect();
    if on_sale.is_empty() {
        b.push_str(&note_html("No package is on sale at this router: add one first.", true));
    } else {
        let _ = write!(
            b,
            "<h2>Sell an account</h2><form method=\"post\" action=\"/admin/accounts/{id}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><label for=\"package\">Package (price per period, speed)</label>\
             <select id=\"package\" name=\"package\">",
            Html(chrome.csrf)
        );
        for p in on_sale {
            let p = &p.package;
            let _ = write!(
                b,
                "<option value=\"{}\">{} · {} per {}</option>",
                Html(p.id().as_str()),
                Html(p.name()),
                Html(&p.price().to_string()),
                Html(&p.validity().to_string())
            );
        }
        b.push_str("</select><label for=\"service\">Service</label><select id=\"service\" name=\"service\">");
        for s in SERVICES {
            let _ = write!(b, "<option value=\"{s}\">{s}</option>");
        }
        b.push_str(
            "</select><label for=\"name\">Name (optional)</label><input id=\"name\" name=\"name\" maxlength=\"60\">\
             <label for=\"phone\">Phone for SMS (optional)</label><input id=\"phone\" name=\"phone\" type=\"tel\" maxlength=\"20\">\
             <label for=\"endpoint\">WireGuard only: the router's public name[:port] (the buyer's page then offers the config)</label>\
             <input id=\"endpoint\" name=\"endpoint\" maxlength=\"80\">\
             <label><input type=\"checkbox\" name=\"paid\" checked> Paid now: runs one period from now (else it waits for a Paybill payment)</label>\
             <label for=\"odd\">A payment that is not whole periods</label><select id=\"odd\" name=\"odd\">\
             <option value=\"\">as the package says</option><option value=\"hold\">is held for you</option>\
             <option value=\"pro_rata\">renews its share</option></select>\
             <button class=\"act\">Sell</button></form>",
        );
    }
    let running = accounts.iter().filter(|a| a.expires_at > now).count();
    let _ = write!(b, "<h2>Accounts</h2><p>{} account(s), {running} running.</p>", accounts.len());
    if accounts.is_empty() {
        return b;
    }
    b.push_str(
        "<div class=\"wrap\"><table><thead><tr><th>Account</th><th>Name</th><th>Service</th><th>Package</th>\
         <th>Paid to</th><th>Renewed</th><th>Phone</th></tr></thead><tbody>",
    );
    for a in accounts {
        let state = if a.expires_at > now { "" } else { " <span class=\"bad\">ended</span>" };
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {zone}{state}</td><td>{}</td><td>{}</td></tr>",
            Html(a.number.as_str()),
            Html(a.name.as_deref().unwrap_or("-")),
            Html(&a.service),
            Html(a.package_id.as_str()),
            Html(&hotspot_core::calendar::minute_string(a.expires_at, offset)),
            a.renewals,
            Html(&a.phone.as_ref().map(|p| p.masked()).unwrap_or_else(|| "-".into())),
        );
    }
    b.push_str("</tbody></table></div>");
    b
}
