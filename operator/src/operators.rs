//! `hotspotctl operator init | whoami | add | role | list | remove`: the rules live in
//! `hotspot_cloud::roster`, shared with the dashboard.

use hotspot_cloud::roster::{self, Enrolment, RosterError};
use hotspot_cloud::store::{LoginName, OperatorRecord, OperatorRole, ScopedRole};

use crate::Error;
use crate::access::scoped_role_of;
use crate::context::{Ctx, now};

/// An ARN as STS reports it: `arn:aws:(iam|sts)::<account>:…`.
pub fn check_arn(arn: &str) -> Result<(), Error> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && matches!(parts[2], "iam" | "sts")
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty()
        && arn.len() <= 512
        && !arn.chars().any(|c| c.is_whitespace() || c.is_control());
    match ok {
        true => Ok(()),
        false => Err(Error::Usage(format!(
            "--arn must be an IAM or STS ARN as `aws sts get-caller-identity` prints it; got {arn:?}"
        ))),
    }
}

pub async fn init(ctx: &Ctx) -> Result<String, Error> {
    let me =
        OperatorRecord { arn: ctx.arn.clone(), access: ScopedRole::Admin, added_by: ctx.arn.clone(), added_at: now() };
    if ctx.store.bootstrap_admin(&me).await? {
        println!("you ({}) are now the first admin", ctx.arn);
        Ok("first admin".into())
    } else {
        Err(Error::Usage(
            "operators were already set up; nothing was changed (an admin adds you with `hotspotctl operator add`)"
                .into(),
        ))
    }
}

pub async fn whoami(ctx: &Ctx) -> Result<String, Error> {
    match &ctx.operator {
        Some(o) => println!("{} ({})", ctx.arn, o.access),
        None => println!("{} (not an operator)", ctx.arn),
    }
    Ok(String::new())
}

/// A dashboard sign-in to create with the operator.
pub struct Invite {
    login: LoginName,
    dashboard_url: String,
}

impl Invite {
    pub fn parse(login: &str, dashboard_url: &str) -> Result<Invite, Error> {
        let login: LoginName = login.parse().map_err(|e| Error::Usage(format!("--invite: {e}")))?;
        let url = dashboard_url.trim_end_matches('/');
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && !url.contains(['?', '#', ' '])
            && url.ends_with("/admin");
        if !ok {
            return Err(Error::Usage(format!(
                "--dashboard-url must be the dashboard's address ending in /admin, e.g. https://api.example.com/admin; got {dashboard_url:?}"
            )));
        }
        Ok(Invite { login, dashboard_url: url.to_string() })
    }
}

fn usage(e: RosterError) -> Error {
    match e {
        RosterError::Refused(_) => Error::Usage(e.to_string()),
        RosterError::Store(s) => s.into(),
    }
}

pub async fn add(
    ctx: &Ctx,
    arn: Option<&str>,
    role: OperatorRole,
    router: Option<hotspot_core::RouterId>,
    invite: Option<Invite>,
) -> Result<String, Error> {
    if let Some(a) = arn {
        check_arn(a)?;
    } else if invite.is_none() {
        return Err(Error::Usage("--arn or --invite is needed; nothing was changed".into()));
    }
    let access = scoped_role_of(role, router).map_err(|e| Error::Usage(format!("{e}; nothing was changed")))?;
    let e = Enrolment { arn, access, login: invite.as_ref().map(|i| &i.login), by: &ctx.arn };
    let done = roster::enrol(&ctx.store, &e, now()).await.map_err(usage)?;
    let (arn, access) = (&done.record.arn, &done.record.access);
    println!("{arn} is now {access}");
    if let (Some(i), Some(token)) = (&invite, &done.invite) {
        // The link is the password-setting secret: it goes to the person, never to a log.
        println!(
            "dashboard sign-in {}: send them this link (one use, valid 7 days):\n{}/invite?t={token}",
            i.login, i.dashboard_url
        );
    }
    Ok(format!("added {arn} as {access}"))
}

/// `operator role`: another role for an operator (admin); the last admin stays one.
pub async fn set_role(
    ctx: &Ctx,
    arn: &str,
    role: OperatorRole,
    router: Option<hotspot_core::RouterId>,
) -> Result<String, Error> {
    let to = scoped_role_of(role, router).map_err(|e| Error::Usage(format!("{e}; nothing was changed")))?;
    let was = roster::change_role(&ctx.store, arn, &to).await.map_err(usage)?;
    println!("{arn} was {}, is now {to}", was.access);
    Ok(format!("{arn}: {} -> {to}", was.access))
}

pub async fn list(ctx: &Ctx) -> Result<String, Error> {
    let ops = ctx.store.list_operators().await?;
    println!("{:<60} {:<22} {:<17} ADDED BY", "ARN", "ROLE", "ADDED");
    for o in &ops {
        println!(
            "{:<60} {:<22} {:<17} {}",
            o.arn,
            o.access.to_string(),
            crate::dates::minute(o.added_at, ctx.offset),
            o.added_by
        );
    }
    println!("{} operator(s)", ops.len());
    Ok(format!("{} operator(s)", ops.len()))
}

pub async fn remove(ctx: &Ctx, arn: &str) -> Result<String, Error> {
    let gone = roster::dismiss(&ctx.store, arn).await.map_err(usage)?;
    println!("{arn} ({}) removed", gone.access);
    Ok(format!("removed {arn} ({})", gone.access))
}
