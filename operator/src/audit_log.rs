//! `hotspotctl audit`: who did what, when.

use crate::Error;
use crate::cli::AuditArgs;
use crate::context::{Ctx, now};
use crate::dates::{Day, minute};

pub async fn show(ctx: &Ctx, a: &AuditArgs) -> Result<String, Error> {
    let today = Day::of(now(), ctx.offset);
    let to = a.to.unwrap_or(today);
    let from = a.from.unwrap_or(to.add_days(-30));
    if to < from {
        return Err(Error::Usage(format!("--to {to} is before --from {from}")));
    }
    let entries = ctx.store.list_audit(from.start(ctx.offset), to.end(ctx.offset), a.who.as_deref()).await?;
    println!("{:<17} {:<8} {:<18} {:<22} {:<50} DETAIL", "WHEN", "RESULT", "ACTION", "ROLE", "WHO");
    for e in &entries {
        println!(
            "{:<17} {:<8} {:<18} {:<22} {:<50} {}",
            minute(e.at, ctx.offset),
            e.result.as_str(),
            e.action,
            e.role,
            e.who,
            e.detail.escape_debug()
        );
        if let Some(argv) = e.args.get("argv") {
            println!("{:<17} {}", "", argv.escape_debug());
        }
    }
    println!(
        "{} entr{} from {from} to {to} (UTC{})",
        entries.len(),
        if entries.len() == 1 { "y" } else { "ies" },
        ctx.offset
    );
    Ok(format!("{} entries", entries.len()))
}
