//! Settings read at cold start: the SSM ones together on the first read, ten names to a
//! `GetParameters` call, against moto's SSM over its wire protocol.

mod common;

use common::Cloud;
use lambdas::config::{ConfigError, Settings};

#[tokio::test]
async fn secrets_come_from_ssm_in_batches_and_a_missing_one_is_named_when_read() {
    let cloud = Cloud::start().await;
    let sdk = cloud.moto.sdk_config();
    let ssm = aws_sdk_ssm::Client::new(&sdk);
    // Twelve parameter names: two calls' worth (moto, as SSM, refuses more than ten names in one
    // call, so one call for all would fail every secret). One of them does not exist.
    let mut vars = vec![("PLAIN_SETTING".to_string(), "plain value".to_string())];
    for i in 0..11 {
        let name = format!("/hotspot/test/secret-{i}");
        ssm.put_parameter()
            .name(&name)
            .value(format!("value {i}"))
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
        vars.push((format!("SECRET_{i}_PARAM"), name));
    }
    vars.push(("SHARED_PARAM".into(), "/hotspot/test/secret-3".into()));
    vars.push(("GONE_PARAM".into(), "/hotspot/test/never-made".into()));
    let s = Settings::with_vars(&sdk, vars);
    for i in 0..11 {
        assert_eq!(s.required(&format!("SECRET_{i}")).await.unwrap(), format!("value {i}"), "SecureString decrypted");
    }
    assert_eq!(s.required("SHARED").await.unwrap(), "value 3");
    assert_eq!(s.optional("PLAIN_SETTING").await.unwrap().as_deref(), Some("plain value"));
    assert_eq!(s.optional("UNSET").await.unwrap(), None);
    match s.optional("GONE").await {
        Err(ConfigError::Ssm { name, why }) => {
            assert_eq!(name, "/hotspot/test/never-made");
            assert!(why.contains("no such parameter"), "{why}");
        }
        other => panic!("a missing parameter must be an error naming it, got {other:?}"),
    }
    // The environment was read once: settings do not change under a running function.
    assert!(matches!(s.required("ALSO_UNSET").await, Err(ConfigError::Missing(n)) if n == "ALSO_UNSET"));
}

#[tokio::test]
async fn ssm_out_of_reach_is_an_error_for_each_secret_read_not_a_panic() {
    // Nothing listens on port 9: every GetParameters fails.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_ssm::config::Credentials::new("k", "s", None, None, "test"))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let vars = [("DARAJA_PASSKEY_PARAM".to_string(), "/hotspot/daraja/passkey".to_string())];
    let s = Settings::with_vars(&sdk, vars);
    assert!(
        matches!(s.required("DARAJA_PASSKEY").await, Err(ConfigError::Ssm { name, .. }) if name == "/hotspot/daraja/passkey")
    );
}
