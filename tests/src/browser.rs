//! A browser without JavaScript for the operators' dashboard, over plain HTTP: it keeps its
//! cookies, follows no redirects and reads forms' hidden fields. The dashboard tests and the
//! benchmark's dashboard phase drive `/admin` with it.

use std::collections::BTreeMap;

use crate::stack::Stack;

/// A browser without JavaScript: follows nothing by itself, keeps its cookies.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
    /// The last Set-Cookie lines, for their attributes.
    pub set_cookies: Vec<String>,
}

pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(stack: &Stack) -> Browser {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { http, base: stack.gateway_url.clone(), cookies: BTreeMap::new(), set_cookies: Vec::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Reply {
        let req = if self.cookies.is_empty() { req } else { req.header("cookie", self.cookie_header()) };
        let resp = req.send().await.expect("the gateway answers");
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        self.set_cookies.clear();
        for c in resp.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap().to_string();
            let (kv, _) = c.split_once(';').unwrap_or((&c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            match c.contains("Max-Age=0") {
                true => self.cookies.remove(k),
                false => self.cookies.insert(k.to_string(), v.to_string()),
            };
            self.set_cookies.push(c);
        }
        if status == 200 {
            let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            assert!(ct.starts_with("text/html"), "an HTML page: {ct}");
        }
        Reply { status, location, body: resp.text().await.unwrap() }
    }

    /// A download: status, content type and bytes.
    pub async fn get_file(&mut self, path: &str) -> (u16, String, Vec<u8>) {
        let req = self.http.get(format!("{}{path}", self.base)).header("cookie", self.cookie_header());
        let resp = req.send().await.expect("the gateway answers");
        let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        (resp.status().as_u16(), ct, resp.bytes().await.unwrap().to_vec())
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let req = self.http.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    pub async fn sign_in(&mut self, login: &str, password: &str) -> Reply {
        let form = self.get("/admin/login").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = hidden(&form.body, "csrf");
        self.post("/admin/login", &[("csrf", &csrf), ("login", login), ("password", password)]).await
    }

    /// The CSRF token of the page's forms.
    pub async fn csrf(&mut self) -> String {
        hidden(&self.get("/admin").await.body, "csrf")
    }
}

/// A hidden field's value in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no {name} field in {page}")) + marker.len();
    page[at..].split('"').next().unwrap().to_string()
}
