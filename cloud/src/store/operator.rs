//! Operators of `hotspotctl`: an AWS identity (the ARN STS reports) and its role. The CLI's
//! checks against these records are for operators' convenience and the audit trail; hard
//! enforcement is IAM's (see `docs/operator.md`).

use std::fmt;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use hotspot_core::RouterId;

use super::item::{Item, Reader, is_condition_failure, n, s};
use super::schema::{GSI_ROSTER, META};
use super::table::{Store, StoreError};

hotspot_core::string_enum! {
    /// What an operator may do (see `docs/operator.md` for the table).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum OperatorRole("role") { Admin = "admin", Manager = "manager", Staff = "staff" }
}

/// A role with what it is bound to: staff work at one router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopedRole {
    Admin,
    Manager,
    Staff(RouterId),
}

impl ScopedRole {
    pub fn role(&self) -> OperatorRole {
        match self {
            ScopedRole::Admin => OperatorRole::Admin,
            ScopedRole::Manager => OperatorRole::Manager,
            ScopedRole::Staff(_) => OperatorRole::Staff,
        }
    }

    pub fn router(&self) -> Option<&RouterId> {
        match self {
            ScopedRole::Staff(r) => Some(r),
            _ => None,
        }
    }
}

impl fmt::Display for ScopedRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopedRole::Staff(r) => write!(f, "staff for {r}"),
            other => f.write_str(other.role().as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRecord {
    /// The caller's ARN as `sts:GetCallerIdentity` reports it.
    pub arn: String,
    pub access: ScopedRole,
    pub added_by: String,
    pub added_at: i64,
}

pub fn operator_pk(arn: &str) -> String {
    format!("OPERATOR#{arn}")
}

/// Written once, by the first admin: its existence means the operator list was initialised.
const BOOTSTRAP_PK: &str = "OPERATORS";
const BOOTSTRAP_SK: &str = "BOOTSTRAP";
/// Operator records carry `roster` = this: the `roster` index lists them.
pub(crate) const ROSTER: &str = "operator";

fn parse(item: &Item) -> Result<OperatorRecord, StoreError> {
    let r = Reader::new(item);
    let role: OperatorRole = r.parse("role")?;
    let access = match role {
        OperatorRole::Admin => ScopedRole::Admin,
        OperatorRole::Manager => ScopedRole::Manager,
        OperatorRole::Staff => ScopedRole::Staff(r.parse("router_id")?),
    };
    Ok(OperatorRecord {
        arn: r.str("arn")?.to_string(),
        access,
        added_by: r.str("added_by")?.to_string(),
        added_at: r.i64("added_at")?,
    })
}

fn item_of(o: &OperatorRecord) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), s(operator_pk(&o.arn)));
    item.insert("sk".into(), s(META));
    item.insert("arn".into(), s(&o.arn));
    item.insert("role".into(), s(o.access.role().as_str()));
    item.insert("added_by".into(), s(&o.added_by));
    item.insert("added_at".into(), n(o.added_at));
    item.insert("roster".into(), s(ROSTER));
    if let Some(r) = o.access.router() {
        item.insert("router_id".into(), s(r.as_str()));
    }
    item
}

impl Store {
    pub async fn get_operator(&self, arn: &str) -> Result<Option<OperatorRecord>, StoreError> {
        self.get_item(operator_pk(arn), META).await?.as_ref().map(parse).transpose()
    }

    /// Adds an operator; refuses an ARN that already is one.
    pub async fn add_operator(&self, o: &OperatorRecord) -> Result<(), StoreError> {
        let req = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(o)))
            .condition_expression("attribute_not_exists(pk)");
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::AlreadyExists(format!("operator {}", o.arn))),
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    /// Makes `admin` the first operator, in one transaction with the bootstrap marker, so only
    /// one caller ever can (and never once operators exist).
    pub async fn bootstrap_admin(&self, admin: &OperatorRecord) -> Result<bool, StoreError> {
        let marker = Put::builder()
            .table_name(&self.table)
            .item("pk", s(BOOTSTRAP_PK))
            .item("sk", s(BOOTSTRAP_SK))
            .item("by", s(&admin.arn))
            .item("at", n(admin.added_at))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(StoreError::dynamo)?;
        let admin_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item_of(admin)))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(StoreError::dynamo)?;
        let res = self
            .db
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(marker).build())
            .transact_items(TransactWriteItem::builder().put(admin_put).build())
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_transaction_canceled_exception()) => Ok(false),
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    /// Every operator, by ARN (the `roster` index; eventually consistent, as every index is).
    pub async fn list_operators(&self) -> Result<Vec<OperatorRecord>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(GSI_ROSTER)
            .key_condition_expression("roster = :r")
            .expression_attribute_values(":r", s(ROSTER));
        self.query_all(q).await?.iter().map(parse).collect()
    }

    /// Gives an operator another role (or staff another router). The
    /// record must exist and still hold `was`, so two admins' changes cannot cross unseen.
    pub async fn set_operator_role(&self, arn: &str, was: &ScopedRole, to: &ScopedRole) -> Result<(), StoreError> {
        let mut q = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(operator_pk(arn)))
            .key("sk", s(META))
            .expression_attribute_values(":role", s(to.role().as_str()))
            .expression_attribute_values(":was", s(was.role().as_str()));
        q = match to.router() {
            Some(r) => q
                .update_expression("SET #role = :role, router_id = :r")
                .expression_attribute_values(":r", s(r.as_str())),
            None => q.update_expression("SET #role = :role REMOVE router_id"),
        };
        q = match was.router() {
            Some(r) => q
                .condition_expression("attribute_exists(pk) AND #role = :was AND router_id = :wr")
                .expression_attribute_values(":wr", s(r.as_str())),
            None => q.condition_expression("attribute_exists(pk) AND #role = :was"),
        };
        q.expression_attribute_names("#role", "role").send().await.map_err(|e| match is_condition_failure(&e) {
            true => StoreError::NotFound(format!("operator {arn} as {was}")),
            false => StoreError::dynamo(e),
        })?;
        Ok(())
    }

    pub async fn remove_operator(&self, arn: &str) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(operator_pk(arn)))
            .key("sk", s(META))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await
            .map_err(|e| match is_condition_failure(&e) {
                true => StoreError::NotFound(format!("operator {arn}")),
                false => StoreError::dynamo(e),
            })?;
        Ok(())
    }
}
