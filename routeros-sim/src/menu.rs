//! The menu machinery every emulated menu shares: a parsed command, what it produced, and a
//! table of rows with RouterOS's ids, defaults, validation and print/add/set/move/remove.

use std::collections::HashMap;

use routeros::Attrs;

use crate::query::Query;
use crate::schema::{self, Field};
use crate::version::RosVersion;

/// A command as the server parsed it.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub path: String,
    pub attrs: Vec<(String, String)>,
    pub queries: Vec<String>,
}

impl Request {
    /// A command as a test writes it: a path and its attributes.
    #[cfg(test)]
    pub(crate) fn of(path: &str, attrs: &[(&str, &str)]) -> Request {
        Request {
            path: path.into(),
            attrs: attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            queries: vec![],
        }
    }

    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.attrs.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }
}

/// What a command produced, before encoding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub rows: Vec<Attrs>,
    pub done: Attrs,
    pub trap: Option<(Option<u8>, String)>,
    /// `print` results get `!empty` on 7.18+ when there are no rows.
    pub is_listing: bool,
}

impl Outcome {
    pub(crate) fn trap(msg: impl Into<String>) -> Outcome {
        Outcome { trap: Some((None, msg.into())), ..Default::default() }
    }
    pub(crate) fn trap_cat(cat: u8, msg: impl Into<String>) -> Outcome {
        Outcome { trap: Some((Some(cat), msg.into())), ..Default::default() }
    }
    pub(crate) fn ret(v: impl Into<String>) -> Outcome {
        let mut o = Outcome::default();
        o.done.insert("ret".into(), v.into());
        o
    }
}

pub(crate) type Res<T> = Result<T, Outcome>;

#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub id: u32,
    pub attrs: Attrs,
}

#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub fields: &'static [Field],
    pub next_id: u32,
    pub rows: Vec<Row>,
    /// name -> ids, so adds stay O(1) on tables with many users (the benchmark pushes 10k).
    names: HashMap<String, Vec<u32>>,
    /// The router's version, for properties newer than some versions (`Field::since`).
    version: Option<RosVersion>,
}

pub(crate) fn fmt_id(n: u32) -> String {
    format!("*{n:X}")
}

pub(crate) fn parse_id(s: &str) -> Option<u32> {
    u32::from_str_radix(s.strip_prefix('*')?, 16).ok()
}

impl Table {
    pub(crate) fn new(fields: &'static [Field]) -> Table {
        Table { fields, next_id: 1, rows: Vec::new(), names: HashMap::new(), version: None }
    }

    /// A table of a menu whose properties depend on the version.
    pub(crate) fn versioned(fields: &'static [Field], version: RosVersion) -> Table {
        Table { version: Some(version), ..Table::new(fields) }
    }

    pub(crate) fn find(&self, id: u32) -> Option<&Row> {
        self.rows.iter().find(|r| r.id == id)
    }

    pub(crate) fn by_name(&self, name: &str) -> Option<&Row> {
        let id = *self.names.get(name)?.first()?;
        self.find(id)
    }

    pub(crate) fn ids_named(&self, name: &str) -> &[u32] {
        self.names.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// Call after rows were changed or removed in place.
    pub(crate) fn reindex(&mut self) {
        self.names.clear();
        for r in &self.rows {
            if let Some(n) = r.attrs.get("name") {
                self.names.entry(n.clone()).or_default().push(r.id);
            }
        }
    }

    /// Validates `attrs` against the schema; returns normalised values (empty = clear).
    pub(crate) fn validate(&self, req: &Request) -> Res<Vec<(String, String)>> {
        let mut out = Vec::new();
        for (k, v) in &req.attrs {
            if matches!(k.as_str(), ".id" | "numbers" | "place-before" | "destination") || k.starts_with('.') {
                continue;
            }
            let known =
                schema::field(self.fields, k).filter(|f| f.since.is_none_or(|s| self.version.is_none_or(|v| v >= s)));
            let Some(f) = known else {
                return Err(Outcome::trap(format!("unknown parameter {k}")));
            };
            if v.is_empty() {
                out.push((k.clone(), String::new()));
            } else {
                out.push((k.clone(), schema::normalise(f, v).map_err(|m| Outcome::trap_cat(1, m))?));
            }
        }
        Ok(out)
    }

    /// As `insert`, placed before the row `before` (RouterOS's `place-before`).
    pub(crate) fn insert_before(&mut self, values: Vec<(String, String)>, before: Option<u32>) -> u32 {
        let id = self.insert(values);
        if let Some(b) = before
            && let Some(at) = self.rows.iter().position(|r| r.id == b)
            && let Some(row) = self.rows.pop()
        {
            self.rows.insert(at, row);
        }
        id
    }

    pub(crate) fn insert(&mut self, values: Vec<(String, String)>) -> u32 {
        let mut attrs = Attrs::new();
        for f in self.fields {
            if let Some(d) = f.default {
                attrs.insert(f.name.into(), d.into());
            }
        }
        apply(&mut attrs, values);
        let id = self.next_id;
        self.next_id += 1;
        if let Some(n) = attrs.get("name") {
            self.names.entry(n.clone()).or_default().push(id);
        }
        self.rows.push(Row { id, attrs });
        id
    }

    pub(crate) fn ids_of(&self, req: &Request) -> Res<Vec<u32>> {
        let list = req.get(".id").or_else(|| req.get("numbers")).ok_or_else(|| Outcome::trap("no such item"))?;
        let mut ids = Vec::new();
        for part in list.split(',') {
            // Like RouterOS, an item may be named instead of given by id.
            let id = parse_id(part).or_else(|| self.by_name(part).map(|r| r.id));
            match id.filter(|id| self.find(*id).is_some()) {
                Some(id) => ids.push(id),
                None => return Err(Outcome::trap("no such item")),
            }
        }
        Ok(ids)
    }

    /// The rows as `print` shows them, `.id` included.
    pub(crate) fn rows_with_ids(&self) -> Vec<Attrs> {
        self.rows
            .iter()
            .map(|r| {
                let mut a = r.attrs.clone();
                a.insert(".id".into(), fmt_id(r.id));
                a
            })
            .collect()
    }

    /// print/add/set/remove for menus without extra semantics.
    pub(crate) fn command(&mut self, verb: &str, req: &Request) -> Res<Outcome> {
        match verb {
            "print" => listing(req, self.rows_with_ids()),
            "add" => {
                let before = match req.get("place-before") {
                    Some(p) => Some(
                        parse_id(p)
                            .filter(|id| self.find(*id).is_some())
                            .ok_or_else(|| Outcome::trap("no such item (place-before)"))?,
                    ),
                    None => None,
                };
                let vals = self.validate(req)?;
                Ok(Outcome::ret(fmt_id(self.insert_before(vals, before))))
            }
            "move" => {
                let ids = self.ids_of(req)?;
                let dest = match req.get("destination") {
                    Some(d) => Some(parse_id(d).ok_or_else(|| Outcome::trap("no such item (destination)"))?),
                    None => None,
                };
                for id in ids {
                    let Some(at) = self.rows.iter().position(|r| r.id == id) else { continue };
                    let row = self.rows.remove(at);
                    match dest.and_then(|d| self.rows.iter().position(|r| r.id == d)) {
                        Some(to) => self.rows.insert(to, row),
                        None => self.rows.push(row),
                    }
                }
                Ok(Outcome::default())
            }
            "set" => {
                let ids = self.ids_of(req)?;
                let vals = self.validate(req)?;
                for r in self.rows.iter_mut().filter(|r| ids.contains(&r.id)) {
                    apply(&mut r.attrs, vals.clone());
                }
                self.reindex();
                Ok(Outcome::default())
            }
            "remove" => {
                let ids = self.ids_of(req)?;
                self.rows.retain(|r| !ids.contains(&r.id));
                self.reindex();
                Ok(Outcome::default())
            }
            _ => Err(Outcome::trap_cat(0, "no such command")),
        }
    }
}

pub(crate) fn apply(attrs: &mut Attrs, values: Vec<(String, String)>) {
    for (k, v) in values {
        if v.is_empty() {
            attrs.remove(&k);
        } else {
            attrs.insert(k, v);
        }
    }
}

pub(crate) fn ids_in(req: &Request, known: Vec<u32>) -> Res<Vec<u32>> {
    let list = req.get(".id").or_else(|| req.get("numbers")).ok_or_else(|| Outcome::trap("no such item"))?;
    list.split(',')
        .map(|p| parse_id(p).filter(|id| known.contains(id)).ok_or_else(|| Outcome::trap("no such item")))
        .collect()
}

/// Applies `.proplist`, queries and `count-only` to rows that carry their `.id`.
pub(crate) fn listing(req: &Request, rows: Vec<Attrs>) -> Res<Outcome> {
    let q = Query::parse(&req.queries).map_err(|e| Outcome::trap_cat(1, e.message()))?;
    let mut out = Vec::new();
    for r in rows {
        if q.matches(&r).map_err(|e| Outcome::trap_cat(1, e.message()))? {
            out.push(r);
        }
    }
    if req.get("count-only").is_some() {
        return Ok(Outcome::ret(out.len().to_string()));
    }
    if let Some(pl) = req.get(".proplist") {
        let keep: Vec<&str> = pl.split(',').filter(|s| !s.is_empty()).collect();
        for r in &mut out {
            r.retain(|k, _| keep.contains(&k.as_str()));
        }
    }
    Ok(Outcome { rows: out, is_listing: true, ..Default::default() })
}
