//! Types shared by the router agent and the cloud: domain values that can only
//! hold valid values ("parse, don't validate") and the signed wire contract.

pub mod account;
pub mod api;
pub mod calendar;
pub mod clock;
pub mod cloud_url;
pub mod ct;
pub mod currency;
pub mod dates;
pub mod duration;
pub mod escape;
pub mod ids;
pub mod key;
pub mod mac;
pub mod money;
pub mod msisdn;
pub mod package;
pub mod phone;
pub mod rate;
pub mod reqsig;
mod serde_str;
pub mod string_enum;
pub mod tls;
pub mod voucher;
pub mod wallet;
pub mod wg;
pub mod wire;

pub use account::{AccountNumber, AccountNumberError};
pub use cloud_url::{CloudUrl, CloudUrlError};
pub use duration::{DurationError, RosDuration};
pub use ids::{IdError, MessageId, PackageId, PurchaseId, RouterId};
pub use key::{KeyError, RouterKey};
pub use mac::{MacAddr, MacError};
pub use money::{MoneyError, Shillings};
pub use msisdn::Msisdn;
pub use package::{Package, PackageError};
pub use rate::{Rate, RateError, RateLimit};
pub use voucher::{VoucherCode, VoucherError};
pub use wg::{WgKey, WgKeyError};
