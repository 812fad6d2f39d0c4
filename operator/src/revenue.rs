//! `hotspotctl report revenue`: the M-Pesa receipts on record for paid purchases, grouped by
//! router, package or day; the total is the sum of those receipts. Payments of the wrong amount
//! and payments never confirmed are listed apart and are not in the total.

use std::collections::BTreeMap;

use hotspot_cloud::store::{PaymentRow, PurchaseState};

use crate::Error;
use crate::cli::{GroupBy, ReportFormat, RevenueArgs};
use crate::context::Ctx;
use crate::dates::{Day, UtcOffset, minute};
use crate::sheet::csv_field;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupTotal {
    pub key: String,
    pub payments: u64,
    pub kes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revenue {
    pub groups: Vec<GroupTotal>,
    pub payments: u64,
    pub kes: u64,
    /// Every payment counted, oldest first.
    pub counted: Vec<PaymentRow>,
    /// Money arrived, but not the package's price: no grant was made.
    pub mismatched: Vec<PaymentRow>,
    /// The reconciler could not confirm these either way.
    pub unknown: Vec<PaymentRow>,
}

/// What a receipt counts for: the amount M-Pesa confirmed.
fn amount(p: &PaymentRow) -> u64 {
    u64::from(p.paid_amount.unwrap_or(p.price.get()))
}

pub fn build(rows: &[PaymentRow], by: GroupBy, offset: UtcOffset) -> Revenue {
    let mut groups: BTreeMap<String, GroupTotal> = BTreeMap::new();
    let mut r = Revenue { groups: vec![], payments: 0, kes: 0, counted: vec![], mismatched: vec![], unknown: vec![] };
    for p in rows {
        match p.state {
            PurchaseState::Paid | PurchaseState::Active if p.receipt.is_some() => {
                let key = match by {
                    GroupBy::Router => p.router_id.to_string(),
                    GroupBy::Package => p.package_id.to_string(),
                    GroupBy::Day => Day::of(p.paid_at.unwrap_or(p.created_at), offset).to_string(),
                };
                let g = groups.entry(key.clone()).or_insert(GroupTotal { key, payments: 0, kes: 0 });
                g.payments += 1;
                g.kes += amount(p);
                r.payments += 1;
                r.kes += amount(p);
                r.counted.push(p.clone());
            }
            PurchaseState::AmountMismatch => r.mismatched.push(p.clone()),
            PurchaseState::Unknown => r.unknown.push(p.clone()),
            _ => {}
        }
    }
    r.groups = groups.into_values().collect();
    r
}

fn heading(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Router => "ROUTER",
        GroupBy::Package => "PACKAGE",
        GroupBy::Day => "DAY",
    }
}

pub fn table(r: &Revenue, a: &RevenueArgs, offset: UtcOffset) -> String {
    let mut out = format!("Revenue {} to {} (UTC{offset}), M-Pesa receipts on record\n", a.from, a.to);
    out.push_str(&format!("{:<28} {:>9} {:>12}\n", heading(a.by), "PAYMENTS", "KES"));
    for g in &r.groups {
        out.push_str(&format!("{:<28} {:>9} {:>12}\n", g.key, g.payments, g.kes));
    }
    out.push_str(&format!("{:<28} {:>9} {:>12}\n", "TOTAL", r.payments, r.kes));
    for (title, rows) in [
        ("Amount mismatches (money received, no grant; not in the total)", &r.mismatched),
        ("Unknown payments (never confirmed either way; not in the total)", &r.unknown),
    ] {
        out.push_str(&format!("\n{title}: {}\n", rows.len()));
        if rows.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "  {:<26} {:<20} {:<8} {:>6} {:>6} {:<12} {:<13} {:<17}\n",
            "PURCHASE", "ROUTER", "PACKAGE", "PRICE", "PAID", "RECEIPT", "PHONE", "AT"
        ));
        for p in rows {
            out.push_str(&format!(
                "  {:<26} {:<20} {:<8} {:>6} {:>6} {:<12} {:<13} {:<17}\n",
                p.id,
                p.router_id,
                p.package_id,
                p.price.get(),
                p.paid_amount.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                p.receipt.as_deref().unwrap_or("-").escape_debug().to_string(),
                p.phone.masked(),
                minute(p.paid_at.unwrap_or(p.created_at), offset)
            ));
        }
    }
    out
}

pub fn totals_csv(r: &Revenue, by: GroupBy) -> String {
    let mut out = format!("{},payments,kes\n", heading(by).to_lowercase());
    for g in &r.groups {
        out.push_str(&format!("{},{},{}\n", csv_field(&g.key), g.payments, g.kes));
    }
    out.push_str(&format!("TOTAL,{},{}\n", r.payments, r.kes));
    out
}

pub fn details_csv(r: &Revenue, offset: UtcOffset) -> String {
    let mut out =
        String::from("category,purchase_id,router,package,price_kes,paid_kes,receipt,phone,state,paid_at,created_at\n");
    for (cat, rows) in [("counted", &r.counted), ("amount_mismatch", &r.mismatched), ("unknown", &r.unknown)] {
        for p in rows {
            let row = [
                cat.to_string(),
                p.id.to_string(),
                p.router_id.to_string(),
                p.package_id.to_string(),
                p.price.get().to_string(),
                p.paid_amount.map(|a| a.to_string()).unwrap_or_default(),
                p.receipt.clone().unwrap_or_default(),
                p.phone.masked(),
                p.state.to_string(),
                p.paid_at.map(|t| minute(t, offset)).unwrap_or_default(),
                minute(p.created_at, offset),
            ];
            out.push_str(&row.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
    }
    out
}

pub async fn report(ctx: &Ctx, a: &RevenueArgs) -> Result<String, Error> {
    if a.to < a.from {
        return Err(Error::Usage(format!("--to {} is before --from {}", a.to, a.from)));
    }
    if a.csv.is_some() && a.csv == a.details_csv {
        return Err(Error::Usage("--csv and --details-csv must be different files".into()));
    }
    let rows = ctx.store.payments_between(a.from.start(ctx.offset), a.to.end(ctx.offset)).await?;
    let r = build(&rows, a.by, ctx.offset);
    if let Some(path) = &a.csv {
        crate::vouchers::write_new(path, totals_csv(&r, a.by).as_bytes())?;
    }
    if let Some(path) = &a.details_csv {
        crate::vouchers::write_new(path, details_csv(&r, ctx.offset).as_bytes())?;
    }
    match a.format {
        ReportFormat::Table => print!("{}", table(&r, a, ctx.offset)),
        ReportFormat::Csv => print!("{}", totals_csv(&r, a.by)),
    }
    Ok(format!(
        "{} to {}: {} payment(s), KES {}; {} mismatched, {} unknown",
        a.from,
        a.to,
        r.payments,
        r.kes,
        r.mismatched.len(),
        r.unknown.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        id: u8,
        router: &str,
        pkg: &str,
        price: u32,
        state: PurchaseState,
        paid: Option<u32>,
        at: i64,
    ) -> PaymentRow {
        PaymentRow {
            id: format!("p{:024x}", id).parse().unwrap(),
            router_id: router.parse().unwrap(),
            package_id: pkg.parse().unwrap(),
            package_name: pkg.into(),
            price: hotspot_core::Shillings::new(u64::from(price)).unwrap(),
            state,
            receipt: paid.map(|_| format!("RCPT{id}")),
            checkout_id: None,
            paid_amount: paid,
            paid_at: paid.map(|_| at),
            created_at: at - 30,
            phone: "254712345678".parse().unwrap(),
        }
    }

    #[test]
    fn groups_add_up_and_doubtful_payments_stay_apart() {
        // 2024-03-01 00:30 in Nairobi is still 29 Feb in UTC.
        let d1 = hotspot_core::calendar::days_from_civil(2024, 2, 29) * 86_400 + 21 * 3600 + 1800;
        let rows = vec![
            row(1, "cafe-a", "1h", 10, PurchaseState::Paid, Some(10), d1),
            row(2, "cafe-a", "1d", 50, PurchaseState::Active, Some(50), d1 + 100),
            row(3, "cafe-b", "1h", 10, PurchaseState::Active, Some(10), d1 - 3600),
            row(4, "cafe-b", "1h", 10, PurchaseState::AmountMismatch, Some(5), d1),
            row(5, "cafe-b", "1d", 50, PurchaseState::Unknown, None, d1),
            row(6, "cafe-b", "1d", 50, PurchaseState::Failed, None, d1),
        ];
        for by in [GroupBy::Router, GroupBy::Package, GroupBy::Day] {
            let r = build(&rows, by, UtcOffset::NAIROBI);
            assert_eq!((r.payments, r.kes), (3, 70), "{by:?}");
            assert_eq!(r.groups.iter().map(|g| g.kes).sum::<u64>(), 70);
            assert_eq!(r.mismatched.len(), 1);
            assert_eq!(r.unknown.len(), 1);
        }
        let by_day = build(&rows, GroupBy::Day, UtcOffset::NAIROBI);
        let keys: Vec<(&str, u64)> = by_day.groups.iter().map(|g| (g.key.as_str(), g.kes)).collect();
        assert_eq!(keys, vec![("2024-02-29", 10), ("2024-03-01", 60)]);
        let by_router = build(&rows, GroupBy::Router, UtcOffset::NAIROBI);
        assert_eq!(
            totals_csv(&by_router, GroupBy::Router),
            "router,payments,kes\ncafe-a,2,60\ncafe-b,1,10\nTOTAL,3,70\n"
        );
        let details = details_csv(&by_router, UtcOffset::NAIROBI);
        assert!(details.contains("amount_mismatch,p"), "{details}");
        assert!(details.contains("2547****5678") && !details.contains("254712345678"), "{details}");
    }
}
