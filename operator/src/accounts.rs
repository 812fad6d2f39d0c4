//! `hotspotctl account add`: sells a subscriber account (`hotspot_cloud::accounts`) and prints
//! what the subscriber needs: the account number (their PPP user name and Paybill account
//! number), the password, and until when it runs.

use hotspot_cloud::accounts::{Sale, SellError, sell};
use hotspot_cloud::renewal::OddAmount;
use hotspot_core::phone::PhoneNumber;
use hotspot_core::{PackageId, RouterId};

use crate::Error;
use crate::context::{Ctx, now};
use crate::dates::Until;

pub struct AddArgs<'a> {
    pub router: &'a RouterId,
    pub package: &'a PackageId,
    pub service: &'a str,
    pub pro_rata: bool,
    pub until: Option<Until>,
    pub unpaid: bool,
    pub phone: Option<&'a str>,
}

pub async fn add(ctx: &Ctx, a: &AddArgs<'_>) -> Result<String, Error> {
    let t = now();
    let expires_at = if a.unpaid { Some(t) } else { a.until.map(|u| u.at(ctx.offset)) };
    let odd_amount = if a.pro_rata { OddAmount::ProRata } else { OddAmount::Hold };
    let phone = match a.phone {
        Some(p) => {
            let router = crate::packages::router(ctx, a.router).await?;
            let country = router.country;
            Some(PhoneNumber::parse_in(country, p).map_err(|e| Error::Usage(format!("--phone: {e}")))?)
        }
        None => None,
    };
    let sale = Sale { router: a.router, package: a.package, service: a.service, odd_amount, expires_at, phone };
    let sold = match sell(&ctx.store, &ctx.sqs, &sale, t).await {
        Ok(s) => s,
        Err(SellError::Refused(why)) => return Err(Error::Usage(why)),
        Err(SellError::Store(e)) => return Err(Error::Store(e)),
    };
    println!("account  {}", sold.number);
    println!("password {}", sold.password);
    println!("service  {} on router {} (package {})", a.service, a.router, a.package);
    println!("runs to  {}", crate::dates::minute(sold.expires_at, ctx.offset));
    println!("renew    Paybill, account number {}", sold.number);
    match &sold.job {
        Ok(_) => Ok(format!("account {} on {} to {}", sold.number, a.router, sold.expires_at)),
        Err(why) => Err(Error::JobNotSent {
            what: format!(
                "account {} is sold and stored, but its router was not told ({why}); it is sent again at its next renewal",
                sold.number
            ),
        }),
    }
}

pub async fn list(ctx: &Ctx, router_id: &RouterId) -> Result<String, Error> {
    let r = crate::packages::router(ctx, router_id).await?;
    let accounts = ctx.store.router_accounts(&r.id).await?;
    let t = now();
    println!(
        "{:<12} {:<7} {:<12} {:<17} {:<8} {:>8}  PHONE",
        "ACCOUNT", "SERVICE", "PACKAGE", "UNTIL", "STATE", "RENEWED"
    );
    let mut running = 0;
    for a in &accounts {
        let state = if a.expires_at > t { "running" } else { "ended" };
        running += usize::from(a.expires_at > t);
        println!(
            "{:<12} {:<7} {:<12} {:<17} {:<8} {:>8}  {}",
            a.number,
            a.service,
            a.package_id,
            crate::dates::minute(a.expires_at, ctx.offset),
            state,
            a.renewals,
            a.phone.as_ref().map(|p| p.masked()).unwrap_or_default()
        );
    }
    println!("{} account(s), {running} running", accounts.len());
    Ok(format!("{} account(s)", accounts.len()))
}
