//! What a payment's outcome does to a purchase, whichever way it came: a callback (linked by
//! its CheckoutRequestID, or matched by payer and price), or an STK query's answer (the
//! reconciler each minute, or the status function while the guest's waiting page asks). Each is
//! a conditional transition, then the router's job and the SMS receipt.

use std::time::Duration;

use hotspot_cloud::outbox::deliver;
use hotspot_cloud::store::{
    Claim, Paid, Purchase, PurchaseState, ReceiptRecord, ReceiptSource, Store, StoreError, Transition,
};
use hotspot_core::currency::Money;
use hotspot_core::wallet::Wallet;
use wallets::{Outcome, Payment, WalletError};

use crate::providers::{Notices, Payments, paid_amount};

/// What settling needs, built once in each function's `main`: the store, the router queues,
/// (when configured) the SMS receipts, and how each wallet's notifications read.
#[derive(Clone, Copy)]
pub struct Settle<'a> {
    pub store: &'a Store,
    pub sqs: &'a aws_sdk_sqs::Client,
    pub sms: Option<&'a crate::sms::SmsClient>,
    pub notices: &'a Notices,
}

/// A receipt's key in the ledger ([`Wallet::receipt_key`]).
pub fn receipt_key(w: Wallet, receipt: &str) -> String {
    w.receipt_key(receipt)
}

/// A wallet refused our credentials: no guest can pay with it until the operator fixes them.
/// M-Pesa's alarm keeps its name (`daraja_wrong_credentials`); the others' is one, by wallet.
pub fn credentials_refused(w: Wallet, purchase: &hotspot_core::PurchaseId, e: &WalletError, what: &str) {
    match w {
        Wallet::Mpesa => {
            tracing::error!(alarm = "daraja_wrong_credentials", purchase_id = %purchase, error = %e, "Daraja refused our credentials: {what}")
        }
        w => {
            tracing::error!(alarm = "wallet_wrong_credentials", wallet = %w.as_str(), purchase_id = %purchase, error = %e, "{} refused our credentials: {what}", w.label())
        }
    }
}

/// What a query's answer did.
pub struct Settled {
    pub transition: Transition,
    /// The router's job went out now (else it was not owed, or the outbox sweep sends it).
    pub job_sent: bool,
}

/// A guest waiting on a purchase whose callback has not come: older than this…
pub const ASK_AFTER_SECS: i64 = 15;
/// …is asked about at most this often.
pub const ASK_EVERY_SECS: i64 = 10;
/// The guest's page is waiting on this: a query gets this long.
const ASK_TIMEOUT: Duration = Duration::from_secs(5);

/// How long before its payment a prompt may have been asked for, to be matched by phone.
pub const MATCH_WINDOW_SECS: i64 = 15 * 60;

/// A callback not durably recorded: Daraja is asked to send it again.
#[derive(Debug)]
pub struct Unrecorded;

impl Settle<'_> {
    /// Applies a definite answer (paid or failed) to a purchase; `None` for "still being processed".
    pub async fn apply_query(
        &self,
        p: &Purchase,
        checkout: &str,
        outcome: Outcome,
        now: i64,
    ) -> Result<Option<Settled>, StoreError> {
        let t = match outcome {
            Outcome::Pending => return Ok(None),
            Outcome::Paid(paid) => {
                // Daraja's query carries no receipt or amount: the amount is what we asked for; the
                // receipt number comes with the callback, if it ever arrives (`apply_callback`).
                // Airtel's and MTN's status answers carry their transaction id.
                self.record_query_receipt(p, checkout, paid.receipt.as_deref(), now).await?;
                let amount = paid.amount.or(Some(p.package.price()));
                self.settle_paid(p, paid.receipt.unwrap_or_default(), amount, now).await?
            }
            Outcome::Failed(f) => {
                tracing::info!(purchase_id = %p.id, code = %f.code, description = %f.description, "query: failed");
                self.store.mark_failed(&p.id, f.reason, Some(&f.code), now).await?
            }
        };
        let mut job_sent = false;
        if let Transition::Applied(p) = &t {
            match deliver(self.store, self.sqs, p, now).await {
                Ok(sent) => job_sent = sent,
                Err(e) => tracing::error!(purchase_id = %p.id, error = %e, "job not queued; outbox keeps it"),
            }
            if let Some(sms) = self.sms {
                crate::sms::send_receipt(self.store, sms, p, now).await;
            }
        }
        Ok(Some(Settled { transition: t, job_sent }))
    }

    /// Paid, if `amount` is the price; else flagged for the operator, with no grant.
    async fn settle_paid(
        &self,
        purchase: &Purchase,
        receipt: String,
        amount: Option<Money>,
        now: i64,
    ) -> Result<Transition, StoreError> {
        let price = purchase.package.price();
        match amount.filter(|a| *a == price) {
            Some(_) => self.store.mark_paid(&purchase.id, &Paid { receipt, amount: price, paid_at: now }).await,
            None => {
                tracing::error!(
                    alarm = "amount_mismatch",
                    purchase_id = %purchase.id,
                    router_id = %purchase.router_id,
                    price = %price,
                    paid = %amount.map(|a| a.to_string()).unwrap_or_default(),
                    receipt = %receipt,
                    "amount_mismatch: paid amount differs from the package price; no grant"
                );
                self.store.mark_amount_mismatch(&purchase.id, &receipt, amount, now).await
            }
        }
    }

    /// A payment only a status query confirmed, for the ledger (Daraja's query has no receipt number).
    async fn record_query_receipt(
        &self,
        p: &Purchase,
        checkout: &str,
        receipt: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let r = ReceiptRecord {
            key: receipt.map(|r| receipt_key(p.wallet, r)).unwrap_or_else(|| format!("query:{checkout}")),
            checkout_id: Some(checkout.to_string()),
            phone: Some(p.phone.clone()),
            amount: Some(p.package.price()),
            at: now,
            source: ReceiptSource::Query,
            purchase_id: Some(p.id.clone()),
            router_id: Some(p.router_id.clone()),
            credited_by: None,
        };
        self.store.claim_receipt(&r, &p.id, &p.router_id).await.map(|_| ())
    }

    /// While a guest's waiting page reads a pending purchase, a lost callback need not wait for the
    /// reconciler: past `ASK_AFTER_SECS` the status read asks Daraja itself, at most every
    /// `ASK_EVERY_SECS` per purchase (a claim on the purchase, so parallel reads ask once).
    /// Returns the purchase as it then stands.
    pub async fn ask_while_waiting<P: Payments>(&self, payments: &P, p: Purchase, now: i64) -> Purchase {
        let Some(checkout) = p.checkout_id.clone() else { return p };
        if p.state != PurchaseState::Pending || now - p.created_at < ASK_AFTER_SECS {
            return p;
        }
        match self.store.claim_status_query(&p.id, now, ASK_EVERY_SECS).await {
            Ok(true) => {}
            Ok(false) => return p,
            Err(e) => {
                tracing::warn!(purchase_id = %p.id, error = %e, "status query not claimed");
                return p;
            }
        }
        let outcome = match tokio::time::timeout(ASK_TIMEOUT, payments.payment_status(p.wallet, &checkout)).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => {
                query_unanswered(&p, &e);
                return p;
            }
            Err(_) => return p,
        };
        match self.apply_query(&p, &checkout, outcome, now).await {
            Ok(Some(s)) => {
                let now_is = s.transition.purchase().clone();
                tracing::info!(purchase_id = %p.id, state = %now_is.state, "decided by an STK query while the guest waited");
                now_is
            }
            Ok(None) => p,
            Err(e) => {
                tracing::error!(purchase_id = %p.id, error = %e, "query outcome not recorded");
                p
            }
        }
    }

    /// A payment whose CheckoutRequestID no purchase linked, matched by what it carries: to the one
    /// purchase of the same phone and price, left `unknown` without a CheckoutRequestID (its push
    /// timed out, or the function died before storing the id), asked for within
    /// `MATCH_WINDOW_SECS` before it. That purchase gets the id and the kept callback is applied
    /// (`link`), as if it had been linked all along. `None`: no such purchase, or several
    /// (then it is the operator's to settle).
    pub async fn payer_match(&self, r: &ReceiptRecord, now: i64) -> Result<Option<Purchase>, StoreError> {
        let (Some(phone), Some(amount), Some(checkout)) = (&r.phone, r.amount, &r.checkout_id) else { return Ok(None) };
        let mut found = Vec::new();
        for u in self.store.unlinked_for(phone).await? {
            if u.price != amount || !(r.at - MATCH_WINDOW_SECS..=r.at).contains(&u.created_at) {
                continue;
            }
            if let Some(p) = self.store.get_purchase(&u.purchase_id).await?
                && p.state == PurchaseState::Unknown
                && p.checkout_id.is_none()
            {
                found.push(p);
            }
        }
        let [p] = &found[..] else {
            if found.len() > 1 {
                tracing::warn!(
                    candidates = found.len(),
                    "a payment matches several unlinked purchases: left to the operator"
                );
            }
            return Ok(None);
        };
        tracing::info!(purchase_id = %p.id, checkout_request_id = %checkout, "payment matched to its unlinked purchase by phone and price");
        self.store.forget_unlinked(phone, &p.id).await?;
        self.link(p, checkout, now).await.map(Some)
    }

    /// Links the prompt's CheckoutRequestID to the purchase. If the callback came first, applies it
    /// now, as the callback would have, and returns the purchase as it then stands.
    pub async fn link(&self, created: &Purchase, checkout_id: &str, now: i64) -> Result<Purchase, StoreError> {
        let Some(body) = self.store.link_checkout(&created.id, checkout_id, now).await? else {
            return Ok(created.clone());
        };
        match self.notices.read_notice(created.wallet, body.as_bytes()) {
            Ok(n) => {
                tracing::info!("the callback arrived before the prompt's id was stored: applying it now");
                let linked = Purchase { checkout_id: Some(checkout_id.to_string()), ..created.clone() };
                let _ = self.apply_callback(&linked, n.outcome, now).await;
            }
            // It parsed when it was kept, so this is corruption: the reconciler asks Daraja instead.
            Err(e) => tracing::error!(error = %e, "kept callback no longer parses"),
        }
        Ok(self.store.get_purchase(&created.id).await?.unwrap_or_else(|| created.clone()))
    }

    /// Applies a callback's outcome to its purchase: a conditional transition, then the router's job.
    /// Also called when the callback arrived before its purchase was linked (`link`). `Err`: not
    /// recorded, so Daraja is told to try again.
    pub async fn apply_callback(&self, purchase: &Purchase, outcome: Outcome, now: i64) -> Result<(), Unrecorded> {
        let receipt_number = match &outcome {
            Outcome::Paid(Payment { receipt: Some(r), .. }) if !r.trim().is_empty() => Some(r.trim().to_string()),
            _ => None,
        };
        if let Outcome::Paid(paid) = &outcome {
            let r = ReceiptRecord {
                key: receipt_number
                    .as_deref()
                    .map(|r| receipt_key(purchase.wallet, r))
                    .unwrap_or_else(|| format!("checkout:{}", purchase.checkout_id.as_deref().unwrap_or("?"))),
                checkout_id: purchase.checkout_id.clone(),
                phone: paid.payer.clone(),
                amount: paid_amount(purchase.wallet, paid.amount, purchase.package.price()),
                at: now,
                source: ReceiptSource::Callback,
                purchase_id: Some(purchase.id.clone()),
                router_id: Some(purchase.router_id.clone()),
                credited_by: None,
            };
            // Kept before the purchase changes (a crash in between leaves a receipt to match, never
            // a grant without one); one conditional write, whether it is new or was kept unmatched
            // because the callback beat the link.
            match self.store.claim_receipt(&r, &purchase.id, &purchase.router_id).await {
                Ok(Claim::Claimed) => {
                    tracing::info!(purchase_id = %purchase.id, "unmatched receipt matched to its purchase")
                }
                Ok(Claim::Taken(other)) => tracing::warn!(
                    purchase_id = %purchase.id,
                    paid_for = %other.map(|o| o.to_string()).unwrap_or_default(),
                    "this receipt was credited to another purchase"
                ),
                Ok(Claim::Recorded | Claim::Already) => {}
                Err(e) => {
                    tracing::error!(purchase_id = %purchase.id, error = %e, "receipt not kept for the ledger");
                    return Err(Unrecorded);
                }
            }
        }
        let outcome = match outcome {
            Outcome::Paid(paid) => {
                let this = purchase;
                let amount = paid_amount(this.wallet, paid.amount, this.package.price());
                self.settle_paid(this, paid.receipt.unwrap_or_default(), amount, now).await
            }
            Outcome::Failed(f) => {
                tracing::info!(purchase_id = %purchase.id, code = %f.code, description = %f.description, "payment failed");
                self.store.mark_failed(&purchase.id, f.reason, Some(&f.code), now).await
            }
            // An intermediate notification (Airtel's may be): nothing to record yet.
            Outcome::Pending => return Ok(()),
        };
        let applied = matches!(outcome, Ok(Transition::Applied(_)));
        // Paid first by STK query (which has no receipt number): this callback brings the number.
        if let (Ok(Transition::Unchanged(p)), Some(r)) = (&outcome, &receipt_number)
            && p.state.is_paid()
            && p.receipt.as_deref().is_none_or(str::is_empty)
        {
            match self.store.fill_receipt(&p.id, r).await {
                Ok(true) => {
                    tracing::info!(purchase_id = %p.id, "M-Pesa receipt number filled in from the late callback")
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(purchase_id = %p.id, error = %e, "receipt number not filled in"),
            }
        }
        let current = match outcome {
            Ok(Transition::Applied(p)) => {
                tracing::info!(purchase_id = %p.id, state = %p.state, phone = %p.phone.masked(), "callback recorded");
                p
            }
            Ok(Transition::Unchanged(p)) => {
                tracing::info!(purchase_id = %p.id, state = %p.state, "repeated or late callback: nothing changes");
                p
            }
            Err(e) => {
                tracing::error!(purchase_id = %purchase.id, error = %e, "callback could not be recorded");
                return Err(Unrecorded);
            }
        };
        // Recorded: Daraja gets its 200 whatever happens next; the outbox sweep retries a failed send.
        if let Err(e) = deliver(self.store, self.sqs, &current, now).await {
            tracing::error!(purchase_id = %current.id, error = %e, "job not queued yet; the outbox sweep will retry");
        }
        // Only after the job, so the receipt never holds up the grant; once (a claim on the purchase
        // guards the callback and purchase functions racing), and not again for a repeated callback.
        if let Some(sms) = self.sms.filter(|_| applied) {
            crate::sms::send_receipt(self.store, sms, &current, now).await;
        }
        Ok(())
    }
}

/// A status query with no answer: not a try (the provider decided nothing). Wrong credentials
/// (M-Pesa's passkey or shortcode changed, an API key revoked) stop every payment, so they alarm
/// as they do at the push.
pub fn query_unanswered(p: &Purchase, e: &WalletError) {
    if let WalletError::WrongCredentials(_) = e {
        credentials_refused(p.wallet, &p.id, e, "no payment can be confirmed");
    } else {
        tracing::warn!(purchase_id = %p.id, wallet = %p.wallet.as_str(), error = %e, "status query got no answer; not counted as a try");
    }
}
