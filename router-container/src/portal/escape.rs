//! Escaping for everything the portal reflects: HTML text and attributes, URL query components.

use std::fmt::Write;

pub use hotspot_core::escape::html;

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
    fn html_escapes_markup_and_quotes() {
        assert_eq!(
            html(r#"<script>"a"&'b'`</script>"#),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&#96;&lt;/script&gt;"
        );
        assert_eq!(html("Karibu caf\u{e9}"), "Karibu caf\u{e9}");
        assert_eq!(html("a\u{0}b\u{1b}c"), "abc");
    }

    #[test]
    fn url_components_keep_only_unreserved() {
        assert_eq!(url_component("http://x.test/a?b=c&d=e f"), "http%3A%2F%2Fx.test%2Fa%3Fb%3Dc%26d%3De%20f");
        assert_eq!(url_component("caf\u{e9}"), "caf%C3%A9");
    }
}
