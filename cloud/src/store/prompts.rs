//! Who may be sent an M-Pesa prompt, beyond the per-minute lock (`ratelimit`): a stranger's phone
//! must not be spammed from a hotspot, and its owner must not lose their own purchases to it.
//!
//! - A device that has paid with a number is *trusted* for it (90 days): its prompts to that
//!   number meet only the per-minute lock. The owner's own phone is never shut out.
//! - From other devices a number gets at most `PHONE_DAY_LIMIT` prompts a (Nairobi) day.
//! - The owner stops them by cancelling: after `DECLINES_TO_STOP` prompts from untrusted devices
//!   cancelled in a day, no untrusted device may prompt the number for `STOP_SECS`.
//! - A router sends at most `ROUTER_LIMIT` prompts per `ROUTER_WINDOW_SECS`, whoever asks.
//!
//! The decision is `decide`, pure; the store methods read and count.

use hotspot_core::phone::PhoneNumber;
use hotspot_core::{MacAddr, RouterId};

use super::item::{Reader, n, s};
use super::ratelimit::Slot;
use super::schema::META;
use super::table::{Store, StoreError};

pub const PHONE_DAY_LIMIT: i64 = 5;
pub const DECLINES_TO_STOP: i64 = 2;
pub const STOP_SECS: i64 = 30 * 86_400;
pub const TRUST_SECS: i64 = 90 * 86_400;
pub const ROUTER_WINDOW_SECS: i64 = 600;
pub const ROUTER_LIMIT: i64 = 600;
/// Kenya is UTC+3 all year: a "day" for the daily limit starts at midnight in Nairobi.
const DAY_OFFSET_SECS: i64 = 3 * 3600;

/// What the store knows about a number and the device asking, read before a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhoneStanding {
    /// The device has paid with this number before.
    pub trusted: bool,
    /// Until when the owner's cancellations stop prompts from untrusted devices.
    pub stopped_until: Option<i64>,
}

/// Which checks a prompt must still pass, or why it may not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Count it against the number's daily limit (an untrusted device).
    CountDaily,
    /// Only the per-minute lock (a trusted device).
    Trusted,
    /// The owner has stopped prompts from devices they have not paid from.
    Stopped { until: i64 },
}

pub fn decide(standing: PhoneStanding, now: i64) -> Verdict {
    match (standing.trusted, standing.stopped_until) {
        (true, _) => Verdict::Trusted,
        (false, Some(until)) if until > now => Verdict::Stopped { until },
        (false, _) => Verdict::CountDaily,
    }
}

/// Start of the Nairobi day holding `now`, and the next one's.
pub fn day_window(now: i64) -> (i64, i64) {
    let local = now + DAY_OFFSET_SECS;
    let start = local - local.rem_euclid(86_400) - DAY_OFFSET_SECS;
    (start, start + 86_400)
}

fn phone_pk(phone: &PhoneNumber) -> String {
    format!("PHONE#{}", phone.e164())
}

impl Store {
    /// The number's standing for this device: one BatchGetItem of the trust and stop records.
    pub async fn phone_standing(
        &self,
        phone: &PhoneNumber,
        mac: &MacAddr,
        now: i64,
    ) -> Result<PhoneStanding, StoreError> {
        let pk = phone_pk(phone);
        let trust_sk = format!("TRUST#{}", mac.compact());
        let items = self.get_items(vec![(pk.clone(), trust_sk.clone()), (pk, "STOP".into())]).await?;
        let mut standing = PhoneStanding::default();
        for item in &items {
            let f = Reader::new(item);
            let until = f.opt_i64("until")?.unwrap_or(0);
            match f.str("sk")? {
                sk if sk == trust_sk => standing.trusted = until > now,
                "STOP" => standing.stopped_until = Some(until),
                _ => {}
            }
        }
        Ok(standing)
    }

    /// Counts a prompt from an untrusted device against the number's day.
    pub async fn take_phone_day_slot(&self, phone: &PhoneNumber, now: i64) -> Result<Slot, StoreError> {
        let (start, end) = day_window(now);
        self.count_in_window(phone_pk(phone), format!("DAY#{start}"), PHONE_DAY_LIMIT, end, now).await
    }

    /// Counts a prompt against the router's window.
    pub async fn take_router_prompt_slot(&self, router: &RouterId, now: i64) -> Result<Slot, StoreError> {
        let start = now - now.rem_euclid(ROUTER_WINDOW_SECS);
        let pk = format!("RATE#ROUTER#{}#{start}", router.as_str());
        self.count_in_window(pk, META.into(), ROUTER_LIMIT, start + ROUTER_WINDOW_SECS, now).await
    }

    /// The device paid with the number: trust it for `TRUST_SECS`.
    pub async fn trust_device(&self, phone: &PhoneNumber, mac: &MacAddr, now: i64) -> Result<(), StoreError> {
        self.put_until(phone, format!("TRUST#{}", mac.compact()), now + TRUST_SECS).await
    }

    /// A record of the number's that holds until `until` (and is deleted by TTL then).
    async fn put_until(&self, phone: &PhoneNumber, sk: String, until: i64) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(phone_pk(phone)))
            .item("sk", s(sk))
            .item("until", n(until))
            .item("ttl", n(until))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// The owner cancelled a prompt from an untrusted device. Returns whether this one stopped
    /// the number (the `DECLINES_TO_STOP`-th of the day).
    pub async fn count_decline(&self, phone: &PhoneNumber, mac: &MacAddr, now: i64) -> Result<bool, StoreError> {
        if self.phone_standing(phone, mac, now).await?.trusted {
            return Ok(false);
        }
        let (start, end) = day_window(now);
        let got = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(phone_pk(phone)))
            .key("sk", s(format!("DECLINES#{start}")))
            .update_expression("ADD declines :one SET #ttl = :ttl")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(end + 3600))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        let declines = got.attributes().and_then(|a| a.get("declines")).and_then(|v| v.as_n().ok());
        if declines.and_then(|d| d.parse::<i64>().ok()) != Some(DECLINES_TO_STOP) {
            return Ok(false);
        }
        self.put_until(phone, "STOP".into(), now + STOP_SECS).await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_devices_pass_stopped_numbers_wait_others_count() {
        let now = 1_800_000_000;
        assert_eq!(decide(PhoneStanding { trusted: true, stopped_until: Some(now + 9) }, now), Verdict::Trusted);
        assert_eq!(
            decide(PhoneStanding { trusted: false, stopped_until: Some(now + 9) }, now),
            Verdict::Stopped { until: now + 9 }
        );
        assert_eq!(decide(PhoneStanding { trusted: false, stopped_until: Some(now) }, now), Verdict::CountDaily);
        assert_eq!(decide(PhoneStanding::default(), now), Verdict::CountDaily);
    }

    #[test]
    fn days_start_at_midnight_in_nairobi() {
        // 2026-12-01 21:00 UTC is midnight, 2 December, in Nairobi.
        let midnight = 1_796_158_800;
        assert_eq!(day_window(midnight), (midnight, midnight + 86_400));
        assert_eq!(day_window(midnight - 1), (midnight - 86_400, midnight));
        assert_eq!(day_window(midnight + 86_399), (midnight, midnight + 86_400));
    }
}
