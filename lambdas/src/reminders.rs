//! Subscribers' SMS, after each reconcile run: the welcome of an account just sold (its number,
//! password and how to renew; once, taken off its queue before sending), and the reminders:
//! "ends soon" three days before an
//! account's paid time ends and "has ended" once it has, at most once each per expiry (claimed on
//! the account before sending; a send that fails is not repeated). The decision is
//! `hotspot_cloud::reminders::due`.

use hotspot_cloud::reminders::{ENDED_WITHIN_SECS, REMIND_BEFORE_SECS, due, welcome_due};
use hotspot_cloud::store::router::RouterMode;
use hotspot_cloud::store::{AccountNotice, AccountRecord, Store, StoreError};

use crate::sms::{SmsClient, local_short};

/// The SMS, one GSM-7 segment for usual values: the account number, when, and how to renew.
pub fn reminder_text(notice: AccountNotice, a: &AccountRecord, paybill: Option<&str>) -> String {
    let n = &a.number;
    let renew = match paybill {
        Some(p) => format!("M-Pesa Paybill {p}, account {n}, {}", a.plan.price),
        None => format!("M-Pesa Paybill, account {n}, {}", a.plan.price),
    };
    match notice {
        AccountNotice::EndsSoon => {
            let (offset, zone) = a.phone.as_ref().map(|p| p.country().time_zone()).unwrap_or((3 * 3600, "EAT"));
            format!("Internet account {n} ends {} {zone}. Renew: {renew}.", local_short(a.expires_at, offset))
        }
        AccountNotice::Ended => {
            format!("Internet account {n} has ended. Renew any time: {renew}. Back online in a minute.")
        }
    }
}

/// The welcome SMS: what the subscriber needs to get on and to pay (two segments at most).
/// A WireGuard account's config is not sent by SMS (it holds a private key): the operator gives it.
pub fn welcome_text(a: &AccountRecord, paybill: Option<&str>, page: Option<&str>) -> String {
    let n = &a.number;
    let (offset, zone) = a.phone.as_ref().map(|p| p.country().time_zone()).unwrap_or((3 * 3600, "EAT"));
    let login = match a.service.as_str() {
        "wireguard" => "WireGuard (config from the shop)".to_string(),
        service => format!("user {n} password {} ({})", a.password, service.to_uppercase()),
    };
    let paybill = paybill.map(|p| format!(" {p}")).unwrap_or_default();
    let page = page.map(|p| format!(" Your page: {p}")).unwrap_or_default();
    format!(
        "Internet account {n}: {login}, paid to {} {zone}. Renew: M-Pesa Paybill{paybill}, account {n}, {}.{page}",
        local_short(a.expires_at, offset),
        a.plan.price
    )
}

/// Sends the queued welcomes. Each is taken off the queue first (so it goes at most once; a send
/// that fails is not repeated: the credentials were printed at the sale). Returns how many went.
pub async fn send_welcomes(
    store: &Store,
    sms: &SmsClient,
    paybill: Option<&str>,
    page: Option<&str>,
    now: i64,
) -> Result<usize, StoreError> {
    let mut sent = 0;
    for (number, queued_at) in store.queued_welcomes().await? {
        if !store.claim_welcome(&number).await? {
            continue;
        }
        let account = store.get_account(&number).await?;
        let (Some(a), true) = (account, welcome_due(now, queued_at)) else {
            tracing::info!(account = %number, "stale or unknown welcome dropped");
            continue;
        };
        let Some(phone) = &a.phone else { continue };
        match sms.send(phone, &welcome_text(&a, paybill, page)).await {
            Ok(id) => {
                tracing::info!(account = %a.number, phone = %phone.masked(), message_id = %id, "account welcome sent");
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(account = %a.number, phone = %phone.masked(), error = %e, "account welcome not sent")
            }
        }
    }
    Ok(sent)
}

/// One pass over every agent router's accounts near their end. Returns how many SMS went out.
pub async fn send_reminders(
    store: &Store,
    sms: &SmsClient,
    paybill: Option<&str>,
    now: i64,
) -> Result<usize, StoreError> {
    let mut sent = 0;
    for row in store.list_fleet().await? {
        let router = &row.router;
        if router.mode() == RouterMode::Radius {
            continue;
        }
        for a in store.accounts_ending(&router.id, now - ENDED_WITHIN_SECS, now + REMIND_BEFORE_SECS).await? {
            let (Some(notice), Some(phone)) = (due(now, &a), a.phone.as_ref()) else { continue };
            if !store.claim_account_notice(&a.number, notice, a.expires_at).await? {
                continue;
            }
            match sms.send(phone, &reminder_text(notice, &a, paybill)).await {
                Ok(id) => {
                    tracing::info!(account = %a.number, phone = %phone.masked(), notice = ?notice, message_id = %id, "account reminder sent");
                    sent += 1;
                }
                Err(e) => {
                    tracing::warn!(account = %a.number, phone = %phone.masked(), notice = ?notice, error = %e, "account reminder not sent")
                }
            }
        }
    }
    Ok(sent)
}
