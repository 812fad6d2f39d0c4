//! Configuration, read once at cold start. Secrets come from SSM Parameter Store
//! (SecureString, decrypted) when `NAME_PARAM` holds a parameter name, else from `NAME` itself
//! (local runs). A missing or bad setting stops the function with a message naming it.

use std::collections::HashMap;

use aws_config::SdkConfig;
use daraja::{ClientConfig, Environment};
use hotspot_core::phone::Country;
use hotspot_core::wallet::Wallet;
use wallets::airtel::{self, AirtelConfig};
use wallets::mtn::{self, MtnConfig};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("setting {0} is missing (set {0}, or {0}_PARAM to an SSM parameter name)")]
    Missing(String),
    #[error("setting {name} is invalid: {why}")]
    Invalid { name: String, why: String },
    #[error("reading SSM parameter {name}: {why}")]
    Ssm { name: String, why: String },
}

/// SSM's limit on names per `GetParameters` call.
const SSM_BATCH: usize = 10;

/// Every setting, from the environment or SSM. The first SSM setting read fetches them all
/// together: one `GetParameters` round trip per ten secrets at cold start, not one
/// `GetParameter` each in turn. A function that reads none never calls SSM.
pub struct Settings {
    ssm: aws_sdk_ssm::Client,
    /// The environment as it was at cold start.
    vars: HashMap<String, String>,
    /// By parameter name: its value, or why it could not be read.
    params: tokio::sync::OnceCell<HashMap<String, Result<String, String>>>,
}

impl Settings {
    pub fn new(sdk: &SdkConfig) -> Self {
        // `vars()` would panic on a variable that is not Unicode: such a one is no setting of ours.
        let vars = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Settings::with_vars(sdk, vars)
    }

    /// As `new`, for the given variables.
    pub fn with_vars(sdk: &SdkConfig, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        Settings {
            ssm: aws_sdk_ssm::Client::new(sdk),
            vars: vars.into_iter().collect(),
            params: tokio::sync::OnceCell::new(),
        }
    }

    /// Every parameter a `NAME_PARAM` variable names, read in batches.
    async fn fetch_parameters(&self) -> HashMap<String, Result<String, String>> {
        let mut names: Vec<String> =
            self.vars.iter().filter(|(k, v)| k.ends_with("_PARAM") && !v.is_empty()).map(|(_, v)| v.clone()).collect();
        names.sort();
        names.dedup();
        let mut params = HashMap::new();
        for batch in names.chunks(SSM_BATCH) {
            match self.ssm.get_parameters().set_names(Some(batch.to_vec())).with_decryption(true).send().await {
                Ok(out) => {
                    for p in out.parameters.unwrap_or_default() {
                        if let (Some(n), Some(v)) = (p.name, p.value) {
                            params.insert(n, Ok(v));
                        }
                    }
                    for n in batch {
                        params.entry(n.clone()).or_insert_with(|| Err("no such parameter".into()));
                    }
                }
                Err(e) => {
                    let why = format!("{e:?}");
                    for n in batch {
                        params.insert(n.clone(), Err(why.clone()));
                    }
                }
            }
        }
        params
    }

    pub async fn optional(&self, name: &str) -> Result<Option<String>, ConfigError> {
        if let Some(param) = self.vars.get(&format!("{name}_PARAM")).filter(|p| !p.is_empty()) {
            let params = self.params.get_or_init(|| self.fetch_parameters()).await;
            return match params.get(param) {
                Some(Ok(v)) => Ok(Some(v.clone())),
                Some(Err(why)) => Err(ConfigError::Ssm { name: param.clone(), why: why.clone() }),
                None => Err(ConfigError::Missing(name.into())),
            };
        }
        Ok(self.vars.get(name).filter(|v| !v.is_empty()).cloned())
    }

    pub async fn required(&self, name: &str) -> Result<String, ConfigError> {
        self.optional(name).await?.ok_or_else(|| ConfigError::Missing(name.into()))
    }
}

/// The Daraja client's settings.
pub async fn daraja_config(s: &Settings) -> Result<ClientConfig, ConfigError> {
    let env = match s.required("DARAJA_ENV").await?.as_str() {
        "sandbox" => Environment::Sandbox,
        "production" => Environment::Production,
        url if url.starts_with("http://") || url.starts_with("https://") => Environment::Custom(url.to_string()),
        other => {
            return Err(ConfigError::Invalid {
                name: "DARAJA_ENV".into(),
                why: format!("{other:?} is not sandbox, production or a base URL"),
            });
        }
    };
    let key = s.required("DARAJA_CONSUMER_KEY").await?;
    let secret = s.required("DARAJA_CONSUMER_SECRET").await?;
    let passkey = s.required("DARAJA_PASSKEY").await?;
    let shortcode = s.required("DARAJA_SHORTCODE").await?;
    Ok(match s.optional("DARAJA_TILL").await? {
        Some(till) => ClientConfig::buy_goods(env, key, secret, shortcode, till, passkey),
        None => ClientConfig::paybill(env, key, secret, shortcode, passkey),
    })
}

/// A base URL setting: one of the named environments, or a URL (a simulator's).
async fn base_url(s: &Settings, name: &str, named: &[(&str, &str)]) -> Result<String, ConfigError> {
    let v = s.required(name).await?;
    if let Some((_, url)) = named.iter().find(|(n, _)| *n == v) {
        return Ok(url.to_string());
    }
    if v.starts_with("http://") || v.starts_with("https://") {
        return Ok(v);
    }
    let names: Vec<&str> = named.iter().map(|(n, _)| *n).collect();
    Err(ConfigError::Invalid { name: name.into(), why: format!("{v:?} is not {} or a base URL", names.join(", ")) })
}

/// A wallet's merchant country: `default` when unset; one where the wallet is not sold is refused.
async fn country(s: &Settings, name: &str, wallet: Wallet, default: Country) -> Result<Country, ConfigError> {
    let c = match s.optional(name).await? {
        None => default,
        Some(c) => c.parse().map_err(|e| ConfigError::Invalid { name: name.into(), why: format!("{e}") })?,
    };
    match wallet.sold_in(c) {
        true => Ok(c),
        false => Err(ConfigError::Invalid {
            name: name.into(),
            why: format!("{} is not sold in {}", wallet.label(), c.name()),
        }),
    }
}

/// Airtel Money's settings; `None` (Airtel off) without `AIRTEL_CLIENT_ID`.
pub async fn airtel_config(s: &Settings) -> Result<Option<AirtelConfig>, ConfigError> {
    let Some(client_id) = s.optional("AIRTEL_CLIENT_ID").await? else { return Ok(None) };
    let base =
        base_url(s, "AIRTEL_ENV", &[("staging", airtel::STAGING_URL), ("production", airtel::PRODUCTION_URL)]).await?;
    let secret = s.required("AIRTEL_CLIENT_SECRET").await?;
    let mut cfg = AirtelConfig::new(
        base,
        client_id,
        secret,
        country(s, "AIRTEL_COUNTRY", Wallet::AirtelMoney, Country::Kenya).await?,
    );
    cfg.callback_key = s.optional("AIRTEL_CALLBACK_KEY").await?.map(wallets::Secret::new);
    cfg.message_signing = match s.optional("AIRTEL_MESSAGE_SIGNING").await?.as_deref() {
        None | Some("off") => false,
        Some("on") => true,
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "AIRTEL_MESSAGE_SIGNING".into(),
                why: format!("{other:?} is not on or off"),
            });
        }
    };
    Ok(Some(cfg))
}

/// MTN MoMo's settings; `None` (MTN off) without `MTN_API_USER`.
pub async fn mtn_config(s: &Settings) -> Result<Option<MtnConfig>, ConfigError> {
    let Some(api_user) = s.optional("MTN_API_USER").await? else { return Ok(None) };
    let base = base_url(s, "MTN_ENV", &[("sandbox", mtn::SANDBOX_URL), ("production", mtn::PRODUCTION_URL)]).await?;
    Ok(Some(MtnConfig::new(
        base,
        s.required("MTN_SUBSCRIPTION_KEY").await?,
        api_user,
        s.required("MTN_API_KEY").await?,
        s.required("MTN_TARGET_ENVIRONMENT").await?,
        country(s, "MTN_COUNTRY", Wallet::MtnMomo, Country::Uganda).await?,
    )))
}

/// The callback URL given to Daraja: `CALLBACK_BASE_URL` + `/cb/` + `CALLBACK_SECRET`.
/// Safaricom refuses URLs containing "mpesa", so neither part may.
pub async fn callback_url(s: &Settings) -> Result<(String, String), ConfigError> {
    let base = s.required("CALLBACK_BASE_URL").await?;
    let secret = s.required("CALLBACK_SECRET").await?;
    if secret.len() < 24 || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(ConfigError::Invalid {
            name: "CALLBACK_SECRET".into(),
            why: "use at least 24 characters of A-Z, a-z, 0-9, '-' and '_'".into(),
        });
    }
    let url = format!("{}/cb/{secret}", base.trim_end_matches('/'));
    if url.to_ascii_lowercase().contains("mpesa") {
        return Err(ConfigError::Invalid {
            name: "CALLBACK_BASE_URL".into(),
            why: "Safaricom refuses callback URLs containing \"mpesa\"".into(),
        });
    }
    Ok((url, secret))
}

/// Africa's Talking settings for SMS receipts; `None` (receipts off) without `AT_USERNAME`.
pub async fn sms_config(s: &Settings) -> Result<Option<crate::sms::SmsConfig>, ConfigError> {
    let Some(username) = s.optional("AT_USERNAME").await? else { return Ok(None) };
    let base_url = match s.optional("AT_ENV").await?.as_deref() {
        None | Some("production") => crate::sms::PRODUCTION_URL.to_string(),
        Some("sandbox") => crate::sms::SANDBOX_URL.to_string(),
        Some(url) if url.starts_with("http://") || url.starts_with("https://") => url.to_string(),
        Some(other) => {
            return Err(ConfigError::Invalid {
                name: "AT_ENV".into(),
                why: format!("{other:?} is not sandbox, production or a base URL"),
            });
        }
    };
    let api_key = s.required("AT_API_KEY").await?;
    let sender_id = s.optional("AT_SENDER_ID").await?;
    Ok(Some(crate::sms::SmsConfig { base_url, username, api_key, sender_id }))
}

pub fn table_name() -> Result<String, ConfigError> {
    std::env::var("TABLE_NAME").ok().filter(|v| !v.is_empty()).ok_or_else(|| ConfigError::Missing("TABLE_NAME".into()))
}
