//! `hotspotctl operator init | whoami | add | list | remove`.

use hotspot_cloud::store::dashboard::{dashboard_arn, new_token};
use hotspot_cloud::store::{LoginName, OperatorRecord, OperatorRole, ScopedRole, StoreError};

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

/// How long an invite link works.
const INVITE_VALID_SECS: i64 = 7 * 86_400;

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

pub async fn add(
    ctx: &Ctx,
    arn: Option<&str>,
    role: OperatorRole,
    router: Option<hotspot_core::RouterId>,
    invite: Option<Invite>,
) -> Result<String, Error> {
    let arn = match (arn, &invite) {
        (Some(a), _) => {
            check_arn(a)?;
            a.to_string()
        }
        (None, Some(i)) => dashboard_arn(&i.login),
        (None, None) => return Err(Error::Usage("--arn or --invite is needed; nothing was changed".into())),
    };
    let access = scoped_role_of(role, router).map_err(|e| Error::Usage(format!("{e}; nothing was changed")))?;
    if let Some(r) = access.router()
        && ctx.store.get_router(r).await?.is_none()
    {
        return Err(Error::Usage(format!("router {r} not found; nothing was changed")));
    }
    // The login first: a taken name stops here with nothing written.
    let mut link = None;
    if let Some(i) = &invite {
        if ctx.store.get_login(&i.login).await?.is_some() {
            return Err(Error::Usage(format!("login {} is taken; nothing was changed", i.login)));
        }
        let token = new_token();
        ctx.store.create_login(&i.login, &arn, &token, now() + INVITE_VALID_SECS).await.map_err(|e| match e {
            StoreError::AlreadyExists(_) => Error::Usage(format!("login {} is taken; nothing was changed", i.login)),
            other => other.into(),
        })?;
        link = Some(format!("{}/invite?t={token}", i.dashboard_url));
    }
    let rec = OperatorRecord { arn: arn.clone(), access: access.clone(), added_by: ctx.arn.clone(), added_at: now() };
    let added = ctx.store.add_operator(&rec).await;
    if let Err(e) = added {
        if let Some(i) = &invite {
            // Nothing half-made: the login goes again.
            ctx.store.delete_login(&i.login).await?;
        }
        return Err(match e {
            StoreError::AlreadyExists(_) => {
                Error::Usage(format!("{arn} is already an operator; remove them first to change their role"))
            }
            other => other.into(),
        });
    }
    println!("{arn} is now {access}");
    if let (Some(i), Some(link)) = (&invite, &link) {
        // The link is the password-setting secret: it goes to the person, never to a log.
        println!("dashboard sign-in {}: send them this link (one use, valid 7 days):\n{link}", i.login);
    }
    Ok(format!("added {arn} as {access}"))
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
    let ops = ctx.store.list_operators().await?;
    let Some(target) = ops.iter().find(|o| o.arn == arn) else {
        return Err(Error::Usage(format!("{arn} is not an operator; nothing was changed")));
    };
    if target.access == ScopedRole::Admin && ops.iter().filter(|o| o.access == ScopedRole::Admin).count() == 1 {
        return Err(Error::Usage(format!("{arn} is the last admin; add another admin first (nothing was changed)")));
    }
    ctx.store.remove_operator(arn).await?;
    if let Some(login) = arn.strip_prefix("dashboard:").and_then(|l| l.parse::<LoginName>().ok()) {
        ctx.store.delete_login(&login).await?;
    }
    println!("{arn} ({}) removed", target.access);
    Ok(format!("removed {arn} ({})", target.access))
}
