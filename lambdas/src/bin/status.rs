//! `GET /purchases/{id}` and `GET /packages` for a router's agent (signed by the router).

use lambda_http::Error;
use lambdas::api::not_found;
use lambdas::purchase::{packages, status};
use lambdas::runtime::{Cloud, fatal, init_logging, serve_signed};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let store = &cloud.store;
    serve_signed(&cloud, |router, req, _now| async move {
        match req.path.as_str() {
            "/packages" => packages(store, &router).await,
            p => match p.strip_prefix("/purchases/") {
                Some(id) => status(store, &router, id).await,
                None => not_found("route"),
            },
        }
    })
    .await
}
