//! The audit log on the dashboard (admins): every change made from `hotspotctl` or the dashboard,
//! newest first, over a range of days and optionally of one operator, read a month per Query
//! (`Store::list_audit`).
//!
//!   GET /admin/audit?from=yyyy-mm-dd&to=yyyy-mm-dd&who=ARN-or-login

use std::fmt::Write;

use hotspot_cloud::access::Action;
use hotspot_cloud::store::LoginName;
use hotspot_cloud::store::StoreError;
use hotspot_cloud::store::dashboard::dashboard_arn;
use hotspot_core::escape::Html;

use super::html::{self, Chrome, note_html, when};
use super::revenue::range_or_default;
use super::{Admin, OFFSET, OFFSET_SECS, Page, Req, Who, allowed, form, not_found};

/// The longest range one page reads, and the most entries it shows.
const MAX_DAYS: i64 = 92;
const DEFAULT_DAYS: i64 = 7;
const MAX_ROWS: usize = 500;

impl Admin<'_> {
    pub(super) async fn audit_log(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        now: i64,
    ) -> Result<Page, StoreError> {
        if allowed(who, Action::Audit, None).is_none() {
            return Ok(not_found());
        }
        let f = form(req.query.as_bytes());
        let filter = f.get("who").map(|w| w.trim().to_string()).filter(|w| !w.is_empty());
        // A dashboard login stands for its operator; anything else is matched as an ARN.
        let arn = filter.as_deref().map(|w| match w.parse::<LoginName>() {
            Ok(l) if !w.contains(':') => dashboard_arn(&l),
            _ => w.to_string(),
        });
        let ((from, to), note) = range_or_default(&f, now, DEFAULT_DAYS, MAX_DAYS);
        let mut b = note.as_deref().map(|w| note_html(&format!("{w}; nothing was shown."), true)).unwrap_or_default();
        let _ = write!(
            b,
            "<form method=\"get\" action=\"/admin/audit\">{}<label for=\"who\">Who (login or ARN, optional)</label><input id=\"who\" name=\"who\" value=\"{}\" maxlength=\"200\" autocomplete=\"off\"> \
             <button class=\"act\">Show</button></form>",
            html::date_inputs(from, to),
            Html(filter.as_deref().unwrap_or(""))
        );
        if note.is_some() {
            return Ok(Page::html(400, html::layout("Audit log", Some(chrome), &b)));
        }
        let mut entries = self.store.list_audit(from.start(OFFSET), to.end(OFFSET), arn.as_deref()).await?;
        entries.reverse();
        let shown = entries.len().min(MAX_ROWS);
        let _ = write!(
            b,
            "<p role=\"status\">{} entr{} {from} to {to}{}.</p>",
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" },
            if shown < entries.len() { format!(", the newest {shown} shown") } else { String::new() }
        );
        b.push_str("<div class=\"wrap\"><table><thead><tr><th>When</th><th>Who</th><th>Action</th><th>Result</th><th>Details</th></tr></thead><tbody>");
        for e in entries.iter().take(MAX_ROWS) {
            let args = e.args.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
            let class = if e.result.as_str() == "ok" { "ok" } else { "bad" };
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}<br><small>{}</small></td><td>{}</td><td class=\"{class}\">{}</td><td>{}<br><small>{}</small></td></tr>",
                Html(&when(e.at, OFFSET_SECS)),
                Html(&e.who),
                Html(&e.role),
                Html(&e.action),
                e.result.as_str(),
                Html(&e.detail),
                Html(&args)
            );
        }
        b.push_str("</tbody></table></div>");
        Ok(Page::html(200, html::layout("Audit log", Some(chrome), &b)))
    }
}
