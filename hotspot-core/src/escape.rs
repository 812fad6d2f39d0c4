//! HTML escaping for what pages reflect (the portal, the operator's voucher sheets).

use std::fmt;

/// Escapes for HTML text and double- or single-quoted attribute values alike.
pub fn html(s: &str) -> String {
    Html(s).to_string()
}

/// `s` escaped as [`html`] does, written straight into a formatter: pages are built with
/// `write!`, so the common case (nothing to escape) costs one scan and one copy.
#[derive(Debug, Clone, Copy)]
pub struct Html<'a>(pub &'a str);

impl fmt::Display for Html<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let b = s.as_bytes();
        let mut run = 0; // start of the bytes not yet written
        let mut i = 0;
        while i < b.len() {
            let (skip, with) = match b[i] {
                b'&' => (1, Some("&amp;")),
                b'<' => (1, Some("&lt;")),
                b'>' => (1, Some("&gt;")),
                b'"' => (1, Some("&quot;")),
                b'\'' => (1, Some("&#39;")),
                b'`' => (1, Some("&#96;")),
                // Control characters have no business on a page; drop them rather than render
                // oddities. C0 and DEL are one byte; C1 (U+0080-U+009F) is 0xC2 0x80-0x9F.
                b'\n' | b'\t' => (0, None),
                c if c < 0x20 || c == 0x7f => (1, Some("")),
                0xc2 if b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)) => (2, Some("")),
                _ => (0, None),
            };
            match with {
                Some(rep) => {
                    f.write_str(&s[run..i])?;
                    f.write_str(rep)?;
                    i += skip;
                    run = i;
                }
                None => i += 1,
            }
        }
        f.write_str(&s[run..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition the fast version must agree with, character by character.
    fn reference(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                '`' => out.push_str("&#96;"),
                c if c.is_control() && c != '\n' && c != '\t' => {}
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn escapes_markup_quotes_and_drops_controls() {
        assert_eq!(
            html(r#"<a href="x">'b' & `c`</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;b&#39; &amp; &#96;c&#96;&lt;/a&gt;"
        );
        assert_eq!(html("Karibu caf\u{e9} \u{1F600}"), "Karibu caf\u{e9} \u{1F600}");
        assert_eq!(html("a\u{0}b\u{1b}c\u{7f}d\u{85}e\u{9f}f\u{a0}g\n\t"), "abcdef\u{a0}g\n\t");
        assert_eq!(html(""), "");
    }

    #[test]
    fn agrees_with_the_reference_on_every_char_class() {
        let mut all = String::new();
        for c in (0u32..0x800).chain(0xfff0..0x10010).filter_map(char::from_u32) {
            all.push(c);
            all.push('x');
        }
        assert_eq!(html(&all), reference(&all));
        for c in (0u32..0x300).filter_map(char::from_u32) {
            let s = format!("{c}");
            assert_eq!(html(&s), reference(&s), "U+{:04X}", c as u32);
        }
    }
}
