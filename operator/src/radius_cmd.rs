//! `hotspotctl router add --mode radius` and `hotspotctl radius ca`.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::Ipv4Addr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::cli::AddArgs;
use crate::context::{Ctx, now};
use crate::provision::{self, Clients, NewRadiusRouter};
use crate::radius::{self, Ca, ClientAddress, RadiusScript, RadiusSecret, RadiusVersion, RouterAuth, Transport};
use crate::router::create_secret_file;
use crate::rsc::Secret;

/// Everything `router add --mode radius` will do, checked and computed before anything is
/// created anywhere.
struct Plan {
    script: RadiusScript,
    /// v6: the service's `clients.conf` entry (holds the secret).
    clients_conf: Option<Secret>,
    client_address: Option<ClientAddress>,
    out: PathBuf,
    /// Where the hotspot pages go, and the cloud portal URL their login page sends guests to.
    html_out: PathBuf,
    portal_url: String,
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(format!("{}; nothing was changed", msg.into()))
}

/// The host of an `http(s)://host[:port]/…` URL.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    (!host.is_empty()).then_some(host)
}

fn valid_host(h: &str) -> bool {
    !h.is_empty() && h.len() <= 253 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

fn ntp_list(v: &str) -> Result<String, Error> {
    let list: Vec<&str> = v.split(',').map(str::trim).collect();
    if list.iter().any(|s| s.is_empty() || !valid_host(s)) {
        return Err(usage(format!("--ntp-servers must be host names or addresses separated by commas; got {v:?}")));
    }
    Ok(list.join(","))
}

fn read(flag: &str, path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: format!("{flag} {}: cannot read it (nothing was changed)", path.display()),
        source,
    })
}

fn plan(a: &AddArgs) -> Result<Plan, Error> {
    let name = a.name.trim();
    if name.is_empty() || name.chars().count() > 128 {
        return Err(usage("--name must be 1-128 characters"));
    }
    let version: RadiusVersion =
        a.routeros_version.parse().map_err(|e: radius::RadiusVersionError| usage(e.to_string()))?;
    let radius_address: Ipv4Addr = a.radius_address.ok_or_else(|| {
        usage("--mode radius needs --radius-address (or RADIUS_ADDRESS): the RADIUS service's IPv4 address")
    })?;
    if radius_address.is_unspecified() || radius_address.is_broadcast() || radius_address.is_multicast() {
        return Err(usage(format!("--radius-address {radius_address} is not a host's address")));
    }
    if a.hotspot_profile.trim().is_empty() {
        return Err(usage("--hotspot-profile must not be empty"));
    }
    let portal_host = match &a.portal_host {
        Some(h) => h.trim().to_ascii_lowercase(),
        None => url_host(a.cloud_api_url.trim())
            .ok_or_else(|| usage(format!("--cloud-api-url {:?} has no host: pass --portal-host", a.cloud_api_url)))?
            .to_ascii_lowercase(),
    };
    if !valid_host(&portal_host) {
        return Err(usage(format!("--portal-host must be a host name; got {portal_host:?}")));
    }
    let ntp_servers = ntp_list(&a.ntp_servers)?;

    let (auth, clients_conf, client_address) = match version.transport() {
        Transport::Udp => {
            let addr = a.radius_client_address.ok_or_else(|| {
                usage(
                    "RouterOS 6 speaks RADIUS over UDP, which the service matches by source address: pass \
                     --radius-client-address <the router's public IPv4 address or prefix>",
                )
            })?;
            let secret = RadiusSecret::generate();
            let conf = Secret(radius::clients_conf(&a.id, addr, &secret));
            (RouterAuth::Udp { secret }, Some(conf), Some(addr))
        }
        Transport::RadSec => {
            if a.radius_client_address.is_some() {
                return Err(usage(
                    "--radius-client-address is for RouterOS 6 (UDP): a RouterOS 7 router speaks RadSec and \
                     is known by its certificate, from any address",
                ));
            }
            let (cert, key) = match (&a.radius_ca_cert, &a.radius_ca_key) {
                (Some(c), Some(k)) => (c, k),
                _ => {
                    return Err(usage(
                        "RouterOS 7 speaks RadSec: pass --radius-ca-cert and --radius-ca-key (or RADIUS_CA_CERT \
                         and RADIUS_CA_KEY), the CA `hotspotctl radius ca` made, to sign the router's certificate",
                    ));
                }
            };
            let cert_pem = read("--radius-ca-cert", cert)?;
            let key_pem = read("--radius-ca-key", key)?;
            let ca = Ca::load(&cert.display().to_string(), &cert_pem, &key.display().to_string(), &key_pem)
                .map_err(|e| usage(e.to_string()))?;
            let router = ca.sign_router(&a.id).map_err(|e| usage(e.to_string()))?;
            (RouterAuth::RadSec { ca_pem: ca.cert_pem.clone(), router }, None, None)
        }
    };
    let out = a.out.clone().unwrap_or_else(|| PathBuf::from(format!("{}.rsc", a.id)));
    let html_out = a.html_out.clone().unwrap_or_else(|| PathBuf::from(format!("{}-hotspot-html", a.id)));
    // The portal is the API's `/portal/<router>`: on the API's own URL, or https on --portal-host.
    let portal_url = match &a.portal_host {
        Some(h) => format!("https://{h}/portal/{}", a.id),
        None => format!("{}/portal/{}", a.cloud_api_url.trim().trim_end_matches('/'), a.id),
    };
    Ok(Plan {
        script: RadiusScript {
            version,
            router_id: a.id.clone(),
            router_name: name.to_string(),
            radius_address,
            hotspot_profile: a.hotspot_profile.clone(),
            portal_host,
            html_directory: a.html_directory.clone(),
            ntp_servers,
            auth,
        },
        clients_conf,
        client_address,
        out,
        html_out,
        portal_url,
    })
}

pub async fn add(ctx: &Ctx, a: &AddArgs) -> Result<(), Error> {
    let plan = plan(a)?;
    let clients = Clients::new(&ctx.config, &ctx.table);
    let mut file = create_secret_file(&plan.out)?;
    let new = NewRadiusRouter {
        id: a.id.clone(),
        name: plan.script.router_name.clone(),
        country: a.country,
        now: now(),
        clients_conf: plan.clients_conf.clone(),
    };
    let prov = match provision::provision_radius(&clients, &new).await {
        Ok(p) => p,
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(&plan.out);
            return Err(e.into());
        }
    };
    let script = radius::render(&plan.script);
    if let Err(source) = file.write_all(script.as_bytes()).and_then(|()| file.sync_all()) {
        return Err(Error::Io {
            what: format!(
                "router {} IS provisioned ({}), but writing {} failed, so its RADIUS {} is lost. Remove the \
                 router (and its SSM parameter) and add it again",
                a.id,
                prov.created.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                plan.out.display(),
                if plan.clients_conf.is_some() { "secret" } else { "key" },
            ),
            source,
        });
    }
    crate::router::write_pages(&plan.html_out, &plan.portal_url).map_err(|source| Error::Io {
        what: format!(
            "router {} is provisioned and {} written, but writing the hotspot pages to {} failed \
             (copy hotspot-html/ by hand and replace {} with {})",
            a.id,
            plan.out.display(),
            plan.html_out.display(),
            hotspot_html::PORTAL_PLACEHOLDER,
            plan.portal_url
        ),
        source,
    })?;
    print!("{}", summary(&plan, prov.parameter.as_deref(), &ctx.table));
    Ok(())
}

/// What `router add --mode radius` prints: no secrets.
fn summary(p: &Plan, parameter: Option<&str>, table: &str) -> String {
    let s = &p.script;
    let id = &s.router_id;
    let file_name = p.out.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| format!("{id}.rsc"));
    let mut out = format!(
        "Router {id} ({name:?}) is provisioned for RADIUS mode:\n\
         \x20 record       table {table}, ROUTER#{id} (mode radius, with its new key: it makes the grant passwords)\n",
        name = s.router_name,
    );
    match (&s.auth, parameter, p.client_address) {
        (RouterAuth::Udp { .. }, Some(param), Some(addr)) => {
            out += &format!(
                "\x20 service      clients.conf entry for {addr} in SSM SecureString {param}\n\
             \x20              (the RADIUS service builds its clients.conf from /hotspot/radius/clients/*;\n\
             \x20              reload FreeRADIUS to take it)\n"
            )
        }
        (RouterAuth::RadSec { .. }, _, _) => {
            out += &format!(
                "\x20 certificate  {cert} (CN {id}, {days} days), signed by the RADIUS CA; nothing stored in the service\n",
                cert = s.router_cert_name(),
                days = radius::ROUTER_CERT_DAYS,
            )
        }
        _ => {}
    }
    out += &format!(
        "Script: {out} for RouterOS {ver} (file mode 0600: it holds the router's RADIUS {what}; never share it).\n\
         \n\
         Hotspot pages: {html_out}/ (login.html sends guests to the cloud portal at {portal_url}).\n\
         \n\
         Next steps at the router:\n\
         \x20 1. A working hotspot (IP > Hotspot > Hotspot Setup) whose server profile is {profile}.\n\
         \x20 2. Upload the files in {html_out}/ into the router directory {html}/ (flash/{html}/ on\n\
         \x20    routers with a flash directory), and {file_name} (Winbox Files, FTP or scp).\n\
         \x20 3. /import file-name={file_name}   then   /file remove {file_name}\n\
         \x20    (it sets the router's identity to {id}: the RADIUS service and the API know it by that).\n\
         \x20 4. /radius print; /ip hotspot profile print   (use-radius=yes and html-directory {html} on {profile})\n",
        out = p.out.display(),
        ver = s.version,
        what = if p.clients_conf.is_some() { "secret" } else { "private key" },
        profile = s.hotspot_profile,
        html_out = p.html_out.display(),
        html = s.html_directory,
        portal_url = p.portal_url,
    );
    out
}

/// Writes `contents` to a new file (never over an existing one) with `mode`.
pub(crate) fn write_new(path: &Path, contents: &str, mode: u32) -> Result<(), Error> {
    let io = |source| Error::Io { what: format!("cannot write {}", path.display()), source };
    let mut f = OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(io)?;
    f.write_all(contents.as_bytes()).and_then(|()| f.sync_all()).map_err(io)
}

/// `hotspotctl radius ca --out DIR --server-name NAME`.
pub fn ca(out: &Path, server_name: &str) -> Result<(), Error> {
    let d = radius::new_deployment(server_name).map_err(|e| usage(e.to_string()))?;
    let files = [
        ("ca.pem", d.ca.cert_pem.as_str(), 0o644),
        ("ca.key", d.ca.key_pem.0.as_str(), 0o600),
        ("server.pem", d.server.cert_pem.as_str(), 0o644),
        ("server.key", d.server.key_pem.0.as_str(), 0o600),
    ];
    // All or nothing: refuse before writing if any is there already.
    for (name, _, _) in &files {
        let p = out.join(name);
        if p.exists() {
            return Err(usage(format!("{} exists already (a CA is made once per deployment)", p.display())));
        }
    }
    std::fs::create_dir_all(out)
        .map_err(|source| Error::Io { what: format!("cannot create {}", out.display()), source })?;
    for (name, contents, mode) in files {
        write_new(&out.join(name), contents, mode)?;
    }
    println!(
        "RADIUS CA and server certificate written to {dir}:\n\
         \x20 ca.pem, ca.key       the CA (keep ca.key offline; `router add --mode radius` for RouterOS 7\n\
         \x20                      needs it: --radius-ca-cert {dir}/ca.pem --radius-ca-key {dir}/ca.key)\n\
         \x20 server.pem, server.key  the service's certificate for {server_name} ({days} days)\n\
         Give the service ca.pem, server.pem and server.key as its RADIUS_TLS_DIR (docs/radius.md).",
        dir = out.display(),
        days = radius::SERVER_CERT_DAYS,
    );
    Ok(())
}
