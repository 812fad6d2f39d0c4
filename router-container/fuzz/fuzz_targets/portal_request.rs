//! Arbitrary bytes as a guest's request: the head parsed as hyper parses it (httparse), then
//! everything the portal does with it before a handler runs: the Host check, the query and body
//! forms, the language choice, the CSRF token check and the redirect destination. Must never
//! panic, and what the parsers accept must keep their promises.

#![no_main]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use hotspot_agent::portal::fuzzing::{CsrfKey, Form, Lang, decode, host_allowed, safe_destination};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let (head_len, target, host, accept_lang) = match req.parse(data) {
        Ok(httparse::Status::Complete(n)) => {
            let host = req.headers.iter().find(|h| h.name.eq_ignore_ascii_case("host")).map(|h| h.value);
            let lang = req
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("accept-language"))
                .and_then(|h| std::str::from_utf8(h.value).ok());
            (n, req.path.unwrap_or("/"), host, lang)
        }
        // Not a complete head: treat the whole input as a form body and a Host value.
        _ => (0, "/", Some(data), None),
    };
    let local = IpAddr::V4(Ipv4Addr::new(10, 5, 50, 2));
    let names = ["wifi.cafe.lan".to_string()];
    if host_allowed(host, local, &names) {
        // Only an address or a name, with at most a port: never a path, credentials or spaces.
        let h = std::str::from_utf8(host.unwrap_or_default()).unwrap_or_default().trim();
        assert!(!h.is_empty() && !h.contains(['/', '@', '\\', ' ', '\t']), "{h:?}");
    }
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let body = &data[head_len..];
    for input in [query.as_bytes(), body] {
        let Ok(form) = Form::parse(input) else { continue };
        let lang = Lang::choose(form.get("lang"), accept_lang);
        let _ = lang.t();
        static KEY: OnceLock<CsrfKey> = OnceLock::new();
        let key = KEY.get_or_init(CsrfKey::random);
        assert!(!key.verify(form.str("csrf"), &Ipv4Addr::new(10, 5, 50, 9).octets(), 1_700_000_000));
        if let Some(dst) = safe_destination(form.str("dst")) {
            let lower = dst.to_ascii_lowercase();
            assert!(lower.starts_with("http://") || lower.starts_with("https://"), "{dst:?}");
            assert!(!dst.bytes().any(|b| b.is_ascii_control() || b == b'"' || b == b'<'), "{dst:?}");
        }
    }
    let _ = decode(body);
});
