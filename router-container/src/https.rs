//! The agent's outbound HTTP(S): one rustls setup (ring, trust roots compiled in from
//! `webpki-roots`) shared by the cloud API client and the SQS client.
//!
//! The container image is `FROM scratch`: there is no system certificate store, so nothing here
//! may look for one. The AWS SDK is built without its default HTTPS client (which would bring
//! aws-lc and `rustls-native-certs`); [`sdk_http_client`] is plugged in instead.

use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::TokioExecutor;

/// How long a TCP connect may take before the attempt fails.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// rustls with the ring provider and the Mozilla roots compiled into the binary.
pub use hotspot_core::tls::webpki_client_config as tls_config;

/// A pooled HTTP/1.1 client for `http://` and `https://` URLs with body type `B`.
pub fn client<B>(pool_max_idle_per_host: usize) -> Result<Client<HttpsConnector<TcpConnector>, B>, rustls::Error>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
{
    let mut tcp = TcpConnector::new();
    tcp.enforce_http(false);
    tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
    tcp.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config()?)
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(pool_max_idle_per_host)
        .pool_idle_timeout(Duration::from_secs(60))
        .build(https))
}

/// The HTTP client for the AWS SDK (SQS): the shared rustls setup above, no system store.
pub fn sdk_http_client() -> Result<SharedHttpClient, rustls::Error> {
    Ok(SharedHttpClient::new(SdkClient { client: client(2)? }))
}

/// An SQS client for `sdk`'s region, credentials and endpoint, over [`sdk_http_client`]
/// whatever HTTP client `sdk` came with.
pub fn sqs_client(sdk: &aws_config::SdkConfig) -> Result<aws_sdk_sqs::Client, rustls::Error> {
    let conf = aws_sdk_sqs::config::Builder::from(sdk).http_client(sdk_http_client()?).build();
    Ok(aws_sdk_sqs::Client::from_conf(conf))
}

#[derive(Clone)]
struct SdkClient {
    client: Client<HttpsConnector<TcpConnector>, SdkBody>,
}

impl std::fmt::Debug for SdkClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SdkClient(hyper-rustls, webpki-roots)")
    }
}

impl HttpClient for SdkClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        // The pool lives in `client`; a connector is a cheap handle plus this call's read timeout.
        SharedHttpConnector::new(SdkConnector { client: self.client.clone(), read_timeout: settings.read_timeout() })
    }
}

#[derive(Clone)]
struct SdkConnector {
    client: Client<HttpsConnector<TcpConnector>, SdkBody>,
    read_timeout: Option<Duration>,
}

impl std::fmt::Debug for SdkConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdkConnector").field("read_timeout", &self.read_timeout).finish_non_exhaustive()
    }
}

impl HttpConnector for SdkConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(r) => r,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        let (client, read_timeout) = (self.client.clone(), self.read_timeout);
        HttpConnectorFuture::new(async move {
            let send = client.request(request);
            let response = match read_timeout {
                Some(t) => tokio::time::timeout(t, send)
                    .await
                    .map_err(|_| ConnectorError::timeout(format!("no response within {t:?}").into()))?,
                None => send.await,
            }
            .map_err(classify)?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// A request the client refused to send is the caller's fault; anything else on the wire
/// (connect, DNS, TLS, reset, truncated reply) is transient and worth the SDK's retry.
fn classify(err: hyper_util::client::legacy::Error) -> ConnectorError {
    let user =
        std::error::Error::source(&err).and_then(|s| s.downcast_ref::<hyper::Error>()).is_some_and(|h| h.is_user());
    if user { ConnectorError::user(err.into()) } else { ConnectorError::io(err.into()) }
}
