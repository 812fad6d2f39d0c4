//! Shared by the tests: a tokenizer for RouterOS scripts, to check what RouterOS would parse.
#![allow(dead_code)]

/// A RouterOS script token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// A bare word (`add`, `chain=input`, `/ip`, `comment=`).
    Word(String),
    /// A double-quoted string, its escapes decoded.
    Str(String),
    /// `$name`
    Var(String),
    /// One of `[ ] { } ( )`
    Punct(char),
    Newline,
}

/// Tokenizes a RouterOS script the way its parser splits it. Errors on what RouterOS would
/// treat specially inside a string (an unescaped `$`, an unknown escape, a raw line break) or
/// an unterminated string, so a passing tokenization means every string is one inert token.
pub fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                out.push(Tok::Newline);
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' if line_start => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                let mut v = Vec::new();
                loop {
                    let Some(&c) = b.get(i) else { return Err("unterminated string".into()) };
                    match c {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'$' => return Err(format!("unescaped $ in a string at byte {i}")),
                        b'\n' | b'\r' => return Err(format!("raw line break in a string at byte {i}")),
                        b'\\' => {
                            let Some(&e) = b.get(i + 1) else { return Err("dangling backslash".into()) };
                            let simple = match e {
                                b'"' => Some(b'"'),
                                b'\\' => Some(b'\\'),
                                b'$' => Some(b'$'),
                                b'?' => Some(b'?'),
                                b'_' => Some(b' '),
                                b'n' => Some(b'\n'),
                                b'r' => Some(b'\r'),
                                b't' => Some(b'\t'),
                                b'a' => Some(7),
                                b'b' => Some(8),
                                b'f' => Some(12),
                                b'v' => Some(11),
                                _ => None,
                            };
                            match simple {
                                Some(x) => {
                                    v.push(x);
                                    i += 2;
                                }
                                None => {
                                    let hex = b.get(i + 1..i + 3).ok_or("short hex escape")?;
                                    let ok = hex.iter().all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h));
                                    if !ok {
                                        return Err(format!("unknown escape at byte {i}"));
                                    }
                                    let s = std::str::from_utf8(hex).map_err(|e| e.to_string())?;
                                    v.push(u8::from_str_radix(s, 16).map_err(|e| e.to_string())?);
                                    i += 3;
                                }
                            }
                        }
                        _ => {
                            v.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(String::from_utf8(v).map_err(|e| e.to_string())?));
            }
            b'[' | b']' | b'{' | b'}' | b'(' | b')' => {
                out.push(Tok::Punct(c as char));
                i += 1;
            }
            b'$' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                    i += 1;
                }
                out.push(Tok::Var(src[start..i].to_string()));
            }
            _ => {
                let start = i;
                while i < b.len() && !b" \t\r\n\"[]{}()$".contains(&b[i]) {
                    i += 1;
                }
                out.push(Tok::Word(src[start..i].to_string()));
            }
        }
        line_start = false;
    }
    Ok(out)
}

/// The commands of a script: its token lines, comments and blank lines dropped.
pub fn lines(src: &str) -> Result<Vec<Vec<Tok>>, String> {
    let mut all = Vec::new();
    let mut cur = Vec::new();
    for t in tokenize(src)? {
        if t == Tok::Newline {
            if !cur.is_empty() {
                all.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(t);
        }
    }
    if !cur.is_empty() {
        all.push(cur);
    }
    Ok(all)
}

/// The value following `prop=` in a token line (a quoted string or a bare word's rest).
pub fn prop(line: &[Tok], name: &str) -> Option<String> {
    let key = format!("{name}=");
    line.iter().enumerate().find_map(|(i, t)| match t {
        Tok::Word(w) if *w == key => match line.get(i + 1) {
            Some(Tok::Str(s)) => Some(s.clone()),
            _ => None,
        },
        Tok::Word(w) => w.strip_prefix(&key).filter(|r| !r.is_empty()).map(str::to_string),
        _ => None,
    })
}

/// The agent's environment as the script sets it: `key` → `value` of `/container/envs add` lines.
pub fn env_of(script: &str) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut m = std::collections::BTreeMap::new();
    for l in lines(script)? {
        if l.first() == Some(&Tok::Word("/container/envs".into())) && l.get(1) == Some(&Tok::Word("add".into())) {
            let k = prop(&l, "key").ok_or("env line without key")?;
            let v = prop(&l, "value").ok_or("env line without value")?;
            if m.insert(k.clone(), v).is_some() {
                return Err(format!("{k} set twice"));
            }
        }
    }
    Ok(m)
}

/// Every setting the agent reads (router-container/src/config.rs `SETTINGS`) that onboarding sets.
pub const AGENT_SETTINGS: &[&str] = &[
    "HOTSPOT_ROUTER_ID",
    "HOTSPOT_ROUTER_KEY",
    "ROUTEROS_ADDR",
    "ROUTEROS_USER",
    "ROUTEROS_PASSWORD",
    "HOTSPOT_SERVER",
    "SQS_QUEUE_URL",
    "EVENTS_QUEUE_URL",
    "CLOUD_API_URL",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "PORTAL_LISTEN",
    "STATE_DIR",
];
