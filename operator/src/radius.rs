//! RADIUS mode (`router add --mode radius`): routers that cannot run the agent (MIPS, RouterOS
//! v6) use their own hotspot against our FreeRADIUS. This module holds what that needs: the
//! versions it takes, the per-router UDP secret and client address, the RadSec CA and router
//! certificates, the `clients.conf` fragment, and the `.rsc` the ISP imports.
//!
//! Every command and property name the script writes was checked against RouterOS's own
//! command schemas (`/console/inspect`, 7.9 … 7.24) for v7, and MikroTik's manual for v6; the
//! names are pinned in `operator/tests/radius_script.rs`.

use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;
use std::str::FromStr;

use hotspot_core::RouterId;
use rand::Rng;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};

use crate::rsc::{Secret, quote};

/// The RFC 6614 shared secret every RadSec client uses: TLS carries the trust.
pub const RADSEC_SECRET: &str = "radsec";
/// The hotspot's interim accounting update, matching the API's `Acct-Interim-Interval` (300 s).
pub const INTERIM_UPDATE: &str = "5m";
/// How long the router waits for the service. RouterOS's default (300 ms) is too short for a
/// round trip from East Africa to the cloud and on to the radius function.
pub const TIMEOUT: &str = "3s";
/// UDP RADIUS ports (RFC 2865/2866), as the service listens.
pub const AUTH_PORT: u16 = 1812;
pub const ACCT_PORT: u16 = 1813;

/// A router's certificate is valid this long: there is no CRL yet (docs/radius.md), so it is
/// not forever.
pub const ROUTER_CERT_DAYS: i64 = 3 * 365;
pub const SERVER_CERT_DAYS: i64 = 3 * 365;
pub const CA_DAYS: i64 = 10 * 365;

/// Where a v6 router's `clients.conf` entry is kept for the RADIUS service.
pub fn client_parameter(id: &RouterId) -> String {
    format!("/hotspot/radius/clients/{id}")
}

/// The comment tag of what the RADIUS script creates: `hotspot-radius:<router id>`.
pub fn tag(id: &RouterId) -> String {
    format!("hotspot-radius:{id}")
}

/// How a router speaks RADIUS to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// RouterOS 6: UDP 1812/1813 with a per-router secret; the service knows it by address.
    Udp,
    /// RouterOS 7: RadSec (TLS, TCP 2083); the service knows it by its certificate's CN.
    RadSec,
}

/// A RouterOS version RADIUS mode takes: 6.41 and later (UDP), 7.9 and later (RadSec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RadiusVersion {
    pub major: u32,
    pub minor: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("RouterOS version {got:?} cannot use RADIUS mode: {why}")]
pub struct RadiusVersionError {
    pub got: String,
    pub why: &'static str,
}

impl FromStr for RadiusVersion {
    type Err = RadiusVersionError;
    fn from_str(s: &str) -> Result<Self, RadiusVersionError> {
        let err = |why| RadiusVersionError { got: s.chars().take(32).collect(), why };
        let (major, rest) = s.trim().split_once('.').ok_or_else(|| err("expected MAJOR.MINOR, e.g. 6.49 or 7.20"))?;
        let major: u32 = major.parse().map_err(|_| err("expected MAJOR.MINOR, e.g. 6.49 or 7.20"))?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let minor: u32 = digits.parse().map_err(|_| err("expected MAJOR.MINOR, e.g. 6.49 or 7.20"))?;
        match (major, minor) {
            (6, 41..) => Ok(RadiusVersion { major, minor }),
            (6, _) => Err(err("RouterOS 6 needs 6.41 or later (upgrade the router first)")),
            // 7.9 is the oldest release whose schema we checked (`/file add contents=`,
            // `/radius add protocol= certificate=`).
            (7, 9..) => Ok(RadiusVersion { major, minor }),
            (7, _) => Err(err("RouterOS 7 needs 7.9 or later for RadSec (upgrade the router first)")),
            _ => Err(err("only RouterOS 6.41+ and 7.9+ are supported")),
        }
    }
}

impl RadiusVersion {
    pub fn transport(self) -> Transport {
        if self.major == 6 { Transport::Udp } else { Transport::RadSec }
    }
}

impl fmt::Display for RadiusVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A v6 router's UDP shared secret: 32 letters and digits (~190 bits), which RouterOS and
/// FreeRADIUS both take inside plain double quotes with nothing to escape.
#[derive(Clone, PartialEq, Eq)]
pub struct RadiusSecret(Secret);

impl RadiusSecret {
    pub const LEN: usize = 32;

    pub fn generate() -> Self {
        RadiusSecret(Secret(
            rand::rng().sample_iter(rand::distr::Alphanumeric).take(Self::LEN).map(char::from).collect(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0.0
    }
}

impl fmt::Debug for RadiusSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RadiusSecret(***)")
    }
}

/// The public IPv4 address (or prefix) a v6 router's RADIUS packets come from: FreeRADIUS
/// matches UDP clients by source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientAddressError {
    #[error("--radius-client-address {0:?}: expected an IPv4 address or prefix, e.g. 197.248.10.5 or 197.248.10.0/29")]
    Syntax(String),
    #[error(
        "--radius-client-address {0}: a prefix must be /16 … /32 (a wider one would let too many hosts try the secret)"
    )]
    Prefix(String),
    #[error("--radius-client-address {0}: the prefix has host bits set; give its network address")]
    HostBits(String),
    #[error(
        "--radius-client-address {0}: not a public address (private, carrier-NAT, loopback, link-local or \
         multicast); give the public address the router's packets leave with"
    )]
    NotPublic(String),
}

impl FromStr for ClientAddress {
    type Err = ClientAddressError;
    fn from_str(s: &str) -> Result<Self, ClientAddressError> {
        let shown: String = s.chars().take(48).collect();
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: Ipv4Addr = a.parse().map_err(|_| ClientAddressError::Syntax(shown.clone()))?;
        let prefix: u8 = match p {
            None => 32,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse().map_err(|_| ClientAddressError::Syntax(shown.clone()))?
            }
            Some(_) => return Err(ClientAddressError::Syntax(shown)),
        };
        if !(16..=32).contains(&prefix) {
            return Err(ClientAddressError::Prefix(shown));
        }
        let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
        if u32::from(addr) & !mask != 0 {
            return Err(ClientAddressError::HostBits(shown));
        }
        let o = addr.octets();
        // 100.64.0.0/10 is carrier-grade NAT: such a router has no address of its own.
        let cgnat = o[0] == 100 && (o[1] & 0xc0) == 64;
        if addr.is_private()
            || addr.is_loopback()
            || addr.is_link_local()
            || addr.is_multicast()
            || addr.is_broadcast()
            || addr.is_unspecified()
            || o[0] == 0
            || o[0] >= 240
            || cgnat
        {
            return Err(ClientAddressError::NotPublic(shown));
        }
        Ok(ClientAddress { addr, prefix })
    }
}

impl fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == 32 { write!(f, "{}", self.addr) } else { write!(f, "{}/{}", self.addr, self.prefix) }
    }
}

/// The router's `clients.conf` entry for the RADIUS service (as `testkit::freeradius` writes
/// them): its address, its secret, and `shortname` = router id, which is how the service names
/// the router to the API.
pub fn clients_conf(id: &RouterId, address: ClientAddress, secret: &RadiusSecret) -> String {
    format!(
        "client {id} {{\n\tipaddr = {address}\n\tsecret = \"{}\"\n\tshortname = {id}\n\tnas_type = other\n}}\n",
        secret.as_str()
    )
}

// ---------------------------------------------------------------------------------------------
// Certificates

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("{what}: not a PEM {expected}")]
    Pem { what: String, expected: &'static str },
    #[error(
        "{0}: this is not a CA made by `hotspotctl radius ca` with this key (its subject or public key \
         differ from the key's); nothing was changed"
    )]
    NotOurCa(String),
    #[error("--server-name {0:?}: give a DNS name or an IPv4 address")]
    ServerName(String),
}

/// The CA's subject. Fixed, so a CA can be rebuilt as an issuer from its key alone (rcgen
/// 0.13 signs with an issuer `Certificate`, not a parsed PEM), and checked against the PEM.
fn ca_name() -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "hotspot");
    dn.push(DnType::CommonName, "hotspot RADIUS CA");
    dn
}

fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = ca_name();
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p
}

fn random_serial() -> SerialNumber {
    let mut b: [u8; 16] = rand::random();
    // A positive INTEGER: the top bit clear.
    b[0] &= 0x7f;
    SerialNumber::from_slice(&b)
}

fn valid_for(p: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    // A little slack for a router's clock that is a few minutes behind.
    p.not_before = now - time::Duration::hours(1);
    p.not_after = now + time::Duration::days(days);
}

/// A certificate and its private key, PEM.
pub struct Pair {
    pub cert_pem: String,
    pub key_pem: Secret,
}

/// What `hotspotctl radius ca` writes for a new deployment.
pub struct NewDeployment {
    pub ca: Pair,
    pub server: Pair,
}

/// The RADIUS CA, able to sign.
pub struct Ca {
    issuer: rcgen::Certificate,
    key: KeyPair,
    pub cert_pem: String,
}

impl Ca {
    /// A new CA (P-256, 10 years).
    pub fn create() -> Result<Ca, PkiError> {
        let key = KeyPair::generate()?;
        let mut p = ca_params();
        p.serial_number = Some(random_serial());
        valid_for(&mut p, CA_DAYS);
        let cert = p.self_signed(&key)?;
        let cert_pem = cert.pem();
        Ok(Ca { issuer: cert, key, cert_pem })
    }

    /// The CA of `--radius-ca-cert` / `--radius-ca-key`. Refuses a certificate that is not the
    /// key's own CA as `radius ca` made it: a router certificate naming another issuer would
    /// not verify, and the router would find out only at its first login.
    pub fn load(cert_what: &str, cert_pem: &str, key_what: &str, key_pem: &str) -> Result<Ca, PkiError> {
        let key = KeyPair::from_pem(key_pem)
            .map_err(|_| PkiError::Pem { what: key_what.to_string(), expected: "private key (PKCS#8)" })?;
        let given = pem::parse(cert_pem)
            .ok()
            .filter(|p| p.tag() == "CERTIFICATE")
            .ok_or_else(|| PkiError::Pem { what: cert_what.to_string(), expected: "certificate" })?;
        let issuer = ca_params().self_signed(&key)?;
        let ours = subject_and_key(issuer.der());
        let theirs = subject_and_key(given.contents());
        match (ours, theirs) {
            (Some(a), Some(b)) if a == b => {}
            _ => return Err(PkiError::NotOurCa(cert_what.to_string())),
        }
        Ok(Ca { issuer, key, cert_pem: cert_pem.to_string() })
    }

    pub fn key_pem(&self) -> Secret {
        Secret(self.key.serialize_pem())
    }

    /// A router's RadSec client certificate: CN = router id (the service's `router_name`).
    pub fn sign_router(&self, id: &RouterId) -> Result<Pair, PkiError> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, id.as_str());
        p.distinguished_name = dn;
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.use_authority_key_identifier_extension = true;
        p.serial_number = Some(random_serial());
        valid_for(&mut p, ROUTER_CERT_DAYS);
        self.sign(p)
    }

    /// The RADIUS service's server certificate: CN and SAN = `server_name`.
    pub fn sign_server(&self, server_name: &str) -> Result<Pair, PkiError> {
        let name = server_name.trim();
        let san = match name.parse::<Ipv4Addr>() {
            Ok(ip) => SanType::IpAddress(ip.into()),
            Err(_) => {
                let ok = !name.is_empty()
                    && name.len() <= 253
                    && name.split('.').all(|l| {
                        !l.is_empty()
                            && l.len() <= 63
                            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                            && !l.starts_with('-')
                            && !l.ends_with('-')
                    });
                if !ok {
                    return Err(PkiError::ServerName(server_name.chars().take(64).collect()));
                }
                SanType::DnsName(
                    name.to_ascii_lowercase()
                        .try_into()
                        .map_err(|_| PkiError::ServerName(server_name.chars().take(64).collect()))?,
                )
            }
        };
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        p.distinguished_name = dn;
        p.subject_alt_names = vec![san];
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.use_authority_key_identifier_extension = true;
        p.serial_number = Some(random_serial());
        valid_for(&mut p, SERVER_CERT_DAYS);
        self.sign(p)
    }

    fn sign(&self, p: CertificateParams) -> Result<Pair, PkiError> {
        let key = KeyPair::generate()?;
        let cert = p.signed_by(&key, &self.issuer, &self.key)?;
        Ok(Pair { cert_pem: cert.pem(), key_pem: Secret(key.serialize_pem()) })
    }
}

/// A CA and the service's certificate for a new deployment.
pub fn new_deployment(server_name: &str) -> Result<NewDeployment, PkiError> {
    let ca = Ca::create()?;
    let server = ca.sign_server(server_name)?;
    Ok(NewDeployment { ca: Pair { cert_pem: ca.cert_pem.clone(), key_pem: ca.key_pem() }, server })
}

/// The DER of a certificate's subject Name and of its SubjectPublicKeyInfo.
fn subject_and_key(cert_der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).ok()?;
    Some((cert.subject().as_raw().to_vec(), cert.public_key().raw.to_vec()))
}

// ---------------------------------------------------------------------------------------------
// The script

/// How the router authenticates to the service, with what the script installs for it.
pub enum RouterAuth {
    /// v6: the per-router UDP secret.
    Udp { secret: RadiusSecret },
    /// v7: the CA to trust and the router's own certificate and key.
    RadSec { ca_pem: String, router: Pair },
}

/// Everything the RADIUS-mode script is made from.
pub struct RadiusScript {
    pub version: RadiusVersion,
    pub router_id: RouterId,
    pub router_name: String,
    /// The RADIUS service (`/radius add address=` takes an IP).
    pub radius_address: Ipv4Addr,
    /// The hotspot server profile that is to ask RADIUS.
    pub hotspot_profile: String,
    /// The cloud portal's host, reachable by guests before they log in.
    pub portal_host: String,
    /// The router directory the hotspot pages (sending guests to the cloud portal) go in.
    pub html_directory: String,
    pub ntp_servers: String,
    pub auth: RouterAuth,
}

impl RadiusScript {
    pub fn tag(&self) -> String {
        tag(&self.router_id)
    }
    /// The names the certificates are imported under (`/radius add certificate=` names the router's).
    pub fn ca_cert_name(&self) -> &'static str {
        "hotspot-radius-ca"
    }
    pub fn router_cert_name(&self) -> String {
        format!("hotspot-radius-{}", self.router_id)
    }
}

/// Writes the RADIUS-mode script. Lines are `\n`-separated.
pub fn render(p: &RadiusScript) -> String {
    let q = |v: &str| quote(v);
    let id = &p.router_id;
    let tag = q(&p.tag());
    let profile = q(&p.hotspot_profile);
    let mut s = String::new();
    let mut line = |l: String| {
        s.push_str(&l);
        s.push('\n');
    };
    let (v6, label) = match p.version.transport() {
        Transport::Udp => (true, "RouterOS 6, RADIUS over UDP"),
        Transport::RadSec => (false, "RouterOS 7, RadSec"),
    };
    line(format!("# hotspot RADIUS-mode onboarding for router {id} ({label})"));
    line("# Generated by hotspotctl. It holds this router's RADIUS secret or key: keep it private".into());
    line("# and delete it from the router after the import (/file remove <name>). See docs/onboarding.md.".into());
    line(format!(":log info {}", q(&format!("hotspot-radius: onboarding router {id} ({})", p.router_name))));
    line("# The hotspot (IP > Hotspot > Hotspot Setup) must exist first: stop here, changing nothing, if".into());
    line("# its server profile does not.".into());
    line(format!(
        ":if ([:len [/ip hotspot profile find name={profile}]] = 0) do={{ :error {} }}",
        q(&format!("hotspot-radius: no hotspot server profile {:?}: run Hotspot Setup first", p.hotspot_profile))
    ));
    line(String::new());

    line("# 1. The router's identity is what it sends as NAS-Identifier; the cloud refuses a request".into());
    line("#    whose NAS-Identifier names another router than the one the service knows it as.".into());
    line(format!("/system identity set name={}", q(id.as_str())));
    line(String::new());

    line("# 2. The clock: routers without a battery boot at 1970 until NTP answers (and a RadSec".into());
    line("#    certificate is not valid at 1970).".into());
    if v6 {
        line(format!("/system ntp client set enabled=yes server-dns-names={}", q(&p.ntp_servers)));
    } else {
        line(format!("/system ntp client set enabled=yes servers={}", q(&p.ntp_servers)));
    }
    line(String::new());

    match &p.auth {
        RouterAuth::Udp { secret } => {
            line("# 3. The RADIUS service, over UDP with this router's own secret.".into());
            line(format!(
                "/radius add service=hotspot address={} secret={} authentication-port={AUTH_PORT} \
                 accounting-port={ACCT_PORT} timeout={TIMEOUT} comment={tag}",
                p.radius_address,
                q(secret.as_str())
            ));
        }
        RouterAuth::RadSec { ca_pem, router } => {
            let ca_file = format!("{}.pem", p.ca_cert_name());
            let cert_file = format!("{}.pem", p.router_cert_name());
            let key_file = format!("{}.key", p.router_cert_name());
            line("# 3. Certificates: the CA that signed the service's certificate (so the router can verify".into());
            line("#    it), and the router's own, CN = its id, which is how the service knows it.".into());
            line(format!("/file add name={} contents={}", q(&ca_file), q(ca_pem)));
            line(format!("/file add name={} contents={}", q(&cert_file), q(&router.cert_pem)));
            line(format!("/file add name={} contents={}", q(&key_file), q(&router.key_pem.0)));
            line("#    Let the files reach the disk before importing them.".into());
            line(":delay 2s".into());
            line(format!("/certificate import file-name={} name={} passphrase=\"\"", q(&ca_file), q(p.ca_cert_name())));
            line(format!(
                "/certificate import file-name={} name={} passphrase=\"\"",
                q(&cert_file),
                q(&p.router_cert_name())
            ));
            line("#    The key joins the certificate it belongs to.".into());
            line(format!("/certificate import file-name={} passphrase=\"\"", q(&key_file)));
            line(format!("/certificate set [find name={}] trusted=yes", q(p.ca_cert_name())));
            for f in [&ca_file, &cert_file, &key_file] {
                line(format!("/file remove [find name={}]", q(f)));
            }
            line(String::new());
            line("# 4. The RADIUS service, over RadSec (TLS): RFC 6614's fixed secret, the trust is TLS's.".into());
            line(format!(
                "/radius add service=hotspot protocol=radsec address={} certificate={} secret={} \
                 timeout={TIMEOUT} comment={tag}",
                p.radius_address,
                q(&p.router_cert_name()),
                q(RADSEC_SECRET)
            ));
        }
    }
    line(String::new());
    // v6 has no certificate part: its later parts are numbered one lower.
    let n = if v6 { 4 } else { 5 };

    line(format!("# {n}. The hotspot asks RADIUS and reports to it: logins by the grant's password (CHAP or PAP)"));
    line("#    and returning devices by MAC (the MAC as user name, no password); accounting every 5m".into());
    line("#    (the service's Acct-Interim-Interval). It serves our pages: login.html sends guests to the".into());
    line("#    cloud portal with their device and this hotspot's login page, where the portal sends them".into());
    line("#    back once paid.".into());
    // RouterOS 6 has mac-auth-mode too, but its default is the same, mac-as-username, and the v6
    // manual we checked names it nowhere: left at its default there.
    let mac_mode = if v6 { String::new() } else { " mac-auth-mode=mac-as-username".to_string() };
    let radius = format!(
        " use-radius=yes radius-accounting=yes radius-interim-update={INTERIM_UPDATE} \
         login-by=http-chap,http-pap,mac{mac_mode}"
    );
    for l in crate::rsc::html_directory(&p.html_directory, &p.hotspot_profile, "hotspot-radius", &radius) {
        line(l);
    }
    line(String::new());

    line(format!("# {}. Guests reach the cloud portal before logging in. (The router's own RADIUS traffic", n + 1));
    line("#    is not a guest's: it needs no walled-garden entry.)".into());
    line(format!("/ip hotspot walled-garden add dst-host={} action=allow comment={tag}", q(&p.portal_host)));
    line(String::new());

    let mut done = String::new();
    let _ = write!(done, "hotspot-radius: router {id} configured; RADIUS at {}", p.radius_address);
    line(format!(":log info {}", q(&done)));
    s
}
