//! Purchases and their state machine. Every transition is one conditional write, so
//! concurrent callbacks, reconciler queries and retries can race safely: exactly one wins,
//! the rest see `Transition::Unchanged` with the record as it stands.
//!
//! ```text
//! pending ──paid──> paid ──applied──> active
//!    │  └─amount≠price─> amount_mismatch
//!    ├──failed──> failed ──late paid──> paid
//!    └──reconciler gave up──> unknown ──late paid──> paid
//! ```
//! `paid` and `active` are never left for a failure state. A receipt that arrives after a
//! failure (a late callback, a query after a timeout) still pays: money taken is the truth.

use std::net::Ipv4Addr;

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use hotspot_core::currency::Money;
use hotspot_core::phone::PhoneNumber;
use hotspot_core::wallet::Wallet;
use hotspot_core::wire::PaymentFailure;
use hotspot_core::{MacAddr, Package, PurchaseId, RouterId};

use super::item::{Item, Reader, amount, is_condition_failure, n, s, written};
use super::schema::{
    GSI_BY_MAC, GSI_BY_PHONE, GSI_OUTBOX, GSI_PENDING, LEDGER_PURCHASES, META, ledger_month, purchase_pk, session_pk,
};
use super::table::{Store, StoreError};

/// Defined on the boundary: the agent reads it in the purchase API's replies.
pub use hotspot_core::api::PurchaseState;

/// What the purchase function records before the STK push.
#[derive(Debug, Clone)]
pub struct NewPurchase {
    pub id: PurchaseId,
    pub router_id: RouterId,
    pub package: Package,
    pub mac: MacAddr,
    pub ip: Option<Ipv4Addr>,
    pub phone: PhoneNumber,
    /// The wallet the guest pays from.
    pub wallet: Wallet,
    pub created_at: i64,
}

/// A purchase as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    pub id: PurchaseId,
    pub router_id: RouterId,
    pub package: Package,
    pub mac: MacAddr,
    pub ip: Option<Ipv4Addr>,
    pub phone: PhoneNumber,
    pub wallet: Wallet,
    pub state: PurchaseState,
    pub created_at: i64,
    pub updated_at: i64,
    pub checkout_id: Option<String>,
    pub receipt: Option<String>,
    /// What the wallet said was paid (in its currency, normally the price's).
    pub paid_amount: Option<Money>,
    pub paid_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub failure: Option<PaymentFailure>,
    pub failure_code: Option<String>,
    pub reconcile_tries: i64,
    /// True while the router's job (grant or payment_failed) still has to be queued.
    pub job_pending: bool,
    /// For an `unknown` purchase whose prompt has a CheckoutRequestID: when the reconciler asks
    /// Daraja about it again (it stays in the `pending` index until it is decided or too old).
    pub recheck_at: Option<i64>,
}

/// When a purchase is in the `ledger` index, as the transitions below put it there: paid (and
/// on to active) or paid the wrong amount at the payment's time; in doubt at its creation.
/// `None` for a purchase no money is known of (pending, or failed from pending). A purchase
/// that failed after being in doubt keeps its entry; rebuilt from the record alone, it gets none.
pub(crate) fn ledger_at(p: &Purchase) -> Option<i64> {
    match p.state {
        PurchaseState::Paid | PurchaseState::Active | PurchaseState::AmountMismatch => p.paid_at,
        PurchaseState::Unknown => Some(p.created_at),
        PurchaseState::Pending | PurchaseState::Failed => None,
    }
}

/// The outcome of a conditional transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// This call made the change; the new record.
    Applied(Purchase),
    /// The purchase was not in a state this transition starts from; the record as it stands.
    Unchanged(Purchase),
}

impl Transition {
    pub fn purchase(&self) -> &Purchase {
        match self {
            Transition::Applied(p) | Transition::Unchanged(p) => p,
        }
    }
    pub fn applied(&self) -> bool {
        matches!(self, Transition::Applied(_))
    }
}

/// A confirmed payment as its wallet reported it.
#[derive(Debug, Clone)]
pub struct Paid {
    pub receipt: String,
    pub amount: Money,
    pub paid_at: i64,
}

fn failure_str(f: PaymentFailure) -> String {
    serde_json::to_value(f).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| "other".into())
}

pub(crate) fn parse_purchase(item: &Item) -> Result<Purchase, StoreError> {
    let r = Reader::new(item);
    let failure = match r.opt_str("failure")? {
        Some(f) => Some(
            serde_json::from_value::<PaymentFailure>(serde_json::Value::from(f))
                .map_err(|e| StoreError::Corrupt { key: r.key.clone(), why: format!("failure: {e}") })?,
        ),
        None => None,
    };
    Ok(Purchase {
        id: r.parse("purchase_id")?,
        router_id: r.parse("router_id")?,
        package: r.json("package")?,
        mac: r.parse("mac")?,
        ip: r.opt_parse("ip")?,
        phone: r.parse("phone")?,
        // Purchases from before the choice of wallet were all M-Pesa.
        wallet: r.opt_parse("wallet")?.unwrap_or(Wallet::Mpesa),
        state: r.parse("state")?,
        created_at: r.i64("created_at")?,
        updated_at: r.i64("updated_at")?,
        checkout_id: r.opt_str("checkout_id")?.map(str::to_string),
        receipt: r.opt_str("receipt")?.map(str::to_string),
        paid_amount: r.opt_money("paid_amount", "paid_currency")?,
        paid_at: r.opt_i64("paid_at")?,
        expires_at: r.opt_i64("expires_at")?,
        failure,
        failure_code: r.opt_str("failure_code")?.map(str::to_string),
        reconcile_tries: r.opt_i64("reconcile_tries")?.unwrap_or(0),
        recheck_at: r.opt_i64("recheck_at")?,
        job_pending: r.opt_str("outbox")?.is_some(),
    })
}

/// The states a confirmed payment may still arrive in (a receipt after a failure still pays).
const PAYABLE: &[PurchaseState] = &[PurchaseState::Pending, PurchaseState::Unknown, PurchaseState::Failed];

/// One conditional state change: from any of `from` to `to`, with what else it sets and removes.
struct Change<'a> {
    from: &'a [PurchaseState],
    to: PurchaseState,
    at: i64,
    /// Further `SET` assignments, e.g. `receipt = :r`.
    set: &'a str,
    /// Attributes removed, e.g. `pending`.
    remove: &'a str,
    values: Vec<(&'a str, AttributeValue)>,
    /// Only if the purchase is this router's (a report from a router about its own grants).
    router: Option<&'a RouterId>,
}

impl Store {
    /// Records a new `pending` purchase. Refuses to overwrite an existing id.
    pub async fn create_purchase(&self, p: &NewPurchase) -> Result<Purchase, StoreError> {
        let package = serde_json::to_string(&p.package).map_err(StoreError::dynamo)?;
        let mut req = self
            .db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(purchase_pk(p.id.as_str())))
            .item("sk", s(META))
            .item("purchase_id", s(p.id.as_str()))
            .item("router_id", s(p.router_id.as_str()))
            .item("package_id", s(p.package.id().as_str()))
            .item("package", s(package))
            .item("price", amount(p.package.price()))
            .item("currency", s(p.package.price().currency().as_str()))
            .item("mac", s(p.mac.to_string()))
            .item("phone", s(p.phone.e164()))
            .item("by_phone", s(p.phone.e164()))
            .item("by_mac", s(p.mac.to_string()))
            .item("wallet", s(p.wallet.as_str()))
            .item("state", s(PurchaseState::Pending.as_str()))
            .item("pending", s("pending"))
            .item("created_at", n(p.created_at))
            .item("updated_at", n(p.created_at))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(ip) = p.ip {
            req = req.item("ip", s(ip.to_string()));
        }
        match req.send().await {
            Ok(_) => {}
            Err(e) if is_condition_failure(&e) => return Err(StoreError::AlreadyExists(format!("purchase {}", p.id))),
            Err(e) => return Err(StoreError::dynamo(e)),
        }
        Ok(Purchase {
            id: p.id.clone(),
            router_id: p.router_id.clone(),
            package: p.package.clone(),
            mac: p.mac,
            ip: p.ip,
            phone: p.phone.clone(),
            wallet: p.wallet,
            state: PurchaseState::Pending,
            created_at: p.created_at,
            updated_at: p.created_at,
            checkout_id: None,
            receipt: None,
            paid_amount: None,
            paid_at: None,
            expires_at: None,
            failure: None,
            failure_code: None,
            reconcile_tries: 0,
            job_pending: false,
            recheck_at: None,
        })
    }

    pub async fn get_purchase(&self, id: &PurchaseId) -> Result<Option<Purchase>, StoreError> {
        self.get_item(purchase_pk(id.as_str()), META).await?.as_ref().map(parse_purchase).transpose()
    }

    /// Many purchases in a few reads (absent ones left out), for reports and the owed grants.
    pub async fn get_purchases(&self, ids: &[PurchaseId]) -> Result<Vec<Purchase>, StoreError> {
        let keys = ids.iter().map(|id| (purchase_pk(id.as_str()), META.to_string())).collect();
        self.get_items(keys).await?.iter().map(parse_purchase).collect()
    }

    /// The newest `limit` purchases paid from `phone`, newest first (the `by_phone` index).
    pub async fn purchases_by_phone(&self, phone: &PhoneNumber, limit: usize) -> Result<Vec<Purchase>, StoreError> {
        self.purchases_by(GSI_BY_PHONE, &phone.e164(), limit).await
    }

    /// The newest `limit` purchases for a device, newest first (the `by_mac` index).
    pub async fn purchases_by_mac(&self, mac: &MacAddr, limit: usize) -> Result<Vec<Purchase>, StoreError> {
        self.purchases_by(GSI_BY_MAC, &mac.to_string(), limit).await
    }

    async fn purchases_by(&self, index: &str, value: &str, limit: usize) -> Result<Vec<Purchase>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", index)
            .expression_attribute_values(":v", s(value))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 100) as i32);
        self.query_capped(q, limit).await?.iter().map(parse_purchase).collect()
    }

    async fn must_get(&self, id: &PurchaseId) -> Result<Purchase, StoreError> {
        self.get_purchase(id).await?.ok_or_else(|| StoreError::NotFound(format!("purchase {id}")))
    }

    /// Records the CheckoutRequestID on the purchase (see `link_checkout`).
    pub(crate) async fn set_checkout(&self, id: &PurchaseId, checkout_id: &str, now: i64) -> Result<(), StoreError> {
        self.update(id)
            .update_expression("SET checkout_id = :c, updated_at = :now")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(checkout_id)")
            .expression_attribute_values(":c", s(checkout_id))
            .expression_attribute_values(":now", n(now))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    fn update(&self, id: &PurchaseId) -> UpdateItemFluentBuilder {
        self.db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(purchase_pk(id.as_str())))
            .key("sk", s(META))
            .return_values(ReturnValue::AllNew)
    }

    async fn conditional(&self, id: &PurchaseId, req: UpdateItemFluentBuilder) -> Result<Transition, StoreError> {
        match req.send().await {
            Ok(out) => {
                let item = out.attributes.ok_or_else(|| StoreError::Dynamo("update returned no item".into()))?;
                Ok(Transition::Applied(parse_purchase(&item)?))
            }
            Err(e) if is_condition_failure(&e) => Ok(Transition::Unchanged(self.must_get(id).await?)),
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    async fn transition(&self, id: &PurchaseId, c: Change<'_>) -> Result<Transition, StoreError> {
        let from: Vec<String> = (0..c.from.len()).map(|i| format!(":from{i}")).collect();
        let mut expr = String::from("SET #st = :to, updated_at = :at");
        if !c.set.is_empty() {
            expr = format!("{expr}, {}", c.set);
        }
        if !c.remove.is_empty() {
            expr = format!("{expr} REMOVE {}", c.remove);
        }
        let mut condition = format!("#st IN ({})", from.join(", "));
        if c.router.is_some() {
            condition.push_str(" AND router_id = :router");
        }
        let mut req = self
            .update(id)
            .update_expression(expr)
            .condition_expression(condition)
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":to", s(c.to.as_str()))
            .expression_attribute_values(":at", n(c.at));
        for (name, state) in from.iter().zip(c.from) {
            req = req.expression_attribute_values(name, s(state.as_str()));
        }
        for (name, v) in c.values {
            req = req.expression_attribute_values(name, v);
        }
        if let Some(r) = c.router {
            req = req.expression_attribute_values(":router", s(r.as_str()));
        }
        self.conditional(id, req).await
    }

    /// `pending | unknown | failed → paid`. One conditional write on the purchase is the single
    /// point of decision, so concurrent callbacks and queries cannot both win. The session record
    /// and the grant job follow from the outbox (`ensure_session`, then the job), so a crash after
    /// this write loses neither. Nothing ever leaves `paid` but for `active`.
    pub async fn mark_paid(&self, id: &PurchaseId, paid: &Paid) -> Result<Transition, StoreError> {
        // Read first: the expiry comes from the package as sold, and a repeat needs no write.
        let current = self.must_get(id).await?;
        if !PAYABLE.contains(&current.state) {
            return Ok(Transition::Unchanged(current));
        }
        let expires_at = paid.paid_at.saturating_add(current.package.validity().secs() as i64);
        let t = self
            .transition(
                id,
                Change {
                    from: PAYABLE,
                    to: PurchaseState::Paid,
                    at: paid.paid_at,
                    set: "receipt = :r, paid_amount = :a, paid_currency = :cur, paid_at = :at, expires_at = :e, \
                          outbox = :o, ledger = :lg, ledger_at = :at",
                    remove: "pending, recheck_at, failure, failure_code",
                    values: vec![
                        (":r", s(&paid.receipt)),
                        (":a", amount(paid.amount)),
                        (":cur", s(paid.amount.currency().as_str())),
                        (":e", n(expires_at)),
                        (":o", s("outbox")),
                        (":lg", s(ledger_month(LEDGER_PURCHASES, paid.paid_at))),
                    ],
                    router: None,
                },
            )
            .await?;
        if let Transition::Applied(p) = &t {
            // The device paid with this number: its later prompts to it are the owner's own
            // (`prompts`). Not fatal: the payment stands without it.
            if let Err(e) = self.trust_device(&p.phone, &p.mac, paid.paid_at).await {
                tracing::warn!(purchase_id = %p.id, error = %e, "could not record the paying device as trusted");
            }
        }
        Ok(t)
    }

    /// Writes the session record of a paid purchase if it is not there yet (idempotent).
    /// Returns whether this call created it.
    pub async fn ensure_session(&self, p: &Purchase) -> Result<bool, StoreError> {
        let (Some(paid_at), Some(expires_at)) = (p.paid_at, p.expires_at) else {
            return Err(StoreError::Corrupt {
                key: purchase_pk(p.id.as_str()),
                why: "paid without paid_at/expires_at".into(),
            });
        };
        let res = self
            .db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(session_pk(p.id.as_str())))
            .item("sk", s(META))
            .item("purchase_id", s(p.id.as_str()))
            .item("router_id", s(p.router_id.as_str()))
            .item("mac", s(p.mac.to_string()))
            .item("package_id", s(p.package.id().as_str()))
            .item("paid_at", n(paid_at))
            .item("expires_at", n(expires_at))
            .item("live", s("live"))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        written(res)
    }

    /// `pending | unknown → failed`, with the reason the guest is shown (Daraja said so: an
    /// unknown purchase re-asked about is decided too); queues a `payment_failed` job.
    pub async fn mark_failed(
        &self,
        id: &PurchaseId,
        reason: PaymentFailure,
        code: Option<&str>,
        now: i64,
    ) -> Result<Transition, StoreError> {
        let t = self
            .transition(
                id,
                Change {
                    from: &[PurchaseState::Pending, PurchaseState::Unknown],
                    to: PurchaseState::Failed,
                    at: now,
                    set: "failure = :f, failure_code = :c, outbox = :o",
                    remove: "pending, recheck_at",
                    values: vec![(":f", s(failure_str(reason))), (":c", s(code.unwrap_or(""))), (":o", s("outbox"))],
                    router: None,
                },
            )
            .await?;
        if let (Transition::Applied(p), PaymentFailure::Cancelled) = (&t, reason) {
            // The owner pressed Cancel: two of those from strangers' devices stop their prompts.
            match self.count_decline(&p.phone, &p.mac, now).await {
                Ok(true) => {
                    tracing::info!(phone = %p.phone.masked(), "prompts from untrusted devices stopped by the owner")
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(purchase_id = %p.id, error = %e, "could not count a declined prompt"),
            }
        }
        Ok(t)
    }

    /// `pending | unknown → amount_mismatch`: money arrived but not the package price. No grant;
    /// the guest is told to ask staff, the operator reconciles by hand. The amount is recorded
    /// only when M-Pesa stated one.
    pub async fn mark_amount_mismatch(
        &self,
        id: &PurchaseId,
        receipt: &str,
        paid: Option<Money>,
        at: i64,
    ) -> Result<Transition, StoreError> {
        let mut values = vec![
            (":r", s(receipt)),
            (":f", s(failure_str(PaymentFailure::AmountMismatch))),
            (":o", s("outbox")),
            (":lg", s(ledger_month(LEDGER_PURCHASES, at))),
        ];
        let set = match paid {
            Some(a) => {
                values.push((":a", amount(a)));
                values.push((":cur", s(a.currency().as_str())));
                "receipt = :r, paid_amount = :a, paid_currency = :cur, paid_at = :at, failure = :f, outbox = :o, \
                 ledger = :lg, ledger_at = :at"
            }
            None => "receipt = :r, paid_at = :at, failure = :f, outbox = :o, ledger = :lg, ledger_at = :at",
        };
        let change = Change {
            from: &[PurchaseState::Pending, PurchaseState::Unknown],
            to: PurchaseState::AmountMismatch,
            at,
            set,
            remove: "pending, recheck_at",
            values,
            router: None,
        };
        self.transition(id, change).await
    }

    /// `pending → unknown`: the outcome is in doubt; flagged for the operator. A purchase whose
    /// prompt has a CheckoutRequestID (`recheck_at` given) stays in the `pending` index, so the
    /// reconciler keeps asking Daraja about it, less often; one without leaves it.
    pub async fn mark_unknown(
        &self,
        id: &PurchaseId,
        recheck_at: Option<i64>,
        now: i64,
    ) -> Result<Transition, StoreError> {
        // Read first: money in doubt is in the ledger index under the purchase's creation,
        // where the report looks for it. The conditional write still decides.
        let current = self.must_get(id).await?;
        if current.state != PurchaseState::Pending {
            return Ok(Transition::Unchanged(current));
        }
        let ledger = [(":lg", s(ledger_month(LEDGER_PURCHASES, current.created_at))), (":c", n(current.created_at))];
        let change = match recheck_at {
            Some(at) => Change {
                from: &[PurchaseState::Pending],
                to: PurchaseState::Unknown,
                at: now,
                set: "failure = :f, recheck_at = :r, ledger = :lg, ledger_at = :c",
                remove: "",
                values: [vec![(":f", s(failure_str(PaymentFailure::Unknown))), (":r", n(at))], ledger.to_vec()]
                    .concat(),
                router: None,
            },
            None => Change {
                from: &[PurchaseState::Pending],
                to: PurchaseState::Unknown,
                at: now,
                set: "failure = :f, ledger = :lg, ledger_at = :c",
                remove: "pending",
                values: [vec![(":f", s(failure_str(PaymentFailure::Unknown)))], ledger.to_vec()].concat(),
                router: None,
            },
        };
        self.transition(id, change).await
    }

    /// An unknown purchase asked about again and still undecided: when to ask next, or (`None`)
    /// never again (it leaves the `pending` index; the ledger keeps showing it).
    pub async fn set_recheck(&self, id: &PurchaseId, at: Option<i64>) -> Result<Transition, StoreError> {
        let req = match at {
            Some(at) => {
                self.update(id).update_expression("SET recheck_at = :r").expression_attribute_values(":r", n(at))
            }
            None => self.update(id).update_expression("REMOVE pending, recheck_at"),
        };
        let req = req
            .condition_expression("#st = :unknown")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":unknown", s(PurchaseState::Unknown.as_str()));
        self.conditional(id, req).await
    }

    /// `paid → active` once the router reports the grant applied.
    /// `paid → active`, on the report of the router the purchase is for (another router's report
    /// changes nothing: `Unchanged`, with the purchase as it is).
    pub async fn mark_active(&self, id: &PurchaseId, router: &RouterId, now: i64) -> Result<Transition, StoreError> {
        let change = Change {
            from: &[PurchaseState::Paid],
            to: PurchaseState::Active,
            at: now,
            set: "",
            remove: "",
            values: vec![],
            router: Some(router),
        };
        self.transition(id, change).await
    }

    /// Claims the right to ask Daraja about a pending purchase from a status read, at most every
    /// `every_secs`: true if this caller asks.
    pub async fn claim_status_query(&self, id: &PurchaseId, now: i64, every_secs: i64) -> Result<bool, StoreError> {
        written(
            self.update(id)
                .update_expression("SET status_query_at = :now")
                .condition_expression(
                    "#st = :pending AND (attribute_not_exists(status_query_at) OR status_query_at < :since)",
                )
                .expression_attribute_names("#st", "state")
                .expression_attribute_values(":pending", s(PurchaseState::Pending.as_str()))
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":since", n(now - every_secs))
                .send()
                .await,
        )
    }

    /// Counts one more reconciler query for a still-pending purchase.
    pub async fn bump_reconcile_tries(&self, id: &PurchaseId) -> Result<Transition, StoreError> {
        let req = self
            .update(id)
            .update_expression("ADD reconcile_tries :one")
            .condition_expression("#st = :pending")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":pending", s("pending"));
        self.conditional(id, req).await
    }

    /// A paid purchase's M-Pesa receipt number, when the STK query confirmed it first and the
    /// callback (the one that carries the number) came after. True if it was missing and is now set.
    pub async fn fill_receipt(&self, id: &PurchaseId, receipt: &str) -> Result<bool, StoreError> {
        written(
            self.update(id)
                .update_expression("SET receipt = :r")
                .condition_expression(
                    "(#st = :paid OR #st = :active) AND (attribute_not_exists(receipt) OR receipt = :empty)",
                )
                .expression_attribute_names("#st", "state")
                .expression_attribute_values(":r", s(receipt))
                .expression_attribute_values(":paid", s(PurchaseState::Paid.as_str()))
                .expression_attribute_values(":active", s(PurchaseState::Active.as_str()))
                .expression_attribute_values(":empty", s(""))
                .send()
                .await,
        )
    }

    /// The router's job is on its queue: take the purchase out of the outbox (and forget how
    /// often it failed to go out: `defer_outbox` counts failures in a row).
    pub async fn mark_job_queued(&self, id: &PurchaseId) -> Result<(), StoreError> {
        self.update(id)
            .update_expression("REMOVE outbox, outbox_failures")
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// A job that would not go out (its router unknown, its queue gone): moved to the back of
    /// the outbox, so the next sweep takes the others first. Returns how often it has failed.
    pub async fn defer_outbox(&self, id: &PurchaseId, now: i64) -> Result<i64, StoreError> {
        let out = self
            .update(id)
            .update_expression("SET updated_at = :now ADD outbox_failures :one")
            .condition_expression("attribute_exists(outbox)")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match out {
            Ok(o) => Ok(o
                .attributes
                .and_then(|a| a.get("outbox_failures").and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()))
                .unwrap_or(1)),
            Err(e) if is_condition_failure(&e) => Ok(0),
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    /// Purchases still `pending` that were created at or before `created_before`.
    pub async fn list_pending(&self, created_before: i64, limit: i32) -> Result<Vec<Purchase>, StoreError> {
        self.query_index(GSI_PENDING, "pending", "created_at", created_before, limit).await
    }

    /// Purchases whose router job was decided but not yet queued (a crash between the two steps).
    pub async fn list_outbox(&self, updated_before: i64, limit: i32) -> Result<Vec<Purchase>, StoreError> {
        self.query_index(GSI_OUTBOX, "outbox", "updated_at", updated_before, limit).await
    }

    /// Up to `limit` purchases of a sparse index, oldest first, every page followed.
    async fn query_index(
        &self,
        index: &str,
        hash: &str,
        range: &str,
        upto: i64,
        limit: i32,
    ) -> Result<Vec<Purchase>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#h = :h AND #r <= :upto")
            .expression_attribute_names("#h", hash)
            .expression_attribute_names("#r", range)
            .expression_attribute_values(":h", s(hash))
            .expression_attribute_values(":upto", n(upto))
            .limit(limit.min(100));
        self.query_capped(q, limit.max(0) as usize).await?.iter().map(parse_purchase).collect()
    }
}
