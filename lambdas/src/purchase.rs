//! The purchase function: an authenticated router asks for an M-Pesa prompt for a guest.

use daraja::{DarajaClient, StkPushRequest, TokenStore};
use hotspot_core::api::{ApiError, PackagesReply, PurchaseRequest, PurchaseView};
use hotspot_core::wire::PaymentFailure;
use hotspot_core::{PackageId, PurchaseId};

use crate::api::{Reply, bad_request, parse_body};
use hotspot_cloud::store::{NewPurchase, Purchase, PurchaseState, RouterRecord, Slot, Store};

pub const MAX_BODY: usize = 4 * 1024;

pub struct PurchaseCtx<'a, S> {
    pub store: &'a Store,
    pub daraja: &'a DarajaClient<S>,
    /// The full callback URL, secret path included.
    pub callback_url: &'a str,
    /// For the grant (and SMS receipt) when the callback beat us to it.
    pub sqs: &'a aws_sdk_sqs::Client,
    pub sms: Option<&'a crate::sms::SmsClient>,
}

/// The purchase as the agent's waiting page needs it.
pub fn purchase_view(p: &Purchase) -> PurchaseView {
    PurchaseView {
        purchase_id: p.id.clone(),
        state: p.state,
        reason: p.failure.filter(|_| !p.state.is_paid()),
        message: Some(guest_message(p).into()),
        expires_at: p.expires_at,
        package_id: Some(p.package.id().clone()),
        customer_message: None,
    }
}

fn guest_message(p: &Purchase) -> &'static str {
    match p.state {
        PurchaseState::Pending => "Check your phone and enter your M-Pesa PIN.",
        PurchaseState::Paid | PurchaseState::Active => "Payment received. You are being connected.",
        _ => p.failure.unwrap_or(PaymentFailure::Other).guest_message(),
    }
}

/// At most 12 characters, shown on the prompt: "WiFi 24h".
fn account_reference(p: &PackageId) -> String {
    let s = format!("WiFi {p}");
    s.chars().take(12).collect()
}

/// At most 13 printable ASCII characters.
fn transaction_desc(name: &str) -> String {
    let ascii: String = name.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(13).collect();
    if ascii.trim().is_empty() { "WiFi".into() } else { ascii.trim().to_string() }
}

pub async fn purchase<S: TokenStore>(ctx: &PurchaseCtx<'_, S>, router: &RouterRecord, body: &[u8], now: i64) -> Reply {
    let input: PurchaseRequest = match parse_body(body, MAX_BODY) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let package = match ctx.store.get_package(&router.id, &input.package_id).await {
        Ok(Some(p)) if p.on_sale => p.package,
        Ok(_) => return Reply::error(404, "no_such_package", "That package is not on sale here."),
        Err(e) => return Reply::unavailable(&e),
    };
    match ctx.store.take_mac_slot(&input.mac, now).await {
        Ok(Slot::Taken) => {}
        Ok(Slot::Limited { retry_after_secs }) => {
            return rate_limited(retry_after_secs, "Too many attempts from this device. Try again later.");
        }
        Err(e) => return Reply::unavailable(&e),
    }
    match ctx.store.take_phone_slot(&input.phone, now).await {
        Ok(Slot::Taken) => {}
        Ok(Slot::Limited { retry_after_secs }) => {
            return rate_limited(
                retry_after_secs,
                "An M-Pesa request was just sent to this number. Answer it, or wait a minute and try again.",
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
        created_at: now,
    };
    let created = match ctx.store.create_purchase(&new).await {
        Ok(p) => p,
        Err(e) => return Reply::unavailable(&e),
    };
    let span = tracing::info_span!("purchase", purchase_id = %created.id, router_id = %router.id);
    let _g = span.enter();
    tracing::info!(phone = %input.phone.masked(), package_id = %package.id(), "STK push");
    let req = StkPushRequest {
        phone: input.phone,
        amount: package.price(),
        callback_url: ctx.callback_url.to_string(),
        account_reference: account_reference(package.id()),
        transaction_desc: transaction_desc(package.name()),
    };
    let result = ctx.daraja.stk_push(&req).await;
    let record = match result {
        Ok(accepted) => match link(ctx.store, ctx.sqs, ctx.sms, &created, &accepted.checkout_request_id, now).await {
            Ok(current) => {
                tracing::info!(checkout_request_id = %accepted.checkout_request_id, "prompt sent");
                let view =
                    PurchaseView { customer_message: Some(accepted.customer_message), ..purchase_view(&current) };
                return Reply::json(201, &view);
            }
            Err(e) => {
                // The prompt is out but we could not store its id: the callback cannot be matched,
                // so flag the purchase for the operator rather than pretend it failed.
                tracing::error!(alarm = "checkout_not_stored", error = %e, checkout_request_id = %accepted.checkout_request_id, "CheckoutRequestID not stored");
                ctx.store.mark_unknown(&created.id, now).await
            }
        },
        Err(e) if e.may_have_prompted() => {
            tracing::error!(alarm = "push_outcome_unknown", error = %e, "STK push outcome unknown; not retried");
            ctx.store.mark_unknown(&created.id, now).await
        }
        Err(e) => {
            tracing::warn!(error = %e, "STK push refused");
            let code = e.api_kind().map(|_| e.to_string());
            ctx.store.mark_failed(&created.id, PaymentFailure::PromptFailed, code.as_deref(), now).await
        }
    };
    match record {
        Ok(t) => Reply::json(201, &purchase_view(t.purchase())),
        Err(e) => Reply::unavailable(&e),
    }
}

/// Links the prompt's CheckoutRequestID to the purchase. If the callback came first, applies it
/// now, as the callback would have, and returns the purchase as it then stands.
pub async fn link(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    sms: Option<&crate::sms::SmsClient>,
    created: &Purchase,
    checkout_id: &str,
    now: i64,
) -> Result<Purchase, hotspot_cloud::store::StoreError> {
    let Some(body) = store.link_checkout(&created.id, checkout_id, now).await? else {
        return Ok(created.clone());
    };
    match daraja::parse_callback(body.as_bytes()) {
        Ok(cb) => {
            tracing::info!("the callback arrived before the prompt's id was stored: applying it now");
            crate::callback::apply(store, sqs, sms, created, cb.outcome, now).await;
        }
        // It parsed when it was kept, so this is corruption: the reconciler asks Daraja instead.
        Err(e) => tracing::error!(error = %e, "kept callback no longer parses"),
    }
    Ok(store.get_purchase(&created.id).await?.unwrap_or_else(|| created.clone()))
}

fn rate_limited(retry_after_secs: i64, message: &str) -> Reply {
    Reply::refused(429, &ApiError { retry_after: Some(retry_after_secs), ..ApiError::new("rate_limited", message) })
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

/// `GET /packages`: what this router sells.
pub async fn packages(store: &Store, router: &RouterRecord) -> Reply {
    match store.list_packages(&router.id).await {
        Ok(list) => {
            let packages = list.into_iter().filter(|p| p.on_sale).map(|p| p.package).collect();
            Reply::ok(&PackagesReply { packages })
        }
        Err(e) => Reply::unavailable(&e),
    }
}
