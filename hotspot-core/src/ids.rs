//! Identifiers: routers, packages, purchases and wire messages.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must be {rule}; got {got:?}")]
    Invalid { kind: &'static str, rule: &'static str, got: String },
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $rule:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let check: fn(&str) -> bool = $check;
                if check(s) {
                    Ok($name(s.to_string()))
                } else {
                    let got: String = s.chars().take(64).collect();
                    Err(IdError::Invalid { kind: $kind, rule: $rule, got })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        crate::serde_str::serde_via_str!($name);
    };
}

fn lower_alnum_dash(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn prefixed_hex(s: &str, prefix: char) -> bool {
    s.len() == 25 && s.starts_with(prefix) && s[1..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn random_hex(prefix: char) -> String {
    let bytes: [u8; 12] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}

string_id!(
    /// A router's id: 3-40 of `a-z 0-9 -`, not starting or ending with `-`.
    /// It names the router's SQS queue, its RouterOS objects and its DynamoDB items.
    RouterId,
    "router id",
    "3-40 characters of a-z, 0-9 and '-', not starting or ending with '-'",
    |s| lower_alnum_dash(s, 3, 40)
);

string_id!(
    /// A package's id within a router, e.g. `1h`, `24h`, `7d`: 1-32 of `a-z 0-9 -`.
    PackageId,
    "package id",
    "1-32 characters of a-z, 0-9 and '-', not starting or ending with '-'",
    |s| lower_alnum_dash(s, 1, 32)
);

string_id!(
    /// A purchase (or operator grant): `p` and 24 lower-case hex digits (96 random bits).
    PurchaseId,
    "purchase id",
    "'p' followed by 24 lower-case hex digits",
    |s| prefixed_hex(s, 'p')
);

string_id!(
    /// A wire message's id, the idempotency key. Fits an SQS deduplication id.
    MessageId,
    "message id",
    "1-128 characters of A-Z, a-z, 0-9 and . _ : -",
    |s| (1..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
);

impl PurchaseId {
    pub fn generate() -> Self {
        PurchaseId(random_hex('p'))
    }

    /// The same id for the same `seed` every time (an operator's credit of one M-Pesa receipt:
    /// run twice, it is one purchase).
    pub fn derived_from(seed: &str) -> Self {
        use sha2::Digest;
        let d = sha2::Sha256::digest(seed.as_bytes());
        PurchaseId(format!("p{}", hex::encode(&d[..12])))
    }
}

impl MessageId {
    pub fn generate() -> Self {
        MessageId(random_hex('m'))
    }

    /// A deterministic id, so the same logical job sent twice deduplicates
    /// (e.g. `grant:p0123…`).
    pub fn derived(kind: &str, purchase: &PurchaseId) -> Self {
        MessageId(format!("{kind}:{purchase}"))
    }

    /// An account job's id, `account_set:<number>:<expires_at>`: one per account and expiry.
    pub fn for_account(account: &crate::AccountNumber, expires_at: i64) -> Self {
        MessageId(format!("account_set:{account}:{expires_at}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_ids() {
        for ok in ["rtr", "cafe-nairobi-01", "a1b2c3"] {
            ok.parse::<RouterId>().unwrap();
        }
        for bad in ["", "ab", "-abc", "abc-", "Cafe", "caf\u{e9}", "a b c", "a_b_c", &"a".repeat(41)] {
            let e = bad.parse::<RouterId>().unwrap_err();
            assert!(e.to_string().starts_with("router id must be"), "{e}");
        }
    }

    #[test]
    fn generated_ids_parse() {
        for _ in 0..100 {
            let p = PurchaseId::generate();
            assert_eq!(p.as_str().parse::<PurchaseId>().unwrap(), p);
            let m = MessageId::generate();
            assert_eq!(m.as_str().parse::<MessageId>().unwrap(), m);
        }
        assert!("P0123456789abcdef01234567".parse::<PurchaseId>().is_err());
        assert!("p0123456789abcdef0123456".parse::<PurchaseId>().is_err());
        assert!("p0123456789ABCDEF01234567".parse::<PurchaseId>().is_err());
        assert!("grant p1".parse::<MessageId>().is_err());
    }
}
