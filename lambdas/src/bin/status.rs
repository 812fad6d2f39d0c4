//! `GET /purchases/{id}` and `GET /packages` for a router's agent (signed by the router).

use lambda_http::{Error, Request, service_fn};
use lambdas::api::{Incoming, authenticate, not_found};
use lambdas::purchase::{packages, status};
use lambdas::runtime::{Cloud, fatal, http_parts, init_logging, response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let cloud = &cloud;
    lambda_http::run(service_fn(move |req: Request| async move {
        let parts = http_parts(req);
        let now = hotspot_core::clock::now_unix();
        let header = |n: &str| parts.header(n);
        let inc = Incoming { method: &parts.method, path: &parts.path, header: &header, body: &parts.body };
        let reply = match authenticate(&cloud.store, &inc, now).await {
            Ok(router) => match parts.path.as_str() {
                "/packages" => packages(&cloud.store, &router).await,
                p => match p.strip_prefix("/purchases/") {
                    Some(id) => status(&cloud.store, &router, id).await,
                    None => not_found("route"),
                },
            },
            Err(e) => e.reply(),
        };
        Ok::<_, Error>(response(reply))
    }))
    .await
}
