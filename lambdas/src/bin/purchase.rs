//! `POST /purchases`: a router's agent asks for an M-Pesa prompt (signed by the router).

use lambda_http::{Error, Request, service_fn};
use lambdas::api::{Incoming, authenticate};
use lambdas::purchase::{PurchaseCtx, purchase};
use lambdas::runtime::{Cloud, fatal, http_parts, init_logging, response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let daraja = cloud.daraja().await.unwrap_or_else(|e| fatal(e));
    let sms = cloud.sms().await.unwrap_or_else(|e| fatal(e));
    let (callback_url, _) = lambdas::config::callback_url(&cloud.settings).await.unwrap_or_else(|e| fatal(e));
    let (cloud, daraja, callback_url, sms) = (&cloud, &daraja, callback_url.as_str(), sms.as_ref());
    lambda_http::run(service_fn(move |req: Request| async move {
        let parts = http_parts(req);
        let now = hotspot_core::clock::now_unix();
        let header = |n: &str| parts.header(n);
        let inc = Incoming { method: &parts.method, path: &parts.path, header: &header, body: &parts.body };
        let reply = match authenticate(&cloud.store, &inc, now).await {
            Ok(router) => {
                let ctx = PurchaseCtx { store: &cloud.store, daraja, callback_url, sqs: &cloud.sqs, sms };
                purchase(&ctx, &router, &parts.body, now).await
            }
            Err(e) => e.reply(),
        };
        Ok::<_, Error>(response(reply))
    }))
    .await
}
