//! `GET /phone`: a plain-HTML page (no JavaScript) where a person plays the customer's phone.

use std::sync::Arc;

use bytes::Bytes;
use hyper::StatusCode;

use crate::Shared;
use crate::model::Answer;
use crate::util::{Resp, html_escape as esc, redirect, respond};

pub(crate) fn page(shared: &Shared) -> Resp {
    let pushes = shared.lock().pushes.clone();
    let mut pending = String::new();
    for p in pushes.iter().filter(|p| p.result_code.is_none()) {
        let id = esc(&p.checkout_request_id);
        pending.push_str(&format!(
            r#"<li><p><b>{phone}</b>: pay KES {amount} to {shortcode} for {reference} ({desc})?</p>
<form method="post" action="/phone/answer"><input type="hidden" name="id" value="{id}">
<button name="answer" value="pay">Pay</button> <button name="answer" value="cancel">Cancel</button> <button name="answer" value="wrong_pin">Wrong PIN</button></form></li>
"#,
            phone = esc(&p.phone),
            amount = p.amount,
            shortcode = esc(&p.party_b),
            reference = esc(&p.account_reference),
            desc = esc(&p.transaction_desc),
        ));
    }
    if pending.is_empty() {
        pending.push_str("<li>No prompts waiting.</li>");
    }
    let mut done = String::new();
    for p in pushes.iter().rev().filter(|p| p.result_code.is_some()).take(20) {
        done.push_str(&format!(
            "<li>{} KES {} ({}): {} {}</li>\n",
            esc(&p.phone),
            p.amount,
            esc(&p.account_reference),
            esc(p.result_code.as_deref().unwrap_or("")),
            esc(p.result_desc.as_deref().unwrap_or("")),
        ));
    }
    let html = format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta http-equiv="refresh" content="5"><title>M-Pesa phone (simulator)</title></head>
<body><h1>M-Pesa prompts</h1><ul>{pending}</ul><h2>Recent</h2><ul>{done}</ul></body></html>"#
    );
    respond(StatusCode::OK, "text/html; charset=utf-8", html)
}

pub(crate) fn answer_form(shared: &Arc<Shared>, body: &Bytes) -> Resp {
    let mut id = None;
    let mut answer = None;
    for (k, v) in form_urlencoded::parse(body) {
        match &*k {
            "id" => id = Some(v.into_owned()),
            "answer" => {
                answer = match &*v {
                    "pay" => Some(Answer::Pay),
                    "cancel" => Some(Answer::Cancel),
                    "wrong_pin" => Some(Answer::WrongPin),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    match (id, answer) {
        (Some(id), Some(a)) if crate::outcome::answer(shared, &id, a) => redirect("/phone"),
        (Some(_), Some(_)) => respond(
            StatusCode::NOT_FOUND,
            "text/html; charset=utf-8",
            "<p>That prompt is no longer waiting. <a href=\"/phone\">Back</a></p>",
        ),
        _ => {
            respond(StatusCode::BAD_REQUEST, "text/html; charset=utf-8", "<p>Bad form. <a href=\"/phone\">Back</a></p>")
        }
    }
}
