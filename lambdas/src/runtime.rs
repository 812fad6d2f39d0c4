//! What every function binary shares: JSON logs for CloudWatch, AWS clients, HTTP glue.

use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use daraja::DarajaClient;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::api::{Incoming, Reply, authenticate};
use crate::config::{self, ConfigError, Settings};
use crate::providers::{Notices, Providers};
use crate::token_store::DynamoTokenStore;
use hotspot_cloud::store::{RouterRecord, Store};
use wallets::airtel::AirtelClient;
use wallets::mtn::MtnClient;

/// JSON lines carrying every enclosing span's fields: the runtime's `requestId` and our
/// purchase / router ids.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(false)
        .try_init();
}

/// The AWS SDK configuration; `AWS_ENDPOINT_URL` points it at moto for local runs.
pub async fn sdk() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

pub struct Cloud {
    pub store: Store,
    pub sqs: aws_sdk_sqs::Client,
    pub settings: Settings,
    /// For clients only some functions build (the events function's IAM).
    pub sdk: SdkConfig,
}

impl Cloud {
    /// What settling a payment needs (`settle::Settle`), with the SMS receipts if configured.
    pub fn settle<'a>(
        &'a self,
        sms: Option<&'a crate::sms::SmsClient>,
        notices: &'a Notices,
    ) -> crate::settle::Settle<'a> {
        crate::settle::Settle { store: &self.store, sqs: &self.sqs, sms, notices }
    }

    /// How the configured wallets' notifications read (Airtel's key, MTN's merchant).
    pub async fn notices(&self) -> Result<Notices, ConfigError> {
        Ok(Notices {
            airtel: config::airtel_config(&self.settings).await?,
            mtn: config::mtn_config(&self.settings).await?,
        })
    }

    /// Every configured wallet: M-Pesa always, Airtel Money and MTN MoMo when set up.
    pub async fn providers(&self) -> Result<(Providers<DynamoTokenStore>, Notices), ConfigError> {
        let notices = self.notices().await?;
        fn invalid(name: &'static str) -> impl Fn(wallets::WalletError) -> ConfigError {
            move |e| ConfigError::Invalid { name: name.into(), why: e.to_string() }
        }
        let airtel = notices.airtel.clone().map(AirtelClient::new).transpose().map_err(invalid("AIRTEL_*"))?;
        let mtn = notices.mtn.clone().map(MtnClient::new).transpose().map_err(invalid("MTN_*"))?;
        Ok((Providers { mpesa: self.daraja().await?, airtel, mtn }, notices))
    }

    pub async fn from_env() -> Result<Cloud, ConfigError> {
        let sdk = sdk().await;
        let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), config::table_name()?);
        Ok(Cloud { store, sqs: aws_sdk_sqs::Client::new(&sdk), settings: Settings::new(&sdk), sdk })
    }

    /// The SMS receipt sender, or `None` when Africa's Talking is not configured (`AT_USERNAME`).
    pub async fn sms(&self) -> Result<Option<crate::sms::SmsClient>, ConfigError> {
        match config::sms_config(&self.settings).await? {
            Some(cfg) => crate::sms::SmsClient::new(cfg)
                .map(Some)
                .map_err(|e| ConfigError::Invalid { name: "AT_*".into(), why: e.to_string() }),
            // Not logged: cold-start lines would carry no request id.
            None => Ok(None),
        }
    }

    /// The Daraja client, sharing its token through DynamoDB.
    pub async fn daraja(&self) -> Result<DarajaClient<DynamoTokenStore>, ConfigError> {
        let cfg = config::daraja_config(&self.settings).await?;
        DarajaClient::new(cfg, Arc::new(DynamoTokenStore::new(self.store.clone())))
            .map_err(|e| ConfigError::Invalid { name: "DARAJA_*".into(), why: e.to_string() })
    }
}

/// The parts of an API Gateway HTTP API request our logic needs.
pub struct HttpParts {
    pub method: String,
    pub path: String,
    pub source_ip: Option<std::net::IpAddr>,
    pub body: Vec<u8>,
    pub headers: lambda_http::http::HeaderMap,
    /// Time left before Lambda stops this invocation (its deadline), when the runtime gave one.
    pub remaining: Option<std::time::Duration>,
}

pub fn http_parts(req: Request) -> HttpParts {
    let method = req.method().as_str().to_string();
    let path = req.raw_http_path().to_string();
    let source_ip = match req.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => {
            ctx.http.source_ip.as_deref().and_then(|ip| ip.parse().ok())
        }
        _ => None,
    };
    let headers = req.headers().clone();
    let remaining = req.lambda_context_ref().and_then(|c| remaining_until(c.deadline));
    let body = req.into_body().to_vec();
    HttpParts { method, path, source_ip, body, headers, remaining }
}

impl HttpParts {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
}

/// Serves an agent-facing route: each request is authenticated as its router (`api::authenticate`)
/// before `handle` sees it; a refused signature gets the one 401 answer.
pub async fn serve_signed<F, Fut>(cloud: &Cloud, handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(RouterRecord, HttpParts, i64) -> Fut + Sync,
    Fut: std::future::Future<Output = Reply> + Send,
{
    let handle = &handle;
    lambda_http::run(lambda_http::service_fn(move |req: Request| async move {
        let parts = http_parts(req);
        let now = hotspot_core::clock::now_unix();
        let header = |n: &str| parts.header(n);
        let inc = Incoming { method: &parts.method, path: &parts.path, header: &header, body: &parts.body };
        let reply = match authenticate(&cloud.store, &inc, now).await {
            Ok(router) => handle(router, parts, now).await,
            Err(e) => e.reply(),
        };
        Ok::<_, lambda_http::Error>(response(reply))
    }))
    .await
}

/// Time until a deadline given in Unix milliseconds; `None` when there is none (0) or it passed.
/// A deadline already past cannot be Lambda's (Lambda would have stopped the invocation), but
/// `cargo lambda watch` sends one: read as "not known", not as "no time left", so a local
/// stack does not refuse every guest.
pub fn remaining_until(deadline_ms: u64) -> Option<std::time::Duration> {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as u64;
    (deadline_ms > now_ms).then(|| std::time::Duration::from_millis(deadline_ms - now_ms))
}

pub fn response(reply: Reply) -> Response<Body> {
    let mut resp = Response::new(Body::Text(reply.body.to_string()));
    *resp.status_mut() = lambda_http::http::StatusCode::from_u16(reply.status)
        .unwrap_or(lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert("content-type", lambda_http::http::HeaderValue::from_static("application/json"));
    resp
}

/// Stops a function at cold start with a message naming the bad setting.
pub fn fatal(e: impl std::fmt::Display) -> ! {
    tracing::error!(error = %e, "configuration error; the function cannot start");
    eprintln!("configuration error: {e}");
    std::process::exit(2)
}
