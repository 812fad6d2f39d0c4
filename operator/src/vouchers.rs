//! `hotspotctl voucher generate | list | export`. Codes come from the unambiguous alphabet
//! (no 0/O, 1/I/L); each batch of up to [`CODES_PER_JOB`] is recorded in the table and pushed to
//! the router as one `vouchers_batch` job, which the agent turns into hotspot users, so vouchers
//! work with the cloud unreachable. The agent starts a voucher's validity at its first use.

use std::io::Write;
use std::path::Path;

use hotspot_cloud::vouchers::{self, CODES_PER_JOB, IssueError, pdf, sheet};
use hotspot_core::{PackageId, RouterId};

use crate::Error;
use crate::cli::ExportFormat;
use crate::context::{Ctx, now};
use crate::packages::router;
use crate::progress::Progress;

pub struct GenerateArgs<'a> {
    pub router: &'a RouterId,
    pub package: &'a PackageId,
    pub count: u32,
    pub length: usize,
}

pub async fn generate(ctx: &Ctx, a: &GenerateArgs<'_>) -> Result<String, Error> {
    vouchers::check(a.count, a.length).map_err(issue_error)?;
    let r = router(ctx, a.router).await?;
    let total = a.count as usize;
    let mut progress = Progress::new(total as u64, "codes", total > CODES_PER_JOB);
    let mut shown = 0usize;
    let issue = vouchers::Issue { router: &r, package: a.package, count: a.count, length: a.length, by: &ctx.arn };
    let batch = vouchers::issue(&ctx.store, &ctx.sqs, &issue, now(), |pushed| {
        progress.advance((pushed - shown) as u64);
        shown = pushed;
    })
    .await
    .map_err(issue_error)?;
    let package = &batch.package;
    println!(
        "batch {} : {} voucher(s) for {} ({}, {}) pushed to router {} in {} job(s)",
        batch.batch_id,
        batch.pushed,
        package.id(),
        package.name().escape_debug(),
        package.price(),
        r.id,
        total.div_ceil(CODES_PER_JOB)
    );
    println!(
        "print them: hotspotctl voucher export --router {} --batch {} --out {}.html --portal-url <portal address>",
        r.id, batch.batch_id, batch.batch_id
    );
    Ok(format!("batch {}: {} voucher(s) of {}", batch.batch_id, batch.pushed, package.id()))
}

fn issue_error(e: IssueError) -> Error {
    match e {
        IssueError::Refused(_) => Error::Usage(e.to_string()),
        IssueError::Partial { .. } => Error::JobNotSent { what: e.to_string() },
        IssueError::Store(e) => Error::Store(e),
    }
}

pub async fn list(ctx: &Ctx, router_id: &RouterId) -> Result<String, Error> {
    let r = router(ctx, router_id).await?;
    let batches = ctx.store.list_voucher_batches(&r.id).await?;
    println!("{:<20} {:<17} {:<10} {:>7} {:>7}  BY", "BATCH", "CREATED", "PACKAGE", "COUNT", "PUSHED");
    for b in &batches {
        println!(
            "{:<20} {:<17} {:<10} {:>7} {:>7}  {}",
            b.batch_id,
            crate::dates::minute(b.created_at, ctx.offset),
            b.package.id(),
            b.count,
            b.pushed,
            b.created_by
        );
    }
    println!("{} batch(es)", batches.len());
    Ok(format!("{} batch(es)", batches.len()))
}

pub struct ExportArgs<'a> {
    pub router: &'a RouterId,
    pub batch: Option<&'a str>,
    pub format: ExportFormat,
    pub out: &'a Path,
    pub portal_url: Option<&'a str>,
}

fn portal(url: Option<&str>) -> Result<&str, Error> {
    let url =
        url.ok_or_else(|| Error::Usage("--portal-url (or HOTSPOT_PORTAL_URL) is needed for the QR code".into()))?;
    vouchers::portal_url(url).map_err(Error::Usage)
}

pub async fn export(ctx: &Ctx, a: &ExportArgs<'_>) -> Result<String, Error> {
    let url = match a.format {
        ExportFormat::Html | ExportFormat::Pdf => Some(portal(a.portal_url)?),
        ExportFormat::Csv => None,
    };
    let r = router(ctx, a.router).await?;
    let vouchers = ctx.store.list_vouchers(&r.id, a.batch).await?;
    if vouchers.is_empty() {
        return Err(Error::Usage(match a.batch {
            Some(b) => format!("no vouchers in batch {b:?} at {}", r.id),
            None => format!("no vouchers at {}", r.id),
        }));
    }
    let bytes = match (a.format, url) {
        (ExportFormat::Html, Some(url)) => {
            sheet::html(&vouchers, &sheet::SheetInfo { router_name: &r.name, portal_url: url })
                .map_err(Error::Usage)?
                .into_bytes()
        }
        (ExportFormat::Pdf, Some(url)) => {
            pdf::pdf(&vouchers, &sheet::SheetInfo { router_name: &r.name, portal_url: url }).map_err(Error::Usage)?
        }
        _ => crate::sheet::csv(&vouchers, ctx.offset).into_bytes(),
    };
    write_new(a.out, &bytes)?;
    println!("{} voucher(s) written to {}", vouchers.len(), a.out.display());
    Ok(format!("{} voucher(s) exported", vouchers.len()))
}

/// Writes a file that must not exist yet.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io { what: format!("cannot write {} (it must not exist yet)", path.display()), source };
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(io)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io)
}
