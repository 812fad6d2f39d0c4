//! What a payment's outcome does to a purchase, whichever way it came: a callback (linked by
//! its CheckoutRequestID, or matched by payer and price), or an STK query's answer (the
//! reconciler each minute, or the status function while the guest's waiting page asks). Each is
//! a conditional transition, then the router's job and the SMS receipt.

use std::time::Duration;

use daraja::{CallbackOutcome, DarajaClient, QueryOutcome, TokenStore};
use hotspot_cloud::outbox::deliver;
use hotspot_cloud::store::{
    Claim, Paid, Purchase, PurchaseState, ReceiptRecord, ReceiptSource, Store, StoreError, Transition,
};
use hotspot_core::wire::PaymentFailure;

/// What settling needs, built once in each function's `main`: the store, the router queues and
/// (when configured) the SMS receipts.
#[derive(Clone, Copy)]
pub struct Settle<'a> {
    pub store: &'a Store,
    pub sqs: &'a aws_sdk_sqs::Client,
    pub sms: Option<&'a crate::sms::SmsClient>,
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
        outcome: QueryOutcome,
        now: i64,
    ) -> Result<Option<Settled>, StoreError> {
        let t = match outcome {
            QueryOutcome::Pending => return Ok(None),
            QueryOutcome::Paid => {
                // The query carries no receipt or amount: the amount is what we asked for; the
                // receipt number comes with the callback, if it ever arrives (`callback::apply`).
                self.record_query_receipt(p, checkout, now).await?;
                let paid = Paid { receipt: String::new(), amount: p.package.price(), paid_at: now };
                self.store.mark_paid(&p.id, &paid).await?
            }
            QueryOutcome::Failed { code, description } => {
                tracing::info!(purchase_id = %p.id, code = %code.code(), description = %description, "query: failed");
                self.store
                    .mark_failed(&p.id, code.failure().unwrap_or(PaymentFailure::Other), Some(&code.code()), now)
                    .await?
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

    /// A payment only STK query confirmed, for the ledger (no receipt number: the query has none).
    async fn record_query_receipt(&self, p: &Purchase, checkout: &str, now: i64) -> Result<(), StoreError> {
        let r = ReceiptRecord {
            key: format!("query:{checkout}"),
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
    pub async fn ask_while_waiting<S: TokenStore>(&self, daraja: &DarajaClient<S>, p: Purchase, now: i64) -> Purchase {
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
        let outcome = match tokio::time::timeout(ASK_TIMEOUT, daraja.stk_query(&checkout)).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => {
                query_unanswered(&p.id, &e);
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
        match daraja::parse_callback(body.as_bytes()) {
            Ok(cb) => {
                tracing::info!("the callback arrived before the prompt's id was stored: applying it now");
                let linked = Purchase { checkout_id: Some(checkout_id.to_string()), ..created.clone() };
                let _ = self.apply_callback(&linked, cb.outcome, now).await;
            }
            // It parsed when it was kept, so this is corruption: the reconciler asks Daraja instead.
            Err(e) => tracing::error!(error = %e, "kept callback no longer parses"),
        }
        Ok(self.store.get_purchase(&created.id).await?.unwrap_or_else(|| created.clone()))
    }

    /// Applies a callback's outcome to its purchase: a conditional transition, then the router's job.
    /// Also called when the callback arrived before its purchase was linked (`link`). `Err`: not
    /// recorded, so Daraja is told to try again.
    pub async fn apply_callback(
        &self,
        purchase: &Purchase,
        outcome: CallbackOutcome,
        now: i64,
    ) -> Result<(), Unrecorded> {
        let receipt_number = match &outcome {
            CallbackOutcome::Paid { receipt: Some(r), .. } if !r.trim().is_empty() => Some(r.trim().to_string()),
            _ => None,
        };
        if let CallbackOutcome::Paid { amount, phone, .. } = &outcome {
            let r = ReceiptRecord {
                key: receipt_number
                    .clone()
                    .unwrap_or_else(|| format!("checkout:{}", purchase.checkout_id.as_deref().unwrap_or("?"))),
                checkout_id: purchase.checkout_id.clone(),
                phone: phone.clone(),
                amount: *amount,
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
            CallbackOutcome::Paid { amount, receipt, .. } => {
                let receipt = receipt.unwrap_or_default();
                match amount.filter(|a| *a == purchase.package.price()) {
                    Some(amount) => self.store.mark_paid(&purchase.id, &Paid { receipt, amount, paid_at: now }).await,
                    None => {
                        tracing::error!(
                            alarm = "amount_mismatch",
                            purchase_id = %purchase.id,
                            router_id = %purchase.router_id,
                            price = purchase.package.price().get(),
                            paid = amount.map(|a| a.get()),
                            receipt = %receipt,
                            "amount_mismatch: paid amount differs from the package price; no grant"
                        );
                        self.store.mark_amount_mismatch(&purchase.id, &receipt, amount, now).await
                    }
                }
            }
            CallbackOutcome::Failed { code, description } => {
                let reason = code.failure().unwrap_or(PaymentFailure::Other);
                tracing::info!(purchase_id = %purchase.id, code = %code.code(), description = %description, "payment failed");
                self.store.mark_failed(&purchase.id, reason, Some(&code.code()), now).await
            }
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

/// An STK query with no answer: not a try (Daraja decided nothing). Wrong credentials (the
/// passkey or shortcode changed) stop every payment, so they alarm as they do at the push.
pub fn query_unanswered(purchase: &hotspot_core::PurchaseId, e: &daraja::DarajaError) {
    if e.api_kind() == Some(daraja::ApiErrorKind::WrongCredentials) {
        tracing::error!(alarm = "daraja_wrong_credentials", purchase_id = %purchase, error = %e, "Daraja refused our credentials: no payment can be confirmed");
    } else {
        tracing::warn!(purchase_id = %purchase, error = %e, "STK query got no answer; not counted as a try");
    }
}
