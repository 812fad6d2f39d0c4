//! `hotspotctl package add | edit | retire | list | sync`. Every change is followed by a
//! `packages_sync` job carrying the router's full list on sale; a retired package leaves the
//! list (the agent stops selling it) but grants already made keep the terms they were sold with.

use hotspot_cloud::store::{PackageRecord, RouterRecord, StoreError};
use hotspot_core::currency::Currency;
use hotspot_core::package::{GrantStyle, RawPackage};
use hotspot_core::{Package, PackageId, RouterId};

use crate::Error;
use crate::cli::{PackageAddArgs, PackageEditArgs, StyleArg};
use crate::context::{Ctx, now};

fn style(s: StyleArg) -> GrantStyle {
    match s {
        StyleArg::HotspotUser => GrantStyle::HotspotUser,
        StyleArg::Bypass => GrantStyle::Bypass,
    }
}

fn data_cap(mb: Option<u64>) -> Result<Option<u64>, Error> {
    mb.map(|m| m.checked_mul(1_000_000).ok_or_else(|| Error::Usage(format!("--data-cap-mb {m} is too large"))))
        .transpose()
}

fn build(raw: RawPackage) -> Result<Package, Error> {
    Package::try_from(raw).map_err(|e| Error::Usage(format!("{e}; nothing was changed")))
}

pub(crate) async fn router(ctx: &Ctx, id: &RouterId) -> Result<RouterRecord, Error> {
    ctx.store.get_router(id).await?.ok_or_else(|| Error::Usage(format!("router {id} not found; nothing was changed")))
}

/// Sends the router its full list on sale. The job id is new each time: every change is a job.
pub async fn sync(ctx: &Ctx, r: &RouterRecord) -> Result<usize, Error> {
    hotspot_cloud::jobs::sync_packages(&ctx.store, &ctx.sqs, r, now()).await.map_err(|e| match e {
        hotspot_cloud::jobs::SyncError::Store(e) => Error::Store(e),
        e @ hotspot_cloud::jobs::SyncError::Job(_) => Error::JobNotSent {
            what: format!(
                "the change is saved, but the router was not told ({e}); run `hotspotctl package sync --router {}`",
                r.id
            ),
        },
    })
}

pub async fn add(ctx: &Ctx, a: &PackageAddArgs) -> Result<String, Error> {
    let r = router(ctx, &a.router).await?;
    let p = build(RawPackage {
        id: a.id.clone(),
        name: a.name.clone(),
        price: a.price.clone(),
        currency: Currency::of(r.country),
        validity: a.validity,
        uptime_limit: a.uptime_limit,
        data_cap_bytes: data_cap(a.data_cap_mb)?,
        rate_limit: a.rate_limit,
        devices: a.devices,
        style: style(a.style),
    })?;
    ctx.store.add_package(&r.id, &p, now()).await.map_err(|e| match e {
        StoreError::AlreadyExists(what) => {
            Error::Usage(format!("{what} already exists; use `package edit` (nothing was changed)"))
        }
        other => other.into(),
    })?;
    let odd: hotspot_cloud::renewal::OddAmount = a.odd_amounts.into();
    if odd != hotspot_cloud::renewal::OddAmount::default() {
        ctx.store.set_package_odd_amounts(&r.id, p.id(), odd, now()).await?;
    }
    let n = sync(ctx, &r).await?;
    println!("package {} added at {}; {n} package(s) on sale sent to the router", p.id(), r.id);
    Ok(format!("added {} ({}, {})", p.id(), p.price(), p.validity()))
}

async fn existing(ctx: &Ctx, router: &RouterId, id: &PackageId) -> Result<PackageRecord, Error> {
    ctx.store
        .get_package(router, id)
        .await?
        .ok_or_else(|| Error::Usage(format!("package {id} not found at {router}; nothing was changed")))
}

pub async fn edit(ctx: &Ctx, a: &PackageEditArgs) -> Result<String, Error> {
    let r = router(ctx, &a.router).await?;
    let cur = existing(ctx, &r.id, &a.id).await?;
    let old = RawPackage::from(cur.package.clone());
    let currency = Currency::of(r.country);
    if a.price.is_none() && old.currency != currency {
        return Err(Error::Usage(format!(
            "package {} is priced in {}, but {} sells in {currency}: give --price; nothing was changed",
            old.id, old.currency, r.id
        )));
    }
    let new = build(RawPackage {
        id: old.id,
        name: a.name.clone().unwrap_or(old.name),
        price: a.price.clone().unwrap_or(old.price),
        currency,
        validity: a.validity.unwrap_or(old.validity),
        uptime_limit: if a.no_uptime_limit { None } else { a.uptime_limit.or(old.uptime_limit) },
        data_cap_bytes: if a.no_data_cap { None } else { data_cap(a.data_cap_mb)?.or(old.data_cap_bytes) },
        rate_limit: a.rate_limit.unwrap_or(old.rate_limit),
        devices: a.devices.unwrap_or(old.devices),
        style: a.style.map(style).unwrap_or(old.style),
    })?;
    let resumes = a.resume && !cur.on_sale;
    let odd = a.odd_amounts.map(hotspot_cloud::renewal::OddAmount::from).filter(|o| *o != cur.odd_amounts);
    if new == cur.package && !resumes && odd.is_none() {
        return Err(Error::Usage("no change given; nothing was changed".into()));
    }
    if let Some(odd) = odd {
        ctx.store.set_package_odd_amounts(&r.id, &a.id, odd, now()).await?;
        println!("accounts sold on {} from now on: odd amounts {}", a.id, odd.as_str());
        if new == cur.package && !resumes {
            return Ok(format!("odd amounts of {} {}", a.id, odd.as_str()));
        }
    }
    ctx.store.update_package(&r.id, &new, a.resume.then_some(true), now()).await?;
    let on_sale = cur.on_sale || a.resume;
    let n = sync(ctx, &r).await?;
    println!(
        "package {} at {} updated ({}); {n} package(s) on sale sent to the router",
        new.id(),
        r.id,
        if on_sale { "on sale" } else { "still retired" }
    );
    Ok(format!("edited {}", new.id()))
}

pub async fn retire(ctx: &Ctx, router_id: &RouterId, id: &PackageId) -> Result<String, Error> {
    let r = router(ctx, router_id).await?;
    let cur = existing(ctx, &r.id, id).await?;
    if !cur.on_sale {
        return Err(Error::Usage(format!("package {id} at {router_id} is already retired; nothing was changed")));
    }
    ctx.store.retire_package(&r.id, id, now()).await?;
    let n = sync(ctx, &r).await?;
    println!("package {id} at {router_id} retired (time already sold is honoured); {n} package(s) still on sale");
    Ok(format!("retired {id}"))
}

pub async fn list(ctx: &Ctx, router_id: &RouterId) -> Result<String, Error> {
    let r = router(ctx, router_id).await?;
    let packages = ctx.store.list_packages(&r.id).await?;
    println!(
        "{:<12} {:<24} {:>8} {:<9} {:<10} {:<8} {:<9}",
        "ID", "NAME", "PRICE", "VALIDITY", "RATE", "DEVICES", "STATUS"
    );
    for p in &packages {
        let k = &p.package;
        println!(
            "{:<12} {:<24} {:>8} {:<9} {:<10} {:<8} {:<9}",
            k.id(),
            k.name().escape_debug().to_string(),
            k.price().to_string(),
            k.validity().to_string(),
            k.rate_limit().to_string(),
            k.devices(),
            if p.on_sale { "on sale" } else { "retired" }
        );
    }
    println!("{} package(s)", packages.len());
    Ok(format!("{} package(s)", packages.len()))
}

pub async fn resync(ctx: &Ctx, router_id: &RouterId) -> Result<String, Error> {
    let r = router(ctx, router_id).await?;
    let n = sync(ctx, &r).await?;
    println!("{n} package(s) on sale sent to {router_id}");
    Ok(format!("sent {n} package(s)"))
}
