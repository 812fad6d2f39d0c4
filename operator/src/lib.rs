//! `hotspotctl`: the operator's command line. The binary is thin; the parts live here so tests
//! can use them directly.

pub mod cli;
pub mod provision;
pub mod router;
pub mod rsc;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Provision(#[from] provision::ProvisionError),
    #[error(transparent)]
    Store(#[from] lambdas::store::StoreError),
    #[error("{0}")]
    Aws(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}
