//! Settings from the environment (how RouterOS `/container/envs` passes them). A missing or bad
//! setting stops start-up with a message naming it.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use hotspot_core::{CloudUrl, RouterId, RouterKey};

use crate::decide::polling;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("setting {0} is required")]
    Missing(&'static str),
    #[error("setting {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

#[derive(Clone)]
pub struct Config {
    pub router_id: RouterId,
    pub router_key: RouterKey,
    /// The key before the last rotation: verifies what the cloud signed before it saw the switch.
    pub router_key_previous: Option<RouterKey>,
    /// RouterOS API `host:port`.
    pub routeros_addr: String,
    /// The router's address as this container sees it (the API host when it is an address):
    /// a guest request arriving from it was rewritten by the router's source NAT.
    pub router_ip: Option<Ipv4Addr>,
    pub routeros_user: String,
    pub routeros_password: String,
    /// Use API-SSL with the router's certificate checked against this PEM CA file.
    pub routeros_ca_file: Option<PathBuf>,
    /// The hotspot server new users belong to (`all` unless the router runs several).
    pub hotspot_server: String,
    pub queue_url: String,
    pub events_queue_url: String,
    pub cloud_api_url: String,
    pub portal_listen: SocketAddr,
    /// Names the portal answers to besides its address (`PORTAL_NAMES`).
    pub portal_names: Vec<String>,
    pub state_dir: PathBuf,
    /// The rest between an idle router's job polls (`decide::polling`).
    pub idle_poll_rest: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("router_id", &self.router_id)
            .field("routeros_addr", &self.routeros_addr)
            .field("routeros_user", &self.routeros_user)
            .field("queue_url", &self.queue_url)
            .field("events_queue_url", &self.events_queue_url)
            .field("cloud_api_url", &self.cloud_api_url)
            .field("portal_listen", &self.portal_listen)
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

/// Every setting with its default, for the README and `--help`.
pub const SETTINGS: &[(&str, &str, &str)] = &[
    ("HOTSPOT_ROUTER_ID", "(required)", "this router's id, as provisioned"),
    ("HOTSPOT_ROUTER_KEY", "(required)", "this router's signing key, 64 hex digits"),
    (
        "HOTSPOT_ROUTER_KEY_PREVIOUS",
        "(unset)",
        "the key before `hotspotctl router rotate` (its script sets it): jobs and SMS codes signed before the switch",
    ),
    (
        "ROUTEROS_ADDR",
        "default gateway:8728",
        "RouterOS API address; inside a RouterOS container the router is the veth gateway",
    ),
    ("ROUTEROS_USER", "(required)", "API user (group with api,read,write only)"),
    ("ROUTEROS_PASSWORD", "(required)", "API user's password"),
    (
        "ROUTEROS_CA_FILE",
        "(unset: plain API)",
        "PEM CA to verify the router's API-SSL certificate; set ROUTEROS_ADDR to port 8729",
    ),
    ("HOTSPOT_SERVER", "all", "hotspot server that new users belong to"),
    ("SQS_QUEUE_URL", "(required)", "this router's FIFO job queue"),
    ("EVENTS_QUEUE_URL", "(required)", "the shared queue for router reports"),
    ("CLOUD_API_URL", "(required)", "the cloud HTTP API base URL (https://; http:// only to loopback)"),
    ("AWS_REGION", "(required)", "AWS region of the queues"),
    ("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY", "(required)", "this router's own least-privilege credentials"),
    ("PORTAL_LISTEN", "0.0.0.0:80", "where the captive portal listens"),
    (
        "PORTAL_NAMES",
        "(unset: its address only)",
        "comma-separated DNS names the portal also answers to (e.g. the hotspot's dns-name); other Host headers are refused",
    ),
    ("STATE_DIR", "/data", "journal directory: a RouterOS mount, so it survives image upgrades"),
    (
        "HOTSPOT_IDLE_POLL_REST_SECS",
        "40",
        "seconds between job polls while no guest is paying (0-300; 0: always polling): what no guest asked for (a package change, a renewal) waits at most this",
    ),
    ("RUST_LOG", "info", "log filter"),
];

/// Reads the configuration through `get` (the process environment in `from_env`).
pub fn load(get: impl Fn(&str) -> Option<String>, route_table: Option<&str>) -> Result<Config, ConfigError> {
    let get = |k: &'static str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let req = |k: &'static str| get(k).ok_or(ConfigError::Missing(k));
    let router_id = req("HOTSPOT_ROUTER_ID")?
        .parse()
        .map_err(|e: hotspot_core::IdError| ConfigError::Invalid { name: "HOTSPOT_ROUTER_ID", why: e.to_string() })?;
    let router_key = req("HOTSPOT_ROUTER_KEY")?
        .parse()
        .map_err(|e: hotspot_core::KeyError| ConfigError::Invalid { name: "HOTSPOT_ROUTER_KEY", why: e.to_string() })?;
    let router_key_previous = get("HOTSPOT_ROUTER_KEY_PREVIOUS")
        .map(|v| v.parse::<RouterKey>())
        .transpose()
        .map_err(|e| ConfigError::Invalid { name: "HOTSPOT_ROUTER_KEY_PREVIOUS", why: e.to_string() })?;
    let routeros_addr = match get("ROUTEROS_ADDR") {
        Some(a) => {
            if !a.contains(':') {
                format!("{a}:8728")
            } else {
                a
            }
        }
        None => {
            let gw = route_table.and_then(default_gateway).ok_or(ConfigError::Invalid {
                name: "ROUTEROS_ADDR",
                why: "not set and no default gateway in /proc/net/route".into(),
            })?;
            format!("{gw}:8728")
        }
    };
    let url = |k: &'static str| -> Result<String, ConfigError> { secure_url(k, &req(k)?) };
    let portal_listen = get("PORTAL_LISTEN")
        .unwrap_or_else(|| "0.0.0.0:80".into())
        .parse()
        .map_err(|e| ConfigError::Invalid { name: "PORTAL_LISTEN", why: format!("{e}") })?;
    let router_ip = routeros_addr.rsplit_once(':').and_then(|(h, _)| h.parse().ok());
    let portal_names = crate::portal::host::parse_names(&get("PORTAL_NAMES").unwrap_or_default());
    if let Some(bad) =
        portal_names.iter().find(|n| !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    {
        return Err(ConfigError::Invalid { name: "PORTAL_NAMES", why: format!("{bad:?} is not a DNS name") });
    }
    let idle_poll_rest = match get("HOTSPOT_IDLE_POLL_REST_SECS") {
        None => polling::DEFAULT_IDLE_REST,
        Some(v) => v.parse::<u64>().ok().map(Duration::from_secs).filter(|d| *d <= polling::MAX_IDLE_REST).ok_or(
            ConfigError::Invalid {
                name: "HOTSPOT_IDLE_POLL_REST_SECS",
                why: format!("{v:?} is not a whole number of seconds from 0 to 300"),
            },
        )?,
    };
    Ok(Config {
        router_id,
        router_key,
        router_key_previous,
        router_ip,
        routeros_addr,
        routeros_user: req("ROUTEROS_USER")?,
        routeros_password: req("ROUTEROS_PASSWORD")?,
        routeros_ca_file: get("ROUTEROS_CA_FILE").map(PathBuf::from),
        hotspot_server: get("HOTSPOT_SERVER").unwrap_or_else(|| "all".into()),
        queue_url: url("SQS_QUEUE_URL")?,
        events_queue_url: url("EVENTS_QUEUE_URL")?,
        cloud_api_url: url("CLOUD_API_URL")?,
        portal_listen,
        portal_names,
        state_dir: PathBuf::from(get("STATE_DIR").unwrap_or_else(|| "/data".into())),
        idle_poll_rest,
    })
}

/// Where the queues and the API are: https, or plain http to loopback only (`CloudUrl`).
fn secure_url(name: &'static str, v: &str) -> Result<String, ConfigError> {
    v.parse::<CloudUrl>().map(CloudUrl::into_string).map_err(|e| ConfigError::Invalid { name, why: e.to_string() })
}

pub fn from_env() -> Result<Config, ConfigError> {
    let routes = std::fs::read_to_string("/proc/net/route").ok();
    if std::env::var_os("AWS_REGION").is_none() {
        return Err(ConfigError::Missing("AWS_REGION"));
    }
    load(|k| std::env::var(k).ok(), routes.as_deref())
}

/// The default route's gateway from `/proc/net/route` (hex, little-endian), e.g. `172.17.0.1`.
pub fn default_gateway(table: &str) -> Option<Ipv4Addr> {
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // Iface Destination Gateway Flags ...; the default route has destination 0 and RTF_GATEWAY.
        if f.len() < 4 || f[1] != "00000000" {
            return None;
        }
        let flags = u16::from_str_radix(f[3], 16).ok()?;
        if flags & 0x2 == 0 {
            return None;
        }
        let gw = u32::from_str_radix(f[2], 16).ok()?;
        Some(Ipv4Addr::from(gw.to_le_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &str = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
        eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
        eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";

    fn env(extra: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut m: std::collections::HashMap<String, String> = [
            ("HOTSPOT_ROUTER_ID", "cafe-01"),
            ("HOTSPOT_ROUTER_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
            ("ROUTEROS_USER", "agent"),
            ("ROUTEROS_PASSWORD", "pw"),
            ("SQS_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/1/router-cafe-01.fifo"),
            ("EVENTS_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/1/router-events"),
            ("CLOUD_API_URL", "https://api.example.com/"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        move |k| m.get(k).cloned()
    }

    #[test]
    fn defaults_come_from_the_container() {
        let c = load(env(&[]), Some(ROUTES)).unwrap();
        assert_eq!(c.routeros_addr, "172.17.0.1:8728", "the veth gateway, not 127.0.0.1");
        assert_eq!(c.portal_listen.to_string(), "0.0.0.0:80");
        assert_eq!(c.state_dir, PathBuf::from("/data"));
        assert_eq!(c.cloud_api_url, "https://api.example.com");
        assert!(!format!("{c:?}").contains("pw"), "no secrets in Debug");
        let c = load(env(&[("ROUTEROS_ADDR", "10.0.0.1")]), None).unwrap();
        assert_eq!(c.routeros_addr, "10.0.0.1:8728");
    }

    #[test]
    fn bad_or_missing_settings_are_named() {
        assert_eq!(
            load(env(&[("HOTSPOT_ROUTER_ID", "")]), Some(ROUTES)).unwrap_err(),
            ConfigError::Missing("HOTSPOT_ROUTER_ID")
        );
        let e = load(env(&[("HOTSPOT_ROUTER_KEY", "abc")]), Some(ROUTES)).unwrap_err();
        assert!(e.to_string().contains("HOTSPOT_ROUTER_KEY"), "{e}");
        let e = load(env(&[("SQS_QUEUE_URL", "queue")]), Some(ROUTES)).unwrap_err();
        assert!(e.to_string().contains("SQS_QUEUE_URL"), "{e}");
        let e = load(env(&[("PORTAL_NAMES", "wifi.cafe, evil/x")]), Some(ROUTES)).unwrap_err();
        assert!(e.to_string().contains("PORTAL_NAMES"), "{e}");
        let c = load(env(&[("PORTAL_NAMES", "WiFi.Cafe., login.local")]), Some(ROUTES)).unwrap();
        assert_eq!(c.portal_names, ["wifi.cafe", "login.local"]);
        let e = load(env(&[("PORTAL_LISTEN", "eighty")]), Some(ROUTES)).unwrap_err();
        assert!(e.to_string().contains("PORTAL_LISTEN"), "{e}");
        let e = load(env(&[]), Some("Iface\tDestination\n")).unwrap_err();
        assert!(e.to_string().contains("ROUTEROS_ADDR"), "{e}");
        for bad in ["301", "-1", "1.5", "forty"] {
            let e = load(env(&[("HOTSPOT_IDLE_POLL_REST_SECS", bad)]), Some(ROUTES)).unwrap_err();
            assert!(e.to_string().contains("HOTSPOT_IDLE_POLL_REST_SECS"), "{bad}: {e}");
        }
        let c = load(env(&[("HOTSPOT_IDLE_POLL_REST_SECS", "0")]), Some(ROUTES)).unwrap();
        assert_eq!(c.idle_poll_rest, Duration::ZERO);
        let c = load(env(&[]), Some(ROUTES)).unwrap();
        assert_eq!(c.idle_poll_rest, polling::DEFAULT_IDLE_REST);
    }

    /// Plain http only to loopback: anything else would carry phone numbers in clear text.
    #[test]
    fn cloud_urls_must_be_https_but_for_loopback() {
        for ok in ["https://api.example.com/", "http://127.0.0.1:4566", "http://[::1]:9000/x", "http://localhost:1"] {
            let c = load(env(&[("CLOUD_API_URL", ok)]), Some(ROUTES)).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(c.cloud_api_url, ok.trim_end_matches('/'));
        }
        for name in ["CLOUD_API_URL", "SQS_QUEUE_URL", "EVENTS_QUEUE_URL"] {
            for bad in
                ["http://api.example.com", "http://10.0.0.1:80", "http://127.0.0.1.evil.example/", "ftp://x", "api"]
            {
                let e = load(env(&[(name, bad)]), Some(ROUTES)).err().unwrap_or_else(|| panic!("{name}={bad} taken"));
                assert!(matches!(&e, ConfigError::Invalid { name: n, .. } if n == &name), "{e}");
            }
        }
        let e = load(env(&[("CLOUD_API_URL", "http://api.example.com")]), Some(ROUTES)).unwrap_err();
        assert!(e.to_string().contains("use https://"), "{e}");
    }
}
