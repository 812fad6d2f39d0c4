//! Rate limits as conditional writes, so every Lambda instance shares them. Items carry a TTL
//! attribute (`ttl`) and DynamoDB deletes them once they no longer matter.

use hotspot_core::MacAddr;
use hotspot_core::phone::PhoneNumber;

use super::item::{is_condition_failure, n, s};
use super::schema::META;
use super::table::{Store, StoreError};

/// One STK push per phone per this many seconds: Safaricom locks the subscriber meanwhile anyway.
pub const PHONE_WINDOW_SECS: i64 = 60;
/// At most `MAC_LIMIT` purchase attempts per device per window.
pub const MAC_WINDOW_SECS: i64 = 600;
pub const MAC_LIMIT: i64 = 5;

/// Whether a slot was taken, or how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Taken,
    Limited { retry_after_secs: i64 },
}

impl Store {
    /// Takes the phone's one push per minute.
    pub async fn take_phone_slot(&self, phone: &PhoneNumber, now: i64) -> Result<Slot, StoreError> {
        let until = now + PHONE_WINDOW_SECS;
        let res = self
            .db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(format!("RATE#PHONE#{}", phone.e164())))
            .item("sk", s(META))
            .item("until", n(until))
            .item("ttl", n(until + 60))
            .condition_expression("attribute_not_exists(pk) OR #u <= :now")
            .expression_attribute_names("#u", "until")
            .expression_attribute_values(":now", n(now))
            .return_values_on_condition_check_failure(
                aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
            )
            .send()
            .await;
        match res {
            Ok(_) => Ok(Slot::Taken),
            Err(e) if is_condition_failure(&e) => {
                let held_until = e
                    .as_service_error()
                    .and_then(|se| match se {
                        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(c) => c
                            .item()
                            .and_then(|i| i.get("until"))
                            .and_then(|v| v.as_n().ok())
                            .and_then(|v| v.parse().ok()),
                        _ => None,
                    })
                    .unwrap_or(until);
                Ok(Slot::Limited { retry_after_secs: (held_until - now).clamp(1, PHONE_WINDOW_SECS) })
            }
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    /// Counts an attempt from a device in the current fixed window.
    pub async fn take_mac_slot(&self, mac: &MacAddr, now: i64) -> Result<Slot, StoreError> {
        let window = now - now.rem_euclid(MAC_WINDOW_SECS);
        let pk = format!("RATE#MAC#{}#{window}", mac.compact());
        self.count_in_window(pk, META.into(), MAC_LIMIT, window + MAC_WINDOW_SECS, now).await
    }

    /// Adds one to a fixed-window counter unless it is at `limit`; the item lives until `end`.
    pub(crate) async fn count_in_window(
        &self,
        pk: String,
        sk: String,
        limit: i64,
        end: i64,
        now: i64,
    ) -> Result<Slot, StoreError> {
        let res = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .update_expression("ADD hits :one SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(hits) OR hits < :limit")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":ttl", n(end + 3600))
            .send()
            .await;
        match res {
            Ok(_) => Ok(Slot::Taken),
            Err(e) if is_condition_failure(&e) => Ok(Slot::Limited { retry_after_secs: (end - now).max(1) }),
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }
}
