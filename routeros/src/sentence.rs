//! Commands going out and replies coming back, as structured values over raw words.

use std::collections::BTreeMap;

/// Attribute map of a reply row or a command: `=key=value` words.
pub type Attrs = BTreeMap<String, String>;

/// A command to send: the path word, `=attr=value` words, `?query` words and an optional proplist.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command {
    pub path: String,
    pub attrs: Vec<(String, String)>,
    pub queries: Vec<String>,
    pub proplist: Option<Vec<String>>,
}

impl Command {
    pub fn new(path: impl Into<String>) -> Self {
        Command { path: path.into(), ..Default::default() }
    }

    /// Adds `=key=value`.
    pub fn attr(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attrs.push((key.into(), value.into()));
        self
    }

    /// Adds `=key=value` when `value` is present.
    pub fn attr_opt(self, key: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.attr(key, v),
            None => self,
        }
    }

    /// Adds a raw query word, e.g. `?name=x`, `?-name`, `?#|`. The leading `?` is added if missing.
    pub fn query(mut self, q: impl Into<String>) -> Self {
        let q = q.into();
        self.queries.push(if q.starts_with('?') { q } else { format!("?{q}") });
        self
    }

    /// Adds `?key=value` (equality query).
    pub fn where_eq(self, key: &str, value: impl AsRef<str>) -> Self {
        self.query(format!("?{key}={}", value.as_ref()))
    }

    pub fn proplist(mut self, props: &[&str]) -> Self {
        self.proplist = Some(props.iter().map(|s| s.to_string()).collect());
        self
    }

    /// Words to put on the wire, with the given tag.
    pub fn to_words(&self, tag: Option<&str>) -> Vec<String> {
        let mut w = Vec::with_capacity(self.attrs.len() + self.queries.len() + 3);
        w.push(self.path.clone());
        for (k, v) in &self.attrs {
            w.push(format!("={k}={v}"));
        }
        if let Some(p) = &self.proplist {
            w.push(format!("=.proplist={}", p.join(",")));
        }
        w.extend(self.queries.iter().cloned());
        if let Some(t) = tag {
            w.push(format!(".tag={t}"));
        }
        w
    }
}

/// Kind of a reply sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyKind {
    Re,
    Done,
    Trap,
    Empty,
    /// Connection closing; the reason is a bare word.
    Fatal(String),
}

/// A parsed reply sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: ReplyKind,
    pub tag: Option<String>,
    /// Values as text; a value that was not UTF-8 has U+FFFD where its bytes did not decode.
    pub attrs: Attrs,
    /// The bytes of each value that was not UTF-8 (a codepage comment, say), for anything that
    /// must match them exactly. Empty for most replies.
    pub raw: BTreeMap<String, Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("reply sentence starts with unknown word {0:?}")]
    UnknownReplyWord(String),
    #[error("reply word {0:?} is not an attribute, tag or fatal reason")]
    BadWord(String),
}

/// Splits `=key=value` (value may contain `=`). Returns None for other word shapes.
pub fn split_attr(word: &str) -> Option<(&str, &str)> {
    let rest = word.strip_prefix('=')?;
    match rest.split_once('=') {
        Some((k, v)) if !k.is_empty() => Some((k, v)),
        // `=key` without a value is how some routers send an empty value.
        None if !rest.is_empty() => Some((rest, "")),
        _ => None,
    }
}

impl Reply {
    /// Parses a sentence as it came off the wire: words need not be UTF-8 (see `raw`).
    pub fn parse_bytes(words: Vec<Vec<u8>>) -> Result<Reply, ReplyError> {
        let mut raw = BTreeMap::new();
        let text: Vec<String> = words
            .into_iter()
            .map(|w| match String::from_utf8(w) {
                Ok(s) => s,
                Err(e) => {
                    let bytes = e.into_bytes();
                    let s = String::from_utf8_lossy(&bytes).into_owned();
                    if let Some((k, _)) = split_attr(&s) {
                        // The key is ASCII in every RouterOS menu: only the value is foreign.
                        let at = k.len() + 2;
                        raw.insert(k.to_string(), bytes.get(at..).unwrap_or_default().to_vec());
                    }
                    s
                }
            })
            .collect();
        let mut reply = Reply::parse(text)?;
        raw.retain(|k, _| reply.attrs.contains_key(k));
        reply.raw = raw;
        Ok(reply)
    }

    pub fn parse(words: Vec<String>) -> Result<Reply, ReplyError> {
        let mut it = words.into_iter();
        let first = it.next().unwrap_or_default();
        let mut kind = match first.as_str() {
            "!re" => ReplyKind::Re,
            "!done" => ReplyKind::Done,
            "!trap" => ReplyKind::Trap,
            "!empty" => ReplyKind::Empty,
            "!fatal" => ReplyKind::Fatal(String::new()),
            _ => return Err(ReplyError::UnknownReplyWord(truncate(&first))),
        };
        let mut tag = None;
        let mut attrs = Attrs::new();
        for w in it {
            if let Some(t) = w.strip_prefix(".tag=") {
                tag = Some(t.to_string());
            } else if let Some((k, v)) = split_attr(&w) {
                attrs.insert(k.to_string(), v.to_string());
            } else if w.starts_with('.') && !matches!(kind, ReplyKind::Fatal(_)) {
                // API attributes other than .tag (e.g. `.section=1`) are kept under their own name.
                let (k, v) = w.split_once('=').unwrap_or((w.as_str(), ""));
                attrs.insert(k.to_string(), v.to_string());
            } else if let ReplyKind::Fatal(reason) = &mut kind {
                if !reason.is_empty() {
                    reason.push(' ');
                }
                reason.push_str(&w);
            } else {
                return Err(ReplyError::BadWord(truncate(&w)));
            }
        }
        Ok(Reply { kind, tag, attrs, raw: BTreeMap::new() })
    }
}

/// Keeps hostile words out of error messages at full size.
fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_words() {
        let c = Command::new("/ip/hotspot/user/print").proplist(&[".id", "name"]).where_eq("name", "a=b");
        assert_eq!(c.to_words(Some("7")), vec!["/ip/hotspot/user/print", "=.proplist=.id,name", "?name=a=b", ".tag=7"]);
    }

    #[test]
    fn parse_replies() {
        let r = Reply::parse(vec!["!re".into(), "=name=x=y".into(), ".tag=3".into(), "=comment=".into()]).unwrap();
        assert_eq!(r.kind, ReplyKind::Re);
        assert_eq!(r.tag.as_deref(), Some("3"));
        assert_eq!(r.attrs["name"], "x=y");
        assert_eq!(r.attrs["comment"], "");
        let f = Reply::parse(vec!["!fatal".into(), "session terminated on request".into()]).unwrap();
        assert_eq!(f.kind, ReplyKind::Fatal("session terminated on request".into()));
        assert!(Reply::parse(vec!["!bogus".into()]).is_err());
        assert!(Reply::parse(vec!["!re".into(), "junk".into()]).is_err());
        let r = Reply::parse(vec!["!re".into(), ".section=1".into()]).unwrap();
        assert_eq!(r.attrs[".section"], "1");
        assert!(Reply::parse(vec![]).is_err());
    }

    #[test]
    fn codepage_values_are_text_and_kept_as_bytes() {
        // "Кафе" in CP1251 (the key stays ASCII, as RouterOS's always are).
        let r = Reply::parse_bytes(vec![b"!re".to_vec(), b"=comment=\xCA\xE0\xF4\xE5".to_vec(), b"=name=x".to_vec()])
            .unwrap();
        assert_eq!(r.attrs["comment"], "\u{FFFD}".repeat(4));
        assert_eq!(r.raw["comment"], b"\xCA\xE0\xF4\xE5".to_vec());
        assert_eq!(r.attrs["name"], "x");
        assert!(!r.raw.contains_key("name"), "only what did not decode is kept twice");
    }
}
