//! A RouterOS hotspot in RADIUS mode as a guest's browser meets it, for the cloud portal's
//! journeys: its login page is our `hotspot-html/login.html` rendered the way RouterOS renders it
//! (`hotspot_html::render`, the pages' own tests' renderer), which sends the guest to the cloud
//! portal; its `/login` takes `username` and `password` as RouterOS's does with
//! `login-by=http-pap` and asks RADIUS: an RFC 2865 Access-Request over UDP to FreeRADIUS (the
//! real server, which asks our API) with the router's secret, its identity as NAS-Identifier
//! and the guest's MAC as Calling-Station-Id. On an accept it shows `alogin.html` (which goes on
//! to where the guest was going), on a reject `login.html` again with the error, as RouterOS
//! does. One guest device, the stack's; what is decided is FreeRADIUS's and the API's.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hotspot_core::MacAddr;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::net::UdpSocket;

use crate::bench::radius::{Login, access_request, reply_code};

const ACCESS_ACCEPT: u8 = 2;
const ACCESS_REJECT: u8 = 3;

/// What the hotspot knows and whom it asks.
#[derive(Clone)]
pub struct HotspotConfig {
    /// `/system identity`: the NAS-Identifier the API knows the router by.
    pub identity: String,
    pub radius_port: u16,
    pub radius_secret: String,
    /// The cloud portal the login page sends guests to (`…/portal/<router>`).
    pub portal_url: String,
    pub guest_mac: MacAddr,
    pub guest_ip: Ipv4Addr,
}

/// A login the hotspot asked RADIUS about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttempt {
    pub user: String,
    pub accepted: bool,
}

pub struct Hotspot {
    /// `http://127.0.0.1:PORT`: the hotspot's address, as `$(link-login-only)` names it.
    pub url: String,
    attempts: Arc<Mutex<Vec<LoginAttempt>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hotspot {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hotspot {
    pub async fn start(cfg: HotspotConfig) -> std::io::Result<Hotspot> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared { cfg, url: url.clone(), attempts: attempts.clone() });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Ok(Hotspot { url, attempts, task })
    }

    /// Where a captive browser lands: the hotspot's login page.
    pub fn login_url(&self) -> String {
        format!("{}/login", self.url)
    }

    /// The page the guest set out to open (`$(link-orig)`), served by the hotspot itself so the
    /// journey needs nothing outside loopback.
    pub fn wanted_url(&self) -> String {
        format!("{}/wanted", self.url)
    }

    pub fn attempts(&self) -> Vec<LoginAttempt> {
        self.attempts.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

struct Shared {
    cfg: HotspotConfig,
    url: String,
    attempts: Arc<Mutex<Vec<LoginAttempt>>>,
}

fn page(status: u16, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    r.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

async fn handle(sh: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let post = req.method() == hyper::Method::POST;
    let body = match Limited::new(req.into_body(), 16 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(page(413, String::new())),
    };
    let mut fields: HashMap<String, String> = HashMap::new();
    let sources: [&[u8]; 2] = [query.as_bytes(), if post { &body } else { b"" }];
    for (k, v) in sources.into_iter().flat_map(form_urlencoded::parse) {
        fields.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    Ok(match path.as_str() {
        "/wanted" => {
            page(200, "<!doctype html><title>wanted</title><p id=\"wanted\">The page the guest wanted</p>".into())
        }
        "/login" | "/" => match fields.get("username").filter(|u| !u.is_empty()) {
            None => sh.render("login.html", ""),
            Some(user) => {
                let password = fields.get("password").map_or("", String::as_str);
                let accepted = sh.ask_radius(user, password).await;
                if let Ok(mut a) = sh.attempts.lock() {
                    a.push(LoginAttempt { user: user.clone(), accepted: accepted == Some(true) });
                }
                match accepted {
                    Some(true) => {
                        let dst = fields.get("dst").map_or("", String::as_str);
                        sh.render_online(user, dst)
                    }
                    Some(false) => sh.render("login.html", "invalid username or password"),
                    None => sh.render("login.html", "RADIUS server is not responding"),
                }
            }
        },
        _ => page(404, "<!doctype html><p>not found</p>".into()),
    })
}

impl Shared {
    /// The variables RouterOS gives every page, plain and `-esc`.
    fn vars(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mac = self.cfg.guest_mac.to_string();
        let ip = self.cfg.guest_ip.to_string();
        let (login, orig) = (format!("{}/login", self.url), format!("{}/wanted", self.url));
        let mut raw: Vec<(&str, &str)> = vec![
            ("mac", &mac),
            ("ip", &ip),
            ("identity", &self.cfg.identity),
            ("link-login-only", &login),
            ("link-orig", &orig),
        ];
        raw.extend_from_slice(extra);
        hotspot_html::with_esc_variants(&raw, hotspot_html::url_escape_strict)
    }

    fn render(&self, name: &str, error: &str) -> Response<Full<Bytes>> {
        let Some(src) = hotspot_html::page(name) else { return page(500, String::new()) };
        let src = src.replace(hotspot_html::PORTAL_PLACEHOLDER, &self.cfg.portal_url);
        page(200, hotspot_html::render(&src, &self.vars(&[("error", error)])))
    }

    fn render_online(&self, user: &str, dst: &str) -> Response<Full<Bytes>> {
        let Some(src) = hotspot_html::page("alogin.html") else { return page(500, String::new()) };
        page(200, hotspot_html::render(src, &self.vars(&[("username", user), ("link-redirect", dst)])))
    }

    /// Accept (`true`), reject (`false`), or no answer after five tries a second apart (as a
    /// router retries).
    async fn ask_radius(&self, user: &str, password: &str) -> Option<bool> {
        let sock = UdpSocket::bind("127.0.0.1:0").await.ok()?;
        let to = SocketAddr::from((Ipv4Addr::LOCALHOST, self.cfg.radius_port));
        let mac = self.cfg.guest_mac.to_string();
        let login = Login { user, password, nas: &self.cfg.identity, mac: &mac };
        let id: u8 = rand::random();
        let authenticator: [u8; 16] = rand::random();
        let secret = self.cfg.radius_secret.as_bytes();
        let packet = access_request(id, &authenticator, secret, &login);
        let mut buf = [0u8; 4096];
        for _ in 0..5 {
            sock.send_to(&packet, to).await.ok()?;
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), sock.recv(&mut buf)).await {
                match reply_code(&buf[..n], id, &authenticator, secret) {
                    Some(ACCESS_ACCEPT) => return Some(true),
                    Some(ACCESS_REJECT) => return Some(false),
                    _ => {}
                }
            }
        }
        None
    }
}
