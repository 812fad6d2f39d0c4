//! Types shared by the router agent and the cloud: domain values that can only
//! hold valid values ("parse, don't validate") and the signed wire contract.

pub mod api;
pub mod calendar;
pub mod clock;
pub mod duration;
pub mod escape;
pub mod ids;
pub mod key;
pub mod mac;
pub mod money;
pub mod msisdn;
pub mod package;
pub mod rate;
pub mod reqsig;
pub mod string_enum;
pub mod tls;
pub mod voucher;
pub mod wire;

pub use duration::{DurationError, RosDuration};
pub use ids::{IdError, MessageId, PackageId, PurchaseId, RouterId};
pub use key::{KeyError, RouterKey};
pub use mac::{MacAddr, MacError};
pub use money::{MoneyError, Shillings};
pub use msisdn::{Msisdn, MsisdnError};
pub use package::{Package, PackageError};
pub use rate::{Rate, RateError, RateLimit};
pub use voucher::{VoucherCode, VoucherError};

/// Implements `Serialize` as the canonical string and `Deserialize` through `FromStr`,
/// so a value that fails to parse can never be deserialized.
macro_rules! serde_via_str {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_str;

/// For `string_enum!`, so crates using it need no serde of their own.
#[doc(hidden)]
pub use serde as __serde;
