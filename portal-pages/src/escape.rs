//! Escaping for everything the portal reflects: HTML text and attributes, URL query components.

use std::fmt::Write;

pub use hotspot_core::escape::Html;

/// Percent-encodes a query-string component: only unreserved characters stay as they are.
pub fn url_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_components_keep_only_unreserved() {
        assert_eq!(url_component("http://x.test/a?b=c&d=e f"), "http%3A%2F%2Fx.test%2Fa%3Fb%3Dc%26d%3De%20f");
        assert_eq!(url_component("caf\u{e9}"), "caf%C3%A9");
    }
}
