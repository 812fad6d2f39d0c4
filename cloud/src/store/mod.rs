//! DynamoDB access: one table, keys and indexes described in `docs/dynamodb.md`. This file is
//! only the face: each record's access lives in the module named for it.

mod account;
pub mod audit;
mod checkout;
pub mod dashboard;
mod item;
mod lease;
pub mod operator;
mod package;
pub mod prompts;
mod purchase;
mod radius;
pub mod ratelimit;
mod receipt;
mod receipts;
mod reindex;
pub mod revenue;
pub mod router;
pub mod schema;
mod session;
pub mod session_ops;
mod stk_renewal;
mod table;
mod token;
pub mod voucher;

pub use account::{AccountNotice, AccountRecord, C2bOutcome, C2bRecord, C2bWrite, ExpiryChange, WireguardAccount};
pub use audit::{AuditEntry, AuditResult};
pub use dashboard::{DashboardSession, LoginName, LoginRecord};
pub use operator::{OperatorRecord, OperatorRole, ScopedRole};
pub use package::PackageRecord;
pub use purchase::{NewPurchase, Paid, Purchase, PurchaseState, Transition};
pub use ratelimit::Slot;
pub use receipts::{Claim, ReceiptRecord, ReceiptSource, UnlinkedPurchase};
pub use reindex::Reindexed;
pub use revenue::{PaymentRow, RenewalRow};
pub use router::{FleetRow, Rotation, RouterHealth, RouterRecord, iam_user_name};
pub use session::SessionRecord;
pub use session_ops::LiveSession;
pub use stk_renewal::{StkRenewal, StkRenewalState};
pub use table::{Store, StoreError};
pub use token::StoredDarajaToken;
pub use voucher::{VoucherBatchRecord, VoucherRecord, VoucherUse};
