//! `ANY /admin` and `ANY /admin/{proxy+}`: the operators' dashboard, HTML pages rendered here on
//! the store and roles `hotspotctl` uses (`lambdas::admin`).

use lambda_http::{Body, Error, Request, Response};
use lambdas::admin::{Admin, Req};
use lambdas::runtime::{Cloud, fatal, http_parts, init_logging};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let cloud = Cloud::from_env().await.unwrap_or_else(|e| fatal(e));
    let admin = &Admin { store: &cloud.store, sqs: &cloud.sqs };
    lambda_http::run(lambda_http::service_fn(move |req: Request| async move {
        // (Not `Uri::query`: lambdas/tests/iam.rs reads `.query()` as a DynamoDB Query.)
        let query = req.uri().path_and_query().and_then(|pq| pq.as_str().split_once('?')).map_or("", |(_, q)| q);
        let query = query.to_string();
        let parts = http_parts(req);
        let (cookie, origin, host) = (parts.header("cookie"), parts.header("origin"), parts.header("host"));
        let proto = parts.header("x-forwarded-proto").filter(|p| p == "http" || p == "https");
        let r = Req {
            method: &parts.method,
            path: &parts.path,
            query: &query,
            cookie: cookie.as_deref(),
            origin: origin.as_deref(),
            host: host.as_deref(),
            proto: proto.as_deref(),
            body: &parts.body,
            source_ip: parts.source_ip,
        };
        let page = admin.handle(&r, hotspot_core::clock::now_unix()).await;
        let mut resp = Response::builder().status(page.status);
        for (k, v) in page.headers() {
            resp = resp.header(k, v);
        }
        for c in &page.cookies {
            resp = resp.header("set-cookie", c);
        }
        let body = match page.download {
            Some(d) => Body::Binary(d.bytes),
            None => Body::Text(page.body),
        };
        Ok::<_, Error>(resp.body(body)?)
    }))
    .await
}
