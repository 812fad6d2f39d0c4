//! The dashboard's sign-ins: a login name bound to an operator (its ARN, which the audit log
//! names), its argon2id password hash, one-time invites that set the password, and sessions.
//! Invite and session tokens are stored only as SHA-256 digests: a table dump opens nothing.

use hotspot_core::ct;
use sha2::{Digest, Sha256};

use super::item::{Item, Reader, is_condition_failure, n, s, written};
use super::schema::META;
use super::table::{Store, StoreError};

/// A sign-in name: 3-64 of a-z, 0-9 and `.`, `_`, `-`, `@` (an e-mail address fits), lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoginName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a login name is 3-64 characters of a-z, 0-9, '.', '_', '-' and '@'")]
pub struct BadLoginName;

impl std::str::FromStr for LoginName {
    type Err = BadLoginName;
    fn from_str(s: &str) -> Result<Self, BadLoginName> {
        let s = s.trim().to_ascii_lowercase();
        let ok = (3..=64).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@".contains(&b));
        ok.then_some(LoginName(s)).ok_or(BadLoginName)
    }
}

impl LoginName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for LoginName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ARN the audit log names for an operator who has only a dashboard sign-in.
pub fn dashboard_arn(login: &LoginName) -> String {
    format!("dashboard:{login}")
}

/// The login of a dashboard-only operator, from the ARN [`dashboard_arn`] gave it.
pub fn dashboard_login(arn: &str) -> Option<LoginName> {
    arn.strip_prefix("dashboard:").and_then(|l| l.parse().ok())
}

/// A login: who it signs in as, and its password hash once the invite was taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    pub login: LoginName,
    pub arn: String,
    /// The PHC string (`$argon2id$…`); `None` until the invite sets it.
    pub password_hash: Option<String>,
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSession {
    pub login: LoginName,
    pub arn: String,
    /// Every form of the session carries it; a POST without it is refused.
    pub csrf: String,
    pub expires_at: i64,
}

/// A new bearer token (an invite, a session, a CSRF token): 32 random bytes in hex.
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The stored form of a bearer token.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn login_pk(l: &LoginName) -> String {
    format!("LOGIN#{l}")
}
fn invite_pk(token: &str) -> String {
    format!("INVITE#{}", token_digest(token))
}
fn session_pk(token: &str) -> String {
    format!("ADMINSESSION#{}", token_digest(token))
}

fn parse_login(item: &Item) -> Result<LoginRecord, StoreError> {
    let r = Reader::new(item);
    Ok(LoginRecord {
        login: r.parse("login")?,
        arn: r.str("arn")?.to_string(),
        password_hash: r.opt_str("password_hash")?.map(str::to_string),
    })
}

impl Store {
    /// Creates a login for `arn` with an invite valid until `expires_at`. Refuses a taken name.
    pub async fn create_login(
        &self,
        login: &LoginName,
        arn: &str,
        invite_token: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let res = self
            .db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(login_pk(login)))
            .item("sk", s(META))
            .item("login", s(login.as_str()))
            .item("arn", s(arn))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match res {
            Ok(_) => {}
            Err(e) if is_condition_failure(&e) => return Err(StoreError::AlreadyExists(format!("login {login}"))),
            Err(e) => return Err(StoreError::dynamo(e)),
        }
        self.put_invite(login, invite_token, expires_at).await
    }

    /// A new one-time invite for an existing login (a lost link, a forgotten password).
    pub async fn put_invite(&self, login: &LoginName, token: &str, expires_at: i64) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(invite_pk(token)))
            .item("sk", s(META))
            .item("login", s(login.as_str()))
            .item("expires_at", n(expires_at))
            .item("ttl", n(expires_at + 86_400))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    pub async fn get_login(&self, login: &LoginName) -> Result<Option<LoginRecord>, StoreError> {
        self.get_item(login_pk(login), META).await?.as_ref().map(parse_login).transpose()
    }

    /// The login an invite is for, while it is valid (not used, not expired).
    pub async fn invite_login(&self, token: &str, now: i64) -> Result<Option<LoginName>, StoreError> {
        let Some(item) = self.get_item(invite_pk(token), META).await? else { return Ok(None) };
        let r = Reader::new(&item);
        if r.i64("expires_at")? <= now {
            return Ok(None);
        }
        Ok(Some(r.parse("login")?))
    }

    /// Takes the invite (deletes it, once) and sets the login's password hash. False when the
    /// invite was already taken, expired, or is not for a login that exists.
    pub async fn accept_invite(
        &self,
        token: &str,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<LoginName>, StoreError> {
        let Some(login) = self.invite_login(token, now).await? else { return Ok(None) };
        let taken = self
            .db
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(invite_pk(token)))
            .key("sk", s(META))
            .condition_expression("attribute_exists(pk) AND expires_at > :now")
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        if !written(taken)? {
            return Ok(None);
        }
        let set = self
            .db
            .update_item()
            .table_name(&self.table)
            .key("pk", s(login_pk(&login)))
            .key("sk", s(META))
            .update_expression("SET password_hash = :h")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":h", s(password_hash))
            .send()
            .await;
        Ok(written(set)?.then_some(login))
    }

    /// Removes a login and with it the way in (its sessions end at their next request, which
    /// finds no operator behind them).
    pub async fn delete_login(&self, login: &LoginName) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(login_pk(login)))
            .key("sk", s(META))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    pub async fn create_dashboard_session(&self, token: &str, sess: &DashboardSession) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .item("pk", s(session_pk(token)))
            .item("sk", s(META))
            .item("login", s(sess.login.as_str()))
            .item("arn", s(&sess.arn))
            .item("csrf", s(&sess.csrf))
            .item("expires_at", n(sess.expires_at))
            .item("ttl", n(sess.expires_at + 3600))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// The session a cookie's token opens, while it has not expired.
    pub async fn dashboard_session(&self, token: &str, now: i64) -> Result<Option<DashboardSession>, StoreError> {
        let Some(item) = self.get_item(session_pk(token), META).await? else { return Ok(None) };
        let r = Reader::new(&item);
        let sess = DashboardSession {
            login: r.parse("login")?,
            arn: r.str("arn")?.to_string(),
            csrf: r.str("csrf")?.to_string(),
            expires_at: r.i64("expires_at")?,
        };
        Ok((sess.expires_at > now).then_some(sess))
    }

    pub async fn end_dashboard_session(&self, token: &str) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(session_pk(token)))
            .key("sk", s(META))
            .send()
            .await
            .map_err(StoreError::dynamo)?;
        Ok(())
    }

    /// Counts a failed sign-in for a login name and for the address it came from; `Limited`
    /// once either has had `limit` in the window.
    pub async fn take_signin_slot(
        &self,
        key: &str,
        limit: i64,
        window_secs: i64,
        now: i64,
    ) -> Result<super::Slot, StoreError> {
        let window = now - now.rem_euclid(window_secs);
        let pk = format!("RATE#SIGNIN#{}#{window}", token_digest(key));
        self.count_in_window(pk, META.into(), limit, window + window_secs, now).await
    }
}

/// Compares a form's CSRF token with the session's in constant time.
pub fn csrf_matches(session: &DashboardSession, given: &str) -> bool {
    ct::eq(session.csrf.as_bytes(), given.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names() {
        assert_eq!("Wanjiku@Cafe.ke".parse::<LoginName>().map(|l| l.0), Ok("wanjiku@cafe.ke".into()));
        for bad in ["ab", "a b c", "<script>", "x".repeat(65).as_str(), "name;drop"] {
            assert_eq!(bad.parse::<LoginName>(), Err(BadLoginName), "{bad}");
        }
    }
}
