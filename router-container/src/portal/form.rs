//! `application/x-www-form-urlencoded` bodies and query strings, strictly: a malformed escape or
//! invalid UTF-8 is an error (a 400 page), never a guess.

use std::collections::HashMap;

/// At most this many pairs are read: the portal's forms have five fields.
pub const MAX_PAIRS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("malformed percent-encoding")]
    BadEscape,
    #[error("not UTF-8")]
    NotUtf8,
    #[error("too many fields")]
    TooManyFields,
}

/// Decoded pairs; the first occurrence of a name wins.
#[derive(Debug, Default, Clone)]
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn parse(input: &[u8]) -> Result<Form, FormError> {
        let mut map = HashMap::new();
        let mut count = 0usize;
        for pair in input.split(|b| *b == b'&') {
            if pair.is_empty() {
                continue;
            }
            count += 1;
            if count > MAX_PAIRS {
                return Err(FormError::TooManyFields);
            }
            let (k, v) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            let k = decode(k)?;
            let v = decode(v)?;
            map.entry(k).or_insert(v);
        }
        Ok(Form(map))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value, or "" when absent.
    pub fn str(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes one component: `+` is a space, `%XX` a byte; the result must be UTF-8.
pub fn decode(input: &[u8]) -> Result<String, FormError> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = input.get(i + 1).copied().and_then(hex_val).ok_or(FormError::BadEscape)?;
                let lo = input.get(i + 2).copied().and_then(hex_val).ok_or(FormError::BadEscape)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| FormError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs() {
        let f = Form::parse(b"a=1&b=x+y%2Fz&c&a=2&&d=caf%C3%A9").unwrap();
        assert_eq!(f.get("a"), Some("1"));
        assert_eq!(f.get("b"), Some("x y/z"));
        assert_eq!(f.get("c"), Some(""));
        assert_eq!(f.get("d"), Some("caf\u{e9}"));
        assert_eq!(f.get("e"), None);
        assert_eq!(f.str("e"), "");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [&b"a=%"[..], b"a=%4", b"a=%zz", b"%g1=b", b"a=%C3"] {
            assert!(Form::parse(bad).is_err(), "{bad:?}");
        }
        let many = "a=1&".repeat(MAX_PAIRS + 1);
        assert_eq!(Form::parse(many.as_bytes()).unwrap_err(), FormError::TooManyFields);
        assert_eq!(Form::parse(b"a=\xff").unwrap_err(), FormError::NotUtf8);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            let mut buf = Vec::new();
            for _ in 0..(x % 40) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let alphabet = b"%=&+aZ0\xc3\xa9\xff";
                buf.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            let _ = Form::parse(&buf);
        }
    }
}
