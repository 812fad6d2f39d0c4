//! `hotspotctl report revenue`: the M-Pesa receipts on record for paid purchases, grouped by
//! router, package or day; the total is the sum of those receipts. Payments of the wrong amount
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

pub fn totals_csv(r: &Revenue, by: GroupBy) -> String {
    revenue::totals_csv(r, by.into())
}

pub fn table(r: &Revenue, a: &RevenueArgs, offset: UtcOffset) -> String {
    let mut out = format!("Revenue {} to {} (UTC{offset}), M-Pesa receipts on record\n", a.from, a.to);
    out.push_str(&format!("{:<28} {:>9} {:>12}\n", revenue::GroupBy::from(a.by).heading(), "PAYMENTS", "KES"));
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
    use hotspot_cloud::store::{PaymentRow, PurchaseState};

    #[test]
    fn details_mask_phones_and_list_what_is_apart() {
        let at = 1_772_000_000;
        let row = |id: u8, state, paid: Option<u32>| PaymentRow {
            id: format!("p{:024x}", id).parse().unwrap(),
            router_id: "cafe-b".parse().unwrap(),
            package_id: "1h".parse().unwrap(),
            package_name: "1h".into(),
            price: hotspot_core::Shillings::new(10).unwrap(),
            state,
            receipt: paid.map(|_| format!("RCPT{id}")),
            checkout_id: None,
            paid_amount: paid,
            paid_at: paid.map(|_| at),
            created_at: at - 30,
            phone: "254712345678".parse().unwrap(),
            wallet: hotspot_core::wallet::Wallet::Mpesa,
        };
        let rows = [row(1, PurchaseState::Paid, Some(10)), row(4, PurchaseState::AmountMismatch, Some(5))];
        let r = build(&rows, GroupBy::Router, UtcOffset::NAIROBI);
        assert_eq!(totals_csv(&r, GroupBy::Router), "router,payments,kes\ncafe-b,1,10\nTOTAL,1,10\n");
        let details = details_csv(&r, UtcOffset::NAIROBI);
        assert!(details.contains("amount_mismatch,p"), "{details}");
        assert!(details.contains("2547****5678") && !details.contains("254712345678"), "{details}");
    }
}
