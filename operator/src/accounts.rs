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
    pub odd_amounts: Option<OddAmount>,
    pub until: Option<Until>,
    pub unpaid: bool,
    pub phone: Option<&'a str>,
    pub name: Option<&'a str>,
    pub endpoint: Option<&'a str>,
}

pub async fn add(ctx: &Ctx, a: &AddArgs<'_>) -> Result<String, Error> {
    let t = now();
    let expires_at = if a.unpaid { Some(t) } else { a.until.map(|u| u.at(ctx.offset)) };
    let odd_amount = a.odd_amounts;
    let phone = match a.phone {
        Some(p) => {
            let router = crate::packages::router(ctx, a.router).await?;
            let country = router.country;
            Some(PhoneNumber::parse_in(country, p).map_err(|e| Error::Usage(format!("--phone: {e}")))?)
        }
        None => None,
    };
    let name = a.name.map(str::to_string);
    let wg_endpoint = a.endpoint.map(str::to_string);
    let sale = Sale {
        router: a.router,
        package: a.package,
        service: a.service,
        odd_amount,
        expires_at,
        phone,
        name,
        wg_endpoint,
    };
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
    match (&sold.welcome, &sale.phone) {
        (Some(Ok(())), Some(p)) => {
            println!("sms      to {} within a minute: the account, password and how to renew", p.masked())
        }
        (Some(Err(why)), Some(p)) => println!("sms      NOT queued to {} ({why}): give them the slip", p.masked()),
        _ => {}
    }
    if a.service == "wireguard" {
        println!(
            "config   once the router has it (seconds): hotspotctl account config --router {} --number {} [--endpoint <router's public name>:13231] --out {}.conf --qr {}.svg; with --endpoint at the sale, also on the buyer's page",
            a.router, sold.number, sold.number, sold.number
        );
    }
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

pub struct ConfigArgs<'a> {
    pub router: &'a RouterId,
    pub number: &'a hotspot_core::AccountNumber,
    pub endpoint: Option<&'a str>,
    pub dns: Option<std::net::Ipv4Addr>,
    pub out: &'a std::path::Path,
    pub qr: Option<&'a std::path::Path>,
}

pub async fn config(ctx: &Ctx, a: &ConfigArgs<'_>) -> Result<String, Error> {
    use hotspot_cloud::wireguard::{ClientConfig, client_config, config_qr_svg};
    let Some(acc) = ctx.store.get_account(a.number).await?.filter(|acc| acc.router_id == *a.router) else {
        return Err(Error::Usage(format!("router {} has no account {}", a.router, a.number)));
    };
    let Some(wg) = &acc.wireguard else {
        return Err(Error::Usage(format!("account {} is a {} account, not WireGuard", acc.number, acc.service)));
    };
    let Some((server_key, port)) = &wg.server else {
        return Err(Error::Usage(format!(
            "router {} has not reported account {} yet (it is sent when the router is online); try again in a moment",
            a.router, acc.number
        )));
    };
    let endpoint = match (a.endpoint, &wg.endpoint) {
        (Some(e), _) if e.contains(':') => e.to_string(),
        (Some(e), _) => format!("{e}:{port}"),
        (None, Some(stored)) => stored.clone(),
        (None, None) => {
            return Err(Error::Usage(format!(
                "account {} has no endpoint on record: give --endpoint <router's public name>[:port]",
                acc.number
            )));
        }
    };
    let text = client_config(&ClientConfig {
        private_key: &wg.private_key,
        address: wg.address,
        server_key,
        endpoint: &endpoint,
        dns: a.dns,
    });
    crate::radius_cmd::write_new(a.out, &text, 0o600)?;
    if let Some(qr) = a.qr {
        let svg = config_qr_svg(&text).map_err(Error::Usage)?;
        crate::radius_cmd::write_new(qr, &svg, 0o600)?;
    }
    println!(
        "wrote {} (WireGuard client config for account {}, tunnel address {})",
        a.out.display(),
        acc.number,
        wg.address
    );
    if let Some(qr) = a.qr {
        println!("wrote {} (scan it in the WireGuard app)", qr.display());
    }
    Ok(format!("config of account {}", acc.number))
}

/// `hotspotctl account credit`: a held Paybill payment renews the account it was meant for.
pub async fn credit(
    ctx: &Ctx,
    router: &RouterId,
    receipt: &str,
    number: &hotspot_core::AccountNumber,
) -> Result<String, Error> {
    use hotspot_cloud::paybill::{Confirmed, CreditHeldError, credit_held};
    let t = now();
    let until = match credit_held(&ctx.store, receipt.trim(), router, number, &ctx.arn, t).await {
        Ok(Confirmed::Renewed { until, .. }) => until,
        Ok(Confirmed::Held { why, .. }) => return Err(Error::Usage(why)),
        Err(CreditHeldError::Refused(why)) => return Err(Error::Usage(why)),
        Err(CreditHeldError::Store(e)) => return Err(Error::Store(e)),
    };
    println!("payment {} renewed account {number} to {}", receipt.trim(), crate::dates::minute(until, ctx.offset));
    match hotspot_cloud::jobs::send_account(&ctx.store, &ctx.sqs, number, t).await {
        Ok(_) => Ok(format!("payment {} credited to account {number}", receipt.trim())),
        Err(e) => Err(Error::JobNotSent {
            what: format!(
                "account {number} is renewed, but its router was not told ({e}); it asks again within 6 hours"
            ),
        }),
    }
}

/// The two URLs the callback function answers for the Paybill (`lambdas::c2b`).
pub fn c2b_urls(api_url: &str, secret: &str) -> Result<(String, String), Error> {
    let base = api_url.trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) {
        return Err(Error::Usage(format!("--api-url {api_url:?} is not an http(s) URL")));
    }
    if secret.len() < 24 || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(Error::Usage(
            "CALLBACK_SECRET must be the functions' own (24+ characters of A-Z a-z 0-9 - _)".into(),
        ));
    }
    let confirm = format!("{base}/cb/c2b/{secret}/confirmation");
    if confirm.to_ascii_lowercase().contains("mpesa") || confirm.to_ascii_lowercase().contains("safaricom") {
        return Err(Error::Usage("Daraja refuses URLs naming M-Pesa or Safaricom; use another API address".into()));
    }
    Ok((confirm, format!("{base}/cb/c2b/{secret}/validation")))
}

/// A setting from the environment (where the functions' deploy keeps it too).
fn setting(name: &str) -> Result<String, Error> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).ok_or_else(|| Error::Usage(format!("{name} is not set")))
}

/// `hotspotctl account paybill-urls`: registers the Paybill's confirmation and validation URLs.
pub async fn paybill_urls(api_url: &str, when_unreachable: crate::cli::WhenUnreachable) -> Result<String, Error> {
    use daraja::{ClientConfig, DarajaClient, Environment, MemoryTokenStore, ResponseType};
    let env = match setting("DARAJA_ENV")?.as_str() {
        "sandbox" => Environment::Sandbox,
        "production" => Environment::Production,
        url if url.starts_with("http://") || url.starts_with("https://") => Environment::Custom(url.to_string()),
        other => return Err(Error::Usage(format!("DARAJA_ENV {other:?} is not sandbox, production or a base URL"))),
    };
    let (key, secret, shortcode) =
        (setting("DARAJA_CONSUMER_KEY")?, setting("DARAJA_CONSUMER_SECRET")?, setting("DARAJA_SHORTCODE")?);
    let callback_secret = setting("CALLBACK_SECRET")?;
    let (confirm, validate) = c2b_urls(api_url, &callback_secret)?;
    // Registering takes no M-Pesa Express passkey; the client wants one, so it gets a placeholder.
    let cfg = ClientConfig::paybill(env, key, secret, shortcode.clone(), "unused");
    let client = DarajaClient::new(cfg, std::sync::Arc::new(MemoryTokenStore::new()))
        .map_err(|e| Error::Usage(format!("Daraja settings: {e}")))?;
    let response_type = match when_unreachable {
        crate::cli::WhenUnreachable::Completed => ResponseType::Completed,
        crate::cli::WhenUnreachable::Cancelled => ResponseType::Cancelled,
    };
    client
        .register_c2b_urls(&confirm, &validate, response_type)
        .await
        .map_err(|e| Error::Daraja(format!("Daraja did not register the URLs: {e}")))?;
    let shown = |u: &str| u.replace(&callback_secret, "<CALLBACK_SECRET>");
    println!("paybill      {shortcode}");
    println!("confirmation {}", shown(&confirm));
    println!("validation   {}", shown(&validate));
    println!("unreachable  {}", response_type.as_str());
    Ok(format!("paybill {shortcode} URLs registered"))
}

#[cfg(test)]
mod tests {
    use super::c2b_urls;

    #[test]
    fn the_paybill_urls_are_the_callback_functions_and_bad_settings_are_refused() {
        let secret = "s3cret-s3cret-s3cret-s3cret";
        let (c, v) = c2b_urls("https://api.example.com/", secret).unwrap();
        assert_eq!(c, format!("https://api.example.com/cb/c2b/{secret}/confirmation"));
        assert_eq!(v, format!("https://api.example.com/cb/c2b/{secret}/validation"));
        assert!(c2b_urls("api.example.com", secret).is_err(), "no scheme");
        assert!(c2b_urls("https://api.example.com", "short").is_err(), "a secret too short to be the functions'");
        assert!(c2b_urls("https://mpesa-api.example.com", secret).is_err(), "Daraja refuses such URLs");
    }
}
