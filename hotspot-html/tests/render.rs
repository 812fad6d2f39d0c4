//! Renders every hotspot page the way RouterOS does — plain `$(name)` inserted as it is,
//! `$(name-esc)` URL-escaped — with realistic and with hostile values, and checks the portal URL
//! the guest is sent to, and that no value escapes into markup or script.

use std::collections::{BTreeSet, HashMap};

use hotspot_html::{PAGES, PORTAL_PLACEHOLDER, Template, page, url_escape_loose, url_escape_strict, with_esc_variants};

const PORTAL: &str = "http://172.17.0.2";

/// Variables RouterOS fills from its own state in a fixed format (numbers, durations, addresses):
/// the only ones a page may insert in their plain (unescaped) form.
const TRUSTED_FORMAT: &[(&str, &str)] = &[
    ("ip", "10.5.50.23"),
    ("mac", "DA:A1:19:00:00:01"),
    ("uptime", "1h2m3s"),
    ("bytes-in-nice", "1.2 MiB"),
    ("bytes-out-nice", "35.7 MiB"),
    ("session-time-left", "57m57s"),
    ("remain-bytes-total", "1048576"),
    ("refresh-timeout", "1m"),
    ("refresh-timeout-secs", "60"),
];

/// Variables that may carry text from the guest or from configuration: realistic values.
const FREE_TEXT: &[(&str, &str)] = &[
    ("link-orig", "http://neverssl.com/online?q=1&r=2"),
    ("link-login-only", "http://10.5.50.1/login"),
    ("link-redirect", "http://neverssl.com/online?q=1&r=2"),
    ("identity", "Cafe Nairobi"),
    ("username", "DA:A1:19:00:00:01"),
    ("error", "invalid username or password"),
];

/// Values meant to break out of URLs, attributes, scripts and comments.
const HOSTILE: &[&str] = &[
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "' onmouseover='alert(1)",
    "javascript:alert(document.cookie)//",
    " JaVaScRiPt:alert(1)",
    "http://example.com/a b?x=1&ip=6.6.6.6&mac=00:00:00:00:00:00#frag",
    "a&amp;b&identity=evil&dst=javascript:alert(1)",
    "line1\nline2\r\n<b>bold</b>",
    "Café Nairobi – ☕ 😀 Karibu",
    "%27%22%3Cscript%3E %ZZ %",
    "</script><script>alert(1)</script>",
    "-->< !-- <!--",
    "$(ip)$(if error)x$(endif)",
    "\\\"\\u003c \\x3c",
    "+plus+&hash#;semi=eq",
    "",
];

type Escape = fn(&str) -> String;
const ESCAPERS: &[(&str, Escape)] = &[("strict", url_escape_strict), ("loose", url_escape_loose)];

fn vars_with(free: &[(&str, &str)], escape: Escape) -> HashMap<String, String> {
    let mut raw: Vec<(&str, &str)> = TRUSTED_FORMAT.to_vec();
    raw.extend_from_slice(free);
    with_esc_variants(&raw, escape)
}

fn realistic(escape: Escape) -> HashMap<String, String> {
    vars_with(FREE_TEXT, escape)
}

/// Every free-text variable set to `value`.
fn hostile(value: &str, escape: Escape) -> HashMap<String, String> {
    let free: Vec<(&str, &str)> = FREE_TEXT.iter().map(|(n, _)| (*n, value)).collect();
    vars_with(&free, escape)
}

/// The same truthiness as `hostile(value)` (so the same conditional branches), with inert text.
fn benign_like(value: &str, escape: Escape) -> HashMap<String, String> {
    hostile(if value.is_empty() { "" } else { "inert" }, escape)
}

/// Renders a page as uploaded by onboarding (portal placeholder filled in).
fn render(name: &str, vars: &HashMap<String, String>) -> String {
    let src = page(name).unwrap().replace(PORTAL_PLACEHOLDER, PORTAL);
    Template::parse(&src).unwrap_or_else(|e| panic!("{name}: {e}")).render(vars)
}

// ---------------------------------------------------------------- a small HTML tokenizer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open {
        name: String,
        attrs: Vec<(String, Option<String>)>,
    },
    Close(String),
    Text(String),
    /// The raw text of a `<script>` or `<style>` element.
    Raw(String),
    Comment(String),
    Doctype,
}

fn tokenize_html(s: &str) -> Vec<Tok> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut text = String::new();
    let flush = |text: &mut String, out: &mut Vec<Tok>| {
        if !text.is_empty() {
            out.push(Tok::Text(std::mem::take(text)));
        }
    };
    while i < b.len() {
        let rest = &s[i..];
        if let Some(body) = rest.strip_prefix("<!--") {
            flush(&mut text, &mut out);
            let end = body.find("-->").map(|e| 4 + e + 3).unwrap_or(rest.len());
            out.push(Tok::Comment(rest[..end].to_string()));
            i += end;
        } else if rest.starts_with("<!") {
            flush(&mut text, &mut out);
            i += rest.find('>').map(|e| e + 1).unwrap_or(rest.len());
            out.push(Tok::Doctype);
        } else if rest.starts_with("</") && rest[2..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            flush(&mut text, &mut out);
            let end = rest.find('>').unwrap_or(rest.len());
            out.push(Tok::Close(rest[2..end].trim().to_ascii_lowercase()));
            i += (end + 1).min(rest.len());
        } else if rest.starts_with('<') && rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            flush(&mut text, &mut out);
            let (tok, used) = open_tag(rest);
            i += used;
            let raw_elem = matches!(&tok, Tok::Open { name, .. } if name == "script" || name == "style");
            let name = if let Tok::Open { name, .. } = &tok { name.clone() } else { unreachable!() };
            out.push(tok);
            if raw_elem {
                let body = &s[i..];
                let end = body.to_ascii_lowercase().find(&format!("</{name}")).unwrap_or(body.len());
                out.push(Tok::Raw(body[..end].to_string()));
                i += end;
            }
        } else {
            let c = rest.chars().next().unwrap();
            text.push(c);
            i += c.len_utf8();
        }
    }
    flush(&mut text, &mut out);
    out
}

/// Parses `<name attr=value …>` at the start of `s`; returns the token and the bytes used.
fn open_tag(s: &str) -> (Tok, usize) {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    let name = s[1..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        if b[i] == b'>' {
            i += 1;
            break;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let attr = s[start..i].to_ascii_lowercase();
        let mut value = None;
        if i < b.len() && b[i] == b'=' {
            i += 1;
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vstart = i + 1;
                let vend = s[vstart..].find(q as char).map(|e| vstart + e).unwrap_or(b.len());
                value = Some(s[vstart..vend].to_string());
                i = (vend + 1).min(b.len());
            } else {
                let vstart = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = Some(s[vstart..i].to_string());
            }
        }
        attrs.push((attr, value));
    }
    (Tok::Open { name, attrs }, i)
}

/// Splits script text into code and string literals: returns the code with each string replaced
/// by `S`, and the strings' contents. Unterminated strings (a newline or the end) are marked.
fn lex_js(src: &str) -> (String, Vec<String>) {
    let mut code = String::new();
    let mut strings = Vec::new();
    let mut chars = src.chars();
    while let Some(c) = chars.next() {
        if c == '"' || c == '\'' {
            let mut lit = String::new();
            let mut closed = false;
            while let Some(d) = chars.next() {
                match d {
                    '\\' => {
                        lit.push(d);
                        if let Some(e) = chars.next() {
                            lit.push(e);
                        }
                    }
                    '\n' | '\r' => break,
                    d if d == c => {
                        closed = true;
                        break;
                    }
                    d => lit.push(d),
                }
            }
            code.push_str(if closed { "S" } else { "<UNTERMINATED>" });
            strings.push(lit);
        } else {
            code.push(c);
        }
    }
    (code, strings)
}

/// The shape of a page: elements, their attribute names, comments, and scripts' code.
fn skeleton(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for t in tokenize_html(html) {
        match t {
            Tok::Open { name, attrs } => {
                let names: Vec<_> = attrs.iter().map(|(n, _)| n.as_str()).collect();
                out.push(format!("<{name} {}>", names.join(" ")));
            }
            Tok::Close(n) => out.push(format!("</{n}>")),
            Tok::Raw(body) => out.push(format!("raw:{}", lex_js(&body).0)),
            Tok::Comment(c) => out.push(format!("comment:{c}")),
            Tok::Doctype => out.push("doctype".into()),
            Tok::Text(_) => {}
        }
    }
    out
}

fn attrs_of(html: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for t in tokenize_html(html) {
        if let Tok::Open { name, attrs } = t {
            for (a, v) in attrs {
                out.push((name.clone(), a, v.unwrap_or_default()));
            }
        }
    }
    out
}

/// Decodes HTML character references in an attribute value; refuses a bare or unknown `&`.
fn html_decode(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').unwrap_or_else(|| panic!("bare & in attribute {s:?}"));
        out.push_str(match &tail[..=end] {
            "&amp;" => "&",
            "&lt;" => "<",
            "&gt;" => ">",
            "&quot;" => "\"",
            "&#39;" => "'",
            other => panic!("unexpected character reference {other} in attribute {s:?}"),
        });
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Strict percent-decoding of a query component (`+` is a space, as in forms).
fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3).ok_or_else(|| format!("truncated escape in {s:?}"))?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad escape %{hex} in {s:?}"))?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("not UTF-8 after decoding {s:?}"))
}

/// Splits the portal URL into its query parameters, decoded, in order.
fn portal_query(url: &str) -> Vec<(String, String)> {
    let query = url
        .strip_prefix(&format!("{PORTAL}/?"))
        .unwrap_or_else(|| panic!("portal URL {url:?} does not start with {PORTAL}/?"));
    assert!(!query.contains('#'), "fragment in {url:?}");
    assert!(
        query.bytes().all(|c| c.is_ascii_graphic() && !matches!(c, b'"' | b'<' | b'>' | b'\\' | b'`')),
        "characters a URL must not carry raw in {url:?}"
    );
    query
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("parameter without '=' in {url:?}"));
            (percent_decode(k).unwrap(), percent_decode(v).unwrap())
        })
        .collect()
}

/// The two portal URLs in a redirect page: the visible link and the meta refresh.
fn redirect_urls(html: &str) -> (String, String) {
    let attrs = attrs_of(html);
    let link: Vec<_> = attrs.iter().filter(|(t, a, _)| t == "a" && a == "href").map(|(_, _, v)| v).collect();
    assert_eq!(link.len(), 1, "one link expected");
    let metas: Vec<_> = tokenize_html(html)
        .into_iter()
        .filter_map(|t| match t {
            Tok::Open { name, attrs } if name == "meta" => {
                let get = |k: &str| attrs.iter().find(|(a, _)| a == k).and_then(|(_, v)| v.clone());
                (get("http-equiv").as_deref() == Some("refresh")).then(|| get("content").unwrap_or_default())
            }
            _ => None,
        })
        .collect();
    assert_eq!(metas.len(), 1, "one meta refresh expected");
    let content = html_decode(&metas[0]);
    let url = content.strip_prefix("0; url=").unwrap_or_else(|| panic!("meta refresh {content:?}")).to_string();
    (html_decode(link[0]), url)
}

fn expected_query(free: &HashMap<&str, &str>) -> Vec<(String, String)> {
    let trusted: HashMap<_, _> = TRUSTED_FORMAT.iter().copied().collect();
    [
        ("mac", trusted["mac"]),
        ("ip", trusted["ip"]),
        ("dst", free["link-orig"]),
        ("login", free["link-login-only"]),
        ("identity", free["identity"]),
        ("error", free["error"]),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

// ---------------------------------------------------------------- the checks

const REDIRECT_PAGES: &[&str] = &["login.html", "rlogin.html"];

#[test]
fn the_redirect_pages_carry_exactly_the_expected_parameters() {
    for &name in REDIRECT_PAGES {
        for (ename, esc) in ESCAPERS {
            let html = render(name, &realistic(*esc));
            let (link, meta) = redirect_urls(&html);
            assert_eq!(link, meta, "{name}: link and meta refresh differ");
            let free: HashMap<_, _> = FREE_TEXT.iter().copied().collect();
            assert_eq!(portal_query(&link), expected_query(&free), "{name} ({ename})");
        }
    }
}

#[test]
fn hostile_values_arrive_intact_in_the_portal_url() {
    for &name in REDIRECT_PAGES {
        for (ename, esc) in ESCAPERS {
            for h in HOSTILE {
                let html = render(name, &hostile(h, *esc));
                let (link, meta) = redirect_urls(&html);
                assert_eq!(link, meta, "{name} ({ename}) with {h:?}");
                let free: HashMap<_, _> = FREE_TEXT.iter().map(|(n, _)| (*n, *h)).collect();
                assert_eq!(portal_query(&link), expected_query(&free), "{name} ({ename}) with {h:?}");
            }
        }
    }
}

#[test]
fn a_routeros_without_identity_esc_still_yields_a_valid_url() {
    // If a RouterOS version lacks `identity-esc` it renders empty: the portal loses a display
    // hint, nothing else.
    let mut vars = hostile("a&b=c", url_escape_strict);
    vars.remove("identity-esc");
    let html = render("login.html", &vars);
    let q = portal_query(&redirect_urls(&html).0);
    assert_eq!(
        q.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["mac", "ip", "dst", "login", "identity", "error"]
    );
    assert_eq!(q[4].1, "");
    assert_eq!(q[2].1, "a&b=c");
}

#[test]
fn hostile_values_change_no_markup_or_script_structure() {
    for (name, _) in PAGES {
        for (ename, esc) in ESCAPERS {
            for h in HOSTILE {
                let bad = render(name, &hostile(h, *esc));
                let good = render(name, &benign_like(h, *esc));
                assert_eq!(skeleton(&bad), skeleton(&good), "{name} ({ename}) with {h:?}:\n{bad}");
                for t in tokenize_html(&bad) {
                    if let Tok::Raw(body) = t {
                        for s in lex_js(&body).1 {
                            assert!(!s.contains(['<', '\n', '\r']), "{name} ({ename}): script string {s:?}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn no_attribute_holds_a_script_url_or_a_stray_ampersand() {
    for (name, _) in PAGES {
        for (ename, esc) in ESCAPERS {
            for h in HOSTILE.iter().chain(FREE_TEXT.iter().map(|(_, v)| v)) {
                let html = render(name, &hostile(h, *esc));
                for (tag, attr, value) in attrs_of(&html) {
                    let v = html_decode(&value);
                    assert!(!attr.starts_with("on"), "{name}: event handler attribute {attr}");
                    if matches!(attr.as_str(), "href" | "src" | "action" | "content") {
                        let flat: String = v.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
                        assert!(!flat.contains("javascript:"), "{name} ({ename}): <{tag} {attr}={value:?}>");
                    }
                    if attr == "href" {
                        assert!(
                            v.starts_with('/') || v.starts_with(&format!("{PORTAL}/")),
                            "{name}: link {v:?} goes neither to the router nor to the portal"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn escaped_text_decodes_to_the_original_value() {
    // status/logout/error show free text as its escaped form, decoded by script into text; the
    // alogin script decodes link-redirect-esc from a string. Both must give back the value.
    let cases: &[(&str, &str)] = &[
        ("status.html", "username"),
        ("logout.html", "username"),
        ("error.html", "error"),
        ("alogin.html", "link-redirect"),
    ];
    for (name, var) in cases {
        for (ename, esc) in ESCAPERS {
            for h in HOSTILE.iter().filter(|h| !h.is_empty()) {
                let toks = tokenize_html(&render(name, &hostile(h, *esc)));
                let mut found = Vec::new();
                for (i, t) in toks.iter().enumerate() {
                    match t {
                        Tok::Open { attrs, .. } if attrs.iter().any(|(a, _)| a == "data-esc") => {
                            let text = match toks.get(i + 1) {
                                Some(Tok::Text(s)) => s.clone(),
                                _ => String::new(),
                            };
                            found.push(text);
                        }
                        Tok::Raw(body) => {
                            if let Some((_, after)) = body.split_once("decodeURIComponent(\"") {
                                found.push(after.split('"').next().unwrap_or_default().to_string());
                            }
                        }
                        _ => {}
                    }
                }
                assert_eq!(found.len(), 1, "{name} ({ename}): one escaped {var} expected, found {found:?}");
                assert_eq!(percent_decode(&found[0]).as_deref(), Ok(*h), "{name} ({ename})");
            }
        }
    }
}

#[test]
fn every_page_uses_only_known_variables_and_inserts_only_safe_ones() {
    let defined = realistic(url_escape_strict);
    let trusted: BTreeSet<&str> = TRUSTED_FORMAT.iter().map(|(n, _)| *n).collect();
    for (name, src) in PAGES {
        let t = Template::parse(src).unwrap_or_else(|e| panic!("{name}: {e}"));
        for v in t.variables() {
            assert!(defined.contains_key(&v), "{name} uses $({v}), which the test (RouterOS) does not define");
        }
        for v in t.inserted_variables() {
            assert!(
                v.ends_with("-esc") || trusted.contains(v.as_str()),
                "{name} inserts $({v}) raw: use its -esc form"
            );
        }
        let html = render(name, &defined);
        assert!(!html.contains("$("), "{name}: an unrendered directive remains");
        assert!(!html.contains(PORTAL_PLACEHOLDER), "{name}: placeholder remains");
        assert!(html.contains("name=\"viewport\""), "{name}: not mobile-friendly");
        for (tag, attr, _) in attrs_of(&html) {
            assert!(!(tag == "link" || attr == "src"), "{name}: external asset <{tag} {attr}>");
        }
    }
}

#[test]
fn the_redirect_pages_need_the_portal_placeholder() {
    for &name in REDIRECT_PAGES {
        assert_eq!(page(name).unwrap().matches(PORTAL_PLACEHOLDER).count(), 3, "{name}: comment, meta and link");
    }
}

#[test]
fn status_shows_the_session() {
    let html = render("status.html", &realistic(url_escape_strict));
    for v in ["1h2m3s", "57m57s", "35.7 MiB", "1.2 MiB", "1048576", "DA%3AA1%3A19%3A00%3A00%3A01"] {
        assert!(html.contains(v), "status.html lacks {v}");
    }
    assert!(attrs_of(&html).iter().any(|(t, a, v)| t == "a" && a == "href" && v == "/logout"));
    let mut no_limit = realistic(url_escape_strict);
    no_limit.insert("session-time-left".into(), String::new());
    assert!(render("status.html", &no_limit).contains("no limit"));
}

#[test]
fn the_checker_itself_catches_breakouts() {
    // A page inserting raw values must fail the structural comparison and the URL check.
    let naive = "<a id=\"go\" href=\"__PORTAL_URL__/?mac=$(mac)&amp;dst=$(link-orig)\">x</a><p>$(error)</p>";
    let t = |v: &str| {
        Template::parse(&naive.replace(PORTAL_PLACEHOLDER, PORTAL)).unwrap().render(&hostile(v, url_escape_strict))
    };
    assert_ne!(skeleton(&t("\"><script>alert(1)</script>")), skeleton(&t("inert")));
    assert_ne!(skeleton(&t("x</p><p>")), skeleton(&t("inert")));
    for v in ["a&b=c", "a#b", "a b", "a<b"] {
        let page = t(v);
        let caught = std::panic::catch_unwind(|| portal_query(&html_decode(&attrs_of(&page)[1].2)));
        assert!(caught.is_err(), "a raw {v:?} in the URL went unnoticed");
    }
    let (code, _) = lex_js("var d = \"x\";</script>");
    assert_eq!(code, "var d = S;</script>");
    let (code, _) = lex_js("var d = \"x\ny\";");
    assert!(code.contains("<UNTERMINATED>"));
}

/// RouterOS looks for these and falls back to `redirect.html` (then a 404) for each one missing:
/// a logged-in guest opening the hotspot's `/` would otherwise see an error.
#[test]
fn every_page_routeros_asks_for_is_shipped() {
    for name in [
        "login.html",
        "rlogin.html",
        "alogin.html",
        "status.html",
        "rstatus.html",
        "fstatus.html",
        "logout.html",
        "flogout.html",
        "redirect.html",
        "error.html",
    ] {
        assert!(page(name).is_some(), "{name} is not shipped");
    }
    let r = render("rstatus.html", &realistic(url_escape_strict));
    assert!(r.contains("url=/status"), "{r}");
    let f = render("fstatus.html", &realistic(url_escape_strict));
    assert!(f.contains("url=/login"), "{f}");
}
