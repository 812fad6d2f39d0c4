//! The router's signing keys across a rotation (`hotspotctl router rotate`).
//!
//! After a rotation the container holds its new key (`HOTSPOT_ROUTER_KEY`) and the one before
//! (`HOTSPOT_ROUTER_KEY_PREVIOUS`). It signs with the new key only; the cloud refuses the old one
//! from the router's first report under the new one. The old key is kept here for what the
//! cloud signed before it saw the switch: jobs already in the queue (only the cloud can write
//! there) and SMS re-login codes already sent. The cloud never signs a job with the old key
//! after one with the new, so an old-key job issued after the first new-key job is refused.

use std::sync::atomic::{AtomicI64, Ordering};

use hotspot_core::wire::{Direction, Envelope, WireError};
use hotspot_core::{PurchaseId, RouterId, RouterKey, VoucherCode};

pub struct Keys {
    pub current: RouterKey,
    pub previous: Option<RouterKey>,
    /// `issued_at` of the first job seen under the current key (`i64::MAX`: none yet).
    first_current: AtomicI64,
}

/// Which key a job verified under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsed {
    Current,
    Previous,
}

impl Keys {
    pub fn new(current: RouterKey, previous: Option<RouterKey>) -> Keys {
        Keys { current, previous, first_current: AtomicI64::new(i64::MAX) }
    }

    /// Verifies a job as it arrives (`now`: freshness checked) or from the journal (`None`:
    /// verified on arrival, so the previous key is taken without the ordering check).
    pub fn verify_job(&self, text: &[u8], router: &RouterId, now: Option<i64>) -> Result<Envelope, WireError> {
        let verify = |key: &RouterKey| match now {
            Some(t) => Envelope::verify(text, key, router, t, Direction::CloudToRouter),
            None => Envelope::verify_kept(text, key, router, Direction::CloudToRouter),
        };
        let (env, used) = match (verify(&self.current), &self.previous) {
            (Err(WireError::BadSignature), Some(prev)) => (verify(prev)?, KeyUsed::Previous),
            (r, _) => (r?, KeyUsed::Current),
        };
        if now.is_some() {
            self.admit(env.issued_at, used)?;
        }
        Ok(env)
    }

    /// The ordering rule (pure apart from the watermark it keeps).
    fn admit(&self, issued_at: i64, used: KeyUsed) -> Result<(), WireError> {
        match used {
            KeyUsed::Current => {
                self.first_current.fetch_min(issued_at, Ordering::Relaxed);
                Ok(())
            }
            KeyUsed::Previous if issued_at <= self.first_current.load(Ordering::Relaxed) => Ok(()),
            KeyUsed::Previous => Err(WireError::BadSignature),
        }
    }

    /// Whether `code` is the SMS re-login code of `purchase` under either key.
    pub fn is_relogin_code(&self, code: &VoucherCode, purchase: &PurchaseId) -> bool {
        std::iter::once(&self.current).chain(self.previous.as_ref()).any(|k| {
            hotspot_core::ct::eq(VoucherCode::relogin(k, purchase).as_str().as_bytes(), code.as_str().as_bytes())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotspot_core::MessageId;
    use hotspot_core::wire::{Payload, Revoke};

    const NOW: i64 = 1_800_000_000;

    fn job(key: &RouterKey, issued_at: i64) -> String {
        let router: RouterId = "cafe-01".parse().unwrap();
        let payload = Payload::Revoke(Revoke {
            purchase_id: "p0123456789abcdef01234567".parse().unwrap(),
            reason: "test".into(),
        });
        Envelope::new(MessageId::generate(), router, issued_at, 3600, payload).sign(key)
    }

    #[test]
    fn old_key_jobs_are_taken_until_the_cloud_signs_with_the_new_one() {
        let (old, new, other) =
            (RouterKey::from_bytes([1; 32]), RouterKey::from_bytes([2; 32]), RouterKey::from_bytes([3; 32]));
        let router: RouterId = "cafe-01".parse().unwrap();
        let keys = Keys::new(new.clone(), Some(old.clone()));
        let v = |text: &str| keys.verify_job(text.as_bytes(), &router, Some(NOW));
        assert!(v(&job(&old, NOW - 100)).is_ok(), "queued before the switch");
        assert!(v(&job(&other, NOW - 100)).is_err(), "a key it never had");
        assert!(v(&job(&new, NOW - 50)).is_ok());
        assert!(v(&job(&old, NOW - 60)).is_ok(), "signed before the first new-key job");
        assert!(matches!(v(&job(&old, NOW - 40)), Err(WireError::BadSignature)), "after it: refused");
        // From the journal (verified on arrival) the previous key still reads.
        assert!(keys.verify_job(job(&old, NOW - 40).as_bytes(), &router, None).is_ok());
        // Without a previous key, only the current one.
        let plain = Keys::new(new, None);
        assert!(plain.verify_job(job(&old, NOW - 100).as_bytes(), &router, Some(NOW)).is_err());
    }

    #[test]
    fn relogin_codes_under_either_key() {
        let (old, new) = (RouterKey::from_bytes([1; 32]), RouterKey::from_bytes([2; 32]));
        let id: PurchaseId = "p0123456789abcdef01234567".parse().unwrap();
        let keys = Keys::new(new.clone(), Some(old.clone()));
        assert!(keys.is_relogin_code(&VoucherCode::relogin(&old, &id), &id));
        assert!(keys.is_relogin_code(&VoucherCode::relogin(&new, &id), &id));
        assert!(!Keys::new(new, None).is_relogin_code(&VoucherCode::relogin(&old, &id), &id));
    }
}
