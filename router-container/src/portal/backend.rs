//! What the portal needs from the rest of the agent. The portal's HTTP layer only talks to
//! this trait, so it is tested with a fake and wired to RouterOS, the journal and the cloud API
//! in the agent.

use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::Arc;

use hotspot_core::phone::{Country, PhoneNumber};
use hotspot_core::wallet::{Offered, Wallet};
use hotspot_core::wire::PaymentFailure;
use hotspot_core::{MacAddr, Package, PackageId, PurchaseId, VoucherCode};

/// Who a request comes from, as the router knows it (never as the request claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guest {
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifyError {
    /// The source IP is not in the router's hotspot host table.
    #[error("this device is not connected to the hotspot")]
    NotAHost,
    /// RouterOS could not be asked.
    #[error("the router is not answering")]
    RouterUnavailable,
    /// The request came from the router's own address: its source NAT (the hotspot setup's
    /// masquerade) hides every guest from the portal. A setting on the router, not the guest.
    #[error("the router's NAT hides guests' addresses from the portal")]
    HiddenByNat,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseStarted {
    pub purchase_id: PurchaseId,
    /// Daraja's CustomerMessage or our own, for the waiting page.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurchaseStartError {
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: i64 },
    #[error("that package is not on sale")]
    NoSuchPackage,
    /// The number's owner cancelled prompts from devices they never paid from.
    #[error("the number's owner stopped prompts from new devices")]
    PhoneStopped,
    /// The number has had its day's prompts from devices it never paid from.
    #[error("the number has had too many prompts today")]
    PhoneDayLimit,
    /// The operator disabled this router in the cloud.
    #[error("the hotspot is disabled")]
    HotspotDisabled,
    /// The router has sent as many prompts as it may for now.
    #[error("the hotspot is sending too many prompts; retry in {retry_after_secs} s")]
    HotspotBusy { retry_after_secs: i64 },
    /// The cloud refused with a message meant for the guest.
    #[error("{0}")]
    Refused(String),
    /// The cloud could not be reached: payment is impossible, vouchers still work.
    #[error("payments are unavailable right now")]
    CloudUnavailable,
}

/// Where a purchase stands, for the waiting page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PurchaseProgress {
    /// Waiting for the guest to answer the M-Pesa prompt.
    AwaitingPayment,
    /// Paid; the grant is being applied.
    Connecting,
    /// The guest is online.
    Online {
        expires_at: i64,
    },
    /// Paid and ready, but the guest could not be logged in at once (e.g. their device left and
    /// came back with another address): opening any page logs them in.
    Ready {
        expires_at: i64,
    },
    Failed(PaymentFailure),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// Unknown id, or a purchase of another device: the same answer for both.
    #[error("no such purchase")]
    NotFound,
    #[error("status unavailable right now")]
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoucherLoginError {
    /// Wrong, used up or expired code: one message, so codes cannot be probed.
    #[error("that voucher code is not valid")]
    Invalid,
    /// A code for a package of several devices, each of its places taken by a device online now.
    #[error("all {devices} devices of this package are in use")]
    DevicesFull { devices: u8 },
    #[error("the router is not answering")]
    RouterUnavailable,
}

pub trait PortalBackend: Send + Sync + 'static {
    /// Packages on sale here (from the agent's local copy: works with the cloud unreachable).
    fn packages(&self) -> impl Future<Output = Arc<Vec<Package>>> + Send;

    /// The MAC of the device at `ip`, from the router's hotspot host table.
    fn identify(&self, ip: Ipv4Addr) -> impl Future<Output = Result<MacAddr, IdentifyError>> + Send;

    /// Like `identify`, but may answer from a lookup made a moment ago: for pages that only
    /// show things. Whatever changes the router or starts a payment uses `identify`.
    fn identify_recent(&self, ip: Ipv4Addr) -> impl Future<Output = Result<MacAddr, IdentifyError>> + Send {
        self.identify(ip)
    }

    /// The wallets guests may pay from here (M-Pesa alone until the cloud says otherwise).
    fn wallets(&self) -> impl Future<Output = Offered> + Send;

    /// Where the router sells: a number typed the local way (`07…`) is that country's.
    fn country(&self) -> impl Future<Output = Country> + Send;

    /// Asks the cloud for a payment prompt from `wallet`.
    fn start_purchase(
        &self,
        guest: Guest,
        package: &PackageId,
        phone: &PhoneNumber,
        wallet: Wallet,
    ) -> impl Future<Output = Result<PurchaseStarted, PurchaseStartError>> + Send;

    /// A purchase's progress; `NotFound` unless it belongs to `guest`'s MAC.
    fn purchase_progress(
        &self,
        guest: Guest,
        id: &PurchaseId,
    ) -> impl Future<Output = Result<PurchaseProgress, StatusError>> + Send;

    /// A device that already has time here (paid, not expired) but is not online (it logged out,
    /// or its session dropped) is logged back in. Returns the expiry when it is online again.
    fn resume(&self, _guest: Guest) -> impl Future<Output = Option<i64>> + Send {
        async { None }
    }

    /// For a package of several devices: the code another device types to join it, and how
    /// many devices it allows. `None` for one-device packages and for another device's purchase.
    fn share_code(&self, _guest: Guest, _id: &PurchaseId) -> impl Future<Output = Option<(VoucherCode, u8)>> + Send {
        async { None }
    }

    /// Logs the guest in with a voucher (a hotspot user the router already holds).
    fn voucher_login(
        &self,
        guest: Guest,
        code: &VoucherCode,
    ) -> impl Future<Output = Result<(), VoucherLoginError>> + Send;
}
