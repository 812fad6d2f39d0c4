//! Who operates the hotspots: adding an operator (with a dashboard sign-in by one-time invite),
//! changing their role, removing them. `hotspotctl operator` and the dashboard's operators page
//! both come here, so the rules (a staff member's router exists, a login name is taken once,
//! the last admin stays) are one set. Each refusal changes nothing.

use hotspot_core::RouterId;

use crate::access::scoped_role_of;
use crate::store::dashboard::{dashboard_arn, dashboard_login, new_token};
use crate::store::{LoginName, OperatorRecord, OperatorRole, ScopedRole, Store, StoreError};

/// How long an invite link works.
pub const INVITE_VALID_SECS: i64 = 7 * 86_400;

#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// Said to the operator as it is; nothing was written.
    #[error("{0}; nothing was changed")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refused(why: impl Into<String>) -> RosterError {
    RosterError::Refused(why.into())
}

/// A new operator: who (an AWS ARN, or none for a dashboard-only operator), as what, and the
/// dashboard login to create for them.
pub struct Enrolment<'a> {
    pub arn: Option<&'a str>,
    pub access: ScopedRole,
    pub login: Option<&'a LoginName>,
    pub by: &'a str,
}

/// What enrolling made: the record and, with a login, the invite token (the password-setting
/// secret: it goes to the person, never to a log).
pub struct Enrolled {
    pub record: OperatorRecord,
    pub invite: Option<String>,
}

async fn check_router(store: &Store, access: &ScopedRole) -> Result<(), RosterError> {
    match access.router() {
        Some(r) if store.get_router(r).await?.is_none() => Err(refused(format!("router {r} not found"))),
        _ => Ok(()),
    }
}

/// Adds an operator. The login first: a taken name stops there with nothing written; an
/// operator that already exists takes the login away again.
pub async fn enrol(store: &Store, e: &Enrolment<'_>, now: i64) -> Result<Enrolled, RosterError> {
    let arn = match (e.arn, e.login) {
        (Some(a), _) => a.to_string(),
        (None, Some(l)) => dashboard_arn(l),
        (None, None) => return Err(refused("an ARN or a login is needed")),
    };
    check_router(store, &e.access).await?;
    let mut invite = None;
    if let Some(login) = e.login {
        let token = new_token();
        store.create_login(login, &arn, &token, now + INVITE_VALID_SECS).await.map_err(|err| match err {
            StoreError::AlreadyExists(_) => refused(format!("login {login} is taken")),
            other => other.into(),
        })?;
        invite = Some(token);
    }
    let record =
        OperatorRecord { arn: arn.clone(), access: e.access.clone(), added_by: e.by.to_string(), added_at: now };
    if let Err(err) = store.add_operator(&record).await {
        if let Some(login) = e.login {
            store.delete_login(login).await?;
        }
        return Err(match err {
            StoreError::AlreadyExists(_) => {
                refused(format!("{arn} is already an operator (change their role instead)"))
            }
            other => other.into(),
        });
    }
    Ok(Enrolled { record, invite })
}

/// Is `arn` the only admin among `ops`?
fn last_admin(ops: &[OperatorRecord], arn: &str) -> bool {
    let admins: Vec<&OperatorRecord> = ops.iter().filter(|o| o.access == ScopedRole::Admin).collect();
    admins.len() == 1 && admins[0].arn == arn
}

/// The operator `arn` as stored, unless they are not one or are the last admin (whom neither a
/// removal nor another role may take away).
async fn not_the_last_admin(store: &Store, arn: &str) -> Result<OperatorRecord, RosterError> {
    let Some(target) = store.get_operator(arn).await? else {
        return Err(refused(format!("{arn} is not an operator")));
    };
    if target.access == ScopedRole::Admin && last_admin(&store.list_operators().await?, arn) {
        return Err(refused(format!("{arn} is the last admin: make another operator admin first")));
    }
    Ok(target)
}

/// Removes an operator and their dashboard login; their signed-in sessions stop at their next
/// request. Returns what they were.
pub async fn dismiss(store: &Store, arn: &str) -> Result<OperatorRecord, RosterError> {
    let target = not_the_last_admin(store, arn).await?;
    store.remove_operator(arn).await?;
    if let Some(login) = dashboard_login(arn) {
        store.delete_login(&login).await?;
    }
    Ok(target)
}

/// Gives an operator another role. Returns what they were.
pub async fn change_role(store: &Store, arn: &str, to: &ScopedRole) -> Result<OperatorRecord, RosterError> {
    let target = not_the_last_admin(store, arn).await?;
    if &target.access == to {
        return Err(refused(format!("{arn} already is {to}")));
    }
    check_router(store, to).await?;
    store.set_operator_role(arn, &target.access, to).await.map_err(|e| match e {
        StoreError::NotFound(_) => refused(format!("{arn} was changed meanwhile: look again")),
        other => other.into(),
    })?;
    Ok(target)
}

/// A new one-time link for a dashboard-only operator (a lost link, a forgotten password): the
/// password stays until the link is used.
pub async fn reinvite(store: &Store, arn: &str, now: i64) -> Result<(LoginName, String), RosterError> {
    let Some(login) = dashboard_login(arn) else { return Err(refused(format!("{arn} has no dashboard login"))) };
    if store.get_operator(arn).await?.is_none() || store.get_login(&login).await?.is_none() {
        return Err(refused(format!("{arn} is not an operator")));
    }
    let token = new_token();
    store.put_invite(&login, &token, now + INVITE_VALID_SECS).await?;
    Ok((login, token))
}

/// The role a form asked for: a role name and, for staff only, their router (a router chosen
/// with another role is not theirs to keep, so it is ignored). The rule is `scoped_role_of`'s.
pub fn requested_role(role: &str, router: Option<&str>) -> Result<ScopedRole, String> {
    let role: OperatorRole = role.parse().map_err(|_| "the role is admin, manager or staff".to_string())?;
    let router = match router.map(str::trim).filter(|r| !r.is_empty() && role == OperatorRole::Staff) {
        Some(r) => Some(r.parse::<RouterId>().map_err(|e| format!("router: {e}"))?),
        None => None,
    };
    // With the router kept for staff only, the one refusal left is staff without one.
    scoped_role_of(role, router).map_err(|_| "staff work at one router: choose it".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(arn: &str, access: ScopedRole) -> OperatorRecord {
        OperatorRecord { arn: arn.into(), access, added_by: "x".into(), added_at: 0 }
    }

    #[test]
    fn only_the_sole_admin_is_the_last() {
        let ops = vec![op("a", ScopedRole::Admin), op("m", ScopedRole::Manager)];
        assert!(last_admin(&ops, "a"));
        assert!(!last_admin(&ops, "m"));
        let two = vec![op("a", ScopedRole::Admin), op("b", ScopedRole::Admin)];
        assert!(!last_admin(&two, "a"));
    }

    #[test]
    fn roles_from_forms() {
        assert_eq!(requested_role("manager", Some("")), Ok(ScopedRole::Manager));
        assert_eq!(requested_role("staff", Some("cafe-a")), Ok(ScopedRole::Staff("cafe-a".parse().unwrap())));
        assert!(requested_role("staff", None).is_err());
        assert_eq!(requested_role("admin", Some("cafe-a")), Ok(ScopedRole::Admin));
        assert!(requested_role("root", None).is_err());
        assert_eq!(dashboard_login("dashboard:amina").map(|l| l.to_string()), Some("amina".into()));
        assert_eq!(dashboard_login("arn:aws:iam::123456789012:user/x"), None);
    }
}
