//! An M-Pesa receipt on the desk: what M-Pesa said, which purchase it paid for, and, for money no
//! purchase claims (the guest paid and is not online), crediting it as a grant to the guest's
//! device (`hotspot_cloud::credit`, the same as `hotspotctl report ledger --credit`). Admins and
//! managers; a search for an unmatched receipt on the desk comes here.
//!
//!   GET  /admin/receipts[?from=&to=]           receipts no purchase claims (default: the last 31 days)
//!   GET  /admin/receipts/{key}[?router=R]    the receipt; the credit form (router, then package and MAC)
//!   POST /admin/receipts/{key}               credit (router, package, mac)

use std::collections::BTreeMap;
use std::fmt::Write;

use hotspot_cloud::access::Action;
use hotspot_cloud::credit::{Credit, CreditError, credit_receipt};
use hotspot_cloud::store::{AuditResult, ReceiptRecord, RouterRecord, StoreError};
use hotspot_core::currency::{sum_by_currency, sums_text};
use hotspot_core::escape::Html;
use hotspot_core::{MacAddr, PackageId, RouterId};

use super::html::{self, Chrome, note_html, when};
use super::revenue::range_or_default;
use super::{Admin, OFFSET, OFFSET_SECS, Page, Req, Who, allowed, form, is_receipt, not_found};

/// The unmatched list's default and longest range (the `ledger` index, one Query a month).
const UNMATCHED_DAYS: i64 = 31;
const UNMATCHED_MAX_DAYS: i64 = 92;

impl Admin<'_> {
    /// Money no purchase claims, newest first: each a link to its credit form.
    pub(super) async fn unmatched(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        now: i64,
    ) -> Result<Page, StoreError> {
        if allowed(who, Action::LedgerCredit, None).is_none() {
            return Ok(not_found());
        }
        let f = form(req.query.as_bytes());
        let ((from, to), bad) = range_or_default(&f, now, UNMATCHED_DAYS, UNMATCHED_MAX_DAYS);
        let mut b = bad
            .as_deref()
            .map(|w| note_html(&format!("{w}; the last {UNMATCHED_DAYS} days are shown."), true))
            .unwrap_or_default();
        let _ = write!(
            b,
            "<form method=\"get\" action=\"/admin/receipts\">{} <button class=\"act\">Show</button></form>",
            html::date_inputs(from, to)
        );
        let mut list: Vec<ReceiptRecord> = self
            .store
            .receipts_between(from.start(OFFSET), to.end(OFFSET))
            .await?
            .into_iter()
            .filter(|r| r.purchase_id.is_none() && is_receipt(&r.key))
            .collect();
        list.sort_by(|a, b| (b.at, &b.key).cmp(&(a.at, &a.key)));
        let total = sums_text(&sum_by_currency(list.iter().filter_map(|r| r.amount)));
        let _ = write!(
            b,
            "<p role=\"status\">{} unmatched receipt(s), {total}, {from} to {to}.</p><div class=\"wrap\"><table><thead><tr>\
             <th>Receipt</th><th>Amount</th><th>Phone</th><th>When</th></tr></thead><tbody>",
            list.len()
        );
        for r in &list {
            let _ = write!(
                b,
                "<tr><td><a href=\"/admin/receipts/{k}\">{k}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                amount_text(r),
                Html(&r.phone.as_ref().map(|p| p.masked()).unwrap_or_default()),
                Html(&when(r.at, OFFSET_SECS)),
                k = Html(&r.key),
            );
        }
        b.push_str("</tbody></table></div>");
        Ok(Page::html(if bad.is_some() { 400 } else { 200 }, html::layout("Unmatched receipts", Some(chrome), &b)))
    }

    pub(super) async fn receipt(
        &self,
        req: &Req<'_>,
        key: &str,
        chrome: &Chrome<'_>,
        who: &Who,
        now: i64,
    ) -> Result<Page, StoreError> {
        if allowed(who, Action::LedgerCredit, None).is_none() {
            return Ok(not_found());
        }
        if !is_receipt(key) {
            return Ok(not_found());
        }
        let key = key.to_ascii_uppercase();
        let Some(r) = self.store.get_receipt(&key).await? else { return Ok(not_found()) };
        let routers = self.routers_in_scope(who, Action::LedgerCredit).await?;
        match req.method {
            "POST" => self.credit(req, chrome, who, &r, &routers, now).await,
            _ => {
                let asked = form(req.query.as_bytes()).remove("router");
                self.receipt_page(chrome, &r, &routers, asked.as_deref(), None).await
            }
        }
    }

    async fn receipt_page(
        &self,
        chrome: &Chrome<'_>,
        r: &ReceiptRecord,
        routers: &[RouterRecord],
        asked: Option<&str>,
        note: Option<(&str, bool)>,
    ) -> Result<Page, StoreError> {
        // The router the form is for: the one asked for among the operator's, or the only one.
        let chosen = match (asked, routers) {
            (Some(a), _) => routers.iter().find(|x| x.id.as_str() == a),
            (None, [only]) => Some(only),
            _ => None,
        };
        let packages = match chosen {
            Some(x) => self.store.list_packages(&x.id).await?,
            None => Vec::new(),
        };
        let mut b = note.map(|(t, e)| note_html(t, e)).unwrap_or_default();
        let _ = write!(
            b,
            "<div class=\"wrap\"><table><tbody><tr><th>Receipt</th><td>{}</td></tr><tr><th>Amount</th><td>{}</td></tr>\
             <tr><th>Phone</th><td>{}</td></tr><tr><th>When</th><td>{}</td></tr><tr><th>Learned from</th><td>{}</td></tr>\
             </tbody></table></div>",
            Html(&r.key),
            amount_text(r),
            Html(&r.phone.as_ref().map(|p| p.masked()).unwrap_or_default()),
            Html(&when(r.at, OFFSET_SECS)),
            r.source.as_str()
        );
        if let Some(p) = &r.purchase_id {
            let by = r.credited_by.as_deref().map(|b| format!(" (credited by {})", Html(b))).unwrap_or_default();
            let _ =
                write!(b, "<p>Paid for purchase <a href=\"/admin/purchases/{0}\">{0}</a>{by}.</p>", Html(p.as_str()));
            return Ok(Page::html(
                if note.is_some_and(|(_, e)| e) { 409 } else { 200 },
                html::layout("Receipt", Some(chrome), &b),
            ));
        }
        b.push_str("<p class=\"msg err\">No purchase claims this money: the guest paid and was not served. Credit it as a grant to their device.</p>");
        let key = Html(&r.key);
        match chosen {
            None => {
                let _ = write!(
                    b,
                    "<form method=\"get\" action=\"/admin/receipts/{key}\"><label for=\"router\">Router</label><select id=\"router\" name=\"router\">"
                );
                for x in routers {
                    let _ = write!(
                        b,
                        "<option value=\"{}\">{} ({})</option>",
                        Html(x.id.as_str()),
                        Html(&x.name),
                        Html(x.id.as_str())
                    );
                }
                b.push_str("</select> <button class=\"act\">Next</button></form>");
            }
            Some(x) => {
                let _ = write!(
                    b,
                    "<form method=\"post\" action=\"/admin/receipts/{key}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                     <input type=\"hidden\" name=\"router\" value=\"{}\"><p>Router: {}</p>\
                     <label for=\"package\">Package (its price must be the amount paid)</label><select id=\"package\" name=\"package\">",
                    Html(chrome.csrf),
                    Html(x.id.as_str()),
                    Html(&x.name)
                );
                for p in packages.iter().filter(|p| p.on_sale) {
                    let p = &p.package;
                    let sel = if Some(p.price()) == r.amount { " selected" } else { "" };
                    let _ = write!(
                        b,
                        "<option value=\"{}\"{sel}>{} · {}</option>",
                        Html(p.id().as_str()),
                        Html(p.name()),
                        Html(&p.price().to_string())
                    );
                }
                b.push_str(
                    "</select><label for=\"mac\">The guest's device (MAC, on the portal's page or the router's hosts)</label>\
                     <input id=\"mac\" name=\"mac\" required placeholder=\"DA:A1:19:3C:5E:01\" maxlength=\"17\" autocomplete=\"off\"> \
                     <button class=\"act\">Credit</button></form>",
                );
            }
        }
        Ok(Page::html(if note.is_some_and(|(_, e)| e) { 409 } else { 200 }, html::layout("Receipt", Some(chrome), &b)))
    }

    async fn credit(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        r: &ReceiptRecord,
        routers: &[RouterRecord],
        now: i64,
    ) -> Result<Page, StoreError> {
        let f = form(req.body);
        let router =
            f.get("router").and_then(|x| x.parse::<RouterId>().ok()).filter(|x| routers.iter().any(|y| &y.id == x));
        let package = f.get("package").and_then(|x| x.parse::<PackageId>().ok());
        let mac = f.get("mac").and_then(|x| x.trim().parse::<MacAddr>().ok());
        let asked = f.get("router").map(String::as_str);
        let (Some(router), Some(package), Some(mac)) = (router, package, mac) else {
            let why = "Choose a router and a package and type the MAC of the device (like DA:A1:19:3C:5E:01); nothing was changed.";
            return self.receipt_page(chrome, r, routers, asked, Some((why, true))).await;
        };
        let c = Credit { key: &r.key, router: &router, package: &package, mac, by: &who.op.arn };
        let out = credit_receipt(self.store, self.sqs, &c, now).await;
        let args = BTreeMap::from([
            ("receipt".to_string(), r.key.clone()),
            ("router".to_string(), router.to_string()),
            ("package".to_string(), package.to_string()),
            ("mac".to_string(), mac.to_string()),
        ]);
        let (result, note, error) = match &out {
            Ok(d) => (
                AuditResult::Ok,
                format!(
                    "Receipt {} credited: {}",
                    r.key,
                    if d.sent { "grant sent to the router" } else { "the grant was already sent" }
                ),
                false,
            ),
            Err(CreditError::Store(_)) => (AuditResult::Error, "storage unavailable".to_string(), true),
            Err(CreditError::Refused(why)) => (AuditResult::Refused, why.clone(), true),
            Err(e @ CreditError::NotSent { .. }) => (AuditResult::Error, e.to_string(), true),
        };
        self.audit_action(who, Action::LedgerCredit, args, result, &note, now).await?;
        match out {
            Ok(d) => match self.store.get_purchase(&d.purchase).await? {
                Some(p) => self.purchase_page(chrome, &p, Some((&note, false)), now).await,
                None => Ok(not_found()),
            },
            Err(CreditError::Store(e)) => Err(e),
            Err(_) => {
                let fresh = self.store.get_receipt(&r.key).await?.unwrap_or_else(|| r.clone());
                self.receipt_page(chrome, &fresh, routers, asked, Some((&note, error))).await
            }
        }
    }
}

/// A receipt's amount as M-Pesa stated it, or that it did not.
fn amount_text(r: &ReceiptRecord) -> String {
    r.amount.map_or_else(|| "not stated".into(), |a| a.to_string())
}
