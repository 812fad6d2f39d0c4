//! `POST /purchases`: a router's agent asks for a payment prompt (signed by the router).

use lambda_http::Error;
use lambdas::purchase::{PurchaseCtx, purchase_within};
use lambdas::runtime::{Cloud, fatal, init_logging, serve_signed};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let (wallets, notices) = cloud.providers().await.unwrap_or_else(|e| fatal(e));
    let sms = cloud.sms().await.unwrap_or_else(|e| fatal(e));
    let (callback_url, _) = lambdas::config::callback_url(&cloud.settings).await.unwrap_or_else(|e| fatal(e));
    let ctx =
        PurchaseCtx { settle: cloud.settle(sms.as_ref(), &notices), wallets: &wallets, callback_url: &callback_url };
    let ctx = &ctx;
    serve_signed(&cloud, |router, req, now| async move {
        purchase_within(ctx, &router, &req.body, req.remaining, now).await
    })
    .await
}
