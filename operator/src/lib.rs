//! `hotspotctl`: the operator's command line. The binary is thin; the parts live here so tests
//! can use them directly.

pub use hotspot_cloud::access;
pub mod accounts;
pub mod audit_log;
pub mod cli;
pub mod commands;
pub mod context;
pub mod dates;
pub mod ledger;
pub mod operators;
pub mod packages;
pub mod progress;
pub mod provision;
pub mod radius;
pub mod radius_cmd;
pub mod revenue;
pub mod rotate;
pub mod router;
pub mod rsc;
pub mod sessions;
pub mod sheet;
pub mod vouchers;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Refused(#[from] access::Refusal),
    #[error(transparent)]
    Provision(#[from] provision::ProvisionError),
    #[error(transparent)]
    Store(#[from] hotspot_cloud::store::StoreError),
    #[error("{0}")]
    Aws(String),
    /// Daraja refused or could not be reached.
    #[error("{0}")]
    Daraja(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("job not sent: {what}")]
    JobNotSent { what: String },
    #[error("writing the audit log failed: {0}")]
    AuditFailed(String),
}
