//! Operators on the dashboard (admins): who may sign in and as what; invite someone (the page
//! shows their one-time link once), change a role, remove, or issue a new link for a lost one.
//! The rules are `hotspot_cloud::roster`'s, the same as `hotspotctl operator`'s; each change is
//! audited. An admin does not change or remove themselves here (another admin does), so nobody
//! locks themselves out by a slip of the thumb.
//!
//!   GET  /admin/operators     the list and the invite form
//!   POST /admin/operators     do = invite (login, role, router) | role (arn, role, router)
//!                             | remove (arn) | link (arn)

use std::collections::BTreeMap;
use std::fmt::Write;

use hotspot_cloud::access::Action;
use hotspot_cloud::roster::{self, Enrolment, RosterError};
use hotspot_cloud::store::dashboard::{dashboard_arn, dashboard_login};
use hotspot_cloud::store::{AuditResult, LoginName, OperatorRecord, OperatorRole, RouterRecord, StoreError};
use hotspot_core::escape::Html;

use super::html::{self, Chrome, note_html, when};
use super::{Admin, OFFSET_SECS, Page, Req, Who, allowed, form, not_found};

/// What the page says after a change: the message, whether it is a refusal, and an invite link
/// to hand over (shown once, never logged or audited).
struct Outcome {
    note: String,
    error: bool,
    link: Option<String>,
}

impl Outcome {
    fn refused(why: impl Into<String>) -> Outcome {
        Outcome { note: why.into(), error: true, link: None }
    }
}

impl Admin<'_> {
    pub(super) async fn operators(
        &self,
        req: &Req<'_>,
        chrome: &Chrome<'_>,
        who: &Who,
        now: i64,
    ) -> Result<Page, StoreError> {
        if allowed(who, Action::OperatorList, None).is_none() {
            return Ok(not_found());
        }
        let out = match req.method {
            "POST" => Some(self.change_operators(req, who, now).await?),
            _ => None,
        };
        let ops = self.store.list_operators().await?;
        let routers: Vec<RouterRecord> = self.store.list_fleet().await?.into_iter().map(|f| f.router).collect();
        let status = if out.as_ref().is_some_and(|o| o.error) { 409 } else { 200 };
        Ok(Page::html(status, operators_page(chrome, who, &ops, &routers, out.as_ref())))
    }

    async fn change_operators(&self, req: &Req<'_>, who: &Who, now: i64) -> Result<Outcome, StoreError> {
        let f = form(req.body);
        let get = |k: &str| f.get(k).map_or("", |v| v.trim());
        let role = || {
            roster::requested_role(get("role"), Some(get("router")))
                .map_err(|why| Outcome::refused(format!("{why}; nothing was changed.")))
        };
        // What is asked, of whom (the ARN the audit names), and what it came to: the page's
        // message and, for an invite, the link to hand over.
        let (action, target, result) = match get("do") {
            "invite" => {
                let Ok(login) = get("login").parse::<LoginName>() else {
                    return Ok(Outcome::refused(
                        "A login is 3-64 characters of a-z, 0-9, '.', '_', '-' and '@'; nothing was changed.",
                    ));
                };
                let access = match role() {
                    Ok(a) => a,
                    Err(o) => return Ok(o),
                };
                let e = Enrolment { arn: None, access, login: Some(&login), by: &who.op.arn };
                let out = roster::enrol(self.store, &e, now).await.map(|done| {
                    let note = format!(
                        "{login} invited as {}: send them the link below (one use, valid 7 days).",
                        done.record.access
                    );
                    (note, done.invite.map(|t| invite_link(req, &t)))
                });
                (Action::OperatorAdd, dashboard_arn(&login), out)
            }
            _ if get("arn") == who.op.arn => {
                return Ok(Outcome::refused("You cannot change or remove yourself here: ask another admin."));
            }
            "role" => {
                let to = match role() {
                    Ok(a) => a,
                    Err(o) => return Ok(o),
                };
                let arn = get("arn");
                let out = roster::change_role(self.store, arn, &to).await;
                let out = out.map(|was| (format!("{} was {}, is now {to}.", label(arn), was.access), None));
                (Action::OperatorRole, arn.to_string(), out)
            }
            "remove" => {
                let arn = get("arn");
                let out = roster::dismiss(self.store, arn).await;
                let out =
                    out.map(|was| (format!("{} ({}) removed; their sign-ins end now.", label(arn), was.access), None));
                (Action::OperatorRemove, arn.to_string(), out)
            }
            "link" => {
                let out = roster::reinvite(self.store, get("arn"), now).await.map(|(login, t)| {
                    (format!("A new link for {login} (one use, valid 7 days):"), Some(invite_link(req, &t)))
                });
                (Action::OperatorAdd, get("arn").to_string(), out)
            }
            _ => return Ok(Outcome::refused("That is not a change this page makes; nothing was changed.")),
        };
        let (outcome, result) = match result {
            Ok((note, link)) => (Outcome { note, error: false, link }, AuditResult::Ok),
            Err(e @ RosterError::Refused(_)) => (Outcome::refused(format!("{e}.")), AuditResult::Refused),
            Err(RosterError::Store(e)) => return Err(e),
        };
        let mut args = BTreeMap::from([("arn".to_string(), target)]);
        if matches!(get("do"), "invite" | "role") {
            args.insert("role".to_string(), get("role").to_string());
        }
        self.audit_action(who, action, args, result, &outcome.note, now).await?;
        Ok(outcome)
    }
}

/// How an operator is named on the page: their login, or their ARN.
fn label(arn: &str) -> String {
    dashboard_login(arn).map_or_else(|| arn.to_string(), |l| l.to_string())
}

/// The invite link on this dashboard's own address (API Gateway says the scheme it was reached by).
fn invite_link(req: &Req<'_>, token: &str) -> String {
    match req.host {
        Some(h) => format!("{}://{h}/admin/invite?t={token}", req.proto.unwrap_or("https")),
        None => format!("/admin/invite?t={token}"),
    }
}

fn role_select(id: &str, current: Option<OperatorRole>) -> String {
    let mut s = format!("<select id=\"{id}\" name=\"role\">");
    for r in [OperatorRole::Staff, OperatorRole::Manager, OperatorRole::Admin] {
        let sel = if Some(r) == current { " selected" } else { "" };
        let _ = write!(s, "<option value=\"{0}\"{sel}>{0}</option>", r.as_str());
    }
    s.push_str("</select>");
    s
}

/// A staff member's router, typed or picked from the page's one list of routers (a datalist:
/// native in the browser, no script, and one copy however many operators are shown).
fn router_input(id: &str, current: Option<&hotspot_core::RouterId>) -> String {
    format!(
        "<input id=\"{id}\" name=\"router\" list=\"routers\" value=\"{}\" placeholder=\"staff only\" maxlength=\"64\" autocomplete=\"off\">",
        Html(current.map_or("", |r| r.as_str()))
    )
}

fn routers_list(routers: &[RouterRecord]) -> String {
    let mut s = String::from("<datalist id=\"routers\">");
    for r in routers {
        let _ = write!(s, "<option value=\"{}\">{}</option>", Html(r.id.as_str()), Html(&r.name));
    }
    s.push_str("</datalist>");
    s
}

fn operators_page(
    chrome: &Chrome<'_>,
    who: &Who,
    ops: &[OperatorRecord],
    routers: &[RouterRecord],
    out: Option<&Outcome>,
) -> String {
    let csrf = Html(chrome.csrf);
    let mut b = out.map(|o| note_html(&o.note, o.error)).unwrap_or_default();
    if let Some(link) = out.and_then(|o| o.link.as_deref()) {
        let _ = write!(
            b,
            "<p class=\"msg\"><input readonly aria-label=\"Invite link\" value=\"{}\" style=\"width:100%;box-sizing:border-box\"></p>",
            Html(link)
        );
    }
    // One card per operator, not a table row: the change form stays readable on a 360 px phone.
    let _ = write!(b, "<p>{} operator(s).</p>", ops.len());
    for (i, o) in ops.iter().enumerate() {
        let arn = Html(&o.arn);
        let _ = write!(
            b,
            "<div class=\"msg\"><strong>{}</strong>{} · {}<br><small>added {} by {}</small>",
            Html(&label(&o.arn)),
            if dashboard_login(&o.arn).is_none() { "" } else { " <small>dashboard</small>" },
            Html(&o.access.to_string()),
            Html(&when(o.added_at, OFFSET_SECS)),
            Html(&label(&o.added_by)),
        );
        if o.arn == who.op.arn {
            b.push_str(" <small>(you)</small></div>");
            continue;
        }
        let _ = write!(
            b,
            "<form method=\"post\" action=\"/admin/operators\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"arn\" value=\"{arn}\"><label for=\"role-{i}\">Role</label>{}\
             <label for=\"router-{i}\">Router</label>{}<br><button class=\"act\" name=\"do\" value=\"role\">Change role</button>\
             <button class=\"act warn\" name=\"do\" value=\"remove\">Remove</button>{}</form></div>",
            role_select(&format!("role-{i}"), Some(o.access.role())),
            router_input(&format!("router-{i}"), o.access.router()),
            if dashboard_login(&o.arn).is_some() {
                "<button class=\"act\" name=\"do\" value=\"link\">New sign-in link</button>"
            } else {
                ""
            },
        );
    }
    let _ = write!(
        b,
        "<h2>Invite</h2><form method=\"post\" action=\"/admin/operators\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"new-login\">Login (their e-mail address, say)</label><input id=\"new-login\" name=\"login\" required maxlength=\"64\" autocomplete=\"off\">\
         <label for=\"new-role\">Role</label>{}<label for=\"new-router\">Router id (staff work at one)</label>{}\
         <p><button class=\"act\" name=\"do\" value=\"invite\">Invite</button></p></form>",
        role_select("new-role", Some(OperatorRole::Staff)),
        router_input("new-router", None),
    );
    b.push_str(&routers_list(routers));
    html::layout("Operators", Some(chrome), &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_name_the_dashboard_they_were_made_on() {
        let req = |host, proto| Req {
            method: "POST",
            path: "/admin/operators",
            query: "",
            cookie: None,
            origin: None,
            host,
            proto,
            body: b"",
            source_ip: None,
        };
        assert_eq!(invite_link(&req(Some("api.example.com"), None), "t1"), "https://api.example.com/admin/invite?t=t1");
        assert_eq!(
            invite_link(&req(Some("127.0.0.1:9000"), Some("http")), "t1"),
            "http://127.0.0.1:9000/admin/invite?t=t1"
        );
        assert_eq!(invite_link(&req(None, None), "t1"), "/admin/invite?t=t1");
        assert_eq!(label("dashboard:amina"), "amina");
        assert_eq!(label("arn:aws:iam::123456789012:user/x"), "arn:aws:iam::123456789012:user/x");
    }

    #[test]
    fn selects_keep_the_current_choice() {
        assert!(role_select("r", Some(OperatorRole::Manager)).contains("<option value=\"manager\" selected>"));
        let s = router_input("x", Some(&"cafe-a".parse().unwrap()));
        assert!(s.contains("value=\"cafe-a\"") && s.contains("list=\"routers\""));
    }
}
