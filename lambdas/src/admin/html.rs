//! The dashboard's pages, rendered on the server: plain forms and links, readable at 360 px,
//! working with JavaScript off. Everything shown that anyone could have typed (router and
//! package names, phone fields, login names) goes through `Html`.

use std::fmt::Write;

use hotspot_cloud::desk::Step;
use hotspot_cloud::store::{
    FleetRow, PackageRecord, Purchase, RouterRecord, SessionRecord, VoucherBatchRecord, VoucherRecord,
};
use hotspot_core::escape::Html;

const STYLE: &str = "body{font:16px/1.4 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}\
header{background:#0b6e4f;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.8rem;align-items:center}\
header a,header button{color:#fff;font:inherit;background:none;border:0;padding:0;text-decoration:underline;cursor:pointer}\
header strong{margin-right:auto}main{padding:1rem;max-width:70rem;margin:auto}\
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:.45rem .5rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
.wrap{overflow-x:auto}.off{background:#fde8e8}.bad{color:#b00020;font-weight:600}.ok{color:#0b6e4f;font-weight:600}\
form.inline{display:inline}input,button,select{font:inherit;padding:.5rem;max-width:100%}label{display:block;margin:.6rem 0 .2rem}\
button.act{background:#0b6e4f;color:#fff;border:0;border-radius:.3rem;padding:.55rem .9rem;margin:.2rem .4rem .2rem 0}\
button.warn{background:#b00020}.msg{background:#fff;border-left:4px solid #0b6e4f;padding:.6rem;margin:.5rem 0}.err{border-color:#b00020}\
ol.tl{list-style:none;padding:0}ol.tl li{background:#fff;margin:.3rem 0;padding:.5rem;border-left:4px solid #0b6e4f}\
ol.tl li.problem{border-color:#b00020}small{color:#555}";

/// Who is signed in, for the header, and the form token every POST carries.
pub struct Chrome<'a> {
    pub login: &'a str,
    pub role: &'a str,
    pub csrf: &'a str,
    /// May see the takings (admins and managers): the Revenue link.
    pub revenue: bool,
    /// May read the audit log and change packages (admins): those links.
    pub admin: bool,
}

pub fn layout(title: &str, chrome: Option<&Chrome<'_>>, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 2048);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · Hotspot</title><style>{STYLE}</style></head><body><header><strong>Hotspot</strong>",
        Html(title)
    );
    if let Some(c) = chrome {
        let _ = write!(
            out,
            "<a href=\"/admin\">Fleet</a><a href=\"/admin/support\">Support</a><a href=\"/admin/vouchers\">Vouchers</a><a href=\"/admin/accounts\">Accounts</a>{}{}\
             <span>{} ({})</span><form class=\"inline\" method=\"post\" action=\"/admin/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button>Sign out</button></form>",
            if c.revenue {
                "<a href=\"/admin/revenue\">Revenue</a><a href=\"/admin/receipts\">Unmatched</a>"
            } else {
                ""
            },
            if c.admin {
                "<a href=\"/admin/packages\">Packages</a><a href=\"/admin/operators\">Operators</a><a href=\"/admin/audit\">Audit</a>"
            } else {
                ""
            },
            Html(c.login),
            Html(c.role),
            Html(c.csrf)
        );
    }
    let _ = write!(out, "</header><main><h1>{}</h1>{body}</main></body></html>", Html(title));
    out
}

pub fn note_html(text: &str, error: bool) -> String {
    format!("<p class=\"msg{}\" role=\"status\">{}</p>", if error { " err" } else { "" }, Html(text))
}

pub fn sign_in_page(form_token: &str, note: Option<(&str, bool)>) -> String {
    let note = note.map(|(t, e)| note_html(t, e)).unwrap_or_default();
    layout(
        "Sign in",
        None,
        &format!(
            "{note}<form method=\"post\" action=\"/admin/login\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label for=\"login\">Login</label><input id=\"login\" name=\"login\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <p><button class=\"act\">Sign in</button></p></form>",
            Html(form_token)
        ),
    )
}

pub fn password_page(form_token: &str, invite: &str, login: &str, note: Option<&str>) -> String {
    let note = note.map(|t| note_html(t, true)).unwrap_or_default();
    layout(
        "Set your password",
        None,
        &format!(
            "{note}<p>Choose the password for <strong>{}</strong> (at least 10 characters).</p>\
             <form method=\"post\" action=\"/admin/invite\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"t\" value=\"{}\">\
             <label for=\"password\">New password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required>\
             <label for=\"again\">Again</label><input id=\"again\" name=\"again\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required>\
             <p><button class=\"act\">Set password</button></p></form>",
            Html(login),
            Html(form_token),
            Html(invite)
        ),
    )
}

/// The From and To date fields of a range form.
pub fn date_inputs(from: hotspot_core::dates::Day, to: hotspot_core::dates::Day) -> String {
    format!(
        "<label for=\"from\">From</label><input id=\"from\" name=\"from\" type=\"date\" value=\"{from}\" required>\
         <label for=\"to\">To</label><input id=\"to\" name=\"to\" type=\"date\" value=\"{to}\" required>"
    )
}

/// A time on a page, at the given offset: `2026-12-02 14:05`.
pub fn when(t: i64, offset: i64) -> String {
    hotspot_core::calendar::minute_string(t, offset)
}

fn ago(secs: i64) -> String {
    match secs.max(0) {
        s @ ..=119 => format!("{s} s ago"),
        s @ 120..=7199 => format!("{} min ago", s / 60),
        s @ 7200..=172_799 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86400),
    }
}

/// The fleet: offline routers first, so they stand out. A router in RADIUS mode runs no agent, so
/// it never reports: it is shown as such, never as offline.
pub fn fleet_page(chrome: &Chrome<'_>, rows: &[FleetRow], now: i64) -> String {
    let radius = |r: &FleetRow| r.router.mode() == hotspot_cloud::store::router::RouterMode::Radius;
    let up = |r: &FleetRow| r.online(now) || radius(r);
    let mut rows: Vec<&FleetRow> = rows.iter().collect();
    rows.sort_by_key(|r| (up(r), r.router.id.clone()));
    let offline = rows.iter().filter(|r| !up(r)).count();
    let mut b = format!(
        "<p>{} router(s), <span class=\"{}\">{offline} offline</span>.</p><div class=\"wrap\"><table><thead><tr>\
         <th>Router</th><th>Status</th><th>Agent</th><th>Clock</th><th>Sessions</th><th>Jobs waiting</th><th>Packages</th></tr></thead><tbody>",
        rows.len(),
        if offline > 0 { "bad" } else { "ok" }
    );
    for r in rows {
        let online = up(r);
        let h = r.health.as_ref();
        let status = match (online, h) {
            _ if radius(r) => "RADIUS mode <small>(no agent to report)</small>".to_string(),
            (_, None) => "<span class=\"bad\">never seen</span>".to_string(),
            (true, Some(h)) => format!("<span class=\"ok\">online</span> <small>{}</small>", ago(now - h.last_seen)),
            (false, Some(h)) => format!("<span class=\"bad\">offline</span> <small>{}</small>", ago(now - h.last_seen)),
        };
        let disabled = if r.router.disabled_at.is_some() { " <span class=\"bad\">disabled</span>" } else { "" };
        let clock = match h {
            Some(h) if h.clock_unset_secs > 0 => format!("<span class=\"bad\">unset {} s</span>", h.clock_unset_secs),
            Some(_) => "ok".into(),
            None => "-".into(),
        };
        let packages = match (h, r.packages_in_step()) {
            (None, _) => "-".to_string(),
            (Some(h), Some(false)) => {
                format!("{} on sale <span class=\"bad\">not the store's list yet</span>", h.selling)
            }
            (Some(h), _) => format!("{} on sale", h.selling),
        };
        let _ = write!(
            b,
            "<tr class=\"{}\"><td>{}<br><small>{}</small>{disabled}</td><td>{status}</td><td>{}</td><td>{clock}</td><td>{}</td><td>{}</td><td>{packages}</td></tr>",
            if online { "" } else { "off" },
            Html(&r.router.name),
            Html(r.router.id.as_str()),
            h.map(|h| Html(&h.version).to_string()).unwrap_or_else(|| "-".into()),
            h.map(|h| match h.ppp_sessions {
                0 => h.active_sessions.to_string(),
                ppp => format!("{} <small>+ {ppp} PPP</small>", h.active_sessions),
            })
            .unwrap_or_else(|| "-".into()),
            h.map(|h| h.jobs_waiting.to_string()).unwrap_or_else(|| "-".into()),
        );
    }
    b.push_str("</tbody></table></div>");
    layout("Fleet", Some(chrome), &b)
}

pub fn support_page(chrome: &Chrome<'_>, query: &str, found: Option<Result<&[Purchase], &str>>, offset: i64) -> String {
    let mut b = format!(
        "<form method=\"get\" action=\"/admin/support\"><label for=\"q\">Phone number, M-Pesa receipt, MAC or purchase id</label>\
         <input id=\"q\" name=\"q\" value=\"{}\" inputmode=\"search\" autocomplete=\"off\" required> <button class=\"act\">Find</button></form>",
        Html(query)
    );
    match found {
        None => {}
        Some(Err(why)) => b.push_str(&note_html(why, true)),
        Some(Ok([])) => b.push_str(&note_html("No purchases found.", false)),
        Some(Ok(list)) => {
            b.push_str(
                "<div class=\"wrap\"><table><thead><tr><th>When</th><th>Router</th><th>Package</th><th>Phone</th><th>State</th></tr></thead><tbody>",
            );
            for p in list {
                let _ = write!(
                    b,
                    "<tr><td><a href=\"/admin/purchases/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    Html(p.id.as_str()),
                    Html(&when(p.created_at, offset)),
                    Html(p.router_id.as_str()),
                    Html(p.package.name()),
                    Html(&p.phone.masked()),
                    Html(p.state.as_str())
                );
            }
            b.push_str("</tbody></table></div>");
        }
    }
    layout("Support", Some(chrome), &b)
}

pub struct PurchaseView<'a> {
    pub purchase: &'a Purchase,
    pub router_name: &'a str,
    pub session: Option<&'a SessionRecord>,
    pub steps: &'a [Step],
    pub live: bool,
    pub note: Option<(&'a str, bool)>,
    pub offset: i64,
}

pub fn purchase_view(chrome: &Chrome<'_>, v: &PurchaseView<'_>) -> String {
    let p = v.purchase;
    let mut b = v.note.map(|(t, e)| note_html(t, e)).unwrap_or_default();
    let expires = p.expires_at.map(|e| when(e, v.offset)).unwrap_or_else(|| "-".into());
    let _ = write!(
        b,
        "<div class=\"wrap\"><table><tbody><tr><th>Purchase</th><td>{}</td></tr><tr><th>Router</th><td>{} <small>{}</small></td></tr>\
         <tr><th>Phone</th><td>{}</td></tr><tr><th>Device</th><td>{}</td></tr><tr><th>Package</th><td>{} ({})</td></tr>\
         <tr><th>Expires</th><td>{}</td></tr></tbody></table></div><h2>Timeline</h2><ol class=\"tl\">",
        Html(p.id.as_str()),
        Html(v.router_name),
        Html(p.router_id.as_str()),
        Html(&p.phone.e164()),
        Html(&p.mac.to_string()),
        Html(p.package.name()),
        Html(&p.package.price().to_string()),
        Html(&expires),
    );
    for s in v.steps {
        let at = s.at.map(|t| when(t, v.offset)).unwrap_or_default();
        let _ = write!(
            b,
            "<li class=\"{}\"><strong>{}</strong> <small>{}</small><br>{}</li>",
            if s.what.is_problem() { "problem" } else { "" },
            s.what.label(),
            Html(&at),
            Html(&s.detail)
        );
    }
    b.push_str("</ol>");
    let ended = v.session.is_some_and(|s| s.revoked_at.is_some());
    let paid =
        matches!(p.state, hotspot_cloud::store::PurchaseState::Paid | hotspot_cloud::store::PurchaseState::Active);
    if paid && !ended {
        let _ = write!(
            b,
            "<form class=\"inline\" method=\"post\" action=\"/admin/purchases/{id}/resend\"><input type=\"hidden\" name=\"csrf\" value=\"{c}\">\
             <button class=\"act\">Re-send the grant</button></form>",
            id = Html(p.id.as_str()),
            c = Html(chrome.csrf)
        );
    }
    if v.live {
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/admin/purchases/{id}/extend\"><input type=\"hidden\" name=\"csrf\" value=\"{c}\">\
             <label for=\"extend-by\">Give more time</label><select id=\"extend-by\" name=\"by\">\
             <option value=\"30m\">30 minutes</option><option value=\"1h\" selected>1 hour</option><option value=\"1d\">1 day</option>\
             </select> <button class=\"act\">Extend</button></form>",
            id = Html(p.id.as_str()),
            c = Html(chrome.csrf)
        );
        let _ = write!(
            b,
            "<form class=\"inline\" method=\"post\" action=\"/admin/purchases/{id}/disconnect\"><input type=\"hidden\" name=\"csrf\" value=\"{c}\">\
             <button class=\"act warn\">Disconnect</button></form>",
            id = Html(p.id.as_str()),
            c = Html(chrome.csrf)
        );
    }
    layout("Purchase", Some(chrome), &b)
}

pub fn problem_page(chrome: Option<&Chrome<'_>>, title: &str, text: &str) -> String {
    layout(title, chrome, &note_html(text, true))
}

/// The routers an operator may work on, each a link under `base` (`/admin/vouchers/{id}`).
pub fn router_list_page(chrome: &Chrome<'_>, title: &str, base: &str, routers: &[&RouterRecord]) -> String {
    let mut b = String::new();
    if routers.is_empty() {
        b.push_str(&note_html("No routers yet.", false));
    }
    b.push_str("<ul>");
    for r in routers {
        let _ = write!(
            b,
            "<li><a href=\"{base}/{}\">{}</a> <small>{}</small></li>",
            Html(r.id.as_str()),
            Html(&r.name),
            Html(r.id.as_str())
        );
    }
    b.push_str("</ul>");
    layout(title, Some(chrome), &b)
}

pub struct VoucherView<'a> {
    pub router: &'a RouterRecord,
    pub packages: &'a [PackageRecord],
    pub batches: &'a [VoucherBatchRecord],
    pub note: Option<(&'a str, bool)>,
    pub offset: i64,
    /// The most codes one form may ask for.
    pub max_count: u32,
}

/// A router's vouchers: generate a batch of a package on sale; each batch's sheet as PDF.
pub fn voucher_page(chrome: &Chrome<'_>, v: &VoucherView<'_>) -> String {
    let r = v.router;
    let id = Html(r.id.as_str());
    let mut b = v.note.map(|(t, e)| note_html(t, e)).unwrap_or_default();
    let _ = write!(b, "<p>{} <small>{id}</small></p>", Html(&r.name));
    let on_sale: Vec<&PackageRecord> = v.packages.iter().filter(|p| p.on_sale).collect();
    if on_sale.is_empty() {
        b.push_str(&note_html("No package is on sale at this router: add one first.", true));
    } else {
        let _ = write!(
            b,
            "<h2>Generate</h2><form method=\"post\" action=\"/admin/vouchers/{id}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><label for=\"package\">Package</label><select id=\"package\" name=\"package\">",
            Html(chrome.csrf)
        );
        for p in on_sale {
            let p = &p.package;
            let _ = write!(
                b,
                "<option value=\"{}\">{} · {} · {}</option>",
                Html(p.id().as_str()),
                Html(p.name()),
                Html(&p.price().to_string()),
                Html(&p.validity().to_string())
            );
        }
        let _ = write!(
            b,
            "</select><label for=\"count\">How many (1 to {max})</label>\
             <input id=\"count\" name=\"count\" type=\"number\" min=\"1\" max=\"{max}\" value=\"20\" required> \
             <button class=\"act\">Generate</button></form>",
            max = v.max_count
        );
    }
    b.push_str("<h2>Batches</h2>");
    if v.batches.is_empty() {
        b.push_str("<p>None yet.</p>");
    }
    for batch in v.batches.iter().rev() {
        let done = batch.pushed >= batch.count;
        let progress = match done {
            true => format!("<span class=\"ok\">{} of {} on the router</span>", batch.pushed, batch.count),
            false => format!("<span class=\"bad\">stopped at {} of {}</span>", batch.pushed, batch.count),
        };
        let _ = write!(
            b,
            "<div class=\"msg\"><strong><a href=\"/admin/vouchers/{id}/{bid}\">{bid}</a></strong> <small>{}</small><br>{} · {progress} · {} used\
             <form method=\"get\" action=\"/admin/vouchers/{id}/{bid}/pdf\"><label for=\"portal-{bid}\">Portal address for the QR code</label>\
             <input id=\"portal-{bid}\" name=\"portal\" type=\"url\" required placeholder=\"http://wifi.example/\" maxlength=\"200\"> \
             <button class=\"act\">Download PDF</button></form></div>",
            Html(&when(batch.created_at, v.offset)),
            Html(batch.package.name()),
            batch.used,
            bid = Html(&batch.batch_id),
        );
    }
    layout("Vouchers", Some(chrome), &b)
}

/// A batch's codes and which are used.
pub fn batch_page(chrome: &Chrome<'_>, r: &RouterRecord, batch: &str, codes: &[VoucherRecord], offset: i64) -> String {
    let used = codes.iter().filter(|v| v.used.is_some()).count();
    let mut b = format!(
        "<p><a href=\"/admin/vouchers/{}\">{}</a> · {} · {used} of {} used</p><div class=\"wrap\"><table><thead><tr>\
         <th>Code</th><th>Package</th><th>Used</th><th>Device</th></tr></thead><tbody>",
        Html(r.id.as_str()),
        Html(&r.name),
        Html(batch),
        codes.len()
    );
    for v in codes {
        let (at, mac) = match &v.used {
            Some(u) => (when(u.at, offset), u.mac.to_string()),
            None => ("not yet".to_string(), String::new()),
        };
        let _ = write!(
            b,
            "<tr id=\"v-{code}\"><td><code>{code}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            Html(v.package.name()),
            Html(&at),
            Html(&mac),
            code = Html(v.code.as_str()),
        );
    }
    b.push_str("</tbody></table></div>");
    layout("Voucher batch", Some(chrome), &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, queue_url: &str) -> FleetRow {
        let router = RouterRecord {
            id: id.parse().unwrap(),
            name: id.into(),
            queue_url: queue_url.into(),
            key: hotspot_core::RouterKey::generate(),
            created_at: 0,
            disabled_at: None,
            rotation: None,
            retiring_access_key: None,
            wallets: Default::default(),
            country: hotspot_core::phone::Country::Kenya,
        };
        FleetRow { router, health: None, expected_digest: None }
    }

    #[test]
    fn a_radius_router_is_never_counted_offline() {
        let chrome = Chrome { login: "owner", role: "admin", csrf: "t", revenue: true, admin: true };
        let rows = [row("agent-site", "https://sqs.example/q.fifo"), row("radius-site", "")];
        let page = fleet_page(&chrome, &rows, 1_000_000);
        assert!(page.contains("2 router(s), <span class=\"bad\">1 offline</span>"), "{page}");
        assert!(page.contains("RADIUS mode <small>(no agent to report)</small>"), "{page}");
        assert_eq!(page.matches("never seen").count(), 1, "only the agent's router: {page}");
    }
}
