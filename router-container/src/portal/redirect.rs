//! Where a guest may be sent after getting online: only absolute `http`/`https` URLs to a plain
//! host. Anything else (other schemes, protocol-relative or backslash tricks, credentials,
//! control characters, overlong values) is dropped and the guest sees a neutral success page.

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
}
