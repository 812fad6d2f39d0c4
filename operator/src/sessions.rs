//! `hotspotctl session list | disconnect | extend`: the `live` sessions (paid, not yet revoked),
//! ended with a `revoke` job or given more time with an `extend` job.

use hotspot_cloud::desk::DeskError;
use hotspot_core::{PurchaseId, RosDuration, RouterId};

use crate::Error;
use crate::access::Scope;
use crate::context::{Ctx, now};
use crate::packages::router;

fn left(expires_at: i64, now: i64) -> String {
    let s = expires_at - now;
    match s {
        ..=0 => "expired (ending)".into(),
        1..=5999 => format!("{}m", (s + 59) / 60),
        6000..=172_799 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
    }
}

pub async fn list(ctx: &Ctx, scope: &Scope, named: Option<&RouterId>) -> Result<String, Error> {
    let router = scope.router(named);
    let mut sessions = ctx.store.list_live_sessions(router.as_ref()).await?;
    sessions.sort_by(|a, b| (&a.router_id, a.expires_at).cmp(&(&b.router_id, b.expires_at)));
    let t = now();
    println!(
        "{:<26} {:<20} {:<18} {:<8} {:<17} {:<17} {:<10}",
        "ID", "ROUTER", "MAC", "PACKAGE", "PAID", "EXPIRES", "LEFT"
    );
    for s in &sessions {
        println!(
            "{:<26} {:<20} {:<18} {:<8} {:<17} {:<17} {:<10}",
            s.purchase_id,
            s.router_id,
            s.mac,
            s.package_id,
            crate::dates::minute(s.paid_at, ctx.offset),
            crate::dates::minute(s.expires_at, ctx.offset),
            left(s.expires_at, t)
        );
    }
    println!("{} live session(s)", sessions.len());
    Ok(format!("{} session(s)", sessions.len()))
}

pub async fn disconnect(ctx: &Ctx, router_id: &RouterId, id: &PurchaseId) -> Result<String, Error> {
    let r = router(ctx, router_id).await?;
    match hotspot_cloud::desk::disconnect(&ctx.store, &ctx.sqs, &r, id, &ctx.arn, now()).await {
        Ok(true) => println!("session {id} at {} disconnected (revoke job sent)", r.id),
        Ok(false) => println!("session {id} had already ended; the router was told again"),
        Err(DeskError::Store(e)) => return Err(e.into()),
        Err(DeskError::Job(e)) => return Err(Error::JobNotSent { what: format!("nothing was changed: {e}") }),
        Err(DeskError::Refused(why)) => return Err(Error::Usage(why)),
    }
    Ok(format!("disconnected {id}"))
}

pub async fn extend(ctx: &Ctx, router_id: &RouterId, id: &PurchaseId, by: RosDuration) -> Result<String, Error> {
    if by.is_zero() {
        return Err(Error::Usage("--by must be longer than zero; nothing was changed".into()));
    }
    let r = router(ctx, router_id).await?;
    let new = match hotspot_cloud::desk::extend_session(&ctx.store, &ctx.sqs, &r, id, by, now()).await {
        Ok(new) => new,
        Err(DeskError::Store(e)) => return Err(e.into()),
        Err(DeskError::Job(e)) => return Err(Error::JobNotSent { what: format!("nothing was changed: {e}") }),
        Err(DeskError::Refused(why)) => return Err(Error::Usage(why)),
    };
    println!("session {id} at {} extended by {by}: now ends {}", r.id, crate::dates::minute(new, ctx.offset));
    Ok(format!("extended {id} by {by} to {new}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_left() {
        assert_eq!(super::left(100, 100), "expired (ending)");
        assert_eq!(super::left(100 + 61, 100), "2m");
        assert_eq!(super::left(100 + 3 * 3600 + 5 * 60, 100), "3h05m");
        assert_eq!(super::left(100 + 2 * 86400 + 3600, 100), "2d1h");
    }
}
