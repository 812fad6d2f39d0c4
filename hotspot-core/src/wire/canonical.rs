//! The canonical byte encoding that signatures cover.
//!
//! Rules: objects with keys sorted by their UTF-8 bytes; no whitespace; integers only
//! (no fractions, no exponents); strings escape `"` and `\` with a backslash and every
//! character below U+0020 as `\u00xx` (lower-case hex), everything else as raw UTF-8.
//! Written by hand, not by a JSON library's printer, so a dependency change can never
//! change what is signed; golden vectors pin it.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("non-integer number {0} has no canonical form")]
    NotInteger(String),
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
}

const MAX_DEPTH: usize = 32;

pub fn canonical_json(v: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(v, &mut out, 0)?;
    Ok(out)
}

fn write_value(v: &Value, out: &mut Vec<u8>, depth: usize) -> Result<(), CanonicalError> {
    if depth > MAX_DEPTH {
        return Err(CanonicalError::TooDeep(MAX_DEPTH));
    }
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else {
                return Err(CanonicalError::NotInteger(n.to_string()));
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_value(&map[k], out, depth + 1)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorted_compact_escaped() {
        let v =
            json!({"b": 1, "a": [true, null, -5], "é": "x\"\\\n\u{1}ü", "B": {"z": 0, "y": 18446744073709551615u64}});
        let got = String::from_utf8(canonical_json(&v).unwrap()).unwrap();
        assert_eq!(
            got,
            "{\"B\":{\"y\":18446744073709551615,\"z\":0},\"a\":[true,null,-5],\"b\":1,\"é\":\"x\\\"\\\\\\u000a\\u0001ü\"}"
        );
    }

    #[test]
    fn floats_and_depth_refused() {
        assert_eq!(canonical_json(&json!({"a": 1.5})).unwrap_err(), CanonicalError::NotInteger("1.5".into()));
        let mut v = json!(1);
        for _ in 0..40 {
            v = json!([v]);
        }
        assert_eq!(canonical_json(&v).unwrap_err(), CanonicalError::TooDeep(32));
    }
}
