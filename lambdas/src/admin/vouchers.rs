//! Vouchers on the dashboard: pick a router, generate a batch of a package on sale (the same
//! `hotspot_cloud::vouchers::issue` as `hotspotctl voucher generate`), and download a batch's
//! sheet as PDF with the portal address in its QR codes.
//!
//!   GET  /admin/vouchers                          routers the operator may print for
//!   GET  /admin/vouchers/{router}                 packages, the generate form, the batches
//!   POST /admin/vouchers/{router}                 generate (package, count)
//!   GET  /admin/vouchers/{router}/{batch}         the batch's codes: which are used, when, by what device
//!   GET  /admin/vouchers/{router}/{batch}/pdf     the sheet (?portal=http://…)

use std::collections::BTreeMap;

use hotspot_cloud::access::Action;
use hotspot_cloud::store::{AuditResult, RouterRecord, StoreError};
use hotspot_cloud::vouchers::{self, IssueError, pdf, sheet};
use hotspot_core::{PackageId, VoucherCode};

use super::html::{self, Chrome};
use super::{Admin, Download, Page, Req, Who, allowed, form, not_found};

/// A batch is issued inside one request: API Gateway gives it 30 s, so the dashboard makes at most
/// this many codes at once (10 jobs); the CLI makes up to 10,000.
pub const MAX_DASHBOARD_COUNT: u32 = 1000;

impl Admin<'_> {
    pub(super) async fn vouchers(
        &self,
        req: &Req<'_>,
        rest: &str,
        chrome: &Chrome<'_>,
        who: &Who,
        now: i64,
    ) -> Result<Page, StoreError> {
        let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        match (req.method, parts.as_slice()) {
            ("GET", []) => self.router_chooser(chrome, who, Action::VoucherList, "Vouchers", "/admin/vouchers").await,
            (method, [router, tail @ ..]) => {
                let Some(r) = self.router_in_scope(who, Action::VoucherList, router).await? else {
                    return Ok(not_found());
                };
                match (method, tail) {
                    ("GET", []) => self.show_vouchers(chrome, &r, None).await,
                    ("POST", []) => self.generate_vouchers(req, chrome, who, &r, now).await,
                    ("GET", [batch]) => self.batch_codes(chrome, &r, batch).await,
                    ("GET", [batch, "pdf"]) => self.sheet_pdf(req, chrome, who, &r, batch, now).await,
                    _ => Ok(not_found()),
                }
            }
            _ => Ok(not_found()),
        }
    }

    async fn show_vouchers(
        &self,
        chrome: &Chrome<'_>,
        r: &RouterRecord,
        note: Option<(&str, bool)>,
    ) -> Result<Page, StoreError> {
        let packages = self.store.list_packages(&r.id).await?;
        let batches = self.store.list_voucher_batches(&r.id).await?;
        let view = html::VoucherView {
            router: r,
            packages: &packages,
            batches: &batches,
            note,
            offset: super::OFFSET_SECS,
            max_count: MAX_DASHBOARD_COUNT,
        };
        let status = if note.is_some_and(|(_, e)| e) { 409 } else { 200 };
        Ok(Page::html(status, html::voucher_page(chrome, &view)))
    }

    async fn generate_vouchers(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        r: &RouterRecord,
        now: i64,
    ) -> Result<Page, StoreError> {
        if allowed(who, Action::VoucherGenerate, Some(&r.id)).is_none() {
            return Ok(not_found());
        }
        let f = form(req.body);
        let package = f.get("package").and_then(|p| p.parse::<PackageId>().ok());
        let count = f.get("count").and_then(|c| c.trim().parse::<u32>().ok());
        let (Some(package), Some(count)) = (package, count.filter(|c| (1..=MAX_DASHBOARD_COUNT).contains(c))) else {
            let why = format!("Choose a package and a count of 1 to {MAX_DASHBOARD_COUNT}; nothing was changed.");
            return self.show_vouchers(chrome, r, Some((&why, true))).await;
        };
        let issue = vouchers::Issue {
            router: r,
            package: &package,
            count,
            length: VoucherCode::MIN_GENERATED_LEN,
            by: &who.op.arn,
        };
        let out = vouchers::issue(self.store, self.sqs, &issue, now, |_| {}).await;
        let mut args = BTreeMap::from([
            ("router".to_string(), r.id.to_string()),
            ("package".to_string(), package.to_string()),
            ("count".to_string(), count.to_string()),
        ]);
        let (result, note, error) = match out {
            Ok(b) => {
                args.insert("batch".into(), b.batch_id.clone());
                (AuditResult::Ok, format!("Batch {}: {} voucher(s) pushed to the router.", b.batch_id, b.pushed), false)
            }
            Err(IssueError::Store(e)) => return Err(e),
            Err(e @ IssueError::Refused(_)) => (AuditResult::Refused, e.to_string(), true),
            Err(e @ IssueError::Partial { .. }) => {
                tracing::error!(error = %e, "voucher batch stopped part way");
                if let IssueError::Partial { batch_id, .. } = &e {
                    args.insert("batch".into(), batch_id.clone());
                }
                (AuditResult::Error, e.to_string(), true)
            }
        };
        self.audit_action(who, Action::VoucherGenerate, args, result, &note, now).await?;
        self.show_vouchers(chrome, r, Some((&note, error))).await
    }

    /// A batch's codes, each used (when, on which device) or not: the router reports a voucher's
    /// first session, and the events function marks it.
    async fn batch_codes(&self, chrome: &Chrome<'_>, r: &RouterRecord, batch: &str) -> Result<Page, StoreError> {
        if !is_batch_id(batch) {
            return Ok(not_found());
        }
        let codes = self.store.list_vouchers(&r.id, Some(batch)).await?;
        if codes.is_empty() {
            return Ok(not_found());
        }
        Ok(Page::html(200, html::batch_page(chrome, r, batch, &codes, super::OFFSET_SECS)))
    }

    async fn sheet_pdf(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        r: &RouterRecord,
        batch: &str,
        now: i64,
    ) -> Result<Page, StoreError> {
        if allowed(who, Action::VoucherExport, Some(&r.id)).is_none() {
            return Ok(not_found());
        }
        if !is_batch_id(batch) {
            return Ok(not_found());
        }
        let portal = form(req.query.as_bytes()).remove("portal").unwrap_or_default();
        let portal = match vouchers::portal_url(portal.trim()) {
            Ok(p) => p.to_string(),
            Err(why) => {
                return self.show_vouchers(chrome, r, Some((&format!("{why}; nothing was changed."), true))).await;
            }
        };
        let codes = self.store.list_vouchers(&r.id, Some(batch)).await?;
        if codes.is_empty() {
            return Ok(not_found());
        }
        let bytes = match pdf::pdf(&codes, &sheet::SheetInfo { router_name: &r.name, portal_url: &portal }) {
            Ok(b) => b,
            Err(why) => return self.show_vouchers(chrome, r, Some((&why, true))).await,
        };
        let args = BTreeMap::from([
            ("router".to_string(), r.id.to_string()),
            ("batch".to_string(), batch.to_string()),
            ("format".to_string(), "pdf".to_string()),
        ]);
        let detail = format!("{} voucher(s) exported", codes.len());
        self.audit_action(who, Action::VoucherExport, args, AuditResult::Ok, &detail, now).await?;
        Ok(Page::download(Download { content_type: "application/pdf", file_name: format!("{batch}.pdf"), bytes }))
    }
}

/// A batch id is `vb-YYYYMMDD-xxxxxx`: anything else names no batch.
fn is_batch_id(batch: &str) -> bool {
    batch.len() <= 40 && batch.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
