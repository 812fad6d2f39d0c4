//! The RouterOS onboarding script (`.rsc`) an ISP imports with `/import file-name=…`.
//!
//! Every value that comes from outside this module is written as a RouterOS double-quoted
//! string through [`quote`], so a hostile value cannot end the string, start a new command or
//! interpolate a variable. Fixed keywords (`yes`, `tcp`, policies) and typed values
//! (addresses, ports) are written bare.

use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;
use std::str::FromStr;

use hotspot_core::{RouterId, RouterKey};

/// A RouterOS version as the ISP gives it: `7.19`, `7.20.2`, `7.21beta3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RosVersion {
    pub major: u32,
    pub minor: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RouterOS version {got:?} is not supported: {why}")]
pub struct VersionError {
    pub got: String,
    pub why: &'static str,
}

impl FromStr for RosVersion {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, VersionError> {
        let err = |why| VersionError { got: s.chars().take(32).collect(), why };
        let (major, rest) = s.trim().split_once('.').ok_or_else(|| err("expected MAJOR.MINOR, e.g. 7.20"))?;
        let major: u32 = major.parse().map_err(|_| err("expected MAJOR.MINOR, e.g. 7.20"))?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let minor: u32 = digits.parse().map_err(|_| err("expected MAJOR.MINOR, e.g. 7.20"))?;
        if major != 7 {
            return Err(err("containers need RouterOS 7.x"));
        }
        if minor < 4 {
            return Err(err("the container package needs RouterOS 7.4 or later"));
        }
        Ok(RosVersion { major, minor })
    }
}

impl fmt::Display for RosVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The container property names moved across releases (see `/work/shared/TOOLCHAIN.md`):
/// `/container/envs` `name` → `list` and `envlist` → `envlists` in 7.20;
/// `/container/mounts` `name` → `list` and `mounts` → `mountlists` in 7.21.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// 7.4 … 7.19
    UpTo719,
    /// 7.20
    V720,
    /// 7.21 and later
    From721,
}

impl RosVersion {
    pub fn family(self) -> Family {
        match self.minor {
            ..=19 => Family::UpTo719,
            20 => Family::V720,
            _ => Family::From721,
        }
    }
}

/// The archive `scripts/build-image.sh` writes for a router: the `docker save` layout up to
/// 7.20 (which reads nothing else), the OCI layout from 7.21.
pub fn default_image_file(version: RosVersion, ros_arch: &str, agent_version: &str) -> String {
    let layout = match version.family() {
        Family::UpTo719 | Family::V720 => "docker",
        Family::From721 => "oci",
    };
    format!("hotspot-agent-{agent_version}-{ros_arch}.{layout}.tar")
}

impl Family {
    /// The property naming an env list on `/container/envs add`.
    pub fn envs_list_prop(self) -> &'static str {
        match self {
            Family::UpTo719 => "name",
            Family::V720 | Family::From721 => "list",
        }
    }
    /// The property of `/container/add` that names the env list.
    pub fn container_envs_prop(self) -> &'static str {
        match self {
            Family::UpTo719 => "envlist",
            Family::V720 | Family::From721 => "envlists",
        }
    }
    /// The property naming a mount on `/container/mounts add`.
    pub fn mounts_list_prop(self) -> &'static str {
        match self {
            Family::UpTo719 | Family::V720 => "name",
            Family::From721 => "list",
        }
    }
    /// The property of `/container/add` that names the mount.
    pub fn container_mounts_prop(self) -> &'static str {
        match self {
            Family::UpTo719 | Family::V720 => "mounts",
            Family::From721 => "mountlists",
        }
    }
}

/// Quotes a value as a RouterOS script string: `"` … `"` with `\`, `"`, `$` and `?` escaped,
/// control characters and every non-ASCII byte as `\XX` (upper-case hex), so the result is
/// one printable-ASCII token on one line whatever the input.
pub fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for &b in v.as_bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'$' => out.push_str("\\$"),
            b'?' => out.push_str("\\?"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:02X}");
            }
        }
    }
    out.push('"');
    out
}

/// The container's private link: the veth address and the router's side (the gateway).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerNet {
    pub container: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("prefix /{0} is out of range: use /8 … /30")]
    Prefix(u8),
    #[error("{container} and {gateway} are not in the same /{prefix} subnet")]
    Subnet { container: Ipv4Addr, gateway: Ipv4Addr, prefix: u8 },
    #[error("the container and the gateway need different addresses (both {0})")]
    Same(Ipv4Addr),
    #[error("{0} is the subnet's network or broadcast address")]
    Reserved(Ipv4Addr),
}

impl ContainerNet {
    pub fn new(container: Ipv4Addr, gateway: Ipv4Addr, prefix: u8) -> Result<Self, NetError> {
        if !(8..=30).contains(&prefix) {
            return Err(NetError::Prefix(prefix));
        }
        let net = ContainerNet { container, gateway, prefix };
        if container == gateway {
            return Err(NetError::Same(container));
        }
        if net.network_of(container) != net.network_of(gateway) {
            return Err(NetError::Subnet { container, gateway, prefix });
        }
        let host_mask = !net.mask();
        for a in [container, gateway] {
            let host = u32::from(a) & host_mask;
            if host == 0 || host == host_mask {
                return Err(NetError::Reserved(a));
            }
        }
        Ok(net)
    }

    fn mask(&self) -> u32 {
        u32::MAX << (32 - u32::from(self.prefix))
    }

    fn network_of(&self, a: Ipv4Addr) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(a) & self.mask())
    }

    /// `172.17.0.0/24`
    pub fn subnet(&self) -> String {
        format!("{}/{}", self.network_of(self.container), self.prefix)
    }
}

impl Default for ContainerNet {
    fn default() -> Self {
        ContainerNet { container: Ipv4Addr::new(172, 17, 0, 2), gateway: Ipv4Addr::new(172, 17, 0, 1), prefix: 24 }
    }
}

/// NTP for East Africa: the Kenyan and African pool zones first, the global pool behind them.
pub const DEFAULT_NTP_SERVERS: &str = "ke.pool.ntp.org,africa.pool.ntp.org,pool.ntp.org";

/// A secret value: written into the script, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What the agent is told through its container environment (its `SETTINGS`).
#[derive(Clone)]
pub struct AgentEnv {
    pub router_key: RouterKey,
    pub routeros_password: Secret,
    pub queue_url: String,
    pub events_queue_url: String,
    pub cloud_api_url: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

/// Everything the script is made from.
#[derive(Clone)]
pub struct ScriptParams {
    pub version: RosVersion,
    pub router_id: RouterId,
    pub router_name: String,
    pub net: ContainerNet,
    pub veth: String,
    pub bridge: String,
    pub api_port: u16,
    /// The API user and its group.
    pub api_user: String,
    /// The image archive uploaded to the router (e.g. `hotspot-agent-arm64.tar`).
    pub image_file: String,
    /// Where the container's root file system is unpacked (e.g. `disk1/hotspot-agent`).
    pub root_dir: String,
    /// Where the agent's state (journal) lives on the router (e.g. `disk1/hotspot-agent-data`).
    pub data_dir: String,
    /// The hotspot server profile whose pages are ours (e.g. `hsprof1`).
    pub hotspot_profile: String,
    /// The router directory the `hotspot-html/` files are uploaded to.
    pub html_directory: String,
    /// The hotspot server new users belong to.
    pub hotspot_server: String,
    /// DNS servers for the container (`/container/add dns=`); unset: the router itself (the
    /// container's gateway), with the input accept for DNS that needs.
    pub container_dns: Option<String>,
    /// NTP servers for the router's clock (the container shares it).
    pub ntp_servers: String,
    pub env: AgentEnv,
}

impl ScriptParams {
    /// The tag every object the script creates carries in its comment, so it can be found and undone.
    pub fn tag(&self) -> String {
        tag(&self.router_id)
    }

    /// The name of the env list and of the mount.
    pub fn env_list(&self) -> String {
        env_list(&self.router_id)
    }

    pub fn mount_list(&self) -> String {
        format!("hotspot-agent-{}-data", self.router_id)
    }

    /// The agent's environment, in `SETTINGS` order. Contains secrets.
    pub fn env_entries(&self) -> Vec<(&'static str, String)> {
        let e = &self.env;
        vec![
            ("HOTSPOT_ROUTER_ID", self.router_id.to_string()),
            ("HOTSPOT_ROUTER_KEY", e.router_key.to_hex()),
            ("ROUTEROS_ADDR", format!("{}:{}", self.net.gateway, self.api_port)),
            ("ROUTEROS_USER", self.api_user.clone()),
            ("ROUTEROS_PASSWORD", e.routeros_password.0.clone()),
            ("HOTSPOT_SERVER", self.hotspot_server.clone()),
            ("SQS_QUEUE_URL", e.queue_url.clone()),
            ("EVENTS_QUEUE_URL", e.events_queue_url.clone()),
            ("CLOUD_API_URL", e.cloud_api_url.clone()),
            ("AWS_REGION", e.region.clone()),
            ("AWS_ACCESS_KEY_ID", e.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", e.secret_access_key.0.clone()),
            ("PORTAL_LISTEN", "0.0.0.0:80".to_string()),
            ("STATE_DIR", "/data".to_string()),
            ("RUST_LOG", "info".to_string()),
        ]
    }
}

/// The name of a router's env list (`/container/envs`): `hotspot-agent-<router id>`.
pub fn env_list(id: &RouterId) -> String {
    format!("hotspot-agent-{id}")
}

/// The comment tag of a router's objects: `hotspot-agent:<router id>`.
/// The lines that point the hotspot profile at our pages' directory (`flash/<dir>` on routers
/// with a flash directory: only flash/ survives a reboot there), warning in the log if the pages
/// are not uploaded yet; `more` are further properties for the same `profile set`. Both modes'
/// scripts use them.
pub fn html_directory(dir: &str, profile: &str, log_tag: &str, more: &str) -> Vec<String> {
    vec![
        "{".into(),
        format!("    :local hsHtml {}", quote(dir)),
        "    :if ([:len [/file find where name=\"flash\" and type=\"directory\"]] > 0) do={".into(),
        "        :set hsHtml (\"flash/\" . $hsHtml)".into(),
        "    }".into(),
        "    :if ([:len [/file find where name=($hsHtml . \"/login.html\")]] = 0) do={".into(),
        format!(
            "        :log warning (\"{log_tag}: upload the hotspot pages to \" . $hsHtml . \" and run this part again\")"
        ),
        "    }".into(),
        format!("    /ip hotspot profile set [find name={}] html-directory=$hsHtml{more}", quote(profile)),
        "}".into(),
    ]
}

pub fn tag(id: &RouterId) -> String {
    format!("hotspot-agent:{id}")
}

/// Writes the script. Lines are `\n`-separated; RouterOS accepts that.
pub fn render(p: &ScriptParams) -> String {
    let fam = p.version.family();
    let q = |v: &str| quote(v);
    let tag = q(&p.tag());
    let c = p.net.container;
    let gw = p.net.gateway;
    let prefix = p.net.prefix;
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };

    line(format!("# hotspot-agent onboarding for router {} (RouterOS {} family)", p.router_id, family_label(fam)));
    line("# Generated by hotspotctl. It holds this router's secrets: keep it private and".into());
    line("# delete it from the router after the import (/file remove <name>).".into());
    line("# Before importing: device-mode has container=yes (and hotspot=yes where needed),".into());
    line("# the image file and the hotspot-html/ files are uploaded. See docs/onboarding.md.".into());
    line(format!(":log info {}", q(&format!("hotspot-agent: onboarding router {} ({})", p.router_id, p.router_name))));
    line(String::new());

    line("# 1. The container's network: a veth, a bridge holding the router's side, NAT out.".into());
    line(format!("/interface veth add name={} address={c}/{prefix} gateway={gw} comment={tag}", q(&p.veth)));
    line(format!("/interface bridge add name={} comment={tag}", q(&p.bridge)));
    line(format!("/ip address add address={gw}/{prefix} interface={} comment={tag}", q(&p.bridge)));
    line(format!("/interface bridge port add bridge={} interface={} comment={tag}", q(&p.bridge), q(&p.veth)));
    line(format!("/ip firewall nat add chain=srcnat action=masquerade src-address={} comment={tag}", p.net.subnet()));
    line("#    Guests must reach the portal as themselves: `/ip hotspot setup` masquerades the hotspot".into());
    line("#    network with no out-interface, which would hide every guest behind the router's address.".into());
    line("#    So traffic to the container is exempt from source NAT, ahead of every other srcnat rule.".into());
    let exempt = format!("/ip firewall nat add chain=srcnat action=accept dst-address={c} comment={tag}");
    first_in_chain(&mut line, "hsNat", "/ip firewall nat find chain=srcnat dynamic=no", &exempt);
    line(String::new());

    line("# 2. Let the agent reach the API: the default firewall drops input from non-LAN".into());
    line("#    interfaces, so this accept goes before the first static input rule.".into());
    let rule = format!(
        "/ip firewall filter add chain=input action=accept protocol=tcp src-address={c} dst-address={gw} \
         dst-port={} comment={tag}",
        p.api_port
    );
    first_in_chain(&mut line, "hsFirst", "/ip firewall filter find chain=input dynamic=no", &rule);
    if p.container_dns.is_none() {
        line("#    The container asks the router for DNS (its gateway, as /container/add dns= below):".into());
        line("#    accept that too, and let the router answer (the hotspot needs it for guests anyway).".into());
        for proto in ["udp", "tcp"] {
            let dns = format!(
                "/ip firewall filter add chain=input action=accept protocol={proto} src-address={c} \
                 dst-address={gw} dst-port=53 comment={tag}"
            );
            first_in_chain(&mut line, "hsFirst", "/ip firewall filter find chain=input dynamic=no", &dns);
        }
        line("/ip dns set allow-remote-requests=yes".into());
    }
    line(String::new());

    line("#    The clock: routers without a battery boot at 1970 until NTP answers, and the container".into());
    line("#    shares the router's clock (the agent refuses to expire or sign anything until it is set).".into());
    line(format!("/system ntp client set enabled=yes servers={}", q(&p.ntp_servers)));
    line(String::new());

    line("# 3. The API service answers the container only; the agent's user may only use the API,".into());
    line("#    read and write (no ssh, winbox, ftp, policy, reboot, sensitive…).".into());
    line(format!("/ip service set api address={c}/32 port={} disabled=no", p.api_port));
    line(format!("/user group add name={} policy=api,read,write comment={tag}", q(&p.api_user)));
    line(format!(
        "/user add name={} group={} address={c}/32 password={} comment={tag}",
        q(&p.api_user),
        q(&p.api_user),
        q(&p.env.routeros_password.0)
    ));
    line(String::new());

    line("# 4. The agent's settings and its state directory (a mount survives image upgrades).".into());
    line("#    These carry no comment (not every release has one here): they are found by list name.".into());
    let env_list = q(&p.env_list());
    for (k, v) in p.env_entries() {
        line(format!("/container/envs add {}={env_list} key={} value={}", fam.envs_list_prop(), q(k), q(&v)));
    }
    let mount = q(&p.mount_list());
    line(format!("/container/mounts add {}={mount} src={} dst={}", fam.mounts_list_prop(), q(&p.data_dir), q("/data")));
    line(String::new());

    line("# 5. The container itself. Unpacking takes a minute; /container print shows its status.".into());
    let dns = match p.container_dns.as_deref() {
        Some(d) => format!(" dns={}", q(d)),
        None => format!(" dns={gw}"),
    };
    line(format!(
        "/container/add file={} interface={} root-dir={} {}={env_list} {}={mount}{dns} \
         start-on-boot=yes logging=yes comment={tag}",
        q(&p.image_file),
        q(&p.veth),
        q(&p.root_dir),
        fam.container_envs_prop(),
        fam.container_mounts_prop(),
    ));
    line(String::new());

    line("# 6. Guests reach the portal before logging in; the hotspot serves our pages.".into());
    line(format!("/ip hotspot walled-garden ip add dst-address={c} action=accept comment={tag}"));
    line(format!("#    The pages of hotspot-html/ (login.html sends guests to the portal at http://{c}) go in"));
    line("#    the html directory; on routers with a flash/ directory only flash/ survives a reboot.".into());
    for l in html_directory(&p.html_directory, &p.hotspot_profile, "hotspot-agent", "") {
        line(l);
    }
    line(String::new());
    line(format!(
        ":log info {}",
        q(&format!(
            "hotspot-agent: router {} configured; start the container once unpacked: /container start [find comment=\"{}\"]",
            p.router_id,
            p.tag()
        ))
    ));
    s
}

/// Adds `rule` first in its chain (before the first static rule `find` finds), or appends it to
/// an empty chain: `place-before` needs a rule to stand before.
fn first_in_chain(line: &mut impl FnMut(String), var: &str, find: &str, rule: &str) {
    line("{".into());
    line(format!("    :local {var} [{find}]"));
    line(format!("    :if ([:len ${var}] > 0) do={{"));
    line(format!("        {rule} place-before=[:pick ${var} 0]"));
    line("    } else={".into());
    line(format!("        {rule}"));
    line("    }".into());
    line("}".into());
}

fn family_label(f: Family) -> &'static str {
    match f {
        Family::UpTo719 => "7.19 and earlier",
        Family::V720 => "7.20",
        Family::From721 => "7.21 and later",
    }
}
