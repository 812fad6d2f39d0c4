//! `POST /radius/authorize` and `POST /radius/accounting`: FreeRADIUS asking for a router in
//! RADIUS mode (HTTP Basic with the RADIUS service's secret, not a router's signature).

use lambda_http::{Error, Request};
use lambdas::api::Incoming;
use lambdas::radius::{RadiusSecret, radius};
use lambdas::runtime::{Cloud, fatal, http_parts, init_logging, response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let secret = cloud.settings.required("RADIUS_API_SECRET").await.unwrap_or_else(|e| fatal(e));
    let secret = RadiusSecret::new(secret).unwrap_or_else(|| fatal("RADIUS_API_SECRET must be at least 24 characters"));
    let (store, secret) = (&cloud.store, &secret);
    lambda_http::run(lambda_http::service_fn(move |req: Request| async move {
        let parts = http_parts(req);
        let header = |n: &str| parts.header(n);
        let inc = Incoming { method: &parts.method, path: &parts.path, header: &header, body: &parts.body };
        let reply = radius(store, secret, &inc, hotspot_core::clock::now_unix()).await;
        Ok::<_, Error>(response(reply))
    }))
    .await
}
