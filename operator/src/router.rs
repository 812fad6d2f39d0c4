//! `hotspotctl router add | list | show`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use aws_sdk_sqs::types::QueueAttributeName;
use hotspot_core::RouterId;
use hotspot_core::currency::Currency;
use hotspot_core::phone::Country;
use hotspot_core::wallet::Offered;
use rand::Rng;

use crate::Error;
use crate::cli::AddArgs;
use crate::context::{Ctx, now};
use crate::provision::{self, Clients, NewRouter, Provisioned};
use crate::rsc::{self, AgentEnv, ContainerNet, RosVersion, ScriptParams, Secret};

/// API-SSL's standard port (RouterOS `/ip service api-ssl`).
const fn routeros_api_ssl_port() -> u16 {
    8729
}

pub use hotspot_cloud::store::router::ONLINE_WITHIN_SECS;
use hotspot_cloud::store::router::RouterMode;

/// A password for the agent's RouterOS user: 32 random alphanumerics (~190 bits).
pub fn random_password() -> Secret {
    Secret(rand::rng().sample_iter(rand::distr::Alphanumeric).take(32).map(char::from).collect())
}

fn http_url(flag: &str, v: &str) -> Result<String, Error> {
    v.parse::<hotspot_core::CloudUrl>()
        .map(hotspot_core::CloudUrl::into_string)
        .map_err(|e| Error::Usage(format!("--{flag}: {e}; nothing was changed")))
}

/// Checks every argument before anything is created anywhere.
/// `--image-file`, or the archive `scripts/build-image.sh` writes for this router.
fn image_file(a: &AddArgs, version: RosVersion) -> String {
    a.image_file.clone().unwrap_or_else(|| rsc::default_image_file(version, &a.arch, env!("CARGO_PKG_VERSION")))
}

/// The container agent's RouterOS version (7.4+); a v6 router is pointed at RADIUS mode.
fn container_version(a: &AddArgs) -> Result<RosVersion, Error> {
    a.routeros_version.parse::<RosVersion>().map_err(|e| {
        let hint = if a.routeros_version.trim().starts_with("6.") {
            ": RouterOS 6 has no containers; use --mode radius"
        } else {
            ""
        };
        Error::Usage(format!("{e}{hint}; nothing was changed"))
    })
}

fn validate(a: &AddArgs, version: RosVersion) -> Result<(ContainerNet, String, String, String), Error> {
    let name = a.name.trim();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(Error::Usage("--name must be 1-128 characters".into()));
    }
    let net = ContainerNet::new(a.portal_ip, a.gateway_ip, a.prefix).map_err(|e| Error::Usage(e.to_string()))?;
    let events = a.events_queue_url.as_deref().ok_or_else(|| {
        Error::Usage("--events-queue-url (or EVENTS_QUEUE_URL) is required in agent mode; nothing was changed".into())
    })?;
    let events = http_url("events-queue-url", events)?;
    let api = http_url("cloud-api-url", &a.cloud_api_url)?;
    let api_id = match &a.api_id {
        Some(id) => id.clone(),
        None => provision::api_id_from_url(&api).ok_or(provision::ProvisionError::ApiId(api.clone()))?,
    };
    if api_id.is_empty() || !api_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::Usage(format!("--api-id must be letters and digits; got {api_id:?}")));
    }
    for (flag, v) in [
        ("image-file", &image_file(a, version)),
        ("bridge", &a.bridge),
        ("veth", &a.veth),
        ("api-user", &a.api_user),
        ("root-dir", &a.root_dir),
        ("data-dir", &a.data_dir),
        ("hotspot-profile", &a.hotspot_profile),
        ("html-directory", &a.html_directory),
        ("hotspot-server", &a.hotspot_server),
    ] {
        if v.trim().is_empty() {
            return Err(Error::Usage(format!("--{flag} must not be empty")));
        }
    }
    if a.api_port == 0 {
        return Err(Error::Usage("--api-port must not be 0".into()));
    }
    if a.api_port == routeros_api_ssl_port() {
        return Err(Error::Usage(
            "--api-port 8729 is API-SSL's port: the script serves the plain API (on the container's \
             private link, reachable by the container only), which would then collide with api-ssl. \
             Keep 8728, or set up api-ssl with a certificate by hand and give the agent ROUTEROS_CA_FILE \
             (docs/routeros.md); nothing was changed"
                .into(),
        ));
    }
    let ntp: Vec<&str> = a.ntp_servers.split(',').map(str::trim).collect();
    if ntp
        .iter()
        .any(|s| s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':'))
    {
        return Err(Error::Usage(format!(
            "--ntp-servers must be host names or addresses separated by commas; got {:?}",
            a.ntp_servers
        )));
    }
    Ok((net, events, api, api_id))
}

/// Creates the script file up front (so a taken path stops us before anything is provisioned),
/// readable by its owner only.
pub fn create_secret_file(path: &Path) -> Result<File, Error> {
    OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|source| Error::Io {
        what: format!("cannot create {} (it must not exist yet; nothing was changed)", path.display()),
        source,
    })
}

/// Adds a router in agent mode (`commands` sends `--mode radius` to `radius_cmd::add`).
pub async fn add(ctx: &Ctx, a: &AddArgs) -> Result<(), Error> {
    // Not --radius-address: it may come from the environment, set for both modes.
    for (flag, given) in
        [("--radius-client-address", a.radius_client_address.is_some()), ("--portal-host", a.portal_host.is_some())]
    {
        if given {
            return Err(Error::Usage(format!("{flag} is for --mode radius; nothing was changed")));
        }
    }
    let version = container_version(a)?;
    let table = ctx.table.as_str();
    let (net, events_queue_url, cloud_api_url, api_id) = validate(a, version)?;
    let out: PathBuf = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("{}.rsc", a.id)));
    let clients = Clients::new(&ctx.config, table);
    if clients.region.is_empty() {
        return Err(Error::Usage("no AWS region: pass --region or set AWS_REGION".into()));
    }
    let html_out: PathBuf = a.html_out.clone().unwrap_or_else(|| PathBuf::from(format!("{}-hotspot-html", a.id)));
    let mut file = create_secret_file(&out)?;
    let new = NewRouter {
        id: a.id.clone(),
        name: a.name.trim().to_string(),
        events_queue_url: events_queue_url.clone(),
        api_id,
        country: a.country,
        now: now(),
    };
    let prov = match provision::provision(&clients, &new).await {
        Ok(p) => p,
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(&out);
            return Err(e.into());
        }
    };
    let params = ScriptParams {
        version,
        router_id: a.id.clone(),
        router_name: new.name.clone(),
        net,
        veth: a.veth.clone(),
        bridge: a.bridge.clone(),
        api_port: a.api_port,
        api_user: a.api_user.clone(),
        image_file: image_file(a, version),
        root_dir: a.root_dir.clone(),
        data_dir: a.data_dir.clone(),
        hotspot_profile: a.hotspot_profile.clone(),
        html_directory: a.html_directory.clone(),
        hotspot_server: a.hotspot_server.clone(),
        container_dns: a.container_dns.clone(),
        ntp_servers: a.ntp_servers.split(',').map(str::trim).collect::<Vec<_>>().join(","),
        env: AgentEnv {
            router_key: prov.record.key.clone(),
            routeros_password: random_password(),
            queue_url: prov.queue_url.clone(),
            events_queue_url,
            cloud_api_url,
            region: clients.region.clone(),
            access_key_id: prov.access_key_id.clone(),
            secret_access_key: prov.secret_access_key.clone(),
        },
    };
    let script = rsc::render(&params);
    if let Err(source) = file.write_all(script.as_bytes()).and_then(|()| file.sync_all()) {
        return Err(Error::Io {
            what: format!(
                "router {} IS provisioned ({}), but writing {} failed, so its secrets are lost. \
                 Create a new access key for IAM user {} or remove the router and add it again",
                a.id,
                created_list(&prov),
                out.display(),
                prov.iam_user
            ),
            source,
        });
    }
    write_pages(&html_out, &format!("http://{}", net.container)).map_err(|source| Error::Io {
        what: format!(
            "router {} is provisioned and {} written, but writing the hotspot pages to {} failed \
             (copy hotspot-html/ by hand and replace {} with http://{})",
            a.id,
            out.display(),
            html_out.display(),
            hotspot_html::PORTAL_PLACEHOLDER,
            net.container
        ),
        source,
    })?;
    print!("{}", summary(&prov, &params, &out, &html_out, table));
    Ok(())
}

/// Writes the hotspot pages with the portal's address in place of the placeholder.
pub fn write_pages(dir: &Path, portal_url: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in hotspot_html::PAGES {
        std::fs::write(dir.join(name), text.replace(hotspot_html::PORTAL_PLACEHOLDER, portal_url))?;
    }
    Ok(())
}

fn created_list(p: &Provisioned) -> String {
    p.created.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// What `router add` prints: no secrets.
pub fn summary(p: &Provisioned, s: &ScriptParams, out: &Path, html_out: &Path, table: &str) -> String {
    let id = &s.router_id;
    let file_name = out.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| format!("{id}.rsc"));
    format!(
        "Router {id} ({name:?}) is provisioned:\n\
         \x20 record       table {table}, ROUTER#{id} (with its new signing key)\n\
         \x20 job queue    {queue}\n\
         \x20 dead letters {dlq} (after {max} receives; kept {days} days)\n\
         \x20 credentials  IAM user {user}, access key {akid} (own queue, events queue, own API routes only)\n\
         Script: {out} for RouterOS {ver} (file mode 0600: it holds the router's secrets; never share it).\n\
         \n\
         Next steps at the router:\n\
         \x20 1. Device mode (physical access): /system/device-mode/update container=yes\n\
         \x20    (add hotspot=yes where the device's mode disables hotspot), then press the reset\n\
         \x20    button or power-cycle the router within the timeout to confirm.\n\
         \x20 2. Upload the image {image}, the files in {html_out}/ into the router directory\n\
         \x20    {html}/ (flash/{html}/ on routers with a flash directory; they send guests to the\n\
         \x20    portal at http://{portal}) and {file_name}\n\
         \x20    (Winbox Files, FTP or scp).\n\
         \x20 3. /import file-name={file_name}   then   /file remove {file_name}\n\
         \x20 4. /container print (wait for status stopped, i.e. unpacked), then\n\
         \x20    /container start [find comment=\"{tag}\"]; /log print where topics~\"container\"\n\
         \x20 5. hotspotctl router show --id {id}   (online once the first heartbeat arrives)\n",
        name = s.router_name,
        queue = p.queue_url,
        dlq = p.dlq_url,
        max = provision::MAX_RECEIVE_COUNT,
        days = provision::RETENTION_SECS / 86400,
        user = p.iam_user,
        akid = p.access_key_id,
        out = out.display(),
        ver = s.version,
        image = s.image_file,
        html = s.html_directory,
        portal = s.net.container,
        html_out = html_out.display(),
        tag = s.tag(),
    )
}

pub fn status(last_seen: Option<i64>, now: i64) -> String {
    match last_seen {
        None => "never seen".into(),
        Some(t) if now - t <= ONLINE_WITHIN_SECS => "online".into(),
        Some(t) => format!("offline ({} ago)", age(now - t)),
    }
}

fn age(secs: i64) -> String {
    match secs {
        ..=119 => format!("{secs}s"),
        120..=7199 => format!("{}m", secs / 60),
        7200..=172_799 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}

fn dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "-".into())
}

pub async fn list(ctx: &Ctx) -> Result<(), Error> {
    let rows = ctx.store.list_fleet().await?;
    let now = now();
    println!("{:<24} {:<28} {:<20} {:<10} {:>8} {:>6}", "ID", "NAME", "STATUS", "AGENT", "SESSIONS", "JOBS");
    for row in &rows {
        let (r, h) = (&row.router, row.health.as_ref());
        let name: String = r.name.escape_debug().to_string().chars().take(28).collect();
        println!(
            "{:<24} {:<28} {:<20} {:<10} {:>8} {:>6}",
            r.id,
            name,
            status(h.map(|h| h.last_seen), now),
            dash(h.map(|h| h.version.escape_debug().to_string())),
            dash(h.map(|h| h.active_sessions.to_string())),
            dash(h.map(|h| h.jobs_waiting.to_string())),
        );
    }
    println!("{} router(s)", rows.len());
    Ok(())
}

async fn approx_messages(sqs: &aws_sdk_sqs::Client, url: &str) -> Option<String> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .ok()?;
    out.attributes?.remove(&QueueAttributeName::ApproximateNumberOfMessages)
}

/// `router disable --reason` (`Some`) or `router enable` (`None`). The audit entry's detail
/// carries the reason.
pub async fn set_disabled(ctx: &Ctx, id: &RouterId, reason: Option<&String>) -> Result<String, Error> {
    let store = &ctx.store;
    store.get_router(id).await?.ok_or_else(|| Error::Usage(format!("router {id} not found")))?;
    let changed = store.set_router_disabled(id, reason.map(|_| now())).await?;
    match (reason, changed) {
        (Some(why), true) => {
            println!(
                "router {id} disabled: its requests are refused and its guests told; grants wait until it is enabled"
            );
            Ok(format!("disabled: {}", why.chars().take(200).collect::<String>()))
        }
        (Some(_), false) => Err(Error::Usage(format!("router {id} is already disabled; nothing was changed"))),
        (None, true) => {
            println!("router {id} enabled: grants that waited go out within a minute");
            Ok("enabled".into())
        }
        (None, false) => Err(Error::Usage(format!("router {id} is not disabled; nothing was changed"))),
    }
}

/// Sets the wallets a router's guests may pay from (and, given, its country) and sends the
/// router its list (with the packages, one `packages_sync`), so its portal offers them.
pub async fn set_wallets(
    ctx: &Ctx,
    id: &RouterId,
    wallets: &Offered,
    country: Option<Country>,
) -> Result<String, Error> {
    let r = crate::packages::router(ctx, id).await?;
    let country = country.unwrap_or(r.country);
    if let Some(w) = wallets.not_sold_in(country) {
        return Err(Error::Usage(format!("{} is not sold in {}; nothing was changed", w.label(), country.name())));
    }
    let currency = Currency::of(country);
    let packages = ctx.store.list_packages(id).await?;
    if let Some(p) = packages.iter().find(|p| p.on_sale && p.package.price().currency() != currency) {
        return Err(Error::Usage(format!(
            "package {} is priced in {}, not {currency} as {} is: retire it first; nothing was changed",
            p.package.id(),
            p.package.price().currency(),
            country.name()
        )));
    }
    if !ctx.store.set_router_market(id, country, wallets).await? {
        return Err(Error::Usage(format!("router {id} not found; nothing was changed")));
    }
    let r = crate::packages::router(ctx, id).await?;
    crate::packages::sync(ctx, &r).await?;
    println!(
        "router {id} in {} takes {wallets}; its portal offers them once it has the job (seconds, when online)",
        country.name()
    );
    Ok(format!("wallets: {wallets}; country: {}", country.as_str()))
}

pub async fn show(ctx: &Ctx, id: &RouterId) -> Result<(), Error> {
    let c = Clients::new(&ctx.config, &ctx.table);
    let r = c.store.get_router(id).await?.ok_or_else(|| Error::Usage(format!("router {id} not found")))?;
    let health = c.store.get_router_health(id).await?;
    let packages = c.store.list_packages(id).await?;
    let dlq = c.sqs.get_queue_url().queue_name(provision::dlq_name(id)).send().await.ok().and_then(|o| o.queue_url);
    let now = now();
    println!("router      {id}");
    println!("name        {:?}", r.name);
    println!("country     {} ({})", r.country.name(), Currency::of(r.country));
    println!("wallets     {}", r.wallets);
    println!("created     {} (unix)", r.created_at);
    if let Some(at) = r.disabled_at {
        println!("DISABLED    since {at} (unix): `hotspotctl router enable --id {id}` lets it sell again");
    }
    if let Some(rot) = &r.rotation {
        println!(
            "ROTATING    since {} (unix): waiting for the router to report under its new key (import its \
             rotate script); the old secrets still work until then",
            rot.started_at
        );
    }
    if let Some(old) = &r.retiring_access_key {
        println!("OLD KEY     access key {old} is not deleted yet (retried on each report; see the events alarm)");
    }
    println!("status      {}", status(health.as_ref().map(|h| h.last_seen), now));
    if let Some(h) = &health {
        println!("agent       {} (up {})", h.version.escape_debug(), age(h.uptime_secs.min(i64::MAX as u64) as i64));
        println!("sessions    {} active", h.active_sessions);
        println!("jobs        {} waiting at the agent", h.jobs_waiting);
        if h.clock_unset_secs > 0 {
            println!(
                "clock       unset for {} since the agent started (no NTP? nothing expired meanwhile)",
                age(h.clock_unset_secs.min(i64::MAX as u64) as i64)
            );
        }
    }
    if r.mode() == RouterMode::Radius {
        // Its hotspot asks the RADIUS service: no queue, no agent, no IAM user to show.
        println!(
            "mode        radius (no queue, agent or IAM user; RADIUS client {})",
            crate::radius::client_parameter(id)
        );
    } else {
        println!("queue       {} ({} messages)", r.queue_url, dash(approx_messages(&c.sqs, &r.queue_url).await));
        match dlq {
            Some(u) => println!("dead letter {u} ({} messages)", dash(approx_messages(&c.sqs, &u).await)),
            None => println!("dead letter (not found)"),
        }
        println!("iam user    {}", provision::iam_user_name(id));
    }
    println!("packages    {}", packages.len());
    for p in &packages {
        let pk = &p.package;
        println!(
            "  {:<12} {:<24} {:<12} {:<10} {}",
            pk.id(),
            pk.name().escape_debug().to_string(),
            pk.price().to_string(),
            pk.validity().to_string(),
            if p.on_sale { "on sale" } else { "retired" }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_from_last_heartbeat() {
        assert_eq!(status(None, 1000), "never seen");
        assert_eq!(status(Some(1000 - ONLINE_WITHIN_SECS), 1000), "online");
        assert_eq!(status(Some(1000 - ONLINE_WITHIN_SECS - 1), 1000), "offline (3m ago)");
        assert_eq!(status(Some(0), 3 * 86400), "offline (3d ago)");
    }

    #[test]
    fn passwords_are_long_and_random() {
        let (a, b) = (random_password(), random_password());
        assert_eq!(a.0.len(), 32);
        assert!(a.0.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "Secret(***)");
    }
}
