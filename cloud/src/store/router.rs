//! Router records: where a router's jobs go and the key that signs them.

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use hotspot_core::phone::Country;
use hotspot_core::wallet::Offered;
use hotspot_core::{RouterId, RouterKey};

use super::item::{Item, Reader, is_condition_failure, n, s, written};
use super::schema::{GSI_FLEET, META, router_pk};
use super::table::{Store, StoreError};

/// How a router reaches the cloud: the container agent (its own job queue) or its own hotspot
/// asking our RADIUS service (no queue, no agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouterMode {
    #[default]
    Agent,
    Radius,
}

impl RouterMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RouterMode::Agent => "agent",
            RouterMode::Radius => "radius",
        }
    }
}

impl std::fmt::Display for RouterMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown router mode {0:?} (agent or radius)")]
pub struct UnknownMode(String);

impl std::str::FromStr for RouterMode {
    type Err = UnknownMode;
    fn from_str(s: &str) -> Result<Self, UnknownMode> {
        match s {
            "agent" => Ok(RouterMode::Agent),
            "radius" => Ok(RouterMode::Radius),
            other => Err(UnknownMode(other.chars().take(32).collect())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterRecord {
    pub id: RouterId,
    pub name: String,
    /// The router's own FIFO queue; empty for a RADIUS-mode router, which has none (see
    /// [`RouterRecord::mode`]).
    pub queue_url: String,
    /// Signs jobs to this router and verifies its reports. Encrypted at rest by DynamoDB.
    pub key: RouterKey,
    pub created_at: i64,
    /// Set by `hotspotctl router disable`: the router's requests are refused and its grants wait
    /// in the outbox until it is enabled again.
    pub disabled_at: Option<i64>,
    /// Set by `hotspotctl router rotate` until the router first signs with the new key.
    pub rotation: Option<Rotation>,
    /// The router's previous AWS access key, once it switched: deleted by the events function
    /// (and retried on each later report until IAM confirms).
    pub retiring_access_key: Option<String>,
    /// The wallets its guests may pay from (`hotspotctl router wallets`).
    pub wallets: Offered,
    /// Where it sells: its packages' currency and how its portal reads a phone number.
    pub country: Country,
}

/// A key rotation waiting for the router to switch. Until then the cloud signs jobs with the old
/// key (the router still holds only that) and accepts the router's signatures under either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub key: RouterKey,
    pub started_at: i64,
    /// The new IAM access key the rotation script gives the router.
    pub access_key_id: String,
    /// The one it replaces: deleted once the router has switched.
    pub old_access_key_id: Option<String>,
}

/// The router's IAM user (path `/hotspot/`): `hotspotctl` creates it and its keys, the events
/// function deletes a rotated router's old key.
pub fn iam_user_name(id: &RouterId) -> String {
    format!("hotspot-router-{id}")
}

/// A router whose last heartbeat is older than this is shown offline (the agent beats every 60 s).
pub const ONLINE_WITHIN_SECS: i64 = 180;

/// Router records carry `fleet` so the `fleet` index lists them.
const FLEET: &str = "router";

/// A router as the fleet page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRow {
    pub router: RouterRecord,
    pub health: Option<RouterHealth>,
    /// The digest of what the store says the router should sell (the last `packages_sync`).
    pub expected_digest: Option<String>,
}

impl FleetRow {
    /// Heard from within [`ONLINE_WITHIN_SECS`].
    pub fn online(&self, now: i64) -> bool {
        self.health.as_ref().is_some_and(|h| now - h.last_seen <= ONLINE_WITHIN_SECS)
    }

    /// Does the router sell what the store says (as of its last heartbeat)? `None` when either
    /// side is not known yet.
    pub fn packages_in_step(&self) -> Option<bool> {
        let theirs = self.health.as_ref()?.selling_digest.as_deref()?;
        Some(Some(theirs) == self.expected_digest.as_deref())
    }
}

fn parse_router(item: &Item) -> Result<RouterRecord, StoreError> {
    let r = Reader::new(item);
    // Records from before RADIUS mode have no `mode`: they are agent routers.
    let mode: RouterMode = r.opt_parse("mode")?.unwrap_or_default();
    let corrupt = |why: &str| StoreError::Corrupt {
        key: item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_else(|| "?".into()),
        why: why.to_string(),
    };
    let queue_url = match mode {
        RouterMode::Agent => r.str("queue_url")?.to_string(),
        RouterMode::Radius => match r.opt_str("queue_url")? {
            None => String::new(),
            Some(_) => return Err(corrupt("a radius-mode router has a queue_url")),
        },
    };
    if mode == RouterMode::Agent && queue_url.is_empty() {
        return Err(corrupt("an agent router has an empty queue_url"));
    }
    Ok(RouterRecord {
        id: r.parse("router_id")?,
        name: r.str("name")?.to_string(),
        queue_url,
        key: r.parse("key_hex")?,
        created_at: r.i64("created_at")?,
        disabled_at: r.opt_i64("disabled_at")?,
        rotation: match r.opt_str("rotation_key_hex")? {
            None => None,
            Some(_) => Some(Rotation {
                key: r.parse("rotation_key_hex")?,
                started_at: r.i64("rotation_started_at")?,
                access_key_id: r.str("rotation_access_key")?.to_string(),
                old_access_key_id: r.opt_str("rotation_old_access_key")?.map(str::to_string),
            }),
        },
        retiring_access_key: r.opt_str("retiring_access_key")?.map(str::to_string),
        wallets: r.opt_parse("wallets")?.unwrap_or_default(),
        // Routers from before other countries are Kenyan.
        country: r.opt_parse("country")?.unwrap_or_default(),
    })
}

fn parse_health(item: &Item) -> Result<Option<RouterHealth>, StoreError> {
    let r = Reader::new(item);
    let Some(last_seen) = r.opt_i64("last_seen")? else { return Ok(None) };
    Ok(Some(RouterHealth {
        last_seen,
        version: r.str("agent_version")?.to_string(),
        uptime_secs: r.i64("agent_uptime")?.max(0) as u64,
        active_sessions: r.i64("active_sessions")?.clamp(0, u32::MAX as i64) as u32,
        ppp_sessions: r.opt_i64("ppp_sessions")?.unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
        jobs_waiting: r.i64("jobs_waiting")?.clamp(0, u32::MAX as i64) as u32,
        clock_unset_secs: r.opt_i64("clock_unset_secs")?.unwrap_or(0).max(0) as u64,
        selling: r.opt_i64("selling")?.unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
        selling_digest: r.opt_str("selling_digest")?.filter(|d| !d.is_empty()).map(str::to_string),
    }))
}

fn parse_fleet_row(item: &Item) -> Result<FleetRow, StoreError> {
    let expected_digest = Reader::new(item).opt_str("packages_digest")?.map(str::to_string);
    Ok(FleetRow { router: parse_router(item)?, health: parse_health(item)?, expected_digest })
}

impl RouterRecord {
    /// A new agent-mode router as onboarding makes it: its queue and key, M-Pesa only, in Kenya,
    /// not disabled, no rotation under way.
    pub fn new(
        id: RouterId,
        name: impl Into<String>,
        queue_url: impl Into<String>,
        key: RouterKey,
        created_at: i64,
    ) -> Self {
        RouterRecord {
            id,
            name: name.into(),
            queue_url: queue_url.into(),
            key,
            created_at,
            disabled_at: None,
            rotation: None,
            retiring_access_key: None,
            wallets: Default::default(),
            country: Default::default(),
        }
    }

    /// A router without a job queue is a RADIUS-mode router. Told by the queue rather than by a
    /// field of its own so that every place that builds a record (agent routers) stays as it was;
    /// the item also carries `mode`, and reading one back checks the two agree.
    pub fn mode(&self) -> RouterMode {
        if self.queue_url.is_empty() { RouterMode::Radius } else { RouterMode::Agent }
    }

    /// Verifies something the router signed (`verify` with one key; `is_bad_signature` tells a
    /// wrong key from any other failure): under its key, and while a rotation waits under the
    /// new one too. `true` with the result: it was the new key, so the router has switched.
    pub fn verify_signed<T, E>(
        &self,
        verify: impl Fn(&RouterKey) -> Result<T, E>,
        is_bad_signature: impl Fn(&E) -> bool,
    ) -> Result<(T, bool), E> {
        match (verify(&self.key), &self.rotation) {
            (Err(e), Some(rot)) if is_bad_signature(&e) => verify(&rot.key).map(|t| (t, true)),
            (r, _) => r.map(|t| (t, false)),
        }
    }
}

impl Store {
    /// Sets where a router sells and the wallets its guests may pay from. False: no such router.
    pub async fn set_router_market(
        &self,
        id: &RouterId,
        country: Country,
        wallets: &Offered,
    ) -> Result<bool, StoreError> {
        let res = self
            .update_router(id)
            .update_expression("SET wallets = :w, country = :c")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":w", s(wallets.to_string()))
            .expression_attribute_values(":c", s(country.as_str()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    /// An update of a router's record (its `META` item).
    fn update_router(&self, id: &RouterId) -> UpdateItemFluentBuilder {
        self.db.update_item().table_name(&self.table).key("pk", s(router_pk(id.as_str()))).key("sk", s(META))
    }

    pub async fn put_router(&self, r: &RouterRecord) -> Result<(), StoreError> {
        let mut req = self
            .db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(router_pk(r.id.as_str())))
            .item("sk", s(META))
            .item("router_id", s(r.id.as_str()))
            .item("name", s(&r.name))
            .item("mode", s(r.mode().as_str()));
        if r.mode() == RouterMode::Agent {
            req = req.item("queue_url", s(&r.queue_url));
        }
        let res = req
            .item("key_hex", s(r.key.to_hex()))
            .item("created_at", n(r.created_at))
            .item("fleet", s(FLEET))
            .item("wallets", s(r.wallets.to_string()))
            .item("country", s(r.country.as_str()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => Err(StoreError::AlreadyExists(format!("router {}", r.id))),
            Err(e) => Err(StoreError::dynamo(e)),
        }
    }

    pub async fn get_router(&self, id: &RouterId) -> Result<Option<RouterRecord>, StoreError> {
        self.get_item(router_pk(id.as_str()), META).await?.as_ref().map(parse_router).transpose()
    }

    /// Every router with what it last reported, by id, from the `fleet` index (no scan).
    pub async fn list_fleet(&self) -> Result<Vec<FleetRow>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(GSI_FLEET)
            .key_condition_expression("fleet = :f")
            .expression_attribute_values(":f", s(FLEET));
        self.query_all(q).await?.iter().map(parse_fleet_row).collect()
    }

    /// One router's row (a staff member's fleet), read from the table itself.
    pub async fn fleet_row(&self, id: &RouterId) -> Result<Option<FleetRow>, StoreError> {
        self.get_item(router_pk(id.as_str()), META).await?.as_ref().map(parse_fleet_row).transpose()
    }

    /// Starts a rotation, or replaces one that waits (`replacing`: the rotation read before, so a
    /// concurrent rotate or switch makes this fail instead of losing a key). False if the record
    /// changed meanwhile.
    pub async fn begin_rotation(
        &self,
        id: &RouterId,
        rot: &Rotation,
        replacing: Option<&Rotation>,
    ) -> Result<bool, StoreError> {
        let mut set = "SET rotation_key_hex = :k, rotation_started_at = :t, rotation_access_key = :a".to_string();
        let mut req = self
            .update_router(id)
            .expression_attribute_values(":k", s(rot.key.to_hex()))
            .expression_attribute_values(":t", n(rot.started_at))
            .expression_attribute_values(":a", s(&rot.access_key_id));
        match &rot.old_access_key_id {
            Some(old) => {
                set.push_str(", rotation_old_access_key = :o");
                req = req.expression_attribute_values(":o", s(old));
            }
            None => set.push_str(" REMOVE rotation_old_access_key"),
        }
        req = match replacing {
            None => req.condition_expression("attribute_exists(pk) AND attribute_not_exists(rotation_key_hex)"),
            Some(prev) => req
                .condition_expression("attribute_exists(pk) AND rotation_key_hex = :prev")
                .expression_attribute_values(":prev", s(prev.key.to_hex())),
        };
        written(req.update_expression(set).send().await)
    }

    /// The router signed with its new key: that key becomes its key, the old one is dead, and the
    /// old access key is marked for deletion. False if that rotation is no longer waiting (another
    /// report switched it first).
    pub async fn finish_rotation(&self, id: &RouterId, rot: &Rotation) -> Result<bool, StoreError> {
        let mut req = self
            .update_router(id)
            .condition_expression("rotation_key_hex = :k")
            .expression_attribute_values(":k", s(rot.key.to_hex()));
        let remove = "REMOVE rotation_key_hex, rotation_started_at, rotation_access_key, rotation_old_access_key";
        req = match &rot.old_access_key_id {
            Some(old) => req
                .update_expression(format!("SET key_hex = :k, retiring_access_key = :o {remove}"))
                .expression_attribute_values(":o", s(old)),
            None => req.update_expression(format!("SET key_hex = :k {remove}")),
        };
        written(req.send().await)
    }

    /// The retiring access key is gone from IAM.
    pub async fn clear_retiring_access_key(&self, id: &RouterId, key_id: &str) -> Result<bool, StoreError> {
        written(
            self.update_router(id)
                .update_expression("REMOVE retiring_access_key")
                .condition_expression("retiring_access_key = :o")
                .expression_attribute_values(":o", s(key_id))
                .send()
                .await,
        )
    }

    /// Disables (`Some(now)`) or enables (`None`) a router. Returns false when it was already so.
    pub async fn set_router_disabled(&self, id: &RouterId, disabled_at: Option<i64>) -> Result<bool, StoreError> {
        let req = self.update_router(id);
        let req = match disabled_at {
            Some(at) => req
                .update_expression("SET disabled_at = :at")
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(disabled_at)")
                .expression_attribute_values(":at", n(at)),
            None => req
                .update_expression("REMOVE disabled_at")
                .condition_expression("attribute_exists(pk) AND attribute_exists(disabled_at)"),
        };
        written(req.send().await)
    }
}

/// What a router last reported about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterHealth {
    pub last_seen: i64,
    pub version: String,
    pub uptime_secs: u64,
    pub active_sessions: u32,
    /// Subscribers' PPP sessions beside the hotspot's.
    pub ppp_sessions: u32,
    pub jobs_waiting: u32,
    /// Seconds the router's clock was unset (before the agent's build) since the agent started.
    pub clock_unset_secs: u64,
    /// How many packages the router says its portal sells, and their digest (`None`: an agent
    /// too old to say).
    pub selling: u32,
    pub selling_digest: Option<String>,
}

impl Store {
    /// Records a heartbeat; returns the digest of the packages the router should sell, as the
    /// last `packages_sync` stored it (`None` before the first): read back from the same write.
    pub async fn record_heartbeat(&self, id: &RouterId, h: &RouterHealth) -> Result<Option<String>, StoreError> {
        let out = self
            .update_router(id)
            .update_expression(
                "SET last_seen = :t, agent_version = :v, agent_uptime = :u, active_sessions = :a, ppp_sessions = :pp, \
                 jobs_waiting = :j, clock_unset_secs = :c, selling = :p, selling_digest = :pd, fleet = :f",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":t", n(h.last_seen))
            .expression_attribute_values(":v", s(&h.version))
            .expression_attribute_values(":u", n(h.uptime_secs))
            .expression_attribute_values(":a", n(h.active_sessions))
            .expression_attribute_values(":pp", n(h.ppp_sessions))
            .expression_attribute_values(":j", n(h.jobs_waiting))
            .expression_attribute_values(":c", n(h.clock_unset_secs))
            .expression_attribute_values(":p", n(h.selling))
            .expression_attribute_values(":pd", s(h.selling_digest.as_deref().unwrap_or("")))
            // Routers provisioned before the fleet index join it at their next heartbeat.
            .expression_attribute_values(":f", s(FLEET))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(out.attributes.as_ref().and_then(|a| a.get("packages_digest")).and_then(|v| v.as_s().ok()).cloned())
    }

    /// What the router should be selling now (`package::digest` of its packages on sale).
    pub async fn set_packages_digest(&self, id: &RouterId, digest: &str) -> Result<(), StoreError> {
        self.update_router(id)
            .update_expression("SET packages_digest = :d")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":d", s(digest))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    pub async fn get_router_health(&self, id: &RouterId) -> Result<Option<RouterHealth>, StoreError> {
        self.get_item(router_pk(id.as_str()), META).await?.as_ref().map(parse_health).transpose().map(Option::flatten)
    }

    /// Takes the right to re-send a router's packages (at most once per `every_secs`): true if
    /// taken, false if another resync went out within that time.
    pub async fn claim_packages_resync(&self, id: &RouterId, now: i64, every_secs: i64) -> Result<bool, StoreError> {
        written(
            self.update_router(id)
                .update_expression("SET packages_resync_at = :now")
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(packages_resync_at) OR packages_resync_at < :since)",
                )
                .expression_attribute_values(":now", n(now))
                .expression_attribute_values(":since", n(now - every_secs))
                .send()
                .await,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(theirs: Option<&str>, ours: Option<&str>, heard: bool) -> FleetRow {
        let router = RouterRecord {
            id: "cafe-a".parse().unwrap(),
            name: "Cafe".into(),
            queue_url: "https://sqs.local/q.fifo".into(),
            key: RouterKey::generate(),
            created_at: 0,
            disabled_at: None,
            rotation: None,
            retiring_access_key: None,
            wallets: Default::default(),
            country: Default::default(),
        };
        let health = heard.then(|| RouterHealth {
            last_seen: 100,
            version: "0.1.0".into(),
            uptime_secs: 1,
            active_sessions: 0,
            ppp_sessions: 0,
            jobs_waiting: 0,
            clock_unset_secs: 0,
            selling: 3,
            selling_digest: theirs.map(str::to_string),
        });
        FleetRow { router, health, expected_digest: ours.map(str::to_string) }
    }

    #[test]
    fn in_step_only_when_both_sides_are_known_and_agree() {
        assert_eq!(row(Some("d1"), Some("d1"), true).packages_in_step(), Some(true));
        assert_eq!(row(Some("d1"), Some("d2"), true).packages_in_step(), Some(false));
        assert_eq!(row(Some("d1"), None, true).packages_in_step(), Some(false));
        assert_eq!(row(None, Some("d1"), true).packages_in_step(), None, "an agent too old to say");
        assert_eq!(row(None, None, false).packages_in_step(), None, "never heard from");
    }

    /// Records from before RADIUS mode read back as agent routers; a RADIUS-mode record has no
    /// queue; the two never mix.
    #[test]
    fn the_mode_follows_the_item() {
        use aws_sdk_dynamodb::types::AttributeValue as A;
        let key = RouterKey::generate();
        let item = |extra: &[(&str, &str)]| -> Item {
            let mut i: Item = [("pk", "ROUTER#cafe-a"), ("router_id", "cafe-a"), ("name", "Cafe"), ("created_at", "1")]
                .iter()
                .map(|(k, v)| {
                    (k.to_string(), if *k == "created_at" { A::N(v.to_string()) } else { A::S(v.to_string()) })
                })
                .collect();
            i.insert("key_hex".into(), A::S(key.to_hex()));
            for (k, v) in extra {
                i.insert(k.to_string(), A::S(v.to_string()));
            }
            i
        };
        let old = parse_router(&item(&[("queue_url", "https://sqs.local/q.fifo")])).unwrap();
        assert_eq!(old.mode(), RouterMode::Agent);
        let radius = parse_router(&item(&[("mode", "radius")])).unwrap();
        assert_eq!((radius.mode(), radius.queue_url.as_str()), (RouterMode::Radius, ""));
        assert!(parse_router(&item(&[("mode", "radius"), ("queue_url", "https://q")])).is_err());
        assert!(parse_router(&item(&[("mode", "agent")])).is_err(), "an agent router needs its queue");
        assert!(parse_router(&item(&[("mode", "radius")])).is_ok());
        assert!(parse_router(&item(&[("mode", "other"), ("queue_url", "https://q")])).is_err());
    }
}
