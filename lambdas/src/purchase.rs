//! The purchase function: an authenticated router asks for a payment prompt for a guest, from
//! the wallet they chose (M-Pesa unless they chose another the router takes).

use std::time::{Duration, Instant};

use hotspot_core::api::{ApiError, PackagesReply, PurchaseRequest, PurchaseView, codes};
use hotspot_core::wallet::Wallet;
use hotspot_core::wire::PaymentFailure;
use hotspot_core::{PackageId, PurchaseId};
use wallets::{PaymentRequest, WalletError};

use crate::api::{Reply, bad_request, parse_body};
use crate::providers::{Payments, callback_url_for, reference_before};
use crate::settle::{Settle, credentials_refused};
use hotspot_cloud::store::prompts::{self, Verdict};
use hotspot_cloud::store::{NewPurchase, Purchase, PurchaseState, RouterRecord, Slot, Store, UnlinkedPurchase};

pub const MAX_BODY: usize = 4 * 1024;

/// After the push, time kept for recording its outcome (the link, or `unknown`).
const AFTER_PUSH: Duration = Duration::from_secs(4);
/// A push given less than this would likely be cut off half-way: refused before it is sent.
const MIN_PUSH: Duration = Duration::from_secs(3);
/// The longest a push may take (Daraja answers in well under a second when it is well).
const MAX_PUSH: Duration = Duration::from_secs(15);

/// How long the STK push may take in an invocation with `remaining` left, so the function is
/// never killed after the prompt went out and before anything was recorded; `None`: too
/// little time to push at all. No deadline known: the push's own maximum.
pub fn push_budget(remaining: Option<Duration>) -> Option<Duration> {
    match remaining {
        None => Some(MAX_PUSH),
        Some(r) => r.checked_sub(AFTER_PUSH).filter(|b| *b >= MIN_PUSH).map(|b| b.min(MAX_PUSH)),
    }
}

pub struct PurchaseCtx<'a, P> {
    /// The store, and the grant (and SMS receipt) when the callback beat us to it.
    pub settle: Settle<'a>,
    /// The wallets (`providers::Providers`, or the Daraja client alone).
    pub wallets: &'a P,
    /// M-Pesa's full callback URL, secret path included (the others' are made from it).
    pub callback_url: &'a str,
}

/// The purchase as the agent's waiting page needs it.
pub fn purchase_view(p: &Purchase) -> PurchaseView {
    PurchaseView {
        purchase_id: p.id.clone(),
        state: p.state,
        reason: p.failure.filter(|_| !p.state.is_paid()),
        message: Some(guest_message(p)),
        expires_at: p.expires_at,
        package_id: Some(p.package.id().clone()),
        customer_message: None,
    }
}

fn guest_message(p: &Purchase) -> String {
    match p.state {
        PurchaseState::Pending => format!("Check your phone and enter your {} PIN.", p.wallet.label()),
        PurchaseState::Paid | PurchaseState::Active => "Payment received. You are being connected.".into(),
        _ => p.failure.unwrap_or(PaymentFailure::Other).guest_message_for(p.wallet),
    }
}

/// What the payer's prompt names as the payment's purpose: the hotspot's name, so the number's
/// owner can tell where a prompt they did not ask for comes from (and, on M-Pesa, cancel it
/// twice to stop that hotspot's prompts); a name with nothing printable falls back to the
/// package ("WiFi 24h"). Each provider fits it to its own field (`wallets::mpesa`).
fn prompt_label(router_name: &str, p: &PackageId) -> String {
    if router_name.chars().any(|c| c.is_ascii_alphanumeric()) { router_name.to_string() } else { format!("WiFi {p}") }
}

pub async fn purchase<P: Payments>(ctx: &PurchaseCtx<'_, P>, router: &RouterRecord, body: &[u8], now: i64) -> Reply {
    purchase_within(ctx, router, body, None, now).await
}

/// As `purchase`, within an invocation that has `remaining` left.
pub async fn purchase_within<P: Payments>(
    ctx: &PurchaseCtx<'_, P>,
    router: &RouterRecord,
    body: &[u8],
    remaining: Option<Duration>,
    now: i64,
) -> Reply {
    let started = Instant::now();
    let input: PurchaseRequest = match parse_body(body, MAX_BODY) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let wallet = input.wallet.unwrap_or(Wallet::Mpesa);
    let merchant = ctx.wallets.merchant_country(wallet).filter(|_| router.wallets.contains(wallet));
    let Some(merchant) = merchant else {
        return Reply::error(400, "wallet_not_taken", format!("This WiFi does not take {}.", wallet.label()));
    };
    // The merchant takes its own country's numbers (and currency) alone; refused later, the
    // purchase would already be recorded.
    if merchant != input.phone.country() {
        let why = format!("{} here takes {} numbers only; choose another way to pay.", wallet.label(), merchant.name());
        return Reply::error(400, "wallet_not_for_number", why);
    }
    let payer = input.phone.clone();
    let package = match ctx.settle.store.get_package(&router.id, &input.package_id).await {
        Ok(Some(p)) if p.on_sale => p.package,
        Ok(_) => return Reply::error(404, "no_such_package", "That package is not on sale here."),
        Err(e) => return Reply::unavailable(&e),
    };
    match ctx.settle.store.take_mac_slot(&input.mac, now).await {
        Ok(Slot::Taken) => {}
        Ok(Slot::Limited { retry_after_secs }) => {
            return rate_limited(retry_after_secs, "Too many attempts from this device. Try again later.");
        }
        Err(e) => return Reply::unavailable(&e),
    }
    if let Err(r) = prompt_allowed(ctx.settle.store, router, &input, now).await {
        return r;
    }
    match ctx.settle.store.take_phone_slot(&input.phone, now).await {
        Ok(Slot::Taken) => {}
        Ok(Slot::Limited { retry_after_secs }) => {
            return rate_limited(
                retry_after_secs,
                &format!(
                    "A {} request was just sent to this number. Answer it, or wait a minute and try again.",
                    wallet.label()
                ),
            );
        }
        Err(e) => return Reply::unavailable(&e),
    }
    let new = NewPurchase {
        id: PurchaseId::generate(),
        router_id: router.id.clone(),
        package: package.clone(),
        mac: input.mac,
        ip: Some(input.ip),
        phone: input.phone.clone(),
        wallet,
        created_at: now,
    };
    // Checked before anything is recorded: a purchase that cannot be pushed is not created.
    let Some(budget) = push_budget(remaining.map(|r| r.saturating_sub(started.elapsed()))) else {
        tracing::warn!(remaining = ?remaining, "too little time left to send a prompt: refused");
        return Reply::error(503, "unavailable", "The service is busy; try again in a moment.");
    };
    let created = match ctx.settle.store.create_purchase(&new).await {
        Ok(p) => p,
        Err(e) => return Reply::unavailable(&e),
    };
    let span = tracing::info_span!("purchase", purchase_id = %created.id, router_id = %router.id);
    let _g = span.enter();
    tracing::info!(phone = %input.phone.masked(), package_id = %package.id(), wallet = %wallet.as_str(), "payment prompt");
    let req = PaymentRequest {
        payer,
        amount: package.price(),
        reference: created.id.to_string(),
        label: prompt_label(&router.name, package.id()),
        description: package.name().to_string(),
        callback_url: callback_url_for(wallet, ctx.callback_url),
    };
    // Airtel and MTN key the payment by an id we know now: linked before the prompt, so neither
    // its callback nor a lost answer can leave it unmatched.
    let early = reference_before(wallet, &created.id);
    if let Some(reference) = &early
        && let Err(e) = ctx.settle.link(&created, reference, now).await
    {
        tracing::warn!(error = %e, "reference not linked before the prompt; refused");
        let _ = ctx.settle.store.mark_failed(&created.id, PaymentFailure::PromptFailed, None, now).await;
        return Reply::unavailable(&e);
    }
    let budget = budget.saturating_sub(started.elapsed()).max(MIN_PUSH);
    let result = match tokio::time::timeout(budget, ctx.wallets.start_payment(wallet, &req)).await {
        Ok(r) => r.map_err(PushError::Wallet),
        Err(_) => Err(PushError::OutOfTime(budget)),
    };
    let record = match result {
        Ok(accepted) if early.is_some() => {
            tracing::info!(reference = %accepted.reference, "prompt sent");
            match ctx.settle.store.get_purchase(&created.id).await {
                Ok(Some(current)) => {
                    let view = PurchaseView { customer_message: accepted.message, ..purchase_view(&current) };
                    return Reply::json(201, &view);
                }
                Ok(None) => return Reply::json(201, &purchase_view(&created)),
                Err(e) => return Reply::unavailable(&e),
            }
        }
        Ok(accepted) => {
            match ctx.settle.link(&created, &accepted.reference, now).await {
                Ok(current) => {
                    tracing::info!(checkout_request_id = %accepted.reference, "prompt sent");
                    let view = PurchaseView { customer_message: accepted.message, ..purchase_view(&current) };
                    return Reply::json(201, &view);
                }
                Err(e) => {
                    // The prompt is out but we could not store its id: the callback cannot be matched,
                    // so flag the purchase for the operator rather than pretend it failed.
                    tracing::error!(alarm = "checkout_not_stored", error = %e, checkout_request_id = %accepted.reference, "CheckoutRequestID not stored");
                    note_unlinked(ctx.settle.store, &created).await;
                    ctx.settle.store.mark_unknown(&created.id, None, now).await
                }
            }
        }
        // Linked already: the callback or the reconciler's status query decides it.
        Err(e) if e.may_have_prompted() && early.is_some() => {
            tracing::warn!(error = %e, "prompt outcome unknown; its status query will tell");
            match ctx.settle.store.get_purchase(&created.id).await {
                Ok(Some(current)) => return Reply::json(201, &purchase_view(&current)),
                Ok(None) => return Reply::json(201, &purchase_view(&created)),
                Err(e) => return Reply::unavailable(&e),
            }
        }
        Err(e) if e.may_have_prompted() => {
            tracing::error!(alarm = "push_outcome_unknown", error = %e, "STK push outcome unknown; not retried");
            note_unlinked(ctx.settle.store, &created).await;
            ctx.settle.store.mark_unknown(&created.id, None, now).await
        }
        Err(e) => {
            let refusal = match &e {
                PushError::Wallet(WalletError::Refused { failure, code, .. }) => Some((*failure, code.clone())),
                _ => None,
            };
            if let PushError::Wallet(w @ WalletError::WrongCredentials(_)) = &e {
                credentials_refused(wallet, &created.id, w, "no guest can pay");
            } else {
                tracing::warn!(error = %e, "payment prompt refused");
            }
            let reason = match refusal {
                Some((PaymentFailure::SubscriberBusy, _)) => PaymentFailure::SubscriberBusy,
                Some((r @ (PaymentFailure::NotMpesa | PaymentFailure::InsufficientFunds), _))
                    if wallet != Wallet::Mpesa =>
                {
                    r
                }
                _ => PaymentFailure::PromptFailed,
            };
            let code = match &e {
                PushError::Wallet(WalletError::Refused { .. } | WalletError::WrongCredentials(_)) => {
                    Some(e.to_string())
                }
                _ => None,
            };
            ctx.settle.store.mark_failed(&created.id, reason, code.as_deref(), now).await
        }
    };
    match record {
        Ok(t) => Reply::json(201, &purchase_view(t.purchase())),
        Err(e) => Reply::unavailable(&e),
    }
}

/// Why the push has no provider reference.
#[derive(Debug, thiserror::Error)]
enum PushError {
    #[error(transparent)]
    Wallet(#[from] WalletError),
    /// Cut off at its budget: the prompt may be out.
    #[error("no answer within the {0:?} the invocation had left for it")]
    OutOfTime(Duration),
}

impl PushError {
    fn may_have_prompted(&self) -> bool {
        match self {
            PushError::Wallet(e) => e.may_have_prompted(),
            PushError::OutOfTime(_) => true,
        }
    }
}

/// Keeps a purchase whose prompt may be out without its CheckoutRequestID under its phone, for
/// its callback to find (`callback::unlinked`).
async fn note_unlinked(store: &Store, p: &Purchase) {
    let u = UnlinkedPurchase { purchase_id: p.id.clone(), price: p.package.price(), created_at: p.created_at };
    if let Err(e) = store.note_unlinked(&p.phone, &u).await {
        tracing::error!(error = %e, "unlinked purchase not noted: its callback can only be credited by hand");
    }
}

/// The number's and the router's prompt limits (`store::prompts`), after the device's own.
async fn prompt_allowed(store: &Store, router: &RouterRecord, input: &PurchaseRequest, now: i64) -> Result<(), Reply> {
    let standing = store.phone_standing(&input.phone, &input.mac, now).await.map_err(|e| Reply::unavailable(&e))?;
    match prompts::decide(standing, now) {
        Verdict::Trusted => {}
        Verdict::Stopped { until } => {
            tracing::info!(phone = %input.phone.masked(), "prompt refused: the owner stopped prompts from new devices");
            return Err(refused_for(
                403,
                codes::PROMPTS_STOPPED,
                (until - now).max(1),
                "The owner of this number declined M-Pesa requests from this WiFi. Pay with your own number.",
            ));
        }
        Verdict::CountDaily => match store.take_phone_day_slot(&input.phone, now).await {
            Ok(Slot::Taken) => {}
            Ok(Slot::Limited { retry_after_secs }) => {
                return Err(refused_for(
                    429,
                    codes::PHONE_DAY_LIMIT,
                    retry_after_secs,
                    "This number has had too many M-Pesa requests today. Pay with your own number.",
                ));
            }
            Err(e) => return Err(Reply::unavailable(&e)),
        },
    }
    match store.take_router_prompt_slot(&router.id, now).await {
        Ok(Slot::Taken) => Ok(()),
        Ok(Slot::Limited { retry_after_secs }) => {
            tracing::warn!(router_id = %router.id, "prompt refused: the router's prompt limit is reached");
            Err(refused_for(
                429,
                codes::ROUTER_BUSY,
                retry_after_secs,
                "This WiFi is very busy. Try again in a few minutes.",
            ))
        }
        Err(e) => Err(Reply::unavailable(&e)),
    }
}

fn rate_limited(retry_after_secs: i64, message: &str) -> Reply {
    refused_for(429, "rate_limited", retry_after_secs, message)
}

/// A refusal that says when to try again.
fn refused_for(status: u16, code: &str, retry_after_secs: i64, message: &str) -> Reply {
    Reply::refused(status, &ApiError { retry_after: Some(retry_after_secs), ..ApiError::new(code, message) })
}

/// `GET /purchases/{id}`: only the router that made the purchase may read it.
pub async fn status(store: &Store, router: &RouterRecord, id: &str) -> Reply {
    let Ok(id) = id.parse::<PurchaseId>() else { return bad_request("Invalid purchase id.") };
    match store.get_purchase(&id).await {
        Ok(Some(p)) if p.router_id == router.id => Reply::ok(&purchase_view(&p)),
        Ok(_) => crate::api::not_found("purchase"),
        Err(e) => Reply::unavailable(&e),
    }
}

/// `GET /purchases/{id}` as the status function serves it: a pending purchase the guest has
/// waited on for a while is asked about at Daraja first (`settle::ask_while_waiting`), so a lost
/// callback costs the guest seconds, not the reconciler's minute.
pub async fn status_asking<P: Payments>(ctx: &PurchaseCtx<'_, P>, router: &RouterRecord, id: &str, now: i64) -> Reply {
    let Ok(id) = id.parse::<PurchaseId>() else { return bad_request("Invalid purchase id.") };
    match purchase_asking(ctx, router, &id, now).await {
        Ok(Some(p)) => Reply::ok(&purchase_view(&p)),
        Ok(None) => crate::api::not_found("purchase"),
        Err(e) => Reply::unavailable(&e),
    }
}

/// The router's purchase `id` as `status_asking` sees it (asked about at its wallet if it has
/// been pending a while); `None` when there is none at this router.
pub async fn purchase_asking<P: Payments>(
    ctx: &PurchaseCtx<'_, P>,
    router: &RouterRecord,
    id: &PurchaseId,
    now: i64,
) -> Result<Option<Purchase>, hotspot_cloud::store::StoreError> {
    match ctx.settle.store.get_purchase(id).await? {
        Some(p) if p.router_id == router.id => Ok(Some(ctx.settle.ask_while_waiting(ctx.wallets, p, now).await)),
        _ => Ok(None),
    }
}

/// `GET /grants`: every grant the router is owed, signed afresh (`outbox::owed_grants`).
pub async fn owed(store: &Store, router: &RouterRecord, now: i64) -> Reply {
    match hotspot_cloud::outbox::owed_grants(store, router, now).await {
        Ok(jobs) => {
            tracing::info!(router_id = %router.id, grants = jobs.len(), "owed grants re-signed for the router");
            Reply::ok(&hotspot_core::api::OwedGrants { jobs })
        }
        Err(e) => Reply::unavailable(&e),
    }
}

/// `GET /packages`: what this router sells.
pub async fn packages(store: &Store, router: &RouterRecord) -> Reply {
    match store.list_packages(&router.id).await {
        Ok(list) => {
            let packages = list.into_iter().filter(|p| p.on_sale).map(|p| p.package).collect();
            let wallets = router.wallets.as_slice().to_vec();
            Reply::ok(&PackagesReply { packages, wallets, country: Some(router.country) })
        }
        Err(e) => Reply::unavailable(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_names_the_hotspot() {
        let p: PackageId = "24h".parse().unwrap();
        // As M-Pesa's prompt shows it (its AccountReference).
        let account_reference = |name: &str, p: &PackageId| wallets::mpesa::account_reference(&prompt_label(name, p));
        assert_eq!(account_reference("Cafe Westlands", &p), "Cafe Westlan");
        assert_eq!(account_reference("  Mama   Njeri's\tshop ", &p), "Mama Njeris");
        assert_eq!(account_reference("<b>Hack</b>", &p), "bHackb");
        assert_eq!(account_reference("Café Ngong", &p), "Caf Ngong");
        assert_eq!(account_reference("Hoteli ya Mzee", &p), "Hoteli ya Mz");
        assert_eq!(account_reference("ナイロビ", &p), "WiFi 24h", "no ASCII left: the package");
        assert_eq!(account_reference("", &p), "WiFi 24h");
        for name in ["Cafe Westlands", "a b", "\u{0}x\u{7f}y", "x".repeat(40).as_str()] {
            let r = account_reference(name, &p);
            let allowed = |b: u8| b.is_ascii_alphanumeric() || b" -.".contains(&b);
            assert!((1..=12).contains(&r.len()) && r.bytes().all(allowed), "{r:?}");
        }
    }
}
