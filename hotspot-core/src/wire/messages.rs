//! The message bodies, one struct per type.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::phone::{Country, PhoneNumber};
use crate::{MacAddr, MessageId, Package, PackageId, PurchaseId, VoucherCode};

/// Every message type and its body. `type` and `body` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "body", rename_all = "snake_case")]
pub enum Payload {
    // cloud → router
    Grant(Grant),
    Revoke(Revoke),
    Extend(Extend),
    PaymentFailed(PaymentFailed),
    PackagesSync(PackagesSync),
    VouchersBatch(VouchersBatch),
    AccountSet(AccountSet),
    // router → cloud
    Applied(Applied),
    ApplyFailed(ApplyFailed),
    SessionStarted(SessionStarted),
    SessionEnded(SessionEnded),
    Heartbeat(Heartbeat),
}

/// Which way a message travels; a verifier only accepts its own direction, so a router's
/// report can never be replayed to it as a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    CloudToRouter,
    RouterToCloud,
}

crate::string_enum! {
    /// A message's `type`: the jobs the cloud sends and the reports a router sends.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum MessageType("message type") {
        Grant = "grant", Revoke = "revoke", Extend = "extend", PaymentFailed = "payment_failed",
        PackagesSync = "packages_sync", VouchersBatch = "vouchers_batch", AccountSet = "account_set",
        Applied = "applied", ApplyFailed = "apply_failed", SessionStarted = "session_started",
        SessionEnded = "session_ended", Heartbeat = "heartbeat",
    }
}

impl MessageType {
    /// Which way this type travels: jobs to routers, reports to the cloud.
    pub fn direction(self) -> Direction {
        use MessageType::*;
        match self {
            Grant | Revoke | Extend | PaymentFailed | PackagesSync | VouchersBatch | AccountSet => {
                Direction::CloudToRouter
            }
            Applied | ApplyFailed | SessionStarted | SessionEnded | Heartbeat => Direction::RouterToCloud,
        }
    }

    /// The types that travel `direction`.
    pub fn travelling(direction: Direction) -> impl Iterator<Item = MessageType> {
        MessageType::ALL.iter().copied().filter(move |t| t.direction() == direction)
    }
}

impl Payload {
    pub fn kind(&self) -> MessageType {
        match self {
            Payload::Grant(_) => MessageType::Grant,
            Payload::Revoke(_) => MessageType::Revoke,
            Payload::Extend(_) => MessageType::Extend,
            Payload::PaymentFailed(_) => MessageType::PaymentFailed,
            Payload::PackagesSync(_) => MessageType::PackagesSync,
            Payload::VouchersBatch(_) => MessageType::VouchersBatch,
            Payload::AccountSet(_) => MessageType::AccountSet,
            Payload::Applied(_) => MessageType::Applied,
            Payload::ApplyFailed(_) => MessageType::ApplyFailed,
            Payload::SessionStarted(_) => MessageType::SessionStarted,
            Payload::SessionEnded(_) => MessageType::SessionEnded,
            Payload::Heartbeat(_) => MessageType::Heartbeat,
        }
    }

    /// The `type` on the wire.
    pub fn type_name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The purchase a message is about, if any.
    pub fn purchase_id(&self) -> Option<&PurchaseId> {
        match self {
            Payload::Grant(g) => Some(&g.purchase_id),
            Payload::Revoke(r) => Some(&r.purchase_id),
            Payload::Extend(x) => Some(&x.purchase_id),
            Payload::PaymentFailed(f) => Some(&f.purchase_id),
            Payload::Applied(a) => a.purchase_id.as_ref(),
            Payload::ApplyFailed(f) => f.purchase_id.as_ref(),
            Payload::SessionStarted(s) => s.purchase_id.as_ref(),
            Payload::SessionEnded(s) => s.purchase_id.as_ref(),
            Payload::PackagesSync(_) | Payload::VouchersBatch(_) | Payload::AccountSet(_) | Payload::Heartbeat(_) => {
                None
            }
        }
    }
}

impl MessageId {
    /// The id of the job of `kind` for a purchase (`grant:p0123…`): the same job sent twice is
    /// one job to SQS's deduplication and to the agent's journal.
    pub fn for_job(kind: MessageType, purchase: &PurchaseId) -> MessageId {
        MessageId::derived(kind.as_str(), purchase)
    }
}

impl AccountSet {
    /// The job's id: one per account and expiry, so the same renewal sent twice is one job, and
    /// a later renewal a new one.
    pub fn job_id(&self) -> MessageId {
        MessageId::for_account(&self.account, self.expires_at)
    }
}

/// Put a subscriber's account (a PPP secret: PPPoE at home, or a VPN account) on the router,
/// or bring it up to date, running until `expires_at`; then the agent itself ends it, cloud or no
/// cloud. Sent again at every renewal with the new expiry: the expiry is absolute, so a repeat
/// or a late copy changes nothing, and a copy older than what the agent holds is ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSet {
    pub account: crate::AccountNumber,
    /// The PPP secret's password; never logged.
    pub password: String,
    /// The PPP service the secret is for: `pppoe`, `l2tp`, `pptp`, `sstp`, `ovpn` or `any`.
    pub service: String,
    /// The package sold: its rate limit makes the account's PPP profile.
    pub package: Package,
    /// Wall-clock end of the paid time, Unix seconds.
    pub expires_at: i64,
    /// For a WireGuard account (`service` `wireguard`): the buyer's key and tunnel address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wireguard: Option<WireguardPeer>,
}

/// A WireGuard account's peer: the buyer's public key and the one address their tunnel may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireguardPeer {
    pub public_key: crate::WgKey,
    pub address: Ipv4Addr,
}

/// The router's end of a WireGuard account, reported once the peer is on it: what the buyer's
/// client config needs and only the router knows (its interface's key, made by the router).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireguardServer {
    pub account: crate::AccountNumber,
    pub public_key: crate::WgKey,
    pub listen_port: u16,
}

/// Why a grant exists: nothing else may cause one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GrantSource {
    Mpesa {
        receipt: String,
    },
    Voucher {
        code: VoucherCode,
    },
    Operator {
        by: String,
    },
    /// A kind a newer cloud added: still a grant the cloud signed.
    #[serde(other)]
    Other,
}

/// Put a guest online for a package until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub purchase_id: PurchaseId,
    pub mac: MacAddr,
    /// The guest's address when they paid; a hint for the immediate login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<Ipv4Addr>,
    pub package: Package,
    /// Wall-clock expiry, Unix seconds: paid_at + package validity.
    pub expires_at: i64,
    pub source: GrantSource,
    /// For the SMS receipt / re-login; never logged unmasked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<PhoneNumber>,
}

/// End a grant now (expiry backstop, operator disconnect). Idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revoke {
    pub purchase_id: PurchaseId,
    pub reason: String,
}

/// Move a grant's expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extend {
    pub purchase_id: PurchaseId,
    pub expires_at: i64,
}

crate::string_enum! {
    /// What a guest is told when a payment did not go through. A reason this build does not
    /// know (a newer cloud's) reads as `Other`: the guest still gets a sentence, the job applies.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum PaymentFailure("payment failure", fallback = Other) {
        Cancelled = "cancelled", InsufficientFunds = "insufficient_funds", PhoneUnreachable = "phone_unreachable",
        WrongPin = "wrong_pin", Expired = "expired", PromptFailed = "prompt_failed",
        // Daraja 17: the same amount to the same customer within 2 minutes.
        TooSoon = "too_soon",
        // Daraja 1001 / "unable to lock subscriber": another prompt or USSD session is open.
        SubscriberBusy = "subscriber_busy",
        // SFC_IC0003 and the like: not a Safaricom M-Pesa number.
        NotMpesa = "not_mpesa",
        // Daraja 26: M-Pesa is too busy right now.
        SystemBusy = "system_busy",
        AmountMismatch = "amount_mismatch", Unknown = "unknown", Other = "other",
    }
}

impl PaymentFailure {
    /// As [`PaymentFailure::guest_message`], for a payment from `wallet`.
    pub fn guest_message_for(self, wallet: crate::wallet::Wallet) -> String {
        match (self, wallet) {
            (_, crate::wallet::Wallet::Mpesa) => self.guest_message().to_string(),
            (PaymentFailure::NotMpesa, w) => {
                format!("That number cannot pay with {0} here. Use a {0} number.", w.label())
            }
            (_, w) => self.guest_message().replace("M-Pesa", w.label()),
        }
    }

    /// A short English explanation a guest can act on (of an M-Pesa payment).
    pub fn guest_message(self) -> &'static str {
        match self {
            PaymentFailure::Cancelled => "You cancelled the M-Pesa request.",
            PaymentFailure::InsufficientFunds => "Your M-Pesa balance was not enough.",
            PaymentFailure::PhoneUnreachable => "We could not reach your phone. Check it is on and has signal.",
            PaymentFailure::WrongPin => "The M-Pesa PIN was wrong.",
            PaymentFailure::Expired => "The M-Pesa request timed out before you answered.",
            PaymentFailure::PromptFailed => "The M-Pesa prompt could not be shown on your phone.",
            PaymentFailure::TooSoon => "A payment of the same amount was just made. Wait 2 minutes and try again.",
            PaymentFailure::SubscriberBusy => {
                "Your phone has another M-Pesa request or USSD session open. Close it, then try again."
            }
            PaymentFailure::NotMpesa => "That number cannot pay with M-Pesa here. Use a Safaricom M-Pesa number.",
            PaymentFailure::SystemBusy => "M-Pesa is busy right now. Try again in a minute.",
            PaymentFailure::AmountMismatch => "The amount paid did not match the package. Ask staff for help.",
            PaymentFailure::Unknown => "We could not confirm the payment. Ask staff for help.",
            PaymentFailure::Other => "The payment did not go through.",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    pub purchase_id: PurchaseId,
    pub reason: PaymentFailure,
    /// The provider's own code (e.g. Daraja ResultCode `1032`), kept for support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// The router's full package list; a package not listed is no longer on sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackagesSync {
    pub packages: Vec<Package>,
    /// The wallets the router takes, in the operator's order; empty (a cloud before the choice
    /// existed): unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wallets: Vec<crate::wallet::Wallet>,
    /// Where the router sells; absent (an older cloud): unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Country>,
}

/// Voucher codes to create as hotspot users so they work with the cloud unreachable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VouchersBatch {
    pub batch_id: String,
    pub package: Package,
    pub codes: Vec<VoucherCode>,
}

impl VouchersBatch {
    /// Keeps one batch well inside SQS's 256 KiB message limit.
    pub const MAX_CODES: usize = 500;
}

/// A job took effect on the router.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub job_id: MessageId,
    pub job_type: MessageType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_id: Option<PurchaseId>,
    /// For a grant: whether the guest was logged in at once (false: user ready, guest away).
    #[serde(default)]
    pub online: bool,
    /// For a WireGuard account's `account_set`: the router's end of the tunnel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wireguard: Option<WireguardServer>,
}

/// A job could not take effect, or was rejected (bad signature, stale, wrong router).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyFailed {
    pub job_id: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_id: Option<PurchaseId>,
    pub error: String,
    /// True when the job itself was refused (never retried), false for a router-side failure.
    pub rejected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStarted {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_id: Option<PurchaseId>,
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_id: Option<PurchaseId>,
    pub mac: MacAddr,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub uptime_secs: u64,
    pub reason: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub version: String,
    pub uptime_secs: u64,
    pub active_sessions: u32,
    /// Subscribers' PPP sessions (`/ppp/active`: PPPoE, L2TP, PPTP, SSTP, OpenVPN) beside the
    /// hotspot's; left out when none (and by agents from before it).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub ppp_sessions: u32,
    pub jobs_waiting: u32,
    /// Packages the router currently sells (ids), so the cloud can spot drift.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<PackageId>,
    /// `package::digest` of the packages the router sells: the cloud re-sends `packages_sync`
    /// when it differs from what the store says it should sell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages_digest: Option<String>,
    /// Seconds since the agent started that its clock read before it was built (a router
    /// without a battery before NTP): nothing expired, was applied or signed meanwhile.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub clock_unset_secs: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}
