//! `hotspotctl report ledger`: every M-Pesa receipt against every purchase
//! (`hotspot_cloud::ledger`), printed by what needs doing; and `--credit`, which settles an
//! unmatched receipt as a grant to a guest's device. A credit is idempotent: its purchase id is
//! derived from the receipt, so running it twice (or again after a crash) is one grant.

use hotspot_cloud::ledger::{self, Ledger, Matched};
use hotspot_cloud::outbox::deliver;
use hotspot_cloud::store::{Claim, NewPurchase, Paid, PaymentRow, PurchaseState, ReceiptRecord, Transition};
use hotspot_core::{MacAddr, PackageId, PurchaseId, RouterId};

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
        "  {:<22} {:>6} {:<13} {:<9} {:<17}\n",
        r.key.escape_debug().to_string(),
        r.amount.map(|a| a.get().to_string()).unwrap_or_else(|| "-".into()),
        r.phone.as_ref().map(|p| p.masked()).unwrap_or_else(|| "-".into()),
        r.source,
        minute(r.at, offset)
    )
}

fn purchase_line(p: &PaymentRow, offset: UtcOffset) -> String {
    format!(
        "  {:<26} {:<20} {:<8} {:>6} {:<15} {:<13} {:<17}\n",
        p.id,
        p.router_id,
        p.package_id,
        p.price.get(),
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

/// Settles an unmatched receipt as a grant: a purchase (id derived from the receipt) paid with
/// it, the receipt matched to it, the grant queued for the router. Refuses, changing nothing,
/// a receipt that is not unmatched or whose amount is not the package's price.
pub async fn credit(
    ctx: &Ctx,
    key: &str,
    router: &RouterId,
    package: &PackageId,
    mac: MacAddr,
) -> Result<String, Error> {
    let id = PurchaseId::derived_from(&format!("credit:{key}"));
    let r = ctx
        .store
        .get_receipt(key)
        .await?
        .ok_or_else(|| Error::Usage(format!("no M-Pesa receipt {key:?} on record; nothing was changed")))?;
    match &r.purchase_id {
        None => {}
        Some(p) if *p == id => {} // credited before, perhaps cut short: carry on
        Some(p) => {
            return Err(Error::Usage(format!("receipt {key} already paid for purchase {p}; nothing was changed")));
        }
    }
    let record = ctx
        .store
        .get_package(router, package)
        .await?
        .ok_or_else(|| Error::Usage(format!("router {router} has no package {package}; nothing was changed")))?;
    let price = record.package.price();
    if r.amount != Some(price) {
        return Err(Error::Usage(format!(
            "receipt {key} is for KES {}, package {package} costs KES {}; nothing was changed",
            r.amount.map(|a| a.get().to_string()).unwrap_or_else(|| "?".into()),
            price.get()
        )));
    }
    let phone =
        r.phone.clone().ok_or_else(|| Error::Usage(format!("receipt {key} names no phone; nothing was changed")))?;
    let at = now();
    match ctx.store.get_purchase(&id).await? {
        Some(p) if p.router_id != *router || p.package.id() != package || p.mac != mac => {
            return Err(Error::Usage(format!(
                "receipt {key} was credited before to {} ({}) at {}; nothing was changed",
                p.mac,
                p.package.id(),
                p.router_id
            )));
        }
        Some(_) => {}
        None => {
            let new = NewPurchase {
                id: id.clone(),
                router_id: router.clone(),
                package: record.package.clone(),
                mac,
                ip: None,
                phone,
                created_at: at,
            };
            ctx.store.create_purchase(&new).await?;
        }
    }
    // The receipt is claimed first, so no second credit can take it; a crash after this leaves a
    // receipt matched to a purchase not yet paid, which the ledger lists and a re-run finishes.
    let credit = ReceiptRecord { credited_by: Some(ctx.arn.clone()), ..r.clone() };
    if let Claim::Taken(other) = ctx.store.claim_receipt(&credit, &id, router).await? {
        return Err(Error::Usage(format!(
            "receipt {key} was matched meanwhile (to {}); nothing more was changed",
            other.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
        )));
    }
    let current = match ctx.store.mark_paid(&id, &Paid { receipt: key.to_string(), amount: price, paid_at: at }).await?
    {
        Transition::Applied(p) | Transition::Unchanged(p) => p,
    };
    if current.state != PurchaseState::Paid && current.state != PurchaseState::Active {
        return Err(Error::Usage(format!("purchase {id} is {}, not paid; nothing more was changed", current.state)));
    }
    let sent = deliver(&ctx.store, &ctx.sqs, &current, at)
        .await
        .map_err(|e| Error::JobNotSent { what: format!("receipt {key} is credited, but {e}; run this again") })?;
    let what = format!(
        "receipt {key} credited as purchase {id} ({package}, KES {}) to {mac} at {router}{}",
        price.get(),
        if sent { "; grant queued" } else { "; grant already queued" }
    );
    println!("{what}");
    Ok(what)
}
