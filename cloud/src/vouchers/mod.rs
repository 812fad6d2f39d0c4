//! Printed vouchers, for `hotspotctl voucher` and the dashboard alike: issuing a batch (codes from
//! the unambiguous alphabet, recorded in the table and pushed to the router as `vouchers_batch`
//! jobs of up to [`CODES_PER_JOB`], which the agent turns into hotspot users, so vouchers work
//! with the cloud unreachable) and the sheets they are printed from (HTML, PDF).

pub mod pdf;
pub mod sheet;

use std::collections::HashSet;

use hotspot_core::wire::{Payload, VouchersBatch};
use hotspot_core::{MessageId, PackageId, VoucherCode};

use crate::store::{RouterRecord, Store, StoreError, VoucherBatchRecord, VoucherRecord};

/// Codes per `vouchers_batch` job (and per table write).
pub const CODES_PER_JOB: usize = 100;
pub const MAX_COUNT: u32 = 10_000;
/// Tries to write a chunk whose random codes collided with codes the router already has.
const COLLISION_TRIES: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// Refused before anything was written.
    #[error("{0}; nothing was changed")]
    Refused(String),
    /// Stopped part way: the `pushed` codes are recorded and on the router's queue.
    #[error(
        "batch {batch_id} stopped after {pushed} of {count} voucher(s) were pushed to the router ({why}); \
         the {pushed} pushed are recorded and can be exported, generate the rest again"
    )]
    Partial { batch_id: String, pushed: u32, count: u32, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What to issue.
pub struct Issue<'a> {
    pub router: &'a RouterRecord,
    pub package: &'a PackageId,
    pub count: u32,
    pub length: usize,
    /// Who asked (an operator's ARN), kept on the batch.
    pub by: &'a str,
}

/// What a batch asks for, before anything is touched.
pub fn check(count: u32, length: usize) -> Result<(), IssueError> {
    if !(1..=MAX_COUNT).contains(&count) {
        return Err(IssueError::Refused(format!("the count must be 1 to {MAX_COUNT}")));
    }
    let (min, max) = (VoucherCode::MIN_GENERATED_LEN, VoucherCode::MAX_LEN);
    if !(min..=max).contains(&length) {
        return Err(IssueError::Refused(format!(
            "codes must be {min} to {max} characters long (shorter codes can be guessed)"
        )));
    }
    Ok(())
}

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

/// Issues a batch: records it, then each chunk of codes (new random codes if they collide with
/// the router's) and its job, and the batch's `pushed` count after each. `progress` is told how
/// many codes are pushed so far. A chunk whose job is not sent is deleted again: codes the router
/// will never hold must not be printed.
pub async fn issue(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    a: &Issue<'_>,
    now: i64,
    mut progress: impl FnMut(usize),
) -> Result<VoucherBatchRecord, IssueError> {
    check(a.count, a.length)?;
    let r = a.router;
    let pkg = store
        .get_package(&r.id, a.package)
        .await?
        .ok_or_else(|| IssueError::Refused(format!("package {} not found at {}", a.package, r.id)))?;
    if !pkg.on_sale {
        return Err(IssueError::Refused(format!("package {} at {} is retired", a.package, r.id)));
    }
    let package = pkg.package;
    let mut batch = VoucherBatchRecord {
        batch_id: batch_id(now),
        router_id: r.id.clone(),
        package: package.clone(),
        count: a.count,
        pushed: 0,
        used: 0,
        created_at: now,
        created_by: a.by.to_string(),
    };
    store.put_voucher_batch(&batch).await?;
    let partial = |pushed: usize, why: String| IssueError::Partial {
        batch_id: batch.batch_id.clone(),
        pushed: pushed as u32,
        count: a.count,
        why,
    };
    let total = a.count as usize;
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
                    created_at: now,
                    used: None,
                })
                .collect();
            match store.put_vouchers(&records).await {
                Ok(()) => break codes,
                Err(StoreError::AlreadyExists(_)) if tries + 1 < COLLISION_TRIES => tries += 1,
                Err(e) => return Err(partial(pushed, e.to_string())),
            }
        };
        let job = Payload::VouchersBatch(VouchersBatch {
            batch_id: batch.batch_id.clone(),
            package: package.clone(),
            codes: codes.clone(),
        });
        let id: MessageId = format!("vouchers:{}:{n}", batch.batch_id)
            .parse()
            .map_err(|e: hotspot_core::IdError| partial(pushed, e.to_string()))?;
        if let Err(e) = crate::jobs::send_job(sqs, r, id, job, now).await {
            let mut why = e.to_string();
            if let Err(d) = store.delete_vouchers(&r.id, &codes).await {
                why = format!(
                    "{why}; and removing the unsent codes failed too ({d}): do not print batch {}",
                    batch.batch_id
                );
            }
            return Err(partial(pushed, why));
        }
        pushed += codes.len();
        store.set_voucher_batch_pushed(&r.id, &batch.batch_id, pushed as u32).await?;
        progress(pushed);
    }
    batch.pushed = pushed as u32;
    Ok(batch)
}

/// A portal address fit for a QR code on a slip: http(s), short, nothing that breaks a line.
pub fn portal_url(url: &str) -> Result<&str, String> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && url.len() <= 200
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    match ok {
        true => Ok(url),
        false => Err(format!("the portal address must be an http(s) URL of at most 200 characters; got {url:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes_and_odd_counts_are_refused() {
        assert!(check(10, 8).is_ok() && check(MAX_COUNT, 16).is_ok());
        for (count, length) in [(10, 6), (10, 7), (10, 17), (0, 8), (MAX_COUNT + 1, 8)] {
            let e = check(count, length).unwrap_err().to_string();
            assert!(e.contains("nothing was changed"), "{count} {length}: {e}");
        }
        assert!(check(10, 7).unwrap_err().to_string().contains("codes must be 8 to 16 characters"));
    }

    #[test]
    fn portal_addresses_for_slips() {
        assert_eq!(portal_url("http://wifi.cafe/"), Ok("http://wifi.cafe/"));
        for bad in ["", "wifi.cafe", "https://", "javascript:alert(1)", "http://a b/", "http://a/\n"] {
            assert!(portal_url(bad).is_err(), "{bad:?}");
        }
        assert!(portal_url(&format!("http://{}", "a".repeat(200))).is_err());
    }
}
