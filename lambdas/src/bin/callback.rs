//! `POST /cb/{secret}`, `POST /cb/airtel/{secret}`, `POST /cb/mtn/{secret}`, `PUT /cb/mtn/{secret}`
//! (public routes): the callbacks of M-Pesa, Airtel Money and MTN MoMo (which sends either method).

use lambda_http::{Error, Request, service_fn};
use lambdas::callback::{CallbackCtx, CallbackReply, handle};
use lambdas::providers::callback_route;
use lambdas::runtime::{Cloud, fatal, http_parts, init_logging, response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let sms = cloud.sms().await.unwrap_or_else(|e| fatal(e));
    let notices = cloud.notices().await.unwrap_or_else(|e| fatal(e));
    let (_, secret) = lambdas::config::callback_url(&cloud.settings).await.unwrap_or_else(|e| fatal(e));
    let settle = cloud.settle(sms.as_ref(), &notices);
    let secret = secret.as_str();
    lambda_http::run(service_fn(move |req: Request| async move {
        let parts = http_parts(req);
        let ctx = CallbackCtx { settle, secret };
        let reply = match callback_route(&parts.path) {
            Some((wallet, path_secret)) => {
                handle(&ctx, wallet, path_secret, parts.source_ip, &parts.body, hotspot_core::clock::now_unix()).await
            }
            None => CallbackReply::NotFound,
        };
        Ok::<_, Error>(response(reply.reply()))
    }))
    .await
}
