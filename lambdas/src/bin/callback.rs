//! `POST /cb/{secret}`: Safaricom's STK callback (public route).

use lambda_http::{Error, Request, service_fn};
use lambdas::callback::{CallbackCtx, handle};
use lambdas::runtime::{Cloud, fatal, http_parts, init_logging, response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let sms = cloud.sms().await.unwrap_or_else(|e| fatal(e));
    let (_, secret) = lambdas::config::callback_url(&cloud.settings).await.unwrap_or_else(|e| fatal(e));
    let settle = cloud.settle(sms.as_ref());
    let secret = secret.as_str();
    lambda_http::run(service_fn(move |req: Request| async move {
        let parts = http_parts(req);
        let path_secret = parts.path.strip_prefix("/cb/").unwrap_or("");
        let ctx = CallbackCtx { settle, secret };
        let reply = handle(&ctx, path_secret, parts.source_ip, &parts.body, hotspot_core::clock::now_unix()).await;
        Ok::<_, Error>(response(reply.reply()))
    }))
    .await
}
