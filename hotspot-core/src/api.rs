//! The cloud HTTP API a router's agent calls (`docs/cloud-api.md`): each request signed by the
//! router (`reqsig`), each reply one of these types. The cloud serialises them and the agent
//! reads them, so the two cannot drift apart.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::phone::{Country, PhoneNumber};
use crate::wallet::Wallet;
use crate::wire::PaymentFailure;
use crate::{MacAddr, Package, PackageId, PurchaseId};

/// `POST /purchases`: the guest's device and the prompt they asked for. The router is not in
/// the body: it is who signed the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseRequest {
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
    pub package_id: PackageId,
    /// Written whole (`256772123456`): the agent parsed it in the router's country.
    pub phone: PhoneNumber,
    /// The wallet the guest pays from; absent: M-Pesa (agents before the choice existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet: Option<Wallet>,
}

crate::string_enum! {
    /// Where a purchase stands in the cloud.
    ///
    /// ```text
    /// pending ──paid──> paid ──applied──> active
    ///    │  └─amount≠price─> amount_mismatch
    ///    ├──failed──> failed ──late paid──> paid
    ///    └──reconciler gave up──> unknown ──late paid──> paid
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum PurchaseState("purchase state") {
        Pending = "pending", Paid = "paid", Active = "active",
        Failed = "failed", AmountMismatch = "amount_mismatch", Unknown = "unknown",
    }
}

impl PurchaseState {
    /// Money was taken: the guest is owed a grant.
    pub fn is_paid(self) -> bool {
        matches!(self, PurchaseState::Paid | PurchaseState::Active)
    }
}

/// A purchase as the agent's waiting page needs it: the reply to `POST /purchases` (201) and
/// to `GET /purchases/{id}` (200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseView {
    pub purchase_id: PurchaseId,
    pub state: PurchaseState,
    /// Why it failed; `null` unless the state is a failure.
    #[serde(default)]
    pub reason: Option<PaymentFailure>,
    /// A sentence for the guest.
    #[serde(default)]
    pub message: Option<String>,
    /// When the grant ends (Unix seconds), once paid.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub package_id: Option<PackageId>,
    /// Daraja's own text when the prompt was just sent (`POST /purchases` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_message: Option<String>,
}

/// `GET /packages`: what the router sells now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackagesReply {
    pub packages: Vec<Package>,
    /// The wallets this router takes, in the operator's order; empty (an older cloud): M-Pesa.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wallets: Vec<Wallet>,
    /// Where the router sells: how the portal reads a number typed without its country code.
    /// Absent (an older cloud): Kenya.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
}

/// `GET /grants`: every grant the router is owed now, each a signed wire message (a `grant`
/// job) as on its queue, signed afresh: what it asks for when it starts and after a long
/// absence, so a job that went stale while it was offline is not lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwedGrants {
    pub jobs: Vec<String>,
}

/// Every refusal: a stable machine-readable code and a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
    pub message: String,
    /// With 429: seconds until a retry may succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError { error: code.into(), message: message.into(), retry_after: None }
    }
}

/// The refusal codes the agent acts on (it shows each guest its own message), defined once for
/// both sides of the API.
pub mod codes {
    /// The number's owner cancelled prompts from devices they never paid from.
    pub const PROMPTS_STOPPED: &str = "prompts_stopped";
    /// The number has had its day's prompts from devices it never paid from.
    pub const PHONE_DAY_LIMIT: &str = "phone_day_limit";
    /// The router has sent as many prompts as its window allows.
    pub const ROUTER_BUSY: &str = "router_busy";
    /// The operator disabled the router (`hotspotctl router disable`).
    pub const ROUTER_DISABLED: &str = "router_disabled";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_reads_as_the_cloud_writes_it() {
        let v: PurchaseView = serde_json::from_value(serde_json::json!({
            "purchase_id": "p0123456789abcdef01234567", "state": "amount_mismatch",
            "reason": "amount_mismatch", "message": "Ask staff.", "expires_at": null, "package_id": "1h"
        }))
        .unwrap();
        assert_eq!((v.state, v.reason), (PurchaseState::AmountMismatch, Some(PaymentFailure::AmountMismatch)));
        let back = serde_json::to_value(&v).unwrap();
        assert_eq!(back["expires_at"], serde_json::Value::Null, "null, not absent, as before");
        assert!(back.get("customer_message").is_none());
    }

    #[test]
    fn paid_states() {
        let paid: Vec<_> = PurchaseState::ALL.iter().filter(|s| s.is_paid()).collect();
        assert_eq!(paid, [&PurchaseState::Paid, &PurchaseState::Active]);
    }
}
