//! The Password/Timestamp pair, checked against a value computed by hand.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use daraja::{Timestamp, password};
use serde_json::Value;

const PASSKEY: &str = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919";

#[test]
fn password_matches_hand_computed_value() {
    // 2024-01-01T09:00:00Z = 2024-01-01 12:00:00 in Nairobi (UTC+3).
    let ts = Timestamp::from_unix(1_704_099_600);
    assert_eq!(ts.as_str(), "20240101120000");
    // printf '%s' '174379bfb279…c91920240101120000' | base64 -w0
    assert_eq!(
        password("174379", PASSKEY, &ts),
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5YjEwZjc4ZTZiNzJhZGExZWQyYzkxOTIwMjQwMTAxMTIwMDAw"
    );
}

/// The client puts one timestamp in both fields, and it is "now" in East Africa Time.
#[tokio::test]
async fn pushed_password_and_timestamp_agree() {
    let env = common::env().await;
    env.sim.push_scenario(daraja_sim::Scenario::paid());
    let before = Timestamp::now();
    env.client.stk_push(&common::push_request(&env, "0712345678", 5)).await.expect("push accepted");
    let after = Timestamp::now();
    let req = env.sim.requests().into_iter().find(|r| r.path == "/mpesa/stkpush/v1/processrequest").expect("push seen");
    let body: Value = serde_json::from_str(&req.body).expect("push body is JSON");
    let ts = body["Timestamp"].as_str().expect("Timestamp is a string");
    assert!(before.as_str() <= ts && ts <= after.as_str(), "{} <= {ts} <= {}", before, after);
    let decoded = STANDARD.decode(body["Password"].as_str().expect("Password is a string")).expect("base64");
    assert_eq!(String::from_utf8(decoded).expect("utf8"), format!("174379{PASSKEY}{ts}"));
}
