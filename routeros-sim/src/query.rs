//! `print` query words (`?name=x`, `?-name`, `?<x=1`, `?#|&!.`), evaluated per row as RouterOS does:
//! each word pushes a boolean, `?#` operators combine the stack, and the final stack is ANDed.

use routeros::Attrs;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    Syntax(String),
    StackUnderflow,
}

impl QueryError {
    pub fn message(&self) -> String {
        match self {
            QueryError::Syntax(w) => format!("invalid query word {w:?}"),
            QueryError::StackUnderflow => "query stack underflow".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Has(String),
    Lacks(String),
    Eq(String, String),
    Lt(String, String),
    Gt(String, String),
    Stack(String),
}

/// A parsed query, reusable across rows.
#[derive(Debug, Clone, Default)]
pub struct Query(Vec<Op>);

fn kv(s: &str) -> Option<(String, String)> {
    s.split_once('=').filter(|(k, _)| !k.is_empty()).map(|(k, v)| (k.to_string(), v.to_string()))
}

impl Query {
    /// Parses words with their leading `?`.
    pub fn parse(words: &[String]) -> Result<Query, QueryError> {
        let mut ops = Vec::with_capacity(words.len());
        for w in words {
            let body = w.strip_prefix('?').ok_or_else(|| QueryError::Syntax(w.clone()))?;
            let bad = || QueryError::Syntax(w.clone());
            let op = if let Some(ops) = body.strip_prefix('#') {
                Op::Stack(ops.to_string())
            } else if let Some(rest) = body.strip_prefix('-') {
                Op::Lacks(rest.to_string())
            } else if let Some(rest) = body.strip_prefix('<') {
                let (k, v) = kv(rest).ok_or_else(bad)?;
                Op::Lt(k, v)
            } else if let Some(rest) = body.strip_prefix('>') {
                let (k, v) = kv(rest).ok_or_else(bad)?;
                Op::Gt(k, v)
            } else if let Some(rest) = body.strip_prefix('=') {
                // librouteros writes `?=name=value`; same meaning as `?name=value`.
                let (k, v) = kv(rest).ok_or_else(bad)?;
                Op::Eq(k, v)
            } else if let Some((k, v)) = kv(body) {
                Op::Eq(k, v)
            } else if !body.is_empty() {
                Op::Has(body.to_string())
            } else {
                return Err(bad());
            };
            ops.push(op);
        }
        Ok(Query(ops))
    }

    pub fn matches(&self, row: &Attrs) -> Result<bool, QueryError> {
        let mut st: Vec<bool> = Vec::new();
        for op in &self.0 {
            match op {
                Op::Has(k) => st.push(row.contains_key(k)),
                Op::Lacks(k) => st.push(!row.contains_key(k)),
                Op::Eq(k, v) => st.push(row.get(k).is_some_and(|x| x == v)),
                Op::Lt(k, v) => st.push(row.get(k).is_some_and(|x| compare(x, v).is_lt())),
                Op::Gt(k, v) => st.push(row.get(k).is_some_and(|x| compare(x, v).is_gt())),
                Op::Stack(ops) => stack_ops(ops, &mut st)?,
            }
        }
        Ok(st.into_iter().all(|b| b))
    }
}

fn stack_ops(ops: &str, st: &mut Vec<bool>) -> Result<(), QueryError> {
    let b = ops.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'|' | b'&' => {
                let x = st.pop().ok_or(QueryError::StackUnderflow)?;
                let y = st.pop().ok_or(QueryError::StackUnderflow)?;
                st.push(if b[i] == b'|' { x || y } else { x && y });
            }
            b'!' => {
                let x = st.pop().ok_or(QueryError::StackUnderflow)?;
                st.push(!x);
            }
            b'.' => {
                let x = *st.last().ok_or(QueryError::StackUnderflow)?;
                st.push(x);
            }
            b'0'..=b'9' => {
                let start = i;
                while i + 1 < b.len() && b[i + 1].is_ascii_digit() {
                    i += 1;
                }
                let n: usize = ops[start..=i].parse().map_err(|_| QueryError::Syntax(ops.to_string()))?;
                let x = *st.get(n).ok_or(QueryError::StackUnderflow)?;
                st.push(x);
            }
            _ => return Err(QueryError::Syntax(ops.to_string())),
        }
        i += 1;
    }
    Ok(())
}

/// Numbers compare as numbers, everything else as text.
fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i128>(), b.parse::<i128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> Attrs {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn q(words: &[&str]) -> Query {
        Query::parse(&words.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn operators() {
        let r = row(&[("name", "a"), ("n", "10")]);
        assert!(q(&["?name=a"]).matches(&r).unwrap());
        assert!(q(&["?=name=a"]).matches(&r).unwrap());
        assert!(!q(&["?name=b"]).matches(&r).unwrap());
        assert!(q(&["?name"]).matches(&r).unwrap());
        assert!(q(&["?-comment"]).matches(&r).unwrap());
        assert!(q(&["?>n=9"]).matches(&r).unwrap());
        assert!(!q(&["?<n=9"]).matches(&r).unwrap());
        assert!(q(&["?name=b", "?name=a", "?#|"]).matches(&r).unwrap());
        assert!(!q(&["?name=b", "?name=a", "?#&"]).matches(&r).unwrap());
        assert!(q(&["?name=b", "?#!"]).matches(&r).unwrap());
        assert!(q(&["?name=a", "?#.&"]).matches(&r).unwrap());
        assert!(q(&["?name=b", "?name=a", "?#1|"]).matches(&r).is_ok());
        assert!(q(&[]).matches(&r).unwrap());
        assert_eq!(q(&["?#|"]).matches(&r), Err(QueryError::StackUnderflow));
        assert!(Query::parse(&["?<x".to_string()]).is_err());
    }
}
