//! Where a guest may be sent. After getting online: only absolute `http`/`https` URLs to a plain
//! host. Anything else (other schemes, protocol-relative or backslash tricks, credentials,
//! control characters, overlong values) is dropped and the guest sees a neutral success page.
//! With a grant's credentials (the cloud portal, RADIUS mode): only the hotspot's own login page
//! ([`LoginPage`]).

use std::net::Ipv4Addr;

pub const MAX_DESTINATION_LEN: usize = 2048;

/// The destination to follow, or `None` when `raw` is not one we are willing to send a guest to.
pub fn safe_destination(raw: &str) -> Option<&str> {
    if raw.is_empty() || raw.len() > MAX_DESTINATION_LEN {
        return None;
    }
    // Printable ASCII only, without the characters that browsers "fix up" (backslash, quotes,
    // angle brackets, spaces): what RouterOS's `$(link-orig-esc)` produces fits within this.
    if !raw.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'\\' | b'"' | b'\'' | b'<' | b'>' | b'`')) {
        return None;
    }
    let lower_prefix = raw.get(..8).unwrap_or(raw).to_ascii_lowercase();
    let rest = if lower_prefix.starts_with("https://") {
        &raw[8..]
    } else if lower_prefix.starts_with("http://") {
        &raw[7..]
    } else {
        return None;
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() || authority.starts_with('.') || authority.starts_with(':') {
        return None;
    }
    // Host (a name, IPv4 or bracketed IPv6) and an optional port; no `user:pass@` phishing aid.
    if !authority.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')) {
        return None;
    }
    Some(raw)
}

/// The router's hotspot login page (`$(link-login-only)`), which the cloud portal sends a guest's
/// browser to with the grant's user and password. Only a page the guest's own hotspot can be
/// serving is accepted: `http(s)://HOST[:port]/login` where HOST is a private, shared-carrier
/// (100.64/10) or loopback IPv4 address, or a local name (one label, or ending in `.local`,
/// `.lan`, `.internal`, `.home.arpa`, `.wifi` or `.hotspot`: what RouterOS's hotspot `dns-name` is
/// set to in practice). A public host is refused: a crafted portal link could otherwise send
/// someone's paid credentials to a server of the link's author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginPage(String);

const LOCAL_SUFFIXES: &[&str] = &[".local", ".lan", ".internal", ".home.arpa", ".wifi", ".hotspot"];

impl LoginPage {
    pub fn parse(raw: &str) -> Option<LoginPage> {
        let raw = raw.trim();
        if raw.len() > 256 {
            return None;
        }
        let lower = raw.to_ascii_lowercase();
        let rest = lower.strip_prefix("http://").or_else(|| lower.strip_prefix("https://"))?;
        let authority = rest.strip_suffix("/login")?;
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let port_ok =
            port.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()) && matches!(p.parse::<u16>(), Ok(n) if n > 0));
        if !port_ok {
            return None;
        }
        let local = match host.parse::<Ipv4Addr>() {
            Ok(ip) => ip.is_private() || ip.is_loopback() || (ip.octets()[0] == 100 && ip.octets()[1] & 0xc0 == 64),
            Err(_) => {
                let labels_ok = !host.is_empty()
                    && host.split('.').all(|l| {
                        (1..=63).contains(&l.len())
                            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                            && !l.starts_with('-')
                            && !l.ends_with('-')
                    });
                let all_digits = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
                labels_ok && !all_digits && (!host.contains('.') || LOCAL_SUFFIXES.iter().any(|s| host.ends_with(s)))
            }
        };
        local.then(|| LoginPage(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The login page with the credentials and where to go next, as the hotspot's form sends
    /// them (`username`, `password`, `dst`: RouterOS accepts them in the query as well).
    pub fn with_credentials(&self, user: &str, password: &str, dst: Option<&str>) -> String {
        let mut url = format!(
            "{}?username={}&password={}",
            self.0,
            crate::escape::url_component(user),
            crate::escape::url_component(password)
        );
        if let Some(d) = dst {
            url.push_str("&dst=");
            url.push_str(&crate::escape::url_component(d));
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_plain_web_urls() {
        for ok in [
            "http://example.com",
            "http://example.com/",
            "https://example.com/path?q=1&r=%20#frag",
            "HTTP://Example.COM:8080/x",
            "http://10.0.0.1/",
            "http://[2001:db8::1]/",
        ] {
            assert_eq!(safe_destination(ok), Some(ok), "{ok}");
        }
    }

    #[test]
    fn refuses_everything_else() {
        let long = format!("http://example.com/{}", "a".repeat(MAX_DESTINATION_LEN));
        for bad in [
            "",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "//evil.test",
            "/\\evil.test",
            "\\\\evil.test",
            "http:\\\\evil.test",
            "http:/\\evil.test",
            "http:///evil.test",
            "http://",
            "https://user:pass@evil.test/",
            "http://good.test@evil.test/",
            "http://evil.test\\@good.test/",
            " http://example.com",
            "http://exa mple.com",
            "http://example.com/\r\nSet-Cookie:x=1",
            "http://example.com/\u{0}",
            "http://ex\u{e4}mple.com/",
            "ftp://example.com/",
            "vbscript:msgbox",
            "/relative/path",
            "http://example.com/\"><script>",
            long.as_str(),
        ] {
            assert_eq!(safe_destination(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_the_hotspots_own_login_page_gets_credentials() {
        for ok in [
            "http://10.5.50.1/login",
            "http://192.168.88.1/login",
            "HTTP://172.16.0.1:8080/login",
            "https://100.64.1.1/login",
            "http://127.0.0.1:34567/login",
            "http://hotspot/login",
            "https://login.wifi/login",
            "http://cafe-westlands.lan/login",
            "http://portal.home.arpa/login",
        ] {
            assert!(LoginPage::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "/login",
            "http://8.8.8.8/login",
            "http://172.32.0.1/login",
            "http://100.128.0.1/login",
            "http://example.com/login",
            "http://login.wifi.example.com/login",
            "http://10.5.50.1/login?x=1",
            "http://10.5.50.1/login/",
            "http://10.5.50.1/logout",
            "http://user@10.5.50.1/login",
            "http://10.5.50.1:0/login",
            "http://10.5.50.1:99999/login",
            "http://10.5.50.1:/login",
            "javascript://10.5.50.1/login",
            "ftp://10.5.50.1/login",
            "http://10.5.50.1\\@evil.com/login",
            "http:///login",
            "http://-x/login",
            "http://1.2.3/login",
            "http://10.5.50.1/login#x",
        ] {
            assert!(LoginPage::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn credentials_are_escaped_into_the_query() {
        let p = LoginPage::parse("http://10.5.50.1/login").unwrap();
        assert_eq!(
            p.with_credentials("p1", "a&b=c", Some("http://x.com/?q=1&r=2")),
            "http://10.5.50.1/login?username=p1&password=a%26b%3Dc&dst=http%3A%2F%2Fx.com%2F%3Fq%3D1%26r%3D2"
        );
    }
}
