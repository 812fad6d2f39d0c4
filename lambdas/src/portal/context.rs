//! What only the router knows about the guest (its MAC and address, and its own login page),
//! sent to the cloud portal by the router's `login.html` and carried from page to page in the
//! query and the forms' hidden fields.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use hotspot_core::MacAddr;
use portal_pages::escape::url_component;
use portal_pages::i18n::Lang;
use portal_pages::redirect::{LoginPage, safe_destination};

/// Query and form fields, decoded; the first occurrence of a name wins.
pub type Fields = HashMap<String, String>;

/// At most this many fields are read from a query or a form (the forms have about ten).
const MAX_FIELDS: usize = 32;

pub fn fields(raw: &[u8]) -> Fields {
    let mut m = Fields::new();
    for (k, v) in form_urlencoded::parse(raw).take(MAX_FIELDS) {
        m.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    m
}

pub fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map_or("", String::as_str)
}

/// The guest's device and hotspot as the router's `login.html` named them (`hotspot-html`:
/// `mac`, `ip`, `login`, `dst`).
#[derive(Debug, Clone)]
pub struct Context {
    pub mac: MacAddr,
    pub ip: Ipv4Addr,
    pub login: LoginPage,
    pub dst: Option<String>,
}

impl Context {
    /// `None` unless the device and the login page are there and well-formed: without them the
    /// guest cannot be brought online, so the page says where to start instead.
    pub fn parse(f: &Fields) -> Option<Context> {
        Some(Context {
            mac: field(f, "mac").trim().parse().ok()?,
            ip: field(f, "ip").trim().parse().ok()?,
            login: LoginPage::parse(field(f, "login"))?,
            dst: safe_destination(field(f, "dst")).map(str::to_string),
        })
    }

    /// The hidden fields the forms carry back (`dst` is the pages' own).
    pub fn hidden(&self) -> [(&'static str, String); 3] {
        [("mac", self.mac.to_string()), ("ip", self.ip.to_string()), ("login", self.login.as_str().to_string())]
    }

    /// A query string for the portal's next page: the context and the language.
    pub fn query(&self, lang: Lang) -> String {
        let mut q = format!(
            "lang={}&mac={}&ip={}&login={}",
            lang.code(),
            url_component(&self.mac.to_string()),
            self.ip,
            url_component(self.login.as_str())
        );
        if let Some(d) = &self.dst {
            q.push_str("&dst=");
            q.push_str(&url_component(d));
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_reads_back_as_the_same_context() {
        let raw = b"mac=DA%3AA1%3A19%3A00%3A00%3A01&ip=10.5.50.23&login=http%3A%2F%2F10.5.50.1%2Flogin&dst=http%3A%2F%2Fneverssl.com%2F";
        let c = Context::parse(&fields(raw)).unwrap();
        let again = Context::parse(&fields(c.query(Lang::Sw).as_bytes())).unwrap();
        assert!(c.query(Lang::Sw).starts_with("lang=sw&"));
        assert_eq!((again.mac, again.ip, again.login, again.dst), (c.mac, c.ip, c.login, c.dst));
    }

    #[test]
    fn a_context_needs_the_device_and_a_local_login_page() {
        let ok = "mac=DA:A1:19:00:00:01&ip=10.5.50.23&login=http://10.5.50.1/login";
        assert!(Context::parse(&fields(ok.as_bytes())).is_some());
        for bad in [
            "ip=10.5.50.23&login=http://10.5.50.1/login",
            "mac=DA:A1:19:00:00:01&login=http://10.5.50.1/login",
            "mac=DA:A1:19:00:00:01&ip=10.5.50.23",
            "mac=nope&ip=10.5.50.23&login=http://10.5.50.1/login",
            "mac=DA:A1:19:00:00:01&ip=10.5.50.300&login=http://10.5.50.1/login",
            "mac=DA:A1:19:00:00:01&ip=10.5.50.23&login=http://evil.example.com/login",
        ] {
            assert!(Context::parse(&fields(bad.as_bytes())).is_none(), "{bad}");
        }
        let c = Context::parse(&fields(format!("{ok}&dst=javascript:alert(1)").as_bytes())).unwrap();
        assert_eq!(c.dst, None, "an unsafe destination is dropped, the rest kept");
    }
}
