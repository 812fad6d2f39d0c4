//! Packages on the dashboard (admins): a router's packages, added, edited (name, price, time,
//! speed, devices, uptime limit, data cap), retired
//! and put back on sale, each change followed by a `packages_sync` job with the router's full
//! list on sale, so its portal sells what the page shows (`hotspot_cloud::jobs::sync_packages`, as
//! `hotspotctl package` does). Time already sold keeps the terms it was sold with.
//!
//!   GET  /admin/packages                          routers
//!   GET  /admin/packages/{router}                 the packages and the add form
//!   POST /admin/packages/{router}                 add (id, name, price, validity, rate_limit, devices,
//!                                                 uptime_limit, data_cap_mb)
//!   POST /admin/packages/{router}/{package}       do = edit (any of those but id) | retire | resume

use std::collections::BTreeMap;
use std::fmt::Write;

use hotspot_cloud::access::Action;
use hotspot_cloud::jobs::{SyncError, sync_packages};
use hotspot_cloud::store::{AuditResult, PackageRecord, RouterRecord, StoreError};
use hotspot_core::currency::Currency;
use hotspot_core::escape::Html;
use hotspot_core::package::{GrantStyle, RawPackage};
use hotspot_core::{Package, PackageId};

use super::html::{self, Chrome, note_html};
use super::{Admin, Page, Req, Who, allowed, form, not_found};

impl Admin<'_> {
    pub(super) async fn packages(
        &self,
        req: &Req<'_>,
        rest: &str,
        chrome: &Chrome<'_>,
        who: &Who,
        now: i64,
    ) -> Result<Page, StoreError> {
        if allowed(who, Action::PackageAdd, None).is_none() {
            return Ok(not_found());
        }
        let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        if let ("GET", []) = (req.method, parts.as_slice()) {
            let routers = self.routers_in_scope(who, Action::PackageAdd).await?;
            let refs: Vec<&RouterRecord> = routers.iter().collect();
            return Ok(Page::html(200, html::router_list_page(chrome, "Packages", "/admin/packages", &refs)));
        }
        let Some(raw) = parts.first() else { return Ok(not_found()) };
        let Some(r) = self.router_in_scope(who, Action::PackageAdd, raw).await? else { return Ok(not_found()) };
        match (req.method, &parts[1..]) {
            ("GET", []) => self.show_packages(chrome, &r, None).await,
            ("POST", []) => self.add_package(req, chrome, who, &r, now).await,
            ("POST", [pkg]) => match pkg.parse::<PackageId>() {
                Ok(pkg) => self.change_package(req, chrome, who, &r, &pkg, now).await,
                Err(_) => Ok(not_found()),
            },
            _ => Ok(not_found()),
        }
    }

    async fn show_packages(
        &self,
        chrome: &Chrome<'_>,
        r: &RouterRecord,
        note: Option<(&str, bool)>,
    ) -> Result<Page, StoreError> {
        let list = self.store.list_packages(&r.id).await?;
        let status = if note.is_some_and(|(_, e)| e) { 409 } else { 200 };
        Ok(Page::html(status, packages_page(chrome, r, &list, note)))
    }

    async fn add_package(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        r: &RouterRecord,
        now: i64,
    ) -> Result<Page, StoreError> {
        let f = form(req.body);
        let p = match parse_new(&f, Currency::of(r.country)) {
            Ok(p) => p,
            Err(why) => {
                return self.show_packages(chrome, r, Some((&format!("{why}; nothing was changed."), true))).await;
            }
        };
        match self.store.add_package(&r.id, &p, now).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists(what)) => {
                let why = format!("{what} already exists: edit it below; nothing was changed.");
                return self.show_packages(chrome, r, Some((&why, true))).await;
            }
            Err(e) => return Err(e),
        }
        self.synced(chrome, who, Action::PackageAdd, r, p.id(), &format!("Package {} added", p.id()), now).await
    }

    async fn change_package(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        r: &RouterRecord,
        id: &PackageId,
        now: i64,
    ) -> Result<Page, StoreError> {
        let Some(cur) = self.store.get_package(&r.id, id).await? else { return Ok(not_found()) };
        let f = form(req.body);
        let refuse = |why: String| (why + "; nothing was changed.", true);
        let (action, done) = match f.get("do").map(String::as_str) {
            Some("retire") if cur.on_sale => {
                self.store.retire_package(&r.id, id, now).await?;
                (Action::PackageRetire, format!("Package {id} retired (time already sold is honoured)"))
            }
            Some("resume") if !cur.on_sale => {
                self.store.update_package(&r.id, &cur.package, Some(true), now).await?;
                (Action::PackageEdit, format!("Package {id} is on sale again"))
            }
            Some("edit") => {
                let mut raw = RawPackage::from(cur.package.clone());
                let new = match apply_form(&mut raw, &f, Currency::of(r.country))
                    .and_then(|()| Package::try_from(raw).map_err(|e| e.to_string()))
                {
                    Ok(p) if p != cur.package => p,
                    other => {
                        let (t, e) = refuse(other.err().unwrap_or_else(|| "no change given".into()));
                        return self.show_packages(chrome, r, Some((&t, e))).await;
                    }
                };
                self.store.update_package(&r.id, &new, None, now).await?;
                (Action::PackageEdit, format!("Package {id} changed"))
            }
            _ => {
                let (t, e) = refuse("that is not a change this package can take".into());
                return self.show_packages(chrome, r, Some((&t, e))).await;
            }
        };
        self.synced(chrome, who, action, r, id, &done, now).await
    }

    /// After a saved change: the router's list on sale as a job, the audit entry, the page.
    #[allow(clippy::too_many_arguments)]
    async fn synced(
        &self,
        chrome: &Chrome<'_>,
        who: &Who,
        action: Action,
        r: &RouterRecord,
        id: &PackageId,
        done: &str,
        now: i64,
    ) -> Result<Page, StoreError> {
        let (result, note, error) = match sync_packages(self.store, self.sqs, r, now).await {
            Ok(n) => (AuditResult::Ok, format!("{done}; {n} package(s) on sale sent to the router."), false),
            Err(SyncError::Store(e)) => return Err(e),
            Err(SyncError::Job(e)) => {
                tracing::error!(error = %e, "packages_sync job not sent");
                (
                    AuditResult::Error,
                    format!("{done}, but the router was not told: change anything again to resend."),
                    true,
                )
            }
        };
        let args = BTreeMap::from([("router".to_string(), r.id.to_string()), ("package".to_string(), id.to_string())]);
        self.audit_action(who, action, args, result, &note, now).await?;
        self.show_packages(chrome, r, Some((&note, error))).await
    }
}

/// A new package from the add form (hotspot users; the limits are optional), priced in the
/// router's `currency`.
fn parse_new(f: &BTreeMap<String, String>, currency: Currency) -> Result<Package, String> {
    let field =
        |name: &str| f.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()).ok_or(format!("{name} is missing"));
    let mut raw = RawPackage {
        id: field("id")?.parse().map_err(|e| format!("id: {e}"))?,
        name: field("name")?.to_string(),
        price: field("price")?.parse().map_err(|e| format!("price: {e}"))?,
        currency,
        validity: field("validity")?.parse().map_err(|e| format!("validity: {e}"))?,
        uptime_limit: None,
        data_cap_bytes: None,
        rate_limit: field("rate_limit")?.parse().map_err(|e| format!("rate limit: {e}"))?,
        devices: parse_devices(field("devices")?)?,
        style: GrantStyle::HotspotUser,
    };
    apply_limits(&mut raw, f)?;
    Package::try_from(raw).map_err(|e| e.to_string())
}

fn parse_devices(v: &str) -> Result<u8, String> {
    v.parse().map_err(|_| "devices must be a number from 1".to_string())
}

/// Sets on `raw` each field the edit form gives. An empty name, price, time, speed or devices
/// keeps what was there. A price is in the router's `currency`.
fn apply_form(raw: &mut RawPackage, f: &BTreeMap<String, String>, currency: Currency) -> Result<(), String> {
    let filled = |name: &str| f.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    if let Some(v) = filled("name") {
        raw.name = v.to_string();
    }
    match filled("price") {
        Some(v) => {
            raw.price = v.parse().map_err(|e| format!("price: {e}"))?;
            raw.currency = currency;
        }
        None if raw.currency != currency => {
            return Err(format!("it is priced in {}; give its price in {currency}", raw.currency));
        }
        None => {}
    }
    if let Some(v) = filled("validity") {
        raw.validity = v.parse().map_err(|e| format!("validity: {e}"))?;
    }
    if let Some(v) = filled("rate_limit") {
        raw.rate_limit = v.parse().map_err(|e| format!("rate limit: {e}"))?;
    }
    if let Some(v) = filled("devices") {
        raw.devices = parse_devices(v)?;
    }
    apply_limits(raw, f)
}

/// The optional limits, as the add and edit forms give them: an empty field clears the limit.
fn apply_limits(raw: &mut RawPackage, f: &BTreeMap<String, String>) -> Result<(), String> {
    let given = |name: &str| f.get(name).map(|v| v.trim());
    match given("uptime_limit") {
        Some("") => raw.uptime_limit = None,
        Some(v) => raw.uptime_limit = Some(v.parse().map_err(|e| format!("uptime limit: {e}"))?),
        None => {}
    }
    match given("data_cap_mb") {
        Some("") => raw.data_cap_bytes = None,
        Some(v) => {
            let mb: u64 = v.parse().map_err(|_| "the data cap is a whole number of MB".to_string())?;
            raw.data_cap_bytes = Some(mb.checked_mul(1_000_000).ok_or("the data cap is too large")?);
        }
        None => {}
    }
    Ok(())
}

fn packages_page(chrome: &Chrome<'_>, r: &RouterRecord, list: &[PackageRecord], note: Option<(&str, bool)>) -> String {
    let id = Html(r.id.as_str());
    let csrf = Html(chrome.csrf);
    let currency = Currency::of(r.country);
    let cur = currency.as_str();
    let mut b = note.map(|(t, e)| note_html(t, e)).unwrap_or_default();
    let _ = write!(b, "<p>{} <small>{id}</small></p>", Html(&r.name));
    b.push_str(
        "<div class=\"wrap\"><table><thead><tr><th>Package</th><th>Price</th><th>Time</th><th>Speed</th><th>Devices</th>\
         <th>Sale</th><th>Change</th></tr></thead><tbody>",
    );
    for rec in list {
        let p = &rec.package;
        let pid = Html(p.id().as_str());
        let action = format!("/admin/packages/{id}/{pid}");
        let toggle = match rec.on_sale {
            true => "<button class=\"act warn\" name=\"do\" value=\"retire\">Retire</button>",
            false => "<button class=\"act\" name=\"do\" value=\"resume\">Put on sale</button>",
        };
        let limits = match (p.uptime_limit(), p.data_cap_bytes()) {
            (None, None) => String::new(),
            (u, d) => format!(
                "<br><small>{}{}</small>",
                u.map(|u| format!("uptime {u} ")).unwrap_or_default(),
                d.map(|d| format!("cap {} MB", d / 1_000_000)).unwrap_or_default()
            ),
        };
        let _ = write!(
            b,
            "<tr class=\"{}\"><td>{} <small>{pid}</small></td><td>{}</td><td>{}{limits}</td><td>{}</td><td>{}</td><td>{}</td><td>\
             <form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label for=\"name-{pid}\">Name</label><input id=\"name-{pid}\" name=\"name\" value=\"{}\" maxlength=\"40\">\
             <label for=\"price-{pid}\">Price ({cur})</label><input id=\"price-{pid}\" name=\"price\" inputmode=\"decimal\" value=\"{}\">\
             <details><summary>Time, speed, devices, limits</summary>\
             <label for=\"validity-{pid}\">Time</label><input id=\"validity-{pid}\" name=\"validity\" value=\"{}\">\
             <label for=\"rate-{pid}\">Speed (rx/tx)</label><input id=\"rate-{pid}\" name=\"rate_limit\" value=\"{}\">\
             <label for=\"devices-{pid}\">Devices</label><input id=\"devices-{pid}\" name=\"devices\" inputmode=\"numeric\" value=\"{}\">\
             <label for=\"uptime-{pid}\">Uptime limit (empty: none)</label><input id=\"uptime-{pid}\" name=\"uptime_limit\" value=\"{}\">\
             <label for=\"cap-{pid}\">Data cap in MB (empty: none)</label><input id=\"cap-{pid}\" name=\"data_cap_mb\" inputmode=\"numeric\" value=\"{}\">\
             </details><button class=\"act\" name=\"do\" value=\"edit\">Save</button>{toggle}</form></td></tr>",
            if rec.on_sale { "" } else { "off" },
            Html(p.name()),
            Html(&p.price().to_string()),
            Html(&p.validity().to_string()),
            Html(&p.rate_limit().to_string()),
            p.devices(),
            if rec.on_sale { "on sale" } else { "retired" },
            Html(p.name()),
            p.price().plain(),
            Html(&p.validity().to_string()),
            Html(&p.rate_limit().to_string()),
            p.devices(),
            Html(&p.uptime_limit().map(|u| u.to_string()).unwrap_or_default()),
            p.data_cap_bytes().map(|d| (d / 1_000_000).to_string()).unwrap_or_default(),
        );
    }
    b.push_str("</tbody></table></div>");
    let _ = write!(
        b,
        "<h2>Add a package</h2><form method=\"post\" action=\"/admin/packages/{id}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"new-id\">Id (letters, digits, - and _)</label><input id=\"new-id\" name=\"id\" required maxlength=\"32\" placeholder=\"2h\">\
         <label for=\"new-name\">Name the guest sees</label><input id=\"new-name\" name=\"name\" required maxlength=\"40\" placeholder=\"2 hours\">\
         <label for=\"new-price\">Price ({cur})</label><input id=\"new-price\" name=\"price\" required inputmode=\"decimal\" placeholder=\"{}\">\
         <label for=\"new-validity\">Time (RouterOS duration)</label><input id=\"new-validity\" name=\"validity\" required placeholder=\"2h\">\
         <label for=\"new-rate\">Speed (rx/tx)</label><input id=\"new-rate\" name=\"rate_limit\" required placeholder=\"2M/5M\">\
         <label for=\"new-devices\">Devices</label><input id=\"new-devices\" name=\"devices\" required inputmode=\"numeric\" value=\"1\">\
         <label for=\"new-uptime\">Uptime limit (optional)</label><input id=\"new-uptime\" name=\"uptime_limit\" placeholder=\"1h\">\
         <label for=\"new-cap\">Data cap in MB (optional)</label><input id=\"new-cap\" name=\"data_cap_mb\" inputmode=\"numeric\" placeholder=\"1000\">\
         <p><button class=\"act\">Add</button></p></form>",
        if currency.is_kes() { "20" } else { "1000" }
    );
    html::layout("Packages", Some(chrome), &b)
}
