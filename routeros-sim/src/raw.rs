//! Bytes that are not UTF-8 inside the simulator's text values. A real router stores whatever
//! codepage Winbox wrote (a CP1251 comment, a CP1252 host name); the simulator keeps such a
//! value as text with each non-ASCII byte as a private-use character (U+F700 + byte), and
//! writes those back to the wire as the bytes they stand for.

const BASE: u32 = 0xF700;

/// A value as the simulator keeps it: UTF-8 as it is, anything else byte by byte.
pub fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { char::from_u32(BASE + u32::from(b)).unwrap_or('?') })
            .collect(),
    }
}

/// The bytes a kept value goes out as.
pub fn wire(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match u32::from(c).checked_sub(BASE) {
            Some(b) if b <= 0xFF => out.push(b as u8),
            _ => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codepage_bytes_round_trip_and_utf8_stays_utf8() {
        let cp1251 = b"\xCA\xE0\xF4\xE5 \xB9 1";
        assert_eq!(wire(&text_of(cp1251)), cp1251.to_vec());
        assert_eq!(text_of("Caf\u{e9}".as_bytes()), "Caf\u{e9}");
        assert_eq!(wire("Caf\u{e9}"), "Caf\u{e9}".as_bytes().to_vec());
    }
}
