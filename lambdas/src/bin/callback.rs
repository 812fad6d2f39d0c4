//! `POST /cb/{secret}`, `POST /cb/airtel/{secret}`, `POST /cb/mtn/{secret}`, `PUT /cb/mtn/{secret}`
//! (public routes): the callbacks of M-Pesa, Airtel Money and MTN MoMo (which sends either method);
//! `POST /cb/c2b/{secret}/validation` and `POST /cb/c2b/{secret}/confirmation`: M-Pesa's Paybill
//! requests for subscriber accounts.

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
        let now = hotspot_core::clock::now_unix();
        if let Some((kind, path_secret)) = lambdas::c2b::c2b_route(&parts.path) {
            let c2b = lambdas::c2b::C2bCtx { store: settle.store, sqs: settle.sqs, secret };
            let reply = lambdas::c2b::handle_c2b(&c2b, kind, path_secret, &parts.body, now).await;
            return Ok::<_, Error>(response(reply));
        }
        let ctx = CallbackCtx { settle, secret };
        let reply = match callback_route(&parts.path) {
            Some((wallet, path_secret)) => handle(&ctx, wallet, path_secret, parts.source_ip, &parts.body, now).await,
            None => CallbackReply::NotFound,
        };
        Ok::<_, Error>(response(reply.reply()))
    }))
    .await
}
