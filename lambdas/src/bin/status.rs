//! `GET /purchases/{id}`, `GET /packages` and `GET /grants` for a router's agent (signed by the
//! router). A pending purchase read while its guest waits may be asked about at its wallet (lost
//! callbacks); what the wallet says is settled here (receipt, paid, session, grant job, SMS).

use lambda_http::Error;
use lambdas::api::not_found;
use lambdas::purchase::{PurchaseCtx, owed, packages, status_asking};
use lambdas::runtime::{Cloud, fatal, init_logging, serve_signed};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let (wallets, notices) = cloud.providers().await.unwrap_or_else(|e| fatal(e));
    let sms = cloud.sms().await.unwrap_or_else(|e| fatal(e));
    let ctx = PurchaseCtx { settle: cloud.settle(sms.as_ref(), &notices), wallets: &wallets, callback_url: "" };
    let ctx = &ctx;
    serve_signed(&cloud, |router, req, now| async move {
        match req.path.as_str() {
            "/packages" => packages(ctx.settle.store, &router).await,
            "/grants" => owed(ctx.settle.store, &router, now).await,
            p => match p.strip_prefix("/purchases/") {
                Some(id) => status_asking(ctx, &router, id, now).await,
                None => not_found("route"),
            },
        }
    })
    .await
}
