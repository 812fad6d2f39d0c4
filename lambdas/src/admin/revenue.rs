//! Revenue on the dashboard: the numbers of `hotspotctl report revenue` (one computation,
//! `hotspot_cloud::revenue::build`, over `Store::payments_between`, which reads the `ledger`
//! index a month at a time), by day, router or package, with a bar chart drawn as SVG on the
//! server and the totals as CSV.
//!
//!   GET /admin/revenue?from=yyyy-mm-dd&to=yyyy-mm-dd&by=day|router|package[&format=csv]

use std::collections::BTreeMap;
use std::fmt::Write;

use hotspot_cloud::access::{Action, Scope};
use hotspot_cloud::revenue::{self, GroupBy, GroupTotal, Revenue};
use hotspot_cloud::store::StoreError;
use hotspot_core::currency::{Currency, Money, sums_text};
use hotspot_core::dates::Day;
use hotspot_core::escape::Html;

use super::html::{self, Chrome, note_html};
use super::{Admin, Download, OFFSET, OFFSET_SECS, Page, Req, Who, allowed, form, not_found};

/// The longest range one page reads (a year and a day).
pub const MAX_DAYS: i64 = 366;
/// The range shown when none is asked for: the last seven days.
const DEFAULT_DAYS: i64 = 7;

/// What the page was asked for, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenueQuery {
    pub from: Day,
    pub to: Day,
    pub by: GroupBy,
    pub csv: bool,
}

/// The `days` days up to today: what a page shows when no range is asked for.
pub fn default_range(now: i64, days: i64) -> (Day, Day) {
    let today = Day::of(now, OFFSET);
    (today.add_days(1 - days), today)
}

/// The range a query asks for or, when it asks for a bad one, the default and why not.
pub fn range_or_default(
    f: &BTreeMap<String, String>,
    now: i64,
    default_days: i64,
    max_days: i64,
) -> ((Day, Day), Option<String>) {
    match day_range(f, now, default_days, max_days) {
        Ok(r) => (r, None),
        Err(why) => (default_range(now, default_days), Some(why)),
    }
}

/// A range of days from a query's `from` and `to` (defaults: [`default_range`]), at most
/// `max_days` long, or why not.
pub fn day_range(
    f: &BTreeMap<String, String>,
    now: i64,
    default_days: i64,
    max_days: i64,
) -> Result<(Day, Day), String> {
    let today = Day::of(now, OFFSET);
    let day = |name: &str, default: Day| -> Result<Day, String> {
        match f.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => v.parse::<Day>().map_err(|e| format!("{name}: {e}")),
        }
    };
    let to = day("to", today)?;
    let from = day("from", to.add_days(1 - default_days))?;
    if to < from {
        return Err(format!("the range ends ({to}) before it starts ({from})"));
    }
    if from.days_until(to) >= max_days {
        return Err(format!("a range of at most {max_days} days, please"));
    }
    Ok((from, to))
}

/// The query string, or why it cannot be shown. Missing fields take the defaults.
pub fn parse_query(q: &str, now: i64) -> Result<RevenueQuery, String> {
    let f = form(q.as_bytes());
    let (from, to) = day_range(&f, now, DEFAULT_DAYS, MAX_DAYS)?;
    let by = match f.get("by").map(String::as_str) {
        None | Some("" | "day") => GroupBy::Day,
        Some("router") => GroupBy::Router,
        Some("package") => GroupBy::Package,
        Some("wallet") => GroupBy::Wallet,
        Some(other) => {
            return Err(format!(
                "group by day, router, package or wallet, not {:?}",
                other.chars().take(20).collect::<String>()
            ));
        }
    };
    let csv = match f.get("format").map(String::as_str) {
        None | Some("" | "html") => false,
        Some("csv") => true,
        Some(_) => return Err("the format is html or csv".into()),
    };
    Ok(RevenueQuery { from, to, by, csv })
}

impl Admin<'_> {
    pub(super) async fn revenue(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        now: i64,
    ) -> Result<Page, StoreError> {
        let Some(scope) = allowed(who, Action::ReportRevenue, None) else { return Ok(not_found()) };
        let q = match parse_query(req.query, now) {
            Ok(q) => q,
            Err(why) => {
                let (from, to) = default_range(now, DEFAULT_DAYS);
                let fallback = RevenueQuery { from, to, by: GroupBy::Day, csv: false };
                let body = page_body(&fallback, None, Some(&format!("{why}; nothing was shown.")));
                return Ok(Page::html(400, html::layout("Revenue", Some(chrome), &body)));
            }
        };
        let (from, to) = (q.from.start(OFFSET), q.to.end(OFFSET));
        let (rows, renewals) =
            tokio::try_join!(self.store.payments_between(from, to), self.store.renewals_between(from, to))?;
        let (rows, renewals): (Vec<_>, Vec<_>) = match &scope {
            Scope::Any => (rows, renewals),
            Scope::Only(r) => (
                rows.into_iter().filter(|p| &p.router_id == r).collect(),
                renewals.into_iter().filter(|p| &p.router_id == r).collect(),
            ),
        };
        let r = revenue::build_with_renewals(&rows, &renewals, q.by, OFFSET_SECS);
        if q.csv {
            let by = q.by.heading().to_lowercase();
            return Ok(Page::download(Download {
                content_type: "text/csv; charset=utf-8",
                file_name: format!("revenue-{}-{}-by-{by}.csv", q.from, q.to),
                bytes: revenue::totals_csv(&r, q.by).into_bytes(),
            }));
        }
        Ok(Page::html(200, html::layout("Revenue", Some(chrome), &page_body(&q, Some(&r), None))))
    }
}

fn by_value(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Day => "day",
        GroupBy::Router => "router",
        GroupBy::Package => "package",
        GroupBy::Wallet => "wallet",
    }
}

/// The range form, the total, the chart, the table and what was left out of the total.
pub fn page_body(q: &RevenueQuery, r: Option<&Revenue>, note: Option<&str>) -> String {
    let mut b = note.map(|t| note_html(t, true)).unwrap_or_default();
    let _ = write!(
        b,
        "<form method=\"get\" action=\"/admin/revenue\">{}<label for=\"by\">By</label><select id=\"by\" name=\"by\">",
        html::date_inputs(q.from, q.to)
    );
    for by in [GroupBy::Day, GroupBy::Router, GroupBy::Package, GroupBy::Wallet] {
        let sel = if by == q.by { " selected" } else { "" };
        let _ = write!(b, "<option value=\"{}\"{sel}>{}</option>", by_value(by), by_value(by));
    }
    b.push_str("</select> <button class=\"act\">Show</button></form>");
    let Some(r) = r else { return b };
    let totals: Vec<Money> = r.totals.iter().map(|t| t.amount).collect();
    let _ = write!(
        b,
        "<p class=\"msg\" role=\"status\"><strong>{}</strong> from {} payment(s), {} to {} (UTC{}).</p>",
        Html(&sums_text(&totals)),
        r.payments,
        q.from,
        q.to,
        OFFSET
    );
    if !r.accounts.is_empty() {
        let sub: Vec<Money> = r.accounts.iter().map(|t| t.amount).collect();
        let n: u64 = r.accounts.iter().map(|t| t.payments).sum();
        let _ = write!(
            b,
            "<p>Of which subscriber accounts (Paybill and renewals from their page): <strong>{}</strong> from {n} payment(s); the hotspot: the rest.</p>",
            Html(&sums_text(&sub))
        );
    }
    // One chart per currency: shillings and cedis share no scale. With none sold, an empty one.
    let currencies: Vec<Currency> = match totals.is_empty() {
        true => vec![Currency::default()],
        false => totals.iter().map(|t| t.currency()).collect(),
    };
    for c in currencies {
        let groups: Vec<GroupTotal> = r.groups.iter().filter(|g| g.amount.currency() == c).cloned().collect();
        b.push_str(&match q.by {
            GroupBy::Day => day_chart(c, &days_filled(q, &groups)),
            _ => bar_chart(&groups),
        });
        if q.by != GroupBy::Day && groups.len() > CHART_GROUPS {
            let _ = write!(
                b,
                "<p><small>The chart shows the {CHART_GROUPS} largest; the table has all {}.</small></p>",
                groups.len()
            );
        }
    }
    let _ = write!(
        b,
        "<div class=\"wrap\"><table><thead><tr><th>{}</th><th>Payments</th><th>Amount</th></tr></thead><tbody>",
        by_value(q.by)
    );
    for g in &r.groups {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            Html(&g.key),
            g.payments,
            Html(&g.amount.to_string())
        );
    }
    for t in &r.totals {
        let _ = write!(b, "<tr><th>Total</th><th>{}</th><th>{}</th></tr>", t.payments, Html(&t.amount.to_string()));
    }
    let _ = write!(
        b,
        "</tbody></table></div>\
         <p><a href=\"/admin/revenue?from={}&amp;to={}&amp;by={}&amp;format=csv\" download>Download CSV</a></p>",
        q.from,
        q.to,
        by_value(q.by)
    );
    if !r.mismatched.is_empty() || !r.unknown.is_empty() {
        let _ = write!(
            b,
            "<p class=\"msg err\">Not in the total: {} payment(s) of the wrong amount (no grant was made) and {} \
             never confirmed either way. <code>hotspotctl report ledger</code> lists them.</p>",
            r.mismatched.len(),
            r.unknown.len()
        );
    }
    b
}

/// Every day of the range with its takings (in minor units of one currency), zero where nothing
/// was sold.
fn days_filled(q: &RevenueQuery, groups: &[GroupTotal]) -> Vec<(String, u64)> {
    (0..=q.from.days_until(q.to))
        .map(|i| {
            let key = q.from.add_days(i).to_string();
            let minor = groups.iter().find(|g| g.key == key).map_or(0, |g| g.amount.minor());
            (key, minor)
        })
        .collect()
}

/// `minor` units of `c` as people read them (`KES 1,250`).
fn shown(c: Currency, minor: u64) -> String {
    Money::from_minor(c, minor).map(|m| m.to_string()).unwrap_or_default()
}

const CHART_W: u64 = 320;
/// Bars in a chart by router or package: the largest groups.
const CHART_GROUPS: usize = 15;
const CHART_H: u64 = 160;

/// Takings per day as columns, scaled to the best day: 320 units wide, so it fills a 360 px
/// phone and grows with a desk screen (`width="100%"`, a viewBox).
pub fn day_chart(c: Currency, days: &[(String, u64)]) -> String {
    let max = days.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let n = days.len().max(1) as u64;
    let plot_h = CHART_H - 24;
    let slot = (CHART_W * 100) / n; // hundredths of a unit, so 366 days still fit
    let mut out = format!(
        "<svg role=\"img\" aria-labelledby=\"chart-t\" viewBox=\"0 0 {CHART_W} {CHART_H}\" width=\"100%\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-t\">{c} per day, best day {}</title>\
         <line x1=\"0\" y1=\"{plot_h}\" x2=\"{CHART_W}\" y2=\"{plot_h}\" stroke=\"#999\" stroke-width=\"1\"/>",
        shown(c, max)
    );
    for (i, (day, minor)) in days.iter().enumerate() {
        let h = minor * plot_h / max;
        let x = i as u64 * slot;
        let w = (slot * 8 / 10).max(1);
        let _ = write!(
            out,
            "<rect x=\"{}.{:02}\" y=\"{}\" width=\"{}.{:02}\" height=\"{h}\" fill=\"#0b6e4f\"><title>{}: {}</title></rect>",
            x / 100,
            x % 100,
            plot_h - h,
            w / 100,
            w % 100,
            Html(day),
            shown(c, *minor)
        );
    }
    if let (Some(first), Some(last)) = (days.first(), days.last()) {
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\" font-size=\"11\">{}</text><text x=\"{CHART_W}\" y=\"{}\" font-size=\"11\" \
             text-anchor=\"end\">{}</text><text x=\"0\" y=\"11\" font-size=\"11\">{}</text>",
            CHART_H - 6,
            Html(&first.0),
            CHART_H - 6,
            Html(&last.0),
            shown(c, max)
        );
    }
    out.push_str("</svg>");
    out
}

/// Takings per router or package as labelled horizontal bars, one row each.
pub fn bar_chart(all: &[GroupTotal]) -> String {
    // The biggest few only: a chart of 1,000 routers would be a page tall; the table has them all.
    let mut groups: Vec<&GroupTotal> = all.iter().collect();
    groups.sort_by(|a, b| b.amount.minor().cmp(&a.amount.minor()).then_with(|| a.key.cmp(&b.key)));
    groups.truncate(CHART_GROUPS);
    let max = groups.iter().map(|g| g.amount.minor()).max().unwrap_or(0).max(1);
    let currency = groups.first().map(|g| g.amount.currency()).unwrap_or_default();
    let row = 22;
    let height = (groups.len() as u64 * row).max(row);
    let mut out = format!(
        "<svg role=\"img\" aria-labelledby=\"chart-t\" viewBox=\"0 0 {CHART_W} {height}\" width=\"100%\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-t\">{currency} per group{}</title>",
        if all.len() > groups.len() {
            format!(", the {} largest of {}", groups.len(), all.len())
        } else {
            String::new()
        }
    );
    for (i, g) in groups.iter().enumerate() {
        let y = i as u64 * row;
        // Labels take the left third; the bar the rest, its value written on it.
        let w = (g.amount.minor() * (CHART_W - 110) / max).max(1);
        let label: String = g.key.chars().take(16).collect();
        // The value in white at the end of a long bar, in black after a short one.
        let (x, anchor, fill) = match w > 60 {
            true => (106 + w - 4, "end", "#fff"),
            false => (106 + w + 3, "start", "#1b1b1b"),
        };
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"106\" y=\"{}\" width=\"{w}\" height=\"16\" \
             fill=\"#0b6e4f\"/><text x=\"{x}\" y=\"{}\" font-size=\"11\" text-anchor=\"{anchor}\" fill=\"{fill}\">{}</text>",
            y + 14,
            Html(&label),
            y + 2,
            y + 14,
            Html(&g.amount.grouped())
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_772_000_000; // 2026-02-25 06:13 UTC, 09:13 in Nairobi

    #[test]
    fn queries_default_to_the_last_week_and_refuse_nonsense() {
        let q = parse_query("", NOW).unwrap();
        assert_eq!(
            (q.from.to_string(), q.to.to_string(), q.by, q.csv),
            ("2026-02-19".into(), "2026-02-25".into(), GroupBy::Day, false)
        );
        let q = parse_query("from=2026-01-01&to=2026-01-31&by=router&format=csv", NOW).unwrap();
        assert_eq!((q.from.days_until(q.to), q.by, q.csv), (30, GroupBy::Router, true));
        for bad in [
            "from=2026-02-30",
            "from=2026-03-01&to=2026-02-01",
            "from=2024-01-01&to=2026-01-01",
            "by=%3Cscript%3E",
            "format=pdf",
            "to=yesterday",
        ] {
            assert!(parse_query(bad, NOW).is_err(), "{bad}");
        }
        let why = parse_query("by=%3Cscript%3E", NOW).unwrap_err();
        let page = note_html(&why, true);
        assert!(!page.contains("<script>"), "{page}");
    }

    #[test]
    fn charts_scale_to_the_best_day_and_fit_a_phone() {
        let days = vec![("2026-02-24".to_string(), 50), ("2026-02-25".to_string(), 100), ("2026-02-26".into(), 0)];
        let svg = day_chart(Currency::Kes, &days);
        assert!(svg.contains("viewBox=\"0 0 320 160\""), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 3);
        // The best day fills the plot (136 units), half of it half.
        assert!(
            svg.contains("height=\"136\"") && svg.contains("height=\"68\"") && svg.contains("height=\"0\""),
            "{svg}"
        );
        let year: Vec<(String, u64)> = (0..366).map(|i| (format!("d{i}"), i)).collect();
        let svg = day_chart(Currency::Kes, &year);
        assert_eq!(svg.matches("<rect").count(), 366);
        let kes = |n| Money::whole_units(Currency::Kes, n).unwrap();
        let groups = vec![GroupTotal { key: "<b>cafe".into(), payments: 1, amount: kes(10) }];
        let svg = bar_chart(&groups);
        assert!(svg.contains("&lt;b&gt;cafe") && !svg.contains("<b>"), "{svg}");
        let many: Vec<GroupTotal> =
            (0..40).map(|i| GroupTotal { key: format!("site-{i:02}"), payments: 1, amount: kes(i + 1) }).collect();
        let svg = bar_chart(&many);
        assert_eq!(svg.matches("<rect").count(), CHART_GROUPS);
        assert!(svg.contains("site-39") && !svg.contains("site-10<"), "the largest: {svg}");
        assert!(svg.contains("the 15 largest of 40"), "{svg}");
    }
}
