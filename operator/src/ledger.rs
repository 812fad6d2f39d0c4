//! `hotspotctl report ledger`: every M-Pesa receipt against every purchase
//! (`hotspot_cloud::ledger`), printed by what needs doing; and `--credit`, which settles an
//! unmatched receipt as a grant to a guest's device. A credit is idempotent: its purchase id is
//! derived from the receipt, so running it twice (or again after a crash) is one grant.

use hotspot_cloud::credit::{Credit, CreditError, credit_receipt};
use hotspot_cloud::ledger::{self, Ledger, Matched};
use hotspot_cloud::store::{PaymentRow, ReceiptRecord};
use hotspot_core::{MacAddr, PackageId, RouterId};

use crate::Error;
use crate::cli::LedgerArgs;
use crate::context::{Ctx, now};
use crate::dates::{UtcOffset, minute};

pub async fn run(ctx: &Ctx, a: &LedgerArgs) -> Result<String, Error> {
    if a.to < a.from {
        return Err(Error::Usage(format!("--to {} is before --from {}", a.to, a.from)));
    }
    if let (Some(receipt), Some(router), Some(package), Some(mac)) = (&a.credit, &a.router, &a.package, &a.mac) {
        return credit(ctx, receipt, router, package, *mac).await;
    }
    let l = ledger::load(&ctx.store, a.from.start(ctx.offset), a.to.end(ctx.offset), now()).await?;
    print!("{}", table(&l, &format!("{} to {}", a.from, a.to), ctx.offset));
    Ok(format!("{} to {}: {} matched, {} in doubt", a.from, a.to, l.matched.len(), l.problems()))
}

fn receipt_line(r: &ReceiptRecord, offset: UtcOffset) -> String {
    format!(
        "  {:<22} {:>14} {:<13} {:<9} {:<17}\n",
        r.key.escape_debug().to_string(),
        r.amount.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
        r.phone.as_ref().map(|p| p.masked()).unwrap_or_else(|| "-".into()),
        r.source,
        minute(r.at, offset)
    )
}

fn purchase_line(p: &PaymentRow, offset: UtcOffset) -> String {
    format!(
        "  {:<26} {:<20} {:<8} {:>14} {:<15} {:<13} {:<17}\n",
        p.id,
        p.router_id,
        p.package_id,
        p.price.to_string(),
        p.state,
        p.phone.masked(),
        minute(p.paid_at.unwrap_or(p.created_at), offset)
    )
}

fn matched_line(m: &Matched, offset: UtcOffset) -> String {
    let mut s = receipt_line(&m.receipt, offset);
    s.push_str(&format!("    -> {}", purchase_line(&m.purchase, offset).trim_start()));
    s
}

/// The ledger as an operator reads it: what is in doubt first, with what to do about it.
pub fn table(l: &Ledger, range: &str, offset: UtcOffset) -> String {
    let mut out = format!(
        "Ledger {range} (UTC{offset}): {} matched, {} awaiting their grant, {} in doubt{}\n",
        l.matched.len(),
        l.awaiting_grant.len(),
        l.problems(),
        if l.is_clean() { ": clean" } else { "" }
    );
    let sections: [(&str, Vec<String>); 7] = [
        (
            "Paid, not granted (the reconciler re-sends owed grants each minute; check the router with `hotspotctl router show`)",
            l.paid_not_granted.iter().map(|m| matched_line(m, offset)).collect(),
        ),
        (
            "Unmatched receipts (settle with --credit RECEIPT --router R --package P --mac M)",
            l.unmatched.iter().map(|r| receipt_line(r, offset)).collect(),
        ),
        (
            "Amount mismatches (money received, no grant given)",
            l.amount_mismatches.iter().map(|m| matched_line(m, offset)).collect(),
        ),
        (
            "Paid twice (two receipts for one grant: refund one)",
            l.paid_twice
                .iter()
                .map(|(p, rs)| {
                    let mut s = purchase_line(p, offset);
                    rs.iter().for_each(|r| s.push_str(&format!("    <- {}", receipt_line(r, offset).trim_start())));
                    s
                })
                .collect(),
        ),
        (
            "Granted, not paid (no receipt on record)",
            l.granted_not_paid.iter().map(|p| purchase_line(p, offset)).collect(),
        ),
        ("Awaiting their grant (paid minutes ago)", l.awaiting_grant.iter().map(|m| matched_line(m, offset)).collect()),
        ("Credited by an operator", l.credits.iter().map(|r| receipt_line(r, offset)).collect()),
    ];
    for (title, lines) in sections {
        out.push_str(&format!("\n{title}: {}\n", lines.len()));
        lines.iter().for_each(|l| out.push_str(l));
    }
    out
}

/// Settles an unmatched receipt as a grant (`hotspot_cloud::credit`, which the dashboard uses too).
pub async fn credit(
    ctx: &Ctx,
    key: &str,
    router: &RouterId,
    package: &PackageId,
    mac: MacAddr,
) -> Result<String, Error> {
    let c = Credit { key, router, package, mac, by: &ctx.arn };
    let done = match credit_receipt(&ctx.store, &ctx.sqs, &c, now()).await {
        Ok(d) => d,
        Err(CreditError::Store(e)) => return Err(e.into()),
        Err(CreditError::Refused(why)) => return Err(Error::Usage(why)),
        Err(e @ CreditError::NotSent { .. }) => return Err(Error::JobNotSent { what: e.to_string() }),
    };
    let what = format!(
        "receipt {key} credited as purchase {} ({package}, {}) to {mac} at {router}{}",
        done.purchase,
        done.price,
        if done.sent { "; grant queued" } else { "; grant already queued" }
    );
    println!("{what}");
    Ok(what)
}
