//! Subscriber accounts (PPPoE, VPN) and the Paybill (C2B) payments that renew them. A payment is
//! written once, by its M-Pesa receipt (`TransID`), in the same transaction as the renewal it
//! makes, so a repeated confirmation renews nothing twice; a payment that renews nothing is also
//! kept as an unmatched receipt, where the operator's ledger shows it.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use hotspot_core::currency::Money;
use std::net::Ipv4Addr;

use hotspot_core::phone::PhoneNumber;
use hotspot_core::wire::{AccountSet, WireguardPeer};
use hotspot_core::{AccountNumber, Package, PackageId, RouterId, WgKey};

use super::item::{Reader, amount, cancelled_by_condition, n, s};
use super::receipts::{ReceiptRecord, ReceiptSource, receipt_item, receipt_pk};
use super::schema::{GSI_LIVE, LEDGER_RENEWALS, META, ledger_month};
use super::table::{Store, StoreError};
use crate::renewal::{OddAmount, Plan};

/// A subscriber's account: the plan it was sold on and how long it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub number: AccountNumber,
    pub router_id: RouterId,
    pub package_id: PackageId,
    /// The PPP service (`pppoe`, `l2tp`, …) and the secret's password, as the router gets them.
    pub service: String,
    pub password: String,
    pub plan: Plan,
    pub expires_at: i64,
    pub created_at: i64,
    /// How many payments renewed it.
    pub renewals: u32,
    /// Where its reminders go (none without).
    pub phone: Option<PhoneNumber>,
    /// The expiry the "ends soon" and the "has ended" SMS were sent for: once each per expiry,
    /// so a renewal arms them again.
    pub reminded_for: Option<i64>,
    pub ended_notice_for: Option<i64>,
    /// The subscriber's name, for their page (none if not given at the sale).
    pub name: Option<String>,
    /// A WireGuard account's tunnel: the buyer's key pair (made at the sale; the private key is in
    /// their client config) and address, and the router's end once the router reported it.
    pub wireguard: Option<WireguardAccount>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireguardAccount {
    pub private_key: WgKey,
    pub public_key: WgKey,
    pub address: Ipv4Addr,
    /// The router's interface key and port (`None` until the agent has applied the account).
    pub server: Option<(WgKey, u16)>,
    /// `host:port` the buyer's device reaches the router at, when given at the sale: their
    /// page then offers the config (`wireguard::endpoint` checked it).
    pub endpoint: Option<String>,
}

impl AccountRecord {
    /// The account as its router's `account_set` job states it.
    pub fn job(&self, package: Package) -> AccountSet {
        AccountSet {
            account: self.number.clone(),
            password: self.password.clone(),
            service: self.service.clone(),
            package,
            expires_at: self.expires_at,
            wireguard: self.wireguard.as_ref().map(|w| WireguardPeer { public_key: w.public_key, address: w.address }),
        }
    }
}

/// Which reminder (`Store::claim_account_notice`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountNotice {
    EndsSoon,
    Ended,
}

impl AccountNotice {
    fn attribute(self) -> &'static str {
        match self {
            AccountNotice::EndsSoon => "reminded_for",
            AccountNotice::Ended => "ended_notice_for",
        }
    }
}

/// One C2B payment as M-Pesa confirmed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct C2bRecord {
    /// M-Pesa's receipt number (`TransID`).
    pub trans_id: String,
    /// What the subscriber typed as the account number, trimmed.
    pub bill_ref: String,
    pub amount: Money,
    pub at: i64,
}

/// What a payment did, as stored with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum C2bOutcome {
    Renewed { account: AccountNumber, from: i64, until: i64 },
    Held { why: String },
}

/// The renewal a payment makes: the account's expiry from `old` to `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryChange {
    pub account: AccountNumber,
    /// The account's router and package, for the revenue report's renewal line.
    pub router: RouterId,
    pub package: PackageId,
    pub old: i64,
    pub new: i64,
}

/// What [`Store::record_c2b`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum C2bWrite {
    Written,
    /// This receipt was recorded before (a repeated confirmation): nothing changed.
    Duplicate(Option<C2bOutcome>),
    /// The account's expiry is no longer `old` (another payment renewed it first): nothing
    /// changed; decide again on the account as it now stands.
    AccountMoved,
}

/// The `live` index's partition of a router's accounts (range: `expires_at`): what the router is
/// owed when it asks (`outbox::owed_grants`). Sessions use the partition `live`.
fn live_accounts(router: &RouterId) -> String {
    format!("ACCOUNT#{router}")
}

/// The partition of welcome SMS waiting to go (`Store::queue_welcome`).
const WELCOME_QUEUE: &str = "SMSQUEUE#welcome";

fn account_pk(n: &AccountNumber) -> String {
    format!("ACCOUNT#{}", n.as_str())
}

fn c2b_pk(trans_id: &str) -> String {
    format!("C2B#{trans_id}")
}

/// The account's expiry moved from `c.old` to `c.new` (only if it is still `c.old`), one more
/// renewal counted: the part of a payment's transaction that renews.
fn expiry_move(table: &str, c: &ExpiryChange) -> Result<TransactWriteItem, StoreError> {
    let update = Update::builder()
        .table_name(table)
        .key("pk", s(account_pk(&c.account)))
        .key("sk", s(META))
        .update_expression("SET expires_at = :new ADD renewals :one")
        .condition_expression("expires_at = :old")
        .expression_attribute_values(":new", n(c.new))
        .expression_attribute_values(":old", n(c.old))
        .expression_attribute_values(":one", n(1))
        .build()
        .map_err(StoreError::dynamo)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn parse_account(item: &super::item::Item) -> Result<AccountRecord, StoreError> {
    let r = Reader::new(item);
    Ok(AccountRecord {
        number: r.parse("number")?,
        router_id: r.parse("router_id")?,
        package_id: r.parse("package_id")?,
        service: r.str("service")?.to_string(),
        password: r.str("password")?.to_string(),
        plan: Plan {
            price: r.money("price", "currency")?,
            period_secs: r.i64("period_secs")?,
            odd_amount: r.opt_parse::<OddAmount>("odd_amount")?.unwrap_or_default(),
        },
        expires_at: r.i64("expires_at")?,
        created_at: r.i64("created_at")?,
        renewals: u32::try_from(r.opt_i64("renewals")?.unwrap_or(0)).unwrap_or(u32::MAX),
        phone: r.opt_parse("phone")?,
        reminded_for: r.opt_i64("reminded_for")?,
        ended_notice_for: r.opt_i64("ended_notice_for")?,
        name: r.opt_str("name")?.map(str::to_string),
        wireguard: match (r.opt_parse::<WgKey>("wg_private_key")?, r.opt_parse::<Ipv4Addr>("wg_address")?) {
            (Some(private_key), Some(address)) => Some(WireguardAccount {
                private_key,
                public_key: r.parse("wg_public_key")?,
                address,
                server: match (r.opt_parse::<WgKey>("wg_server_key")?, r.opt_i64("wg_server_port")?) {
                    (Some(k), Some(p)) => Some((k, u16::try_from(p).unwrap_or(0))),
                    _ => None,
                },
                endpoint: r.opt_str("wg_endpoint")?.map(str::to_string),
            }),
            _ => None,
        },
    })
}

fn parse_outcome(item: &super::item::Item) -> Result<Option<C2bOutcome>, StoreError> {
    let r = Reader::new(item);
    Ok(match r.opt_str("outcome")? {
        Some("renewed") => {
            Some(C2bOutcome::Renewed { account: r.parse("account")?, from: r.i64("from")?, until: r.i64("until")? })
        }
        Some("held") => Some(C2bOutcome::Held { why: r.opt_str("why")?.unwrap_or_default().to_string() }),
        _ => None,
    })
}

impl Store {
    /// Creates an account; a number already taken is `StoreError::AlreadyExists` (draw another).
    pub async fn create_account(&self, a: &AccountRecord) -> Result<(), StoreError> {
        let mut put = self
            .db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(account_pk(&a.number)))
            .item("sk", s(META))
            .item("number", s(a.number.as_str()))
            .item("router_id", s(a.router_id.as_str()))
            .item("package_id", s(a.package_id.as_str()))
            .item("service", s(&a.service))
            .item("password", s(&a.password))
            .item("price", amount(a.plan.price))
            .item("currency", s(a.plan.price.currency().as_str()))
            .item("period_secs", n(a.plan.period_secs))
            .item("odd_amount", s(a.plan.odd_amount.as_str()))
            .item("expires_at", n(a.expires_at))
            .item("created_at", n(a.created_at))
            .item("renewals", n(a.renewals))
            .item("live", s(live_accounts(&a.router_id)))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(p) = &a.phone {
            put = put.item("phone", s(p.e164()));
        }
        if let Some(name) = &a.name {
            put = put.item("name", s(name));
        }
        if let Some(w) = &a.wireguard {
            put = put
                .item("wg_private_key", s(w.private_key.to_string()))
                .item("wg_public_key", s(w.public_key.to_string()))
                .item("wg_address", s(w.address.to_string()));
            if let Some(e) = &w.endpoint {
                put = put.item("wg_endpoint", s(e));
            }
        }
        let r = put.send().await;
        match super::item::written(r)? {
            true => Ok(()),
            false => Err(StoreError::AlreadyExists(format!("account {}", a.number))),
        }
    }

    /// Every account of a router, running or not, soonest end first.
    pub async fn router_accounts(&self, router: &RouterId) -> Result<Vec<AccountRecord>, StoreError> {
        self.accounts_ending(router, i64::MIN, i64::MAX).await
    }

    /// A router's accounts whose expiry is in `[from, to]`, soonest first.
    pub async fn accounts_ending(
        &self,
        router: &RouterId,
        from: i64,
        to: i64,
    ) -> Result<Vec<AccountRecord>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(GSI_LIVE)
            .key_condition_expression("live = :l AND expires_at BETWEEN :from AND :to")
            .expression_attribute_values(":l", s(live_accounts(router)))
            .expression_attribute_values(":from", n(from))
            .expression_attribute_values(":to", n(to));
        self.query_all(q).await?.iter().map(parse_account).collect()
    }

    /// Queues the welcome SMS of an account just sold (its number, password and how to renew),
    /// which the reconcile function sends within the minute (`Store::queued_welcomes`).
    pub async fn queue_welcome(&self, number: &AccountNumber, now: i64) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(WELCOME_QUEUE))
            .item("sk", s(account_pk(number)))
            .item("number", s(number.as_str()))
            .item("queued_at", n(now))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// The welcome SMS waiting: each account's number and when it was queued. One partition,
    /// read once a minute: a request, not one per router.
    pub async fn queued_welcomes(&self) -> Result<Vec<(AccountNumber, i64)>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :q")
            .expression_attribute_values(":q", s(WELCOME_QUEUE));
        self.query_all(q)
            .await?
            .iter()
            .map(|item| {
                let r = Reader::new(item);
                Ok((r.parse("number")?, r.i64("queued_at")?))
            })
            .collect()
    }

    /// Takes a queued welcome off the queue; false if another run took it first (so it is sent
    /// at most once).
    pub async fn claim_welcome(&self, number: &AccountNumber) -> Result<bool, StoreError> {
        let r = self
            .db
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(WELCOME_QUEUE))
            .key("sk", s(account_pk(number)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        super::item::written(r)
    }

    /// Claims one reminder for the account's current expiry. False if it was sent for this expiry
    /// before (another run, a repeat) or the account was renewed meanwhile.
    pub async fn claim_account_notice(
        &self,
        number: &AccountNumber,
        notice: AccountNotice,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let r = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(account_pk(number)))
            .key("sk", s(META))
            .update_expression("SET #n = :e")
            .condition_expression("expires_at = :e AND (attribute_not_exists(#n) OR #n <> :e)")
            .expression_attribute_names("#n", notice.attribute())
            .expression_attribute_values(":e", n(expires_at))
            .send()
            .await;
        super::item::written(r)
    }

    /// The router's end of a WireGuard account, as the router reported it. False if the account
    /// is not this router's (or not a WireGuard account): nothing written.
    pub async fn set_wireguard_server(
        &self,
        router: &RouterId,
        number: &AccountNumber,
        key: &WgKey,
        port: u16,
    ) -> Result<bool, StoreError> {
        let r = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(account_pk(number)))
            .key("sk", s(META))
            .update_expression("SET wg_server_key = :k, wg_server_port = :p")
            .condition_expression("router_id = :r AND attribute_exists(wg_public_key)")
            .expression_attribute_values(":k", s(key.to_string()))
            .expression_attribute_values(":p", n(port))
            .expression_attribute_values(":r", s(router.as_str()))
            .send()
            .await;
        super::item::written(r)
    }

    /// The next tunnel address number of a router's WireGuard accounts (0, 1, 2 …), never the
    /// same twice.
    pub async fn next_wireguard_host(&self, router: &RouterId) -> Result<u32, StoreError> {
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(super::schema::router_pk(router.as_str())))
            .key("sk", s("WGSEQ"))
            .update_expression("ADD next_host :one")
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        let next = out
            .attributes
            .as_ref()
            .and_then(|a| a.get("next_host"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| StoreError::Dynamo("WireGuard address counter unreadable".into()))?;
        Ok(next - 1)
    }

    /// A router's accounts still running at `now`, soonest end first.
    pub async fn running_accounts(&self, router: &RouterId, now: i64) -> Result<Vec<AccountRecord>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(GSI_LIVE)
            .key_condition_expression("live = :l AND expires_at > :now")
            .expression_attribute_values(":l", s(live_accounts(router)))
            .expression_attribute_values(":now", n(now));
        self.query_all(q).await?.iter().map(parse_account).collect()
    }

    pub async fn get_account(&self, number: &AccountNumber) -> Result<Option<AccountRecord>, StoreError> {
        self.get_item(account_pk(number), META).await?.as_ref().map(parse_account).transpose()
    }

    /// A recorded payment and what it did.
    pub async fn c2b_payment(&self, trans_id: &str) -> Result<Option<(C2bRecord, Option<C2bOutcome>)>, StoreError> {
        let Some(item) = self.get_item(c2b_pk(trans_id), META).await? else { return Ok(None) };
        let r = Reader::new(&item);
        let p = C2bRecord {
            trans_id: r.str("trans_id")?.to_string(),
            bill_ref: r.opt_str("bill_ref")?.unwrap_or_default().to_string(),
            amount: r.money("amount", "currency")?,
            at: r.i64("at")?,
        };
        Ok(Some((p, parse_outcome(&item)?)))
    }

    /// An operator credits a held payment to an account: in one transaction the payment becomes
    /// a renewal (only if it is still held), the account's expiry moves (only from `change.old`),
    /// and its receipt leaves the unmatched list, marked `credited_by`. `Written`, or
    /// `Duplicate` (no longer held) or `AccountMoved` (decide again), changing nothing.
    pub async fn credit_c2b(
        &self,
        trans_id: &str,
        paid_at: i64,
        change: &ExpiryChange,
        from: i64,
        by: &str,
    ) -> Result<C2bWrite, StoreError> {
        let payment = Update::builder()
            .table_name(&self.table)
            .key("pk", s(c2b_pk(trans_id)))
            .key("sk", s(META))
            .update_expression(
                "SET outcome = :renewed, account = :a, #from = :from, #until = :until, credited_by = :by, \
                 router_id = :r, package_id = :pk, ledger = :l, ledger_at = #at REMOVE why",
            )
            .condition_expression("outcome = :held")
            .expression_attribute_names("#from", "from")
            .expression_attribute_names("#until", "until")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":renewed", s("renewed"))
            .expression_attribute_values(":held", s("held"))
            .expression_attribute_values(":r", s(change.router.as_str()))
            .expression_attribute_values(":pk", s(change.package.as_str()))
            .expression_attribute_values(":l", s(ledger_month(LEDGER_RENEWALS, paid_at)))
            .expression_attribute_values(":a", s(change.account.as_str()))
            .expression_attribute_values(":from", n(from))
            .expression_attribute_values(":until", n(change.new))
            .expression_attribute_values(":by", s(by))
            .build()
            .map_err(StoreError::dynamo)?;
        let receipt = Update::builder()
            .table_name(&self.table)
            .key("pk", s(receipt_pk(trans_id)))
            .key("sk", s(META))
            .update_expression("SET credited_by = :by, account = :a REMOVE unmatched, pending")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":by", s(by))
            .expression_attribute_values(":a", s(change.account.as_str()))
            .build()
            .map_err(StoreError::dynamo)?;
        let req = self
            .db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(payment).build())
            .transact_items(expiry_move(&self.table, change)?)
            .transact_items(TransactWriteItem::builder().update(receipt).build());
        match req.send().await {
            Ok(_) => Ok(C2bWrite::Written),
            Err(e) if cancelled_by_condition(&e) => match self.c2b_outcome(trans_id).await? {
                Some(C2bOutcome::Held { .. }) => Ok(C2bWrite::AccountMoved),
                other => Ok(C2bWrite::Duplicate(other)),
            },
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    /// What a recorded payment did, if it was recorded.
    pub async fn c2b_outcome(&self, trans_id: &str) -> Result<Option<C2bOutcome>, StoreError> {
        match self.get_item(c2b_pk(trans_id), META).await? {
            Some(item) => parse_outcome(&item),
            None => Ok(None),
        }
    }

    /// Records a payment and its outcome in one transaction: with a renewal, the account's
    /// expiry moves from `old` to `new` (only if it is still `old`); held, it is also kept as an
    /// unmatched receipt (source `c2b`) for the operator. Once per `trans_id`.
    pub async fn record_c2b(
        &self,
        p: &C2bRecord,
        outcome: &C2bOutcome,
        change: Option<&ExpiryChange>,
    ) -> Result<C2bWrite, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .item("pk", s(c2b_pk(&p.trans_id)))
            .item("sk", s(META))
            .item("trans_id", s(&p.trans_id))
            .item("bill_ref", s(&p.bill_ref))
            .item("amount", amount(p.amount))
            .item("currency", s(p.amount.currency().as_str()))
            .item("at", n(p.at))
            .condition_expression("attribute_not_exists(pk)");
        put = match outcome {
            C2bOutcome::Renewed { account, from, until } => put
                .item("outcome", s("renewed"))
                .item("account", s(account.as_str()))
                .item("from", n(from))
                .item("until", n(until))
                // Money that renewed an account: the revenue report's renewals, by month.
                .item("ledger", s(ledger_month(LEDGER_RENEWALS, p.at)))
                .item("ledger_at", n(p.at)),
            C2bOutcome::Held { why } => put.item("outcome", s("held")).item("why", s(why)),
        };
        if let Some(c) = change {
            put = put.item("router_id", s(c.router.as_str())).item("package_id", s(c.package.as_str()));
        }
        let mut req = self
            .db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put.build().map_err(StoreError::dynamo)?).build());
        if let Some(c) = change {
            req = req.transact_items(expiry_move(&self.table, c)?);
        }
        if let C2bOutcome::Held { .. } = outcome {
            // The ledger's unmatched receipt, as `record_receipt` writes one.
            let held = ReceiptRecord {
                key: p.trans_id.clone(),
                checkout_id: None,
                phone: None,
                amount: Some(p.amount),
                at: p.at,
                source: ReceiptSource::C2b,
                purchase_id: None,
                router_id: None,
                credited_by: None,
            };
            let receipt = Put::builder()
                .table_name(&self.table)
                .set_item(Some(receipt_item(&held)))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(StoreError::dynamo)?;
            req = req.transact_items(TransactWriteItem::builder().put(receipt).build());
        }
        match req.send().await {
            Ok(_) => Ok(C2bWrite::Written),
            Err(e) if cancelled_by_condition(&e) => match self.c2b_outcome(&p.trans_id).await? {
                Some(before) => Ok(C2bWrite::Duplicate(Some(before))),
                None if change.is_some() => Ok(C2bWrite::AccountMoved),
                // Only a receipt of the same number (an STK one) can have refused it.
                None => Ok(C2bWrite::Duplicate(None)),
            },
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }
}
