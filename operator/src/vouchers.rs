//! `hotspotctl voucher generate | list | export`. Codes come from the unambiguous alphabet
//! (no 0/O, 1/I/L); each batch of up to [`CODES_PER_JOB`] is recorded in the table and pushed to
//! the router as one `vouchers_batch` job, which the agent turns into hotspot users, so vouchers
//! work with the cloud unreachable. The agent starts a voucher's validity at its first use.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use hotspot_cloud::store::{StoreError, VoucherBatchRecord, VoucherRecord};
use hotspot_core::wire::{Payload, VouchersBatch};
use hotspot_core::{MessageId, PackageId, RouterId, VoucherCode};

use crate::Error;
use crate::cli::ExportFormat;
use crate::context::{Ctx, now};
use crate::packages::router;
use crate::progress::Progress;
use crate::sheet;

/// Codes per `vouchers_batch` job (and per table write).
pub const CODES_PER_JOB: usize = 100;
pub const MAX_COUNT: u32 = 10_000;
/// Tries to write a chunk whose random codes collided with codes the router already has.
const COLLISION_TRIES: usize = 5;

fn batch_id(at: i64) -> String {
    let day = hotspot_core::calendar::day_string(at, 0).replace('-', "");
    format!("vb-{day}-{}", hex::encode(rand::random::<[u8; 3]>()))
}

fn fresh_codes(n: usize, len: usize, seen: &mut HashSet<VoucherCode>) -> Vec<VoucherCode> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let c = VoucherCode::generate(len);
        if seen.insert(c.clone()) {
            out.push(c);
        }
    }
    out
}

pub struct GenerateArgs<'a> {
    pub router: &'a RouterId,
    pub package: &'a PackageId,
    pub count: u32,
    pub length: usize,
}

/// What `voucher generate` refuses before it touches anything.
fn check_generate(count: u32, length: usize) -> Result<(), Error> {
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(Error::Usage(format!("--count must be 1 to {MAX_COUNT}; nothing was changed")));
    }
    let (min, max) = (VoucherCode::MIN_GENERATED_LEN, VoucherCode::MAX_LEN);
    if !(min..=max).contains(&length) {
        return Err(Error::Usage(format!(
            "--length must be {min} to {max} (shorter codes can be guessed); nothing was changed"
        )));
    }
    Ok(())
}

pub async fn generate(ctx: &Ctx, a: &GenerateArgs<'_>) -> Result<String, Error> {
    check_generate(a.count, a.length)?;
    let r = router(ctx, a.router).await?;
    let pkg = ctx
        .store
        .get_package(&r.id, a.package)
        .await?
        .ok_or_else(|| Error::Usage(format!("package {} not found at {}; nothing was changed", a.package, r.id)))?;
    if !pkg.on_sale {
        return Err(Error::Usage(format!("package {} at {} is retired; nothing was changed", a.package, r.id)));
    }
    let package = pkg.package;
    let t = now();
    let batch = VoucherBatchRecord {
        batch_id: batch_id(t),
        router_id: r.id.clone(),
        package: package.clone(),
        count: a.count,
        pushed: 0,
        created_at: t,
        created_by: ctx.arn.clone(),
    };
    ctx.store.put_voucher_batch(&batch).await?;
    let total = a.count as usize;
    let mut progress = Progress::new(total as u64, "codes", total > CODES_PER_JOB);
    let mut seen = HashSet::new();
    let mut pushed = 0usize;
    for (n, start) in (0..total).step_by(CODES_PER_JOB).enumerate() {
        let size = CODES_PER_JOB.min(total - start);
        let mut tries = 0;
        let codes = loop {
            let codes = fresh_codes(size, a.length, &mut seen);
            let records: Vec<VoucherRecord> = codes
                .iter()
                .map(|c| VoucherRecord {
                    code: c.clone(),
                    router_id: r.id.clone(),
                    batch_id: batch.batch_id.clone(),
                    package: package.clone(),
                    created_at: t,
                })
                .collect();
            match ctx.store.put_vouchers(&records).await {
                Ok(()) => break codes,
                Err(StoreError::AlreadyExists(_)) if tries + 1 < COLLISION_TRIES => tries += 1,
                Err(e) => return Err(partial(&batch, pushed, e.to_string())),
            }
        };
        let job = Payload::VouchersBatch(VouchersBatch {
            batch_id: batch.batch_id.clone(),
            package: package.clone(),
            codes: codes.clone(),
        });
        let id: MessageId = format!("vouchers:{}:{n}", batch.batch_id)
            .parse()
            .map_err(|e: hotspot_core::IdError| Error::Usage(e.to_string()))?;
        if let Err(e) = hotspot_cloud::jobs::send_job(&ctx.sqs, &r, id, job, now()).await {
            // Codes the router will never hold must not be printed.
            let cleanup = ctx.store.delete_vouchers(&r.id, &codes).await;
            let mut why = e.to_string();
            if let Err(d) = cleanup {
                why = format!(
                    "{why}; and removing the unsent codes failed too ({d}): do not print batch {}",
                    batch.batch_id
                );
            }
            return Err(partial(&batch, pushed, why));
        }
        pushed += codes.len();
        ctx.store.set_voucher_batch_pushed(&r.id, &batch.batch_id, pushed as u32).await?;
        progress.advance(codes.len() as u64);
    }
    println!(
        "batch {} : {} voucher(s) for {} ({}, KES {}) pushed to router {} in {} job(s)",
        batch.batch_id,
        pushed,
        package.id(),
        package.name().escape_debug(),
        package.price().get(),
        r.id,
        total.div_ceil(CODES_PER_JOB)
    );
    println!(
        "print them: hotspotctl voucher export --router {} --batch {} --out {}.html --portal-url <portal address>",
        r.id, batch.batch_id, batch.batch_id
    );
    Ok(format!("batch {}: {pushed} voucher(s) of {}", batch.batch_id, package.id()))
}

fn partial(batch: &VoucherBatchRecord, pushed: usize, why: String) -> Error {
    Error::JobNotSent {
        what: format!(
            "batch {} stopped after {pushed} of {} voucher(s) were pushed to the router ({why}); \
             the {pushed} pushed are recorded and can be exported, generate the rest again",
            batch.batch_id, batch.count
        ),
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
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && url.len() <= 200
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    match ok {
        true => Ok(url),
        false => {
            Err(Error::Usage(format!("--portal-url must be an http(s) URL of at most 200 characters; got {url:?}")))
        }
    }
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
            crate::sheet_pdf::pdf(&vouchers, &sheet::SheetInfo { router_name: &r.name, portal_url: url })
                .map_err(Error::Usage)?
        }
        _ => sheet::csv(&vouchers, ctx.offset).into_bytes(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes_and_odd_counts_are_refused() {
        assert!(check_generate(10, 8).is_ok() && check_generate(MAX_COUNT, 16).is_ok());
        for (count, length) in [(10, 6), (10, 7), (10, 17), (0, 8), (MAX_COUNT + 1, 8)] {
            let e = check_generate(count, length).unwrap_err().to_string();
            assert!(e.contains("nothing was changed"), "{count} {length}: {e}");
        }
        assert!(check_generate(10, 7).unwrap_err().to_string().contains("--length must be 8 to 16"));
    }
}
