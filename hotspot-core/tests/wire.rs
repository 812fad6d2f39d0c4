//! The wire contract: round trips, golden vectors that pin the encoding, and each rejection.

use std::path::PathBuf;

use hotspot_core::wire::*;
use hotspot_core::{MessageId, Package, PurchaseId, RouterId, RouterKey};
use serde_json::{Value, json};

const NOW: i64 = 1_790_000_000;

fn key() -> RouterKey {
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f".parse().unwrap()
}

fn router() -> RouterId {
    "cafe-nairobi-01".parse().unwrap()
}

fn package() -> Package {
    serde_json::from_value(json!({
        "id": "1h", "name": "1 hour", "price": 10, "validity": "1h",
        "rate_limit": "2M/5M", "devices": 1
    }))
    .unwrap()
}

fn pid() -> PurchaseId {
    "p0123456789abcdef01234567".parse().unwrap()
}

/// One message of every type, with fixed values so the signed text is reproducible.
fn samples() -> Vec<(&'static str, Envelope)> {
    let p = || pid();
    let payloads: Vec<(&'static str, Payload)> = vec![
        (
            "grant",
            Payload::Grant(Grant {
                purchase_id: p(),
                mac: "DA:A1:19:00:00:01".parse().unwrap(),
                ip: Some("10.5.50.23".parse().unwrap()),
                package: package(),
                expires_at: NOW + 3600,
                source: GrantSource::Mpesa { receipt: "TKL3ABCDEF".into() },
                phone: Some("0712345678".parse::<hotspot_core::Msisdn>().unwrap().into()),
            }),
        ),
        ("revoke", Payload::Revoke(Revoke { purchase_id: p(), reason: "expired".into() })),
        ("extend", Payload::Extend(Extend { purchase_id: p(), expires_at: NOW + 7200 })),
        (
            "payment_failed",
            Payload::PaymentFailed(PaymentFailed {
                purchase_id: p(),
                reason: PaymentFailure::Cancelled,
                code: Some("1032".into()),
            }),
        ),
        (
            "packages_sync",
            Payload::PackagesSync(PackagesSync { packages: vec![package()], wallets: vec![], country: None }),
        ),
        (
            "vouchers_batch",
            Payload::VouchersBatch(VouchersBatch {
                batch_id: "b-2026-11-21-1".into(),
                package: package(),
                codes: vec!["ABCD2345".parse().unwrap(), "WXYZ6789".parse().unwrap()],
            }),
        ),
        (
            "account_set",
            Payload::AccountSet(AccountSet {
                account: "79927398713".parse().unwrap(),
                password: "kT9-pppoe-secret".into(),
                service: "pppoe".into(),
                package: package(),
                expires_at: NOW + 30 * 86_400,
                wireguard: None,
            }),
        ),
        (
            "applied",
            Payload::Applied(Applied {
                job_id: "grant:p0123456789abcdef01234567".parse().unwrap(),
                job_type: hotspot_core::wire::MessageType::Grant,
                purchase_id: Some(p()),
                online: true,
                wireguard: None,
            }),
        ),
        (
            "apply_failed",
            Payload::ApplyFailed(ApplyFailed {
                job_id: "m0123456789abcdef01234567".parse().unwrap(),
                purchase_id: None,
                error: "bad signature".into(),
                rejected: true,
            }),
        ),
        (
            "session_started",
            Payload::SessionStarted(SessionStarted {
                username: "hs-p0123456789abcdef01234567".into(),
                purchase_id: Some(p()),
                mac: "DA:A1:19:00:00:01".parse().unwrap(),
                ip: "10.5.50.23".parse().unwrap(),
                at: NOW + 1,
            }),
        ),
        (
            "session_ended",
            Payload::SessionEnded(SessionEnded {
                username: "hs-p0123456789abcdef01234567".into(),
                purchase_id: Some(p()),
                mac: "DA:A1:19:00:00:01".parse().unwrap(),
                bytes_in: 1_234_567,
                bytes_out: 98_765_432,
                uptime_secs: 3599,
                reason: "session timeout".into(),
                at: NOW + 3600,
            }),
        ),
        (
            "heartbeat",
            Payload::Heartbeat(Heartbeat {
                version: "0.1.0".into(),
                uptime_secs: 86_400,
                active_sessions: 3,
                ppp_sessions: 0,
                jobs_waiting: 0,
                packages: vec!["1h".parse().unwrap()],
                packages_digest: None,
                clock_unset_secs: 0,
            }),
        ),
    ];
    payloads
        .into_iter()
        .map(|(name, payload)| {
            let id: MessageId = format!("m-golden-{name}").replace('_', "-").parse().unwrap();
            (name, Envelope::new(id, router(), NOW, 900, payload))
        })
        .collect()
}

fn direction_of(e: &Envelope) -> Direction {
    e.payload.kind().direction()
}

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/wire-v1.json")
}

fn build_golden() -> Value {
    let vectors: Vec<Value> = samples()
        .into_iter()
        .map(|(name, env)| {
            let text = env.sign(&key());
            let input = signing_input(&env.to_unsigned_value()).unwrap();
            let sig = serde_json::from_str::<Value>(&text).unwrap()["sig"].clone();
            json!({
                "name": name,
                "key_hex": key().to_hex(),
                "now": NOW,
                "signing_input": String::from_utf8(input).unwrap(),
                "sig": sig,
                "message": text,
            })
        })
        .collect();
    json!({
        "about": "Golden vectors for wire contract v1. Regenerate only on a deliberate, versioned change: UPDATE_GOLDEN=1 cargo test -p hotspot-core --test wire",
        "vectors": vectors,
    })
}

#[test]
fn golden_vectors_pin_the_encoding() {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let text = serde_json::to_string_pretty(&build_golden()).unwrap() + "\n";
        std::fs::write(golden_path(), text).unwrap();
    }
    let file: Value = serde_json::from_str(&std::fs::read_to_string(golden_path()).unwrap()).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), MessageType::ALL.len(), "one vector per message type");
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let key: RouterKey = v["key_hex"].as_str().unwrap().parse().unwrap();
        let message = v["message"].as_str().unwrap();
        // The HMAC over the recorded signing input is the recorded signature (independent of our signer).
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(v["signing_input"].as_str().unwrap().as_bytes());
        assert_eq!(hex::encode(mac.finalize().into_bytes()), v["sig"].as_str().unwrap(), "{name}: sig");
        // The recorded message verifies, and re-signing what it parses to reproduces it byte for byte.
        let dir = name.parse::<MessageType>().unwrap().direction();
        let env = Envelope::verify(message.as_bytes(), &key, &router(), v["now"].as_i64().unwrap(), dir)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(env.sign(&key), message, "{name}: re-signed text drifted");
        // And today's typed sample still encodes to exactly the recorded text.
        let (_, sample) = samples().into_iter().find(|(n, _)| *n == name).unwrap();
        assert_eq!(sample.sign(&key), message, "{name}: typed encoding drifted from the golden vector");
    }
}

#[test]
fn every_type_round_trips() {
    for (name, env) in samples() {
        let text = env.sign(&key());
        let back = Envelope::verify(text.as_bytes(), &key(), &router(), NOW, direction_of(&env)).unwrap();
        assert_eq!(back, env, "{name}");
    }
}

fn grant_text() -> String {
    samples().into_iter().next().unwrap().1.sign(&key())
}

fn verify_c2r(text: &str, now: i64) -> Result<Envelope, WireError> {
    Envelope::verify(text.as_bytes(), &key(), &router(), now, Direction::CloudToRouter)
}

/// Re-signs an edited message with the right key, for rejections that must not be signature failures.
fn resign(mut v: Value) -> String {
    let obj = v.as_object_mut().unwrap();
    obj.remove("sig");
    let input = signing_input(&v).unwrap();
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key().as_bytes()).unwrap();
    mac.update(&input);
    v["sig"] = json!(hex::encode(mac.finalize().into_bytes()));
    v.to_string()
}

#[test]
fn tampered_signature_is_rejected() {
    let mut v: Value = serde_json::from_str(&grant_text()).unwrap();
    let sig = v["sig"].as_str().unwrap().to_string();
    let flipped = format!("{}{}", if sig.starts_with('0') { '1' } else { '0' }, &sig[1..]);
    v["sig"] = json!(flipped);
    assert_eq!(verify_c2r(&v.to_string(), NOW), Err(WireError::BadSignature));
}

#[test]
fn tampered_body_is_rejected() {
    let mut v: Value = serde_json::from_str(&grant_text()).unwrap();
    v["body"]["expires_at"] = json!(NOW + 365 * 86_400);
    assert_eq!(verify_c2r(&v.to_string(), NOW), Err(WireError::BadSignature));
    let mut v: Value = serde_json::from_str(&grant_text()).unwrap();
    v["body"]["mac"] = json!("DA:A1:19:00:00:02");
    assert_eq!(verify_c2r(&v.to_string(), NOW), Err(WireError::BadSignature));
    let mut v: Value = serde_json::from_str(&grant_text()).unwrap();
    v.as_object_mut().unwrap().remove("sig");
    assert_eq!(verify_c2r(&v.to_string(), NOW), Err(WireError::BadSignature));
}

#[test]
fn another_key_is_rejected() {
    let text = samples().into_iter().next().unwrap().1.sign(&RouterKey::generate());
    assert_eq!(verify_c2r(&text, NOW), Err(WireError::BadSignature));
}

#[test]
fn another_routers_message_is_rejected() {
    // Correctly signed (same key, as if keys were shared by mistake) but addressed to another router.
    let mut v: Value = serde_json::from_str(&grant_text()).unwrap();
    v["router_id"] = json!("other-router");
    let err = verify_c2r(&resign(v), NOW).unwrap_err();
    assert_eq!(err, WireError::WrongRouter { expected: "cafe-nairobi-01".into(), got: "other-router".into() });
}

#[test]
fn stale_message_is_rejected() {
    let err = verify_c2r(&grant_text(), NOW + 901).unwrap_err();
    assert_eq!(err, WireError::Stale { not_after: NOW + 900, now: NOW + 901 });
    assert!(verify_c2r(&grant_text(), NOW + 900).is_ok(), "valid up to and including not_after");
}

#[test]
fn message_from_the_future_is_rejected() {
    let err = verify_c2r(&grant_text(), NOW - 301).unwrap_err();
    assert_eq!(err, WireError::FromFuture { issued_at: NOW, now: NOW - 301 });
}

#[test]
fn unknown_version_is_rejected() {
    let mut v: Value = serde_json::from_str(&grant_text()).unwrap();
    v["v"] = json!(2);
    assert_eq!(verify_c2r(&resign(v), NOW), Err(WireError::UnknownVersion(2)));
}

#[test]
fn unknown_type_is_rejected() {
    let mut v: Value = serde_json::from_str(&grant_text()).unwrap();
    v["type"] = json!("format_disk");
    assert_eq!(verify_c2r(&resign(v), NOW), Err(WireError::UnknownType("format_disk".into())));
}

#[test]
fn wrong_direction_is_rejected() {
    // A router's own report, replayed to it as a job.
    let (_, hb) = samples().into_iter().find(|(n, _)| *n == "heartbeat").unwrap();
    assert_eq!(verify_c2r(&hb.sign(&key()), NOW), Err(WireError::WrongDirection("heartbeat".into())));
}

#[test]
fn malformed_input_is_rejected_without_panic() {
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"{\"v\":\"1\"}".to_vec(),
        b"{\"v\":1.0}".to_vec(),
        vec![0xff, 0xfe, 0x00],
        vec![b' '; MAX_MESSAGE_BYTES + 1],
    ];
    for c in cases {
        let r = Envelope::verify(&c, &key(), &router(), NOW, Direction::CloudToRouter);
        assert!(
            matches!(r, Err(WireError::Malformed(_))),
            "{:?} -> {r:?}",
            String::from_utf8_lossy(&c[..c.len().min(20)])
        );
    }
    // A validly signed message whose body breaks the schema (invalid MAC) is malformed, not applied.
    let mut v: Value = serde_json::from_str(&grant_text()).unwrap();
    v["body"]["mac"] = json!("FF:FF:FF:FF:FF:FF");
    assert!(matches!(verify_c2r(&resign(v), NOW), Err(WireError::Malformed(m)) if m.contains("multicast")));
    // Floats have no canonical form.
    let mut v: Value = serde_json::from_str(&grant_text()).unwrap();
    v["body"]["expires_at"] = json!(1.5);
    assert!(matches!(verify_c2r(&resign_lossy(v), NOW), Err(WireError::Malformed(_))));
}

fn resign_lossy(mut v: Value) -> String {
    v["sig"] = json!("00".repeat(32));
    v.to_string()
}

#[test]
fn distinct_rejections_have_distinct_messages() {
    let errs = [
        WireError::BadSignature,
        WireError::WrongRouter { expected: "a".into(), got: "b".into() },
        WireError::Stale { not_after: 1, now: 2 },
        WireError::UnknownVersion(2),
        WireError::UnknownType("x".into()),
    ];
    let texts: std::collections::HashSet<String> = errs.iter().map(|e| e.to_string()).collect();
    assert_eq!(texts.len(), errs.len());
}

/// Signs an arbitrary message object, to play a peer newer than this build.
fn sign_raw(obj: Value) -> String {
    sign_value(obj, &key()).unwrap()
}

/// Old reads new: a v1 message from a newer cloud, with fields this build has never heard of
/// (top level, body, the package inside it, the grant source) and a failure reason it does not
/// know, verifies and reads; what it does not know is ignored or read as the fallback.
#[test]
fn an_older_reader_takes_what_a_newer_writer_adds() {
    let (_, grant) = samples().into_iter().find(|(n, _)| *n == "grant").unwrap();
    let mut v = grant.to_unsigned_value();
    v["trace"] = json!("abc");
    v["body"]["priority"] = json!(7);
    v["body"]["package"]["colour"] = json!("green");
    v["body"]["source"] = json!({"kind": "airtel", "receipt": "AM123"});
    let env = Envelope::verify(sign_raw(v).as_bytes(), &key(), &router(), NOW, Direction::CloudToRouter)
        .expect("a newer message verifies and reads");
    let Payload::Grant(g) = env.payload else { panic!() };
    assert_eq!(g.package, package(), "the package as this build knows it");
    assert_eq!(g.source, GrantSource::Other, "a grant source it does not know is still a grant");

    let (_, failed) = samples().into_iter().find(|(n, _)| *n == "payment_failed").unwrap();
    let mut v = failed.to_unsigned_value();
    v["body"]["reason"] = json!("wallet_frozen");
    let env = Envelope::verify(sign_raw(v).as_bytes(), &key(), &router(), NOW, Direction::CloudToRouter).unwrap();
    assert!(matches!(env.payload, Payload::PaymentFailed(f) if f.reason == PaymentFailure::Other));

    // A new message type is a new contract: refused by name (and a later valid one still applies).
    let mut v = failed.to_unsigned_value();
    v["type"] = json!("wallet_topup");
    assert_eq!(
        Envelope::verify(sign_raw(v).as_bytes(), &key(), &router(), NOW, Direction::CloudToRouter),
        Err(WireError::UnknownType("wallet_topup".into()))
    );
    // And a changed meaning bumps v: refused as such.
    let mut v = failed.to_unsigned_value();
    v["v"] = json!(2);
    assert_eq!(
        Envelope::verify(sign_raw(v).as_bytes(), &key(), &router(), NOW, Direction::CloudToRouter),
        Err(WireError::UnknownVersion(2))
    );
}

/// New reads old: a heartbeat as agents before the clock and packages-digest fields wrote it.
#[test]
fn a_newer_reader_takes_what_an_older_writer_left_out() {
    let old = json!({
        "v": 1, "type": "heartbeat", "id": "m-old-1", "router_id": router().as_str(),
        "issued_at": NOW, "not_after": NOW + 60,
        "body": {"version": "0.0.9", "uptime_secs": 5, "active_sessions": 0, "jobs_waiting": 0}
    });
    let env = Envelope::verify(sign_raw(old).as_bytes(), &key(), &router(), NOW, Direction::RouterToCloud).unwrap();
    let Payload::Heartbeat(h) = env.payload else { panic!() };
    assert_eq!((h.packages_digest, h.clock_unset_secs, h.packages.len()), (None, 0, 0));
}
