//! The pages RouterOS serves from the hotspot profile's html directory (`*.html` next to this
//! crate's `Cargo.toml`), and a renderer that emulates RouterOS's servlet substitution so tests
//! can render them with realistic and hostile values.
//!
//! RouterOS's page language, as far as these pages use it:
//! - `$(name)` is replaced by the variable's value, inserted as it is (no HTML escaping);
//!   an unknown or empty variable yields the empty string;
//! - `$(name-esc)` is the URL-escaped form of `name` (percent-encoding) where RouterOS offers one;
//! - `$(if name)…$(elif name)…$(else)…$(endif)` keeps the first branch whose condition holds: a
//!   bare name holds when the variable is non-empty; `name == value` / `name != value` compare
//!   it with a literal (optionally in double or single quotes). Conditionals nest.
//!
//! `__PORTAL_URL__` is not RouterOS syntax: onboarding replaces it with the agent's portal address
//! before uploading the pages.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// The placeholder onboarding replaces with the agent's portal base URL (e.g. `http://172.17.0.2`).
pub const PORTAL_PLACEHOLDER: &str = "__PORTAL_URL__";

/// Every page, by file name, as uploaded to the router.
pub const PAGES: &[(&str, &str)] = &[
    ("login.html", include_str!("../login.html")),
    ("rlogin.html", include_str!("../rlogin.html")),
    ("alogin.html", include_str!("../alogin.html")),
    ("status.html", include_str!("../status.html")),
    ("logout.html", include_str!("../logout.html")),
    ("error.html", include_str!("../error.html")),
    // RouterOS falls back to redirect.html for each f*/r* page a directory lacks: without these a
    // logged-in guest opening the hotspot's `/` would get a 404.
    ("redirect.html", include_str!("../redirect.html")),
    ("rstatus.html", include_str!("../rstatus.html")),
    ("fstatus.html", include_str!("../fstatus.html")),
    ("flogout.html", include_str!("../flogout.html")),
];

/// The text of one page by file name.
pub fn page(name: &str) -> Option<&'static str> {
    PAGES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A template that does not parse (unbalanced or misplaced conditionals, an unterminated `$(`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    Unterminated { at: usize },
    UnexpectedDirective { directive: String, at: usize },
    UnclosedIf { at: usize },
    BadCondition { condition: String, at: usize },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unterminated { at } => write!(f, "unterminated $( at byte {at}"),
            TemplateError::UnexpectedDirective { directive, at } => {
                write!(f, "$({directive}) at byte {at} has no matching $(if …)")
            }
            TemplateError::UnclosedIf { at } => write!(f, "$(if …) at byte {at} has no $(endif)"),
            TemplateError::BadCondition { condition, at } => write!(f, "bad condition {condition:?} at byte {at}"),
        }
    }
}

impl std::error::Error for TemplateError {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Cond {
    Set(String),
    Eq(String, String),
    Ne(String, String),
}

impl Cond {
    fn parse(s: &str, at: usize) -> Result<Cond, TemplateError> {
        let bad = || TemplateError::BadCondition { condition: s.to_string(), at };
        let s = s.trim();
        let (name, op_value) = match s.find([' ', '=', '!']) {
            Some(i) => (&s[..i], Some(s[i..].trim())),
            None => (s, None),
        };
        if !is_var_name(name) {
            return Err(bad());
        }
        let Some(rest) = op_value else { return Ok(Cond::Set(name.to_string())) };
        let (eq, value) = if let Some(v) = rest.strip_prefix("==") {
            (true, v)
        } else if let Some(v) = rest.strip_prefix("!=") {
            (false, v)
        } else {
            return Err(bad());
        };
        let value = value.trim();
        let value = unquote(value, '"').or_else(|| unquote(value, '\'')).unwrap_or(value).to_string();
        Ok(if eq { Cond::Eq(name.to_string(), value) } else { Cond::Ne(name.to_string(), value) })
    }

    fn name(&self) -> &str {
        match self {
            Cond::Set(n) | Cond::Eq(n, _) | Cond::Ne(n, _) => n,
        }
    }

    fn holds(&self, vars: &HashMap<String, String>) -> bool {
        let get = |n: &str| vars.get(n).map(String::as_str).unwrap_or("");
        match self {
            Cond::Set(n) => !get(n).is_empty(),
            Cond::Eq(n, v) => get(n) == v,
            Cond::Ne(n, v) => get(n) != v,
        }
    }
}

fn unquote(s: &str, q: char) -> Option<&str> {
    s.strip_prefix(q)?.strip_suffix(q)
}

fn is_var_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    Var(String),
    If { branches: Vec<(Cond, Vec<Node>)>, otherwise: Vec<Node> },
}

enum Token {
    Text(String),
    Var(String),
    If(Cond),
    Elif(Cond),
    Else,
    EndIf,
}

fn tokenize(src: &str) -> Result<Vec<(Token, usize)>, TemplateError> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = src;
    let mut pos = 0;
    while let Some(i) = rest.find("$(") {
        text.push_str(&rest[..i]);
        let at = pos + i;
        let after = &rest[i + 2..];
        let end = after.find(')').ok_or(TemplateError::Unterminated { at })?;
        let inner = &after[..end];
        let token = if is_var_name(inner) {
            match inner {
                "else" => Some(Token::Else),
                "endif" => Some(Token::EndIf),
                _ => Some(Token::Var(inner.to_string())),
            }
        } else if let Some(c) = inner.strip_prefix("if ") {
            Some(Token::If(Cond::parse(c, at)?))
        } else if let Some(c) = inner.strip_prefix("elif ") {
            Some(Token::Elif(Cond::parse(c, at)?))
        } else {
            None
        };
        match token {
            Some(t) => {
                if !text.is_empty() {
                    out.push((Token::Text(std::mem::take(&mut text)), at));
                }
                out.push((t, at));
            }
            // Not a directive: RouterOS leaves it as text.
            None => text.push_str(&rest[i..i + 2 + end + 1]),
        }
        rest = &after[end + 1..];
        pos = at + 2 + end + 1;
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push((Token::Text(text), pos));
    }
    Ok(out)
}

/// A parsed page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    pub fn parse(src: &str) -> Result<Template, TemplateError> {
        let tokens = tokenize(src)?;
        let mut iter = tokens.into_iter();
        let (nodes, end) = parse_block(&mut iter)?;
        match end {
            None => Ok(Template { nodes }),
            Some((t, at)) => Err(TemplateError::UnexpectedDirective { directive: directive_name(&t).into(), at }),
        }
    }

    /// Renders with `vars`; a variable not in `vars` renders as the empty string, as in RouterOS.
    pub fn render(&self, vars: &HashMap<String, String>) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, vars, &mut out);
        out
    }

    /// Every variable the page mentions, inserted or tested in a condition.
    pub fn variables(&self) -> BTreeSet<String> {
        let mut all = self.inserted_variables();
        walk(&self.nodes, &mut |n| {
            if let Node::If { branches, .. } = n {
                all.extend(branches.iter().map(|(c, _)| c.name().to_string()));
            }
        });
        all
    }

    /// The variables whose values end up in the page's text (not those only tested).
    pub fn inserted_variables(&self) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        walk(&self.nodes, &mut |n| {
            if let Node::Var(v) = n {
                set.insert(v.clone());
            }
        });
        set
    }
}

fn directive_name(t: &Token) -> &'static str {
    match t {
        Token::Elif(_) => "elif",
        Token::Else => "else",
        Token::EndIf => "endif",
        Token::If(_) => "if",
        Token::Text(_) | Token::Var(_) => "text",
    }
}

type Tokens = std::vec::IntoIter<(Token, usize)>;
/// A block's nodes and the directive that ended it (none at the end of the template).
type Block = (Vec<Node>, Option<(Token, usize)>);

/// Parses nodes until a directive that ends a block (`elif`, `else`, `endif`) or the end.
fn parse_block(iter: &mut Tokens) -> Result<Block, TemplateError> {
    let mut nodes = Vec::new();
    while let Some((t, at)) = iter.next() {
        match t {
            Token::Text(s) => nodes.push(Node::Text(s)),
            Token::Var(v) => nodes.push(Node::Var(v)),
            Token::If(cond) => nodes.push(parse_if(cond, at, iter)?),
            t @ (Token::Elif(_) | Token::Else | Token::EndIf) => return Ok((nodes, Some((t, at)))),
        }
    }
    Ok((nodes, None))
}

fn parse_if(first: Cond, if_at: usize, iter: &mut Tokens) -> Result<Node, TemplateError> {
    let mut branches = Vec::new();
    let mut cond = first;
    loop {
        let (body, end) = parse_block(iter)?;
        branches.push((cond, body));
        match end {
            None => return Err(TemplateError::UnclosedIf { at: if_at }),
            Some((Token::EndIf, _)) => return Ok(Node::If { branches, otherwise: Vec::new() }),
            Some((Token::Elif(c), _)) => cond = c,
            Some((Token::Else, _)) => {
                let (otherwise, end) = parse_block(iter)?;
                return match end {
                    Some((Token::EndIf, _)) => Ok(Node::If { branches, otherwise }),
                    Some((t, at)) => {
                        Err(TemplateError::UnexpectedDirective { directive: directive_name(&t).into(), at })
                    }
                    None => Err(TemplateError::UnclosedIf { at: if_at }),
                };
            }
            Some((t, at)) => {
                return Err(TemplateError::UnexpectedDirective { directive: directive_name(&t).into(), at });
            }
        }
    }
}

fn walk(nodes: &[Node], f: &mut impl FnMut(&Node)) {
    for n in nodes {
        f(n);
        if let Node::If { branches, otherwise } = n {
            for (_, body) in branches {
                walk(body, f);
            }
            walk(otherwise, f);
        }
    }
}

fn render_nodes(nodes: &[Node], vars: &HashMap<String, String>, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(s) => out.push_str(s),
            Node::Var(v) => out.push_str(vars.get(v).map(String::as_str).unwrap_or("")),
            Node::If { branches, otherwise } => {
                let body = branches.iter().find(|(c, _)| c.holds(vars)).map(|(_, b)| b).unwrap_or(otherwise);
                render_nodes(body, vars, out);
            }
        }
    }
}

/// Renders `template` with `vars` the way RouterOS does.
///
/// # Panics
/// If the template does not parse (use [`Template::parse`] to get the error instead).
pub fn render(template: &str, vars: &HashMap<String, String>) -> String {
    match Template::parse(template) {
        Ok(t) => t.render(vars),
        Err(e) => panic!("template does not parse: {e}"),
    }
}

/// Percent-encodes every byte except RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`):
/// the strictest reading of what RouterOS's `-esc` variables produce.
pub fn url_escape_strict(s: &str) -> String {
    escape_except(s, b"-._~")
}

/// Percent-encodes like JavaScript's `encodeURIComponent` (which also leaves `! ' ( ) *`): a
/// looser reading of RouterOS's `-esc`, so tests show the pages do not rely on those being escaped.
pub fn url_escape_loose(s: &str) -> String {
    escape_except(s, b"-._~!'()*")
}

fn escape_except(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The variables RouterOS would offer for these raw values: each `name` as it is, and
/// `name-esc` escaped with `escape`.
pub fn with_esc_variants(raw: &[(&str, &str)], escape: fn(&str) -> String) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    for (name, value) in raw {
        vars.insert(name.to_string(), value.to_string());
        vars.insert(format!("{name}-esc"), escape(value));
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn substitutes_and_leaves_unknown_empty() {
        let v = vars(&[("ip", "10.5.50.2")]);
        assert_eq!(render("a $(ip) b $(nope) c", &v), "a 10.5.50.2 b  c");
    }

    #[test]
    fn conditionals_choose_one_branch_and_nest() {
        let t = "$(if a)A$(if b)B$(else)b$(endif)$(elif c == 'x y')C$(else)N$(endif)";
        assert_eq!(render(t, &vars(&[("a", "1"), ("b", "1")])), "AB");
        assert_eq!(render(t, &vars(&[("a", "1")])), "Ab");
        assert_eq!(render(t, &vars(&[("c", "x y")])), "C");
        assert_eq!(render(t, &vars(&[("c", "x")])), "N");
        assert_eq!(render("$(if c != \"x\")ne$(endif)", &vars(&[("c", "y")])), "ne");
        assert_eq!(render("$(if c != \"x\")ne$(endif)", &vars(&[("c", "x")])), "");
    }

    #[test]
    fn values_are_not_reinterpreted() {
        // A value that looks like a directive is inserted as text, not evaluated.
        let v = vars(&[("error", "$(if x)$(ip)")]);
        assert_eq!(render("[$(error)]", &v), "[$(if x)$(ip)]");
    }

    #[test]
    fn malformed_templates_are_refused() {
        assert_eq!(Template::parse("$(if a)x"), Err(TemplateError::UnclosedIf { at: 0 }));
        assert!(matches!(Template::parse("x$(endif)"), Err(TemplateError::UnexpectedDirective { .. })));
        assert!(matches!(
            Template::parse("$(if a)$(else)$(else)$(endif)"),
            Err(TemplateError::UnexpectedDirective { .. })
        ));
        assert!(matches!(Template::parse("$(ip"), Err(TemplateError::Unterminated { .. })));
        assert!(matches!(Template::parse("$(if a = b)$(endif)"), Err(TemplateError::BadCondition { .. })));
    }

    #[test]
    fn non_directives_stay_text() {
        assert_eq!(render("$(Foo bar) $(ip)", &vars(&[("ip", "1")])), "$(Foo bar) 1");
    }

    #[test]
    fn lists_variables() {
        let t = Template::parse("$(if error)$(error-esc)$(endif)$(ip)").unwrap();
        assert_eq!(t.inserted_variables().into_iter().collect::<Vec<_>>(), ["error-esc", "ip"]);
        assert_eq!(t.variables().into_iter().collect::<Vec<_>>(), ["error", "error-esc", "ip"]);
    }

    #[test]
    fn escapes() {
        assert_eq!(url_escape_strict("a b&c/é'"), "a%20b%26c%2F%C3%A9%27");
        assert_eq!(url_escape_loose("a b&c/é'"), "a%20b%26c%2F%C3%A9'");
    }
}
