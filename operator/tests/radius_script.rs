//! The RADIUS-mode script (`router add --mode radius`): every command and property name it
//! writes, per RouterOS version, is one RouterOS has; hostile values stay inside their strings;
//! the versions, secrets and client addresses it takes; the RadSec certificates verify with
//! `openssl verify`.
//!
//! Where the names come from:
//! - RouterOS 7: its own command schemas (`/console/inspect` as published per release by
//!   tikoci/restraml, `docs/7.9/inspect.json`, `docs/7.20/inspect.json`, `docs/7.22/inspect.json`):
//!   every name below is in all three.
//! - RouterOS 6: MikroTik's manual — help.mikrotik.com "RADIUS" (`/radius` properties; `protocol`
//!   is RadSec's, v7 only), "NTP" ("RouterOS version 6": `enabled`, `primary-ntp`, `secondary-ntp`,
//!   `server-dns-names`; v6 has no `servers`), "HotSpot" (server profile `use-radius`,
//!   `radius-accounting`, `radius-interim-update`, `login-by`; walled garden `dst-host`, `action`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use common::{Tok, lines, prop, tokenize};
use hotspot_core::RouterId;
use hotspotctl::radius::{
    self, Ca, ClientAddress, RadiusScript, RadiusSecret, RadiusVersion, RouterAuth, Transport, clients_conf,
};

/// Command path (words up to the verb) → the property names RouterOS takes there.
fn schema(v6: bool) -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let mut m: BTreeMap<&'static str, BTreeSet<&'static str>> = BTreeMap::new();
    let mut put = |cmd: &'static str, props: &[&'static str]| {
        m.insert(cmd, props.iter().copied().collect());
    };
    put("/system identity set", &["name"]);
    put(
        "/ip hotspot profile set",
        &[
            "use-radius",
            "radius-accounting",
            "radius-interim-update",
            "login-by",
            "radius-mac-format",
            "mac-auth-password",
            "html-directory",
        ],
    );
    put("/ip hotspot walled-garden add", &["action", "comment", "dst-host", "dst-port", "path", "server"]);
    if v6 {
        put("/system ntp client set", &["enabled", "primary-ntp", "secondary-ntp", "server-dns-names"]);
        put(
            "/radius add",
            &[
                "accounting-backup",
                "accounting-port",
                "address",
                "authentication-port",
                "called-id",
                "comment",
                "disabled",
                "domain",
                "realm",
                "secret",
                "service",
                "src-address",
                "timeout",
            ],
        );
    } else {
        put("/system ntp client set", &["enabled", "mode", "servers", "vrf"]);
        put(
            "/radius add",
            &[
                "accounting-backup",
                "accounting-port",
                "address",
                "authentication-port",
                "called-id",
                "certificate",
                "comment",
                "disabled",
                "domain",
                "protocol",
                "realm",
                "secret",
                "service",
                "src-address",
                "timeout",
            ],
        );
        let mut p = m["/ip hotspot profile set"].clone();
        p.insert("mac-auth-mode");
        m.insert("/ip hotspot profile set", p);
        m.insert("/file add", ["contents", "name"].into());
        m.insert("/file remove", BTreeSet::new());
        m.insert("/certificate import", ["file-name", "name", "passphrase"].into());
        m.insert("/certificate set", ["trusted"].into());
    }
    m
}

const VERBS: [&str; 4] = ["add", "set", "import", "remove"];

/// A command line's path (up to and with its verb) and its property names, outside brackets.
fn command(l: &[Tok]) -> Option<(String, Vec<String>)> {
    let Some(Tok::Word(first)) = l.first() else { return None };
    if !first.starts_with('/') {
        return None;
    }
    let mut path = Vec::new();
    let mut i = 0;
    while let Some(Tok::Word(w)) = l.get(i) {
        path.push(w.clone());
        i += 1;
        if VERBS.contains(&w.as_str()) {
            break;
        }
    }
    let mut props = Vec::new();
    let mut depth = 0;
    for t in &l[i..] {
        match t {
            Tok::Punct('[') => depth += 1,
            Tok::Punct(']') => depth -= 1,
            Tok::Word(w) if depth == 0 => {
                if let Some((k, _)) = w.split_once('=') {
                    props.push(k.to_string());
                }
            }
            _ => {}
        }
    }
    Some((path.join(" "), props))
}

fn id() -> RouterId {
    "cafe-01".parse().expect("id")
}

fn ca() -> Ca {
    Ca::create().expect("ca")
}

fn script(version: &str, name: &str, ca: &Ca) -> RadiusScript {
    let version: RadiusVersion = version.parse().expect("version");
    let auth = match version.transport() {
        Transport::Udp => RouterAuth::Udp { secret: RadiusSecret::generate() },
        Transport::RadSec => {
            RouterAuth::RadSec { ca_pem: ca.cert_pem.clone(), router: ca.sign_router(&id()).expect("router cert") }
        }
    };
    RadiusScript {
        version,
        router_id: id(),
        router_name: name.to_string(),
        radius_address: "198.51.100.7".parse().expect("ip"),
        hotspot_profile: "hsprof1".into(),
        portal_host: "abc123def4.execute-api.eu-west-1.amazonaws.com".into(),
        html_directory: "hotspot-html".into(),
        ntp_servers: hotspotctl::rsc::DEFAULT_NTP_SERVERS.into(),
        auth,
    }
}

/// The one command line with this path.
fn one<'a>(ls: &'a [Vec<Tok>], path: &str) -> &'a [Tok] {
    let found: Vec<&Vec<Tok>> = ls.iter().filter(|l| command(l).is_some_and(|(p, _)| p == path)).collect();
    assert_eq!(found.len(), 1, "exactly one {path}");
    found[0]
}

fn all<'a>(ls: &'a [Vec<Tok>], path: &str) -> Vec<&'a [Tok]> {
    ls.iter().filter(|l| command(l).is_some_and(|(p, _)| p == path)).map(Vec::as_slice).collect()
}

#[test]
fn versions_pick_the_transport() {
    for (v, t) in [
        ("6.41", Transport::Udp),
        ("6.49.10", Transport::Udp),
        ("6.48.6", Transport::Udp),
        ("7.9", Transport::RadSec),
        ("7.20.2", Transport::RadSec),
        ("7.24beta1", Transport::RadSec),
    ] {
        assert_eq!(v.parse::<RadiusVersion>().map(RadiusVersion::transport), Ok(t), "{v}");
    }
    for bad in ["", "6", "6.40", "6.30.4", "7.8", "7.1", "5.26", "8.1", "x.y", "7.x"] {
        assert!(bad.parse::<RadiusVersion>().is_err(), "{bad:?} must be refused");
    }
}

/// Every command of each version's script is one that version has, with property names it has.
#[test]
fn every_command_and_property_is_routeros_own() {
    let ca = ca();
    for (version, v6) in [("6.41", true), ("6.49.10", true), ("7.9", false), ("7.20", false), ("7.22", false)] {
        let s = radius::render(&script(version, "Cafe Westlands", &ca));
        let ls = lines(&s).expect("tokenizes");
        let schema = schema(v6);
        let mut seen = BTreeSet::new();
        for l in &ls {
            let Some((path, props)) = command(l) else { continue };
            let allowed = schema.get(path.as_str()).unwrap_or_else(|| panic!("{version}: unchecked command {path}"));
            for p in props {
                assert!(allowed.contains(p.as_str()), "{version}: {path} has no {p}=");
            }
            seen.insert(path);
        }
        let want: BTreeSet<String> = schema.keys().map(|k| k.to_string()).collect();
        assert_eq!(seen, want, "{version}: the script uses each checked command");
    }
}

#[test]
fn the_v6_script_speaks_udp_with_its_own_secret() {
    let s = radius::render(&script("6.49", "Cafe", &ca()));
    let ls = lines(&s).expect("tokenizes");
    let r = one(&ls, "/radius add");
    assert_eq!(prop(r, "service").as_deref(), Some("hotspot"));
    assert_eq!(prop(r, "address").as_deref(), Some("198.51.100.7"));
    assert_eq!(prop(r, "authentication-port").as_deref(), Some("1812"));
    assert_eq!(prop(r, "accounting-port").as_deref(), Some("1813"));
    assert_eq!(prop(r, "timeout").as_deref(), Some(radius::TIMEOUT));
    assert_eq!(prop(r, "protocol"), None, "RouterOS 6 has no protocol=");
    let secret = prop(r, "secret").expect("a secret");
    assert_eq!(secret.len(), RadiusSecret::LEN);
    assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()), "{secret}");
    assert_eq!(prop(r, "comment").as_deref(), Some("hotspot-radius:cafe-01"));

    let ntp = one(&ls, "/system ntp client set");
    assert_eq!(prop(ntp, "enabled").as_deref(), Some("yes"));
    assert_eq!(prop(ntp, "server-dns-names").as_deref(), Some(hotspotctl::rsc::DEFAULT_NTP_SERVERS));
    assert!(all(&ls, "/file add").is_empty() && all(&ls, "/certificate import").is_empty());
    let hs = one(&ls, "/ip hotspot profile set");
    assert_eq!(prop(hs, "mac-auth-mode"), None, "left at its default (mac-as-username) on v6");
    common_parts(&ls);
}

#[test]
fn the_v7_script_installs_the_certificates_and_speaks_radsec() {
    let ca = ca();
    let p = script("7.20", "Cafe", &ca);
    let s = radius::render(&p);
    let ls = lines(&s).expect("tokenizes");
    let r = one(&ls, "/radius add");
    assert_eq!(prop(r, "service").as_deref(), Some("hotspot"));
    assert_eq!(prop(r, "protocol").as_deref(), Some("radsec"));
    assert_eq!(prop(r, "address").as_deref(), Some("198.51.100.7"));
    assert_eq!(prop(r, "secret").as_deref(), Some("radsec"), "RFC 6614");
    assert_eq!(prop(r, "certificate").as_deref(), Some("hotspot-radius-cafe-01"));
    assert_eq!(prop(r, "timeout").as_deref(), Some(radius::TIMEOUT));

    // The files hold the CA, the router's certificate and its key; each is imported, the
    // router's certificate under the name /radius uses, and removed again.
    let files: BTreeMap<String, String> = all(&ls, "/file add")
        .into_iter()
        .map(|l| (prop(l, "name").expect("name"), prop(l, "contents").expect("contents")))
        .collect();
    assert_eq!(files.len(), 3);
    assert_eq!(files["hotspot-radius-ca.pem"], ca.cert_pem);
    let RouterAuth::RadSec { router, .. } = &p.auth else { panic!("radsec") };
    assert_eq!(files["hotspot-radius-cafe-01.pem"], router.cert_pem);
    assert_eq!(files["hotspot-radius-cafe-01.key"], router.key_pem.0);
    let imports: Vec<(String, Option<String>)> = all(&ls, "/certificate import")
        .into_iter()
        .map(|l| (prop(l, "file-name").expect("file-name"), prop(l, "name")))
        .collect();
    assert_eq!(
        imports,
        [
            ("hotspot-radius-ca.pem".to_string(), Some("hotspot-radius-ca".to_string())),
            ("hotspot-radius-cafe-01.pem".to_string(), Some("hotspot-radius-cafe-01".to_string())),
            ("hotspot-radius-cafe-01.key".to_string(), None),
        ]
    );
    assert!(s.contains("/certificate import file-name=\"hotspot-radius-cafe-01.key\" passphrase=\"\""), "{s}");
    assert!(s.contains("/certificate set [find name=\"hotspot-radius-ca\"] trusted=yes"), "{s}");
    for f in files.keys() {
        assert!(s.contains(&format!("/file remove [find name=\"{f}\"]")), "{f} removed");
    }
    let first_import = s.find("/certificate import").expect("import");
    assert!(s.rfind("/file add").expect("file add") < first_import, "files first");
    assert!(s.find(":delay").expect("delay") < first_import);

    let ntp = one(&ls, "/system ntp client set");
    assert_eq!(prop(ntp, "servers").as_deref(), Some(hotspotctl::rsc::DEFAULT_NTP_SERVERS));
    assert_eq!(prop(ntp, "enabled").as_deref(), Some("yes"));
    let hs = one(&ls, "/ip hotspot profile set");
    assert_eq!(prop(hs, "mac-auth-mode").as_deref(), Some("mac-as-username"));
    common_parts(&ls);
}

/// What both versions' scripts set the same way.
fn common_parts(ls: &[Vec<Tok>]) {
    let ident = one(ls, "/system identity set");
    assert_eq!(prop(ident, "name").as_deref(), Some("cafe-01"), "NAS-Identifier = router id");
    let hs = one(ls, "/ip hotspot profile set");
    assert_eq!(prop(hs, "use-radius").as_deref(), Some("yes"));
    assert_eq!(prop(hs, "radius-accounting").as_deref(), Some("yes"));
    assert_eq!(prop(hs, "radius-interim-update").as_deref(), Some("5m"), "Acct-Interim-Interval 300");
    let mut by: Vec<String> = prop(hs, "login-by").expect("login-by").split(',').map(str::to_string).collect();
    by.sort();
    assert_eq!(by, ["http-chap", "http-pap", "mac"]);
    let wg = one(ls, "/ip hotspot walled-garden add");
    assert_eq!(prop(wg, "dst-host").as_deref(), Some("abc123def4.execute-api.eu-west-1.amazonaws.com"));
    assert_eq!(prop(wg, "action").as_deref(), Some("allow"));
    assert_eq!(prop(wg, "comment").as_deref(), Some("hotspot-radius:cafe-01"));
}

/// A hostile router name, profile or portal host stays inside its string: same tokens as with
/// plain values, and each value comes back intact.
#[test]
fn hostile_values_cannot_break_out() {
    let ca = ca();
    let hostile = "Cafe \"x\" $evil $(:put 1) [/system reset-configuration] \\\n/user add name=x group=full\r?";
    for version in ["6.49", "7.20"] {
        let plain = radius::render(&script(version, "Cafe Westlands", &ca));
        let mut p = script(version, hostile, &ca);
        p.hotspot_profile = "hs\"prof\n/ip service enable telnet".into();
        p.portal_host = "x\" ; /system reboot".into();
        let evil = radius::render(&p);
        let shape = |s: &str| -> Vec<Tok> {
            tokenize(s)
                .expect("tokenizes")
                .into_iter()
                .map(|t| if let Tok::Str(_) = t { Tok::Str(String::new()) } else { t })
                .collect()
        };
        assert_eq!(shape(&evil), shape(&plain), "{version}: only string contents differ");
        let strings: Vec<String> = tokenize(&evil)
            .expect("tokenizes")
            .into_iter()
            .filter_map(|t| if let Tok::Str(s) = t { Some(s) } else { None })
            .collect();
        assert!(strings.iter().any(|s| s == &format!("hotspot-radius: onboarding router cafe-01 ({hostile})")));
        assert!(strings.iter().any(|s| s == "hs\"prof\n/ip service enable telnet"));
        assert!(strings.iter().any(|s| s == "x\" ; /system reboot"));
        for l in evil.lines().filter(|l| l.trim_start().starts_with('#')) {
            assert!(!l.contains("evil") && !l.contains("telnet") && !l.contains("reboot"), "{l}");
        }
        assert!(!evil.lines().any(|l| l.trim_start().starts_with("/user")), "no command escapes");
    }
}

#[test]
fn secrets_and_client_addresses() {
    let a = RadiusSecret::generate();
    let b = RadiusSecret::generate();
    assert_ne!(a.as_str(), b.as_str());
    assert!(a.as_str().len() >= 24 && a.as_str().bytes().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(format!("{a:?}"), "RadiusSecret(***)");

    for ok in ["197.248.10.5", "197.248.10.0/29", "41.90.0.0/16", "198.51.100.7/32"] {
        let c: ClientAddress = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
        assert_eq!(c.to_string(), ok.trim_end_matches("/32"));
    }
    for bad in [
        "",
        "10.0.0.1",
        "192.168.88.1",
        "172.16.5.5",
        "100.64.1.2",
        "127.0.0.1",
        "169.254.1.1",
        "224.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "197.248.10.5/24",
        "41.0.0.0/8",
        "197.248.10.0/33",
        "197.248.10.0/",
        "x.y.z.w",
        "197.248.10.5\n/ip",
        "fe80::1",
    ] {
        assert!(bad.parse::<ClientAddress>().is_err(), "{bad:?} must be refused");
    }

    let addr: ClientAddress = "197.248.10.0/29".parse().expect("addr");
    let secret = RadiusSecret::generate();
    assert_eq!(
        clients_conf(&id(), addr, &secret),
        format!(
            "client cafe-01 {{\n\tipaddr = 197.248.10.0/29\n\tsecret = \"{}\"\n\tshortname = cafe-01\n\tnas_type = other\n}}\n",
            secret.as_str()
        )
    );
    assert_eq!(radius::client_parameter(&id()), "/hotspot/radius/clients/cafe-01");
}

fn openssl(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The deployment's CA signs the service's certificate and each router's (CN = router id, client
/// use only); both verify with openssl; a CA loaded back from its files signs the same way; a
/// certificate that is not the key's CA is refused.
#[test]
fn the_certificate_chain_verifies_with_openssl() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = radius::new_deployment("radius.example.com").expect("deployment");
    let w = |n: &str, s: &str| std::fs::write(dir.path().join(n), s).expect("write");
    w("ca.pem", &d.ca.cert_pem);
    w("server.pem", &d.server.cert_pem);
    let (ok, out) = openssl(dir.path(), &["verify", "-CAfile", "ca.pem", "-purpose", "sslserver", "server.pem"]);
    assert!(ok, "{out}");
    let (_, san) = openssl(dir.path(), &["x509", "-in", "server.pem", "-noout", "-ext", "subjectAltName"]);
    assert!(san.contains("DNS:radius.example.com"), "{san}");

    let ca = Ca::load("ca.pem", &d.ca.cert_pem, "ca.key", &d.ca.key_pem.0).expect("our CA loads");
    let router = ca.sign_router(&id()).expect("router cert");
    w("router.pem", &router.cert_pem);
    let (ok, out) = openssl(dir.path(), &["verify", "-CAfile", "ca.pem", "-purpose", "sslclient", "router.pem"]);
    assert!(ok, "{out}");
    assert!(out.contains("router.pem: OK"), "{out}");
    let (ok, out) = openssl(dir.path(), &["verify", "-CAfile", "ca.pem", "-purpose", "sslserver", "router.pem"]);
    assert!(!ok, "a router's certificate is no server's: {out}");
    let (_, subject) = openssl(dir.path(), &["x509", "-in", "router.pem", "-noout", "-subject", "-nameopt", "RFC2253"]);
    assert_eq!(subject.trim(), "subject=CN=cafe-01");
    // Its key is the certificate's.
    w("router.key", &router.key_pem.0);
    let (_, a) = openssl(dir.path(), &["x509", "-in", "router.pem", "-noout", "-pubkey"]);
    let (_, b) = openssl(dir.path(), &["pkey", "-in", "router.key", "-pubout"]);
    assert_eq!(a, b);

    // Another deployment's certificate with this key, or garbage, is not our CA.
    let other = radius::new_deployment("10.1.2.3").expect("other");
    assert!(matches!(
        Ca::load("other.pem", &other.ca.cert_pem, "ca.key", &d.ca.key_pem.0),
        Err(radius::PkiError::NotOurCa(_))
    ));
    assert!(Ca::load("ca.pem", "not a pem", "ca.key", &d.ca.key_pem.0).is_err());
    assert!(Ca::load("ca.pem", &d.ca.cert_pem, "ca.key", "not a key").is_err());
    assert!(radius::new_deployment("bad name;").is_err());
}
