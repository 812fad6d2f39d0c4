//! RadSec (RADIUS over TLS, RFC 6614) for tests: a certificate authority made with the `openssl`
//! command, and `radsecproxy` (Debian's, not ours) playing a RouterOS 7 router's RadSec client:
//! `radclient` speaks UDP to it and it speaks TLS, with the router's certificate, to FreeRADIUS.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::paths::{free_port, free_udp_port};
use crate::process::ChildGuard;

/// Certificates under one directory: `ca.pem`/`ca.key`, `server.pem`/`server.key` (for
/// 127.0.0.1), and client certificates issued on demand.
pub struct Pki {
    pub dir: PathBuf,
}

/// A client certificate and its key, as a router holds them.
#[derive(Debug, Clone)]
pub struct Identity {
    pub cert: PathBuf,
    pub key: PathBuf,
}

const EXTENSIONS: &str = "[server]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n\
[client]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n";

/// A new P-256 key, unencrypted, for `openssl req`.
const NEW_KEY: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("openssl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)))
    }
}

impl Pki {
    /// A new CA (P-256) and a server certificate it signed, in `dir`.
    pub fn create(dir: &Path) -> Result<Pki, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("extensions.cnf"), EXTENSIONS).map_err(|e| e.to_string())?;
        let out = ["-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=Hotspot RADIUS test CA"];
        openssl(dir, &[&["req", "-x509"][..], NEW_KEY, &out].concat())?;
        let pki = Pki { dir: dir.to_path_buf() };
        pki.sign("server", "127.0.0.1", "server")?;
        Ok(pki)
    }

    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A client certificate with this CN (a router id), signed by this CA.
    pub fn issue(&self, cn: &str) -> Result<Identity, String> {
        let name = format!("client-{cn}");
        self.sign(&name, cn, "client")?;
        Ok(Identity { cert: self.dir.join(format!("{name}.pem")), key: self.dir.join(format!("{name}.key")) })
    }

    fn sign(&self, name: &str, cn: &str, extensions: &str) -> Result<(), String> {
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        let subject = format!("/CN={cn}");
        openssl(&self.dir, &[&["req"][..], NEW_KEY, &["-keyout", &key, "-out", &csr, "-subj", &subject]].concat())?;
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "30",
                "-extfile",
                "extensions.cnf",
                "-extensions",
                extensions,
            ],
        )
    }
}

/// `radsecproxy` taking UDP RADIUS from `radclient` on `udp_port` (with `udp_secret`) and
/// sending it over RadSec to FreeRADIUS with a router's certificate; it checks the server's
/// certificate against `ca` and its name (127.0.0.1) as a router would.
pub struct RadsecProxy {
    pub udp_port: u16,
    dir: PathBuf,
    _child: ChildGuard,
}

impl RadsecProxy {
    pub fn start(radsec_port: u16, ca: &Path, router: &Identity, udp_secret: &str) -> Result<RadsecProxy, String> {
        let dir = std::env::temp_dir().join(format!("radsecproxy-{}-{}", std::process::id(), free_port().unwrap_or(0)));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let udp_port = free_udp_port().map_err(|e| e.to_string())?;
        let conf = format!(
            "ListenUDP 127.0.0.1:{udp_port}\nLogLevel 3\n\
             tls router {{\n\tCACertificateFile {ca}\n\tCertificateFile {cert}\n\tCertificateKeyFile {key}\n}}\n\
             client radclient {{\n\thost 127.0.0.1\n\ttype udp\n\tsecret {udp_secret}\n}}\n\
             server cloud {{\n\thost 127.0.0.1\n\tport {radsec_port}\n\ttype tls\n\ttls router\n\tsecret radsec\n\
             \tStatusServer off\n}}\n\
             realm * {{\n\tserver cloud\n\taccountingServer cloud\n}}\n",
            ca = ca.display(),
            cert = router.cert.display(),
            key = router.key.display(),
        );
        std::fs::write(dir.join("radsecproxy.conf"), conf).map_err(|e| e.to_string())?;
        // In the foreground it logs to stderr, whatever LogDestination says.
        let log = std::fs::File::create(dir.join("radsecproxy.log")).map_err(|e| e.to_string())?;
        let child = Command::new(radsecproxy_bin())
            .arg("-f")
            .arg("-c")
            .arg(dir.join("radsecproxy.conf"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("starting radsecproxy: {e}"))?;
        let proxy = RadsecProxy { udp_port, dir, _child: ChildGuard(child) };
        // Ready when it listens: the TLS connection itself opens with the first request.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !proxy.log().contains("listening for udp") {
            if Instant::now() > deadline {
                return Err(format!("radsecproxy not listening in 30 s:\n{}", proxy.log()));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Ok(proxy)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("radsecproxy.log")).unwrap_or_default()
    }
}

impl Drop for RadsecProxy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn radsecproxy_bin() -> &'static Path {
    // Debian installs it in /usr/sbin, which is not on every user's PATH.
    if Path::new("/usr/sbin/radsecproxy").exists() {
        Path::new("/usr/sbin/radsecproxy")
    } else {
        Path::new("radsecproxy")
    }
}
