//! A subscriber's own page (`/account`, served by the cloud): sign in with the account number and
//! password, see the account and until when it runs, renew it by an M-Pesa prompt on the phone,
//! and wait for the payment (the waiting page refreshes itself: no script needed).

use std::fmt::Write;

use super::escape as esc;
use super::i18n::Lang;
use super::pages::{Chrome, error_box, layout};

struct Words {
    signin_title: &'static str,
    number: &'static str,
    password: &'static str,
    signin: &'static str,
    hello: &'static str,
    account: &'static str,
    plan: &'static str,
    runs_to: &'static str,
    ended: &'static str,
    renew: &'static str,
    how_long: &'static str,
    phone: &'static str,
    pay: &'static str,
    paybill: &'static str,
    scan: &'static str,
    download: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::En => Words {
            signin_title: "Your internet account",
            number: "Account number",
            password: "Password",
            signin: "Sign in",
            hello: "Hello",
            account: "Account",
            plan: "Plan",
            runs_to: "Paid to",
            ended: "Ended",
            renew: "Renew",
            how_long: "How long",
            phone: "M-Pesa number to pay from",
            pay: "Pay with M-Pesa",
            paybill: "Or pay by M-Pesa Paybill with your account number as the account.",
            scan: "Scan this in the WireGuard app (Add tunnel, Scan from QR code), or download the config.",
            download: "Download config",
        },
        Lang::Sw => Words {
            signin_title: "Akaunti yako ya intaneti",
            number: "Nambari ya akaunti",
            password: "Nenosiri",
            signin: "Ingia",
            hello: "Habari",
            account: "Akaunti",
            plan: "Kifurushi",
            runs_to: "Imelipiwa hadi",
            ended: "Imeisha",
            renew: "Ongeza muda",
            how_long: "Muda gani",
            phone: "Nambari ya M-Pesa ya kulipa",
            pay: "Lipa kwa M-Pesa",
            paybill: "Au lipa kwa M-Pesa Paybill, na nambari yako ya akaunti kama akaunti.",
            scan: "Changanua hii kwenye programu ya WireGuard, au pakua faili ya mipangilio.",
            download: "Pakua mipangilio",
        },
    }
}

/// The sign-in form; `number` as typed before, `error` why it was refused.
pub fn signin(c: &Chrome<'_>, number: &str, error: Option<&str>) -> String {
    let w = words(c.lang);
    let body = format!(
        "<div class=\"card\">{err}<form method=\"post\" action=\"{base}\">\
<input type=\"hidden\" name=\"lang\" value=\"{lang}\">\
<label for=\"n\">{number}</label><input type=\"text\" id=\"n\" name=\"n\" inputmode=\"numeric\" autocomplete=\"username\" maxlength=\"12\" value=\"{n}\" required>\
<label for=\"p\">{password}</label><input type=\"password\" id=\"p\" name=\"p\" autocomplete=\"current-password\" maxlength=\"64\" required>\
<button type=\"submit\">{signin}</button></form></div>",
        err = error_box(error),
        base = esc::Html(c.base),
        lang = c.lang.code(),
        number = w.number,
        password = w.password,
        n = esc::Html(number),
        signin = w.signin,
    );
    layout(c, w.signin_title, "", &body)
}

pub struct AccountView<'a> {
    pub name: Option<&'a str>,
    pub number: &'a str,
    /// The plan as the subscriber knows it ("Home 10M, KES 1,500 a month").
    pub plan: &'a str,
    /// Until when it is paid, in the router's time zone ("12 Jan 2027 14:00 EAT").
    pub runs_to: &'a str,
    pub running: bool,
    /// The renewal choices: how many periods, and its label with the price.
    pub choices: &'a [(u32, String)],
    pub phone: &'a str,
    /// Binds the renew form to this signed-in page (`csrf::CsrfKey`, bound to the account).
    pub token: &'a str,
    pub error: Option<&'a str>,
    pub wireguard: Option<WireguardView<'a>>,
}

/// A WireGuard account's config on the page.
pub enum WireguardView<'a> {
    /// The QR code (an `<svg>` element we rendered from the config) and the download form.
    Ready { qr_svg: &'a str },
    /// Not yet, or not here: what to do instead.
    Later(&'a str),
}

/// The account and the renew form.
pub fn account(c: &Chrome<'_>, v: &AccountView<'_>) -> String {
    let w = words(c.lang);
    let mut b = String::with_capacity(2048);
    let title = match v.name {
        Some(n) => format!("{} {n}", w.hello),
        None => w.signin_title.to_string(),
    };
    let state = if v.running { w.runs_to } else { w.ended };
    let _ = write!(
        b,
        "<div class=\"card\"><p>{account}: <b>{number}</b><br>{plan}: {plan_v}<br>{state}: <b>{runs_to}</b></p></div>",
        account = w.account,
        number = esc::Html(v.number),
        plan = w.plan,
        plan_v = esc::Html(v.plan),
        runs_to = esc::Html(v.runs_to),
    );
    if let Some(wg) = &v.wireguard {
        b.push_str("<div class=\"card\"><h2>WireGuard</h2>");
        match wg {
            WireguardView::Ready { qr_svg } => {
                let _ = write!(
                    b,
                    "<p class=\"note\">{scan}</p><div class=\"c\">{qr_svg}</div>\
<form method=\"post\" action=\"{base}/config\"><input type=\"hidden\" name=\"lang\" value=\"{lang}\">\
<input type=\"hidden\" name=\"n\" value=\"{number}\"><input type=\"hidden\" name=\"t\" value=\"{token}\">\
<button type=\"submit\" class=\"alt\">{download}</button></form>",
                    scan = w.scan,
                    base = esc::Html(c.base),
                    lang = c.lang.code(),
                    number = esc::Html(v.number),
                    token = esc::Html(v.token),
                    download = w.download,
                );
            }
            WireguardView::Later(why) => {
                let _ = write!(b, "<p>{}</p>", esc::Html(why));
            }
        }
        b.push_str("</div>");
    }
    let _ = write!(
        b,
        "<div class=\"card\"><h2>{renew}</h2>{err}<form method=\"post\" action=\"{base}/renew\">\
<input type=\"hidden\" name=\"lang\" value=\"{lang}\"><input type=\"hidden\" name=\"n\" value=\"{number}\">\
<input type=\"hidden\" name=\"t\" value=\"{token}\"><label>{how_long}</label>",
        renew = w.renew,
        err = error_box(v.error),
        base = esc::Html(c.base),
        lang = c.lang.code(),
        number = esc::Html(v.number),
        token = esc::Html(v.token),
        how_long = w.how_long,
    );
    for (i, (periods, label)) in v.choices.iter().enumerate() {
        let checked = if i == 0 { " checked" } else { "" };
        let _ = write!(
            b,
            "<label class=\"pk\"><input type=\"radio\" name=\"periods\" value=\"{periods}\"{checked}><span>{}</span></label>",
            esc::Html(label)
        );
    }
    let _ = write!(
        b,
        "<label for=\"ph\">{phone}</label><input type=\"tel\" id=\"ph\" name=\"phone\" autocomplete=\"tel\" maxlength=\"20\" value=\"{ph}\" required>\
<button type=\"submit\">{pay}</button></form><p class=\"note\">{paybill}</p></div>",
        phone = w.phone,
        ph = esc::Html(v.phone),
        pay = w.pay,
        paybill = w.paybill,
    );
    layout(c, &title, "", &b)
}

/// The page while the payment is decided: refreshes itself every 3 s while `waiting`.
pub fn renewal(c: &Chrome<'_>, title: &str, body: &str, waiting: bool, back: (&str, &str)) -> String {
    let head = if waiting { "<meta http-equiv=\"refresh\" content=\"3\">" } else { "" };
    let spin = if waiting { "<div class=\"spin\" id=\"spin\"></div>" } else { "" };
    let b = format!(
        "<div class=\"card\">{spin}<p id=\"m\">{}</p><a class=\"btn alt\" href=\"{}\">{}</a></div>",
        esc::Html(body),
        esc::Html(back.0),
        esc::Html(back.1)
    );
    layout(c, title, head, &b)
}
