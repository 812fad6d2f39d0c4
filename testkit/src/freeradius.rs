//! FreeRADIUS (Debian's `freeradius` with `freeradius-rest`) with our configuration
//! (`radius/raddb`), on free loopback ports (UDP, and RadSec on TCP with a test CA's
//! certificates), asking an API at a given URL; and `radclient` (freeradius-utils) playing a router.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::paths::{free_port, free_udp_port, workspace_root};
use crate::process::ChildGuard;
use crate::radsec::Pki;

/// One router as a RADIUS client: its address, its secret, its router id.
pub struct Client<'a> {
    pub shortname: &'a str,
    pub ipaddr: &'a str,
    pub secret: &'a str,
}

pub struct FreeRadius {
    pub auth_port: u16,
    pub acct_port: u16,
    /// RadSec (TCP): authentication and accounting both.
    pub radsec_port: u16,
    /// The CA that signed the server's certificate and signs routers' (`pki.issue(router id)`);
    /// with [`FreeRadius::start_with_tls`] it holds no CA key, and `issue` fails.
    pub pki: Pki,
    pub dir: PathBuf,
    child: Option<ChildGuard>,
}

/// `clients.conf` for these routers (what `hotspotctl` writes for the RADIUS service).
pub fn clients_conf(clients: &[Client<'_>]) -> String {
    clients
        .iter()
        .map(|c| {
            format!(
                "client {name} {{\n\tipaddr = {ip}\n\tsecret = \"{secret}\"\n\tshortname = {name}\n\tnas_type = other\n}}\n",
                name = c.shortname,
                ip = c.ipaddr,
                secret = c.secret
            )
        })
        .collect()
}

impl FreeRadius {
    /// Starts FreeRADIUS and waits until it says it is ready (its config is checked first:
    /// a bad one fails here with FreeRADIUS's own words).
    pub fn start(api_url: &str, api_secret: &str, clients: &[Client<'_>]) -> Result<FreeRadius, String> {
        Self::start_in(api_url, api_secret, clients, None)
    }

    /// As [`FreeRadius::start`], with a deployment's own RadSec files (`ca.pem`, `server.pem`,
    /// `server.key` in `tls`, as `hotspotctl radius ca` writes them) instead of a test CA's.
    pub fn start_with_tls(
        api_url: &str,
        api_secret: &str,
        clients: &[Client<'_>],
        tls: &Path,
    ) -> Result<FreeRadius, String> {
        Self::start_in(api_url, api_secret, clients, Some(tls))
    }

    fn start_in(
        api_url: &str,
        api_secret: &str,
        clients: &[Client<'_>],
        tls: Option<&Path>,
    ) -> Result<FreeRadius, String> {
        let dir = std::env::temp_dir().join(format!("freeradius-{}-{}", std::process::id(), free_port().unwrap_or(0)));
        std::fs::create_dir_all(dir.join("run")).map_err(|e| e.to_string())?;
        let conf = workspace_root().join("radius/raddb/radiusd.conf");
        std::fs::copy(&conf, dir.join("radiusd.conf")).map_err(|e| format!("{}: {e}", conf.display()))?;
        std::fs::write(dir.join("clients.conf"), clients_conf(clients)).map_err(|e| e.to_string())?;
        let (auth_port, acct_port) =
            (free_udp_port().map_err(|e| e.to_string())?, free_udp_port().map_err(|e| e.to_string())?);
        let radsec_port = free_port().map_err(|e| e.to_string())?;
        let pki = match tls {
            None => Pki::create(&dir.join("tls"))?,
            Some(given) => {
                let to = dir.join("tls");
                std::fs::create_dir_all(&to).map_err(|e| e.to_string())?;
                for f in ["ca.pem", "server.pem", "server.key"] {
                    std::fs::copy(given.join(f), to.join(f))
                        .map_err(|e| format!("{}: {e}", given.join(f).display()))?;
                }
                Pki { dir: to }
            }
        };
        let log = std::fs::File::create(dir.join("freeradius.log")).map_err(|e| e.to_string())?;
        let child = Command::new(freeradius_bin())
            .args(["-f", "-l", "stdout", "-n", "radiusd", "-d"])
            .arg(&dir)
            .env("RADIUS_API_URL", api_url.trim_end_matches('/'))
            .env("RADIUS_API_SECRET", api_secret)
            .env("RADIUS_AUTH_PORT", auth_port.to_string())
            .env("RADIUS_ACCT_PORT", acct_port.to_string())
            .env("RADIUS_RADSEC_PORT", radsec_port.to_string())
            .env("RADIUS_TLS_DIR", &pki.dir)
            .env("RADIUS_RUN_DIR", dir.join("run"))
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting freeradius: {e}"))?;
        let mut fr = FreeRadius { auth_port, acct_port, radsec_port, pki, dir, child: Some(ChildGuard(child)) };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = fr.log();
            if log.contains("Ready to process requests") {
                return Ok(fr);
            }
            if let Some(Ok(Some(status))) = fr.child.as_mut().map(|c| c.0.try_wait()) {
                return Err(format!("freeradius exited ({status}):\n{log}"));
            }
            if Instant::now() > deadline {
                return Err(format!("freeradius not ready in 60 s:\n{log}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("freeradius.log")).unwrap_or_default()
    }

    /// True while the server process runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.0.try_wait()), Some(Ok(None)))
    }
}

impl Drop for FreeRadius {
    fn drop(&mut self) {
        self.child.take();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn freeradius_bin() -> &'static Path {
    // Debian installs it as `freeradius`; other builds call it `radiusd`.
    if Path::new("/usr/sbin/freeradius").exists() { Path::new("/usr/sbin/freeradius") } else { Path::new("radiusd") }
}

/// What `radclient` got back: the reply's code (`Access-Accept`, …) and attributes as
/// `name = value` lines; `None` when nothing answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: String,
    pub attributes: Vec<(String, String)>,
}

impl Answer {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Sends one request with `radclient` (`kind`: `auth` or `acct`): attributes in radclient's
/// text form (`User-Name = "x"`, one per entry). Waits three seconds, sends once. Async: the
/// API FreeRADIUS asks may be served by the caller's own runtime (the local stack's gateway).
pub async fn radclient(port: u16, kind: &str, secret: &str, attributes: &[String]) -> Option<Answer> {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("radclient")
        .args(["-x", "-t", "3", "-r", "1"])
        .arg(format!("127.0.0.1:{port}"))
        .args([kind, secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    stdin.write_all(attributes.join(", ").as_bytes()).await.ok()?;
    drop(stdin);
    let out = child.wait_with_output().await.ok()?;
    parse_radclient(&String::from_utf8_lossy(&out.stdout))
}

fn parse_radclient(text: &str) -> Option<Answer> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with("Received "));
    let code = lines.next()?.split_whitespace().nth(1)?.to_string();
    let attributes = lines
        .take_while(|l| l.starts_with('\t') || l.starts_with("  "))
        .filter_map(|l| l.trim().split_once(" = "))
        .map(|(n, v)| (n.to_string(), v.trim_matches('"').to_string()))
        .collect();
    Some(Answer { code, attributes })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_radclient_output() {
        let text = "Sent Access-Request Id 1 from 0.0.0.0:1 to 127.0.0.1:2 length 3\n\tUser-Name = \"p\"\n\
            Received Access-Accept Id 1 from 127.0.0.1:2 to 127.0.0.1:1 length 52\n\tSession-Timeout = 3600\n\
            \tMikrotik-Rate-Limit = \"2M/5M\"\n(0) done\n";
        let a = super::parse_radclient(text).unwrap();
        assert_eq!(a.code, "Access-Accept");
        assert_eq!(a.get("Session-Timeout"), Some("3600"));
        assert_eq!(a.get("Mikrotik-Rate-Limit"), Some("2M/5M"));
        assert_eq!(super::parse_radclient("Sent Access-Request Id 1\n"), None);
    }
}
