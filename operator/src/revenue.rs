//! `hotspotctl report revenue`: the wallets' receipts on record for paid purchases, grouped by
//! router, package, day or wallet, each currency apart; a total per currency is the sum of those
//! receipts. Payments of the wrong amount
//! and payments never confirmed are listed apart and are not in the total.

use hotspot_cloud::revenue::{self, Revenue};

use crate::Error;
use crate::cli::{GroupBy, ReportFormat, RevenueArgs};
use crate::context::Ctx;
use crate::dates::{UtcOffset, minute};
use crate::sheet::csv_field;

impl From<GroupBy> for revenue::GroupBy {
    fn from(by: GroupBy) -> Self {
        match by {
            GroupBy::Router => revenue::GroupBy::Router,
            GroupBy::Package => revenue::GroupBy::Package,
            GroupBy::Day => revenue::GroupBy::Day,
            GroupBy::Wallet => revenue::GroupBy::Wallet,
        }
    }
}

/// The report's numbers: `hotspot_cloud::revenue::build`, which the dashboard shows too.
pub fn build(rows: &[hotspot_cloud::store::PaymentRow], by: GroupBy, offset: UtcOffset) -> Revenue {
    revenue::build(rows, by.into(), offset.secs())
}

/// As `build`, with subscribers' account renewals beside the purchases.
pub fn build_all(
    rows: &[hotspot_cloud::store::PaymentRow],
    renewals: &[hotspot_cloud::store::RenewalRow],
    by: GroupBy,
    offset: UtcOffset,
) -> Revenue {
    revenue::build_with_renewals(rows, renewals, by.into(), offset.secs())
}

pub fn totals_csv(r: &Revenue, by: GroupBy) -> String {
    revenue::totals_csv(r, by.into())
}

pub fn table(r: &Revenue, a: &RevenueArgs, offset: UtcOffset) -> String {
    let mut out = format!("Revenue {} to {} (UTC{offset}), wallet receipts on record\n", a.from, a.to);
    let line = |key: &str, payments: &dyn std::fmt::Display, cur: &str, amount: &str| {
        format!("{key:<28} {payments:>9} {cur:<4} {amount:>14}\n")
    };
    out.push_str(&line(revenue::GroupBy::from(a.by).heading(), &"PAYMENTS", "CUR", "AMOUNT"));
    for g in &r.groups {
        out.push_str(&line(&g.key, &g.payments, g.amount.currency().as_str(), &g.amount.grouped()));
    }
    if r.totals.is_empty() {
        out.push_str(&line("TOTAL", &0, "", "0"));
    }
    for t in &r.totals {
        out.push_str(&line("TOTAL", &t.payments, t.amount.currency().as_str(), &t.amount.grouped()));
    }
    for t in &r.accounts {
        out.push_str(&line("  of which accounts", &t.payments, t.amount.currency().as_str(), &t.amount.grouped()));
    }
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
                p.price.plain(),
                p.paid_amount.map(|a| a.plain()).unwrap_or_else(|| "-".into()),
                p.receipt.as_deref().unwrap_or("-").escape_debug().to_string(),
                p.phone.masked(),
                minute(p.paid_at.unwrap_or(p.created_at), offset)
            ));
        }
    }
    out
}

pub fn details_csv(r: &Revenue, offset: UtcOffset) -> String {
    let mut out = String::from(
        "category,purchase_id,router,package,currency,price,paid,receipt,phone,state,paid_at,created_at\n",
    );
    for (cat, rows) in [("counted", &r.counted), ("amount_mismatch", &r.mismatched), ("unknown", &r.unknown)] {
        for p in rows {
            let row = [
                cat.to_string(),
                p.id.to_string(),
                p.router_id.to_string(),
                p.package_id.to_string(),
                p.price.currency().to_string(),
                p.price.plain(),
                p.paid_amount.map(|a| a.plain()).unwrap_or_default(),
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
    let (from, to) = (a.from.start(ctx.offset), a.to.end(ctx.offset));
    let rows = ctx.store.payments_between(from, to).await?;
    let renewals = ctx.store.renewals_between(from, to).await?;
    let r = build_all(&rows, &renewals, a.by, ctx.offset);
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
        "{} to {}: {} payment(s), {}; {} mismatched, {} unknown",
        a.from,
        a.to,
        r.payments,
        hotspot_core::currency::sums_text(&r.totals.iter().map(|t| t.amount).collect::<Vec<_>>()),
        r.mismatched.len(),
        r.unknown.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotspot_cloud::store::{PaymentRow, PurchaseState};

    #[test]
    fn details_mask_phones_and_list_what_is_apart() {
        let at = 1_772_000_000;
        let kes = |n| hotspot_core::currency::Money::whole_units(hotspot_core::currency::Currency::Kes, n).unwrap();
        let row = |id: u8, state, paid: Option<u64>| PaymentRow {
            id: format!("p{:024x}", id).parse().unwrap(),
            router_id: "cafe-b".parse().unwrap(),
            package_id: "1h".parse().unwrap(),
            package_name: "1h".into(),
            price: kes(10),
            state,
            receipt: paid.map(|_| format!("RCPT{id}")),
            checkout_id: None,
            paid_amount: paid.map(kes),
            paid_at: paid.map(|_| at),
            created_at: at - 30,
            phone: "254712345678".parse().unwrap(),
            wallet: hotspot_core::wallet::Wallet::Mpesa,
        };
        let rows = [row(1, PurchaseState::Paid, Some(10)), row(4, PurchaseState::AmountMismatch, Some(5))];
        let r = build(&rows, GroupBy::Router, UtcOffset::NAIROBI);
        assert_eq!(
            totals_csv(&r, GroupBy::Router),
            "router,currency,payments,amount\ncafe-b,KES,1,10\nTOTAL,KES,1,10\n"
        );
        let details = details_csv(&r, UtcOffset::NAIROBI);
        assert!(details.contains("amount_mismatch,p"), "{details}");
        assert!(details.contains("2547****5678") && !details.contains("254712345678"), "{details}");
    }
}
