//! `hotspotctl operator init | whoami | add | list | remove`.

use hotspot_cloud::store::{OperatorRecord, OperatorRole, ScopedRole, StoreError};

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

pub async fn add(
    ctx: &Ctx,
    arn: &str,
    role: OperatorRole,
    router: Option<hotspot_core::RouterId>,
) -> Result<String, Error> {
    check_arn(arn)?;
    let access = scoped_role_of(role, router).map_err(|e| Error::Usage(format!("{e}; nothing was changed")))?;
    if let Some(r) = access.router()
        && ctx.store.get_router(r).await?.is_none()
    {
        return Err(Error::Usage(format!("router {r} not found; nothing was changed")));
    }
    let rec =
        OperatorRecord { arn: arn.to_string(), access: access.clone(), added_by: ctx.arn.clone(), added_at: now() };
    ctx.store.add_operator(&rec).await.map_err(|e| match e {
        StoreError::AlreadyExists(_) => {
            Error::Usage(format!("{arn} is already an operator; remove them first to change their role"))
        }
        other => other.into(),
    })?;
    println!("{arn} is now {access}");
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
    println!("{arn} ({}) removed", target.access);
    Ok(format!("removed {arn} ({})", target.access))
}
