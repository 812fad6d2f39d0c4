//! Server-rendered pages: mobile-first, inline CSS, no external assets. Every dynamic value goes
//! through [`esc::html`]; only markup built here is written unescaped.

use std::fmt::Write;

use hotspot_core::phone::Country;
use hotspot_core::wallet::Wallet;
use hotspot_core::{Package, PurchaseId};

use super::escape as esc;
use super::i18n::{self, Lang, Texts};

const CSS: &str = "*{box-sizing:border-box}\
body{margin:0;font:16px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;background:#f3f5f7;color:#1c2430}\
main{max-width:30rem;margin:0 auto;padding:1rem}\
header{display:flex;justify-content:space-between;align-items:center;gap:.5rem}\
h1{font-size:1.35rem;margin:.4rem 0}h2{font-size:1.1rem;margin:0 0 .6rem}\
.card{background:#fff;border-radius:12px;padding:1rem;margin:.8rem 0;box-shadow:0 1px 3px #0002}\
label{display:block;font-weight:600;margin:.6rem 0 .3rem}\
.pk{display:flex;gap:.7rem;align-items:flex-start;padding:.7rem;border:2px solid #dde3ea;border-radius:10px;\
margin:.5rem 0;font-weight:400;cursor:pointer}\
.pk:has(input:checked){border-color:#1a9e3f;background:#effaf2}\
.pk b{display:block}.pk small{color:#5a6573}\
.price{font-weight:700;color:#1a9e3f;white-space:nowrap;margin-left:auto}\
input[type=tel],input[type=text],input[type=password]{width:100%;font-size:1.1rem;padding:.7rem;border:1px solid #b8c2cc;border-radius:8px}\
button,.btn{display:block;width:100%;margin-top:.8rem;padding:.8rem;font-size:1.05rem;font-weight:700;border:0;\
border-radius:8px;background:#1a9e3f;color:#fff;text-align:center;text-decoration:none}\
.alt{background:#34495e}\
.err{background:#fdecea;color:#8a1c12;border-radius:8px;padding:.7rem;margin:.6rem 0}\
.note{color:#5a6573;font-size:.9rem}.lang{font-size:.9rem;color:#1a5fb4}.c{text-align:center}\
.spin{width:2.5rem;height:2.5rem;border:4px solid #dde3ea;border-top-color:#1a9e3f;border-radius:50%;\
animation:s 1s linear infinite;margin:1rem auto}@keyframes s{to{transform:rotate(360deg)}}\
[hidden]{display:none!important}";

/// Polls the status API and updates the waiting page in place; on success it reloads, so the guest
/// gets the server's full success page (time left, the forward to where they were going). Reads
/// everything it needs from `data-` attributes (already escaped by the server), so no value is
/// interpolated into code.
const WAIT_JS: &str = "(function(){var w=document.getElementById('w');if(!w||!window.XMLHttpRequest)return;\
var id=w.getAttribute('data-id'),lang=w.getAttribute('data-lang'),base=w.getAttribute('data-base')||'';\
function $(i){return document.getElementById(i)}\
function later(ms){setTimeout(poll,ms)}\
function poll(){var x=new XMLHttpRequest();\
x.open('GET',base+'/api/status/'+encodeURIComponent(id)+'?lang='+encodeURIComponent(lang));x.timeout=8000;\
x.onload=function(){var r;try{r=JSON.parse(x.responseText)}catch(e){return later(3000)}\
if(!r||!r.state)return later(3000);\
if(r.title)$('t').textContent=r.title;if(r.message)$('m').textContent=r.message;\
if(r.state==='online'||r.state==='ready'){$('spin').hidden=true;location.reload();return}\
if(r.state==='failed'||r.state==='not_found'||r.state==='not_a_host'){$('spin').hidden=true;$('retry').hidden=false;return}\
later(1500)};x.onerror=x.ontimeout=function(){later(3000)};x.send()}\
later(1500)})();";

/// What every page shares: language, the toggle's target and where the portal's routes are.
pub struct Chrome<'a> {
    pub lang: Lang,
    /// Same page in the other language (a local path; escaped here).
    pub toggle_href: &'a str,
    /// The path the portal's own routes (`/buy`, `/voucher`, `/api/status/`) start with: empty on
    /// the agent, `/portal/<router>` in the cloud.
    pub base: &'a str,
}

pub(crate) fn layout(c: &Chrome<'_>, title: &str, head_extra: &str, body: &str) -> String {
    let mut out = String::with_capacity(4096 + body.len());
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"referrer\" content=\"no-referrer\"><title>{title}</title>{head_extra}<style>{CSS}</style></head>\
<body><main><header><h1 id=\"t\">{title}</h1><a class=\"lang\" href=\"{toggle}\">{other}</a></header>{body}</main></body></html>",
        lang = c.lang.code(),
        title = esc::Html(title),
        toggle = esc::Html(c.toggle_href),
        other = c.lang.other().name(),
    );
    out
}

fn link(href: &str, text: &str, class: &str) -> String {
    format!("<a class=\"btn {class}\" href=\"{}\">{}</a>", esc::Html(href), esc::Html(text))
}

/// A page that only says something, with an optional way on.
pub fn message(c: &Chrome<'_>, title: &str, body: &str, action: Option<(&str, &str)>) -> String {
    let mut b = format!("<div class=\"card\"><p id=\"m\">{}</p>", esc::Html(body));
    if let Some((href, text)) = action {
        b.push_str(&link(href, text, ""));
    }
    b.push_str("</div>");
    layout(c, title, "", &b)
}

pub struct IndexView<'a> {
    /// The hotspot's name from login.html, shown in the greeting.
    pub identity: Option<&'a str>,
    /// The packages as [`package_cards`] renders them; empty when none are on sale.
    pub cards: &'a str,
    pub phone: &'a str,
    pub code: &'a str,
    pub csrf: &'a str,
    pub dst: Option<&'a str>,
    /// More hidden fields both forms carry back (the cloud portal's device and login page, which
    /// only the router knows; the agent asks the router instead and has none).
    pub context: &'a [(&'a str, &'a str)],
    /// A problem that concerns the whole page (e.g. payments unavailable).
    pub banner: Option<&'a str>,
    pub buy_error: Option<&'a str>,
    pub voucher_error: Option<&'a str>,
    /// The wallets the hotspot takes: with more than one, the guest chooses (or lets their
    /// number's network choose).
    pub wallets: &'a [Wallet],
    /// The one chosen before (a form shown again), else `auto`.
    pub wallet: &'a str,
    /// Where the hotspot sells: the number's placeholder is written its local way.
    pub country: Country,
}

/// A local mobile number's shape in `country`, as guests write it.
fn phone_placeholder(country: Country) -> &'static str {
    match country {
        Country::Kenya | Country::Uganda | Country::Tanzania | Country::Rwanda => "07XX XXX XXX",
        Country::Zambia => "09XX XXX XXX",
        Country::Ghana => "0XX XXX XXXX",
    }
}

fn hidden_fields(lang: Lang, csrf: &str, dst: Option<&str>, context: &[(&str, &str)]) -> String {
    let mut s = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">",
        esc::Html(csrf),
        lang.code()
    );
    if let Some(d) = dst {
        let _ = write!(s, "<input type=\"hidden\" name=\"dst\" value=\"{}\">", esc::Html(d));
    }
    for (name, value) in context {
        let _ = write!(s, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", esc::Html(name), esc::Html(value));
    }
    s
}

pub(crate) fn error_box(msg: Option<&str>) -> String {
    msg.map(|m| format!("<p class=\"err\" role=\"alert\">{}</p>", esc::Html(m))).unwrap_or_default()
}

fn package_details(lang: Lang, p: &Package) -> String {
    let t = lang.t();
    let mut d = format!("{} {}", t.valid_for, i18n::duration(lang, p.validity().secs()));
    let _ = write!(d, " \u{b7} {} {}", t.speed, i18n::speed(p.rate_limit().tx.bps()));
    if let Some(cap) = p.data_cap_bytes() {
        let _ = write!(d, " \u{b7} {} {}", t.data, i18n::bytes(cap));
    }
    if p.devices() > 1 {
        let _ = write!(d, " \u{b7} {} {}", p.devices(), t.devices);
    }
    d
}

/// The packages as radio cards; `selected` (or the only one) is checked. The same for every
/// guest until the packages change, so the portal keeps it.
pub fn package_cards(lang: Lang, packages: &[Package], selected: Option<&str>) -> String {
    let mut b = String::with_capacity(packages.len() * 256);
    let only_one = packages.len() == 1;
    for p in packages {
        let id = p.id().as_str();
        let checked = only_one || selected == Some(id);
        let _ = write!(
            b,
            "<label class=\"pk\"><input type=\"radio\" name=\"package\" value=\"{}\"{} required>\
<span><b>{}</b><small>{}</small></span><span class=\"price\">{}</span></label>",
            esc::Html(id),
            if checked { " checked" } else { "" },
            esc::Html(p.name()),
            esc::Html(&package_details(lang, p)),
            esc::Html(&p.price().to_string()),
        );
    }
    b
}

pub fn index(c: &Chrome<'_>, v: &IndexView<'_>) -> String {
    let t = c.lang.t();
    let title = match v.identity {
        Some(name) => format!("{} {name}", t.welcome),
        None => t.choose_package.to_string(),
    };
    let hidden = hidden_fields(c.lang, v.csrf, v.dst, v.context);
    let base = esc::Html(c.base);
    let mut b = error_box(v.banner);
    if v.cards.is_empty() {
        let _ = write!(b, "<div class=\"card\"><p>{}</p></div>", esc::Html(t.no_packages));
    } else {
        let _ = write!(
            b,
            "<form class=\"card\" method=\"post\" action=\"{base}/buy\"><h2>{}</h2>",
            esc::Html(t.choose_package)
        );
        b.push_str(v.cards);
        let several = v.wallets.len() > 1;
        // Words that name M-Pesa only where it is the one wallet.
        let (label, button, hint) = match v.wallets == [Wallet::Mpesa] {
            false => (t.phone_label_any, t.pay_button_any, t.pay_hint_any),
            true => (t.phone_label, t.pay_button, t.pay_hint),
        };
        let _ = write!(
            b,
            "<label for=\"phone\">{}</label>{}<input type=\"tel\" id=\"phone\" name=\"phone\" inputmode=\"tel\" \
autocomplete=\"tel\" placeholder=\"{}\" maxlength=\"20\" required value=\"{}\">{}{hidden}\
<button type=\"submit\">{}</button><p class=\"note\">{}</p></form>",
            esc::Html(label),
            error_box(v.buy_error),
            phone_placeholder(v.country),
            esc::Html(v.phone),
            if several { wallet_choice(t, v.wallets, v.wallet) } else { String::new() },
            esc::Html(button),
            esc::Html(hint),
        );
    }
    let _ = write!(
        b,
        "<form class=\"card\" method=\"post\" action=\"{base}/voucher\"><h2>{}</h2>{}<label for=\"code\">{}</label>\
<input type=\"text\" id=\"code\" name=\"code\" autocapitalize=\"characters\" autocomplete=\"off\" spellcheck=\"false\" \
maxlength=\"24\" required value=\"{}\">{hidden}<button class=\"alt\" type=\"submit\">{}</button></form>",
        esc::Html(t.voucher_heading),
        error_box(v.voucher_error),
        esc::Html(t.voucher_label),
        esc::Html(v.code),
        esc::Html(t.voucher_button),
    );
    layout(c, &title, "", &b)
}

/// The wallets as radio buttons (no script needed), "my number's own" first and chosen unless
/// the guest chose another.
fn wallet_choice(t: &Texts, wallets: &[Wallet], chosen: &str) -> String {
    let chosen = if wallets.iter().any(|w| w.as_str() == chosen) { chosen } else { "auto" };
    let mut s = format!("<fieldset class=\"wallets\"><legend>{}</legend>", esc::Html(t.wallet_legend));
    let options = std::iter::once(("auto", t.wallet_by_number)).chain(wallets.iter().map(|w| (w.as_str(), w.label())));
    for (value, label) in options {
        let checked = if value == chosen { " checked" } else { "" };
        let _ = write!(
            s,
            "<label class=\"wallet\"><input type=\"radio\" name=\"wallet\" value=\"{value}\"{checked}> {}</label>",
            esc::Html(label)
        );
    }
    s.push_str("</fieldset>");
    s
}

/// The "check your phone" page while a purchase is in flight.
pub struct WaitView<'a> {
    pub id: &'a PurchaseId,
    pub dst: Option<&'a str>,
    pub title: &'a str,
    pub body: &'a str,
    /// Where "try again" leads if the payment fails while JavaScript watches.
    pub retry_href: &'a str,
}

pub fn waiting(c: &Chrome<'_>, v: &WaitView<'_>) -> String {
    let t = c.lang.t();
    // Without JavaScript the page reloads itself; with it, the script polls instead of reloading.
    let head = "<noscript><meta http-equiv=\"refresh\" content=\"3\"></noscript>";
    let dst_attr = v.dst.map(|d| format!(" data-dst=\"{}\"", esc::Html(d))).unwrap_or_default();
    let go = match v.dst {
        Some(d) => {
            format!("<a id=\"go\" class=\"btn\" href=\"{}\" hidden>{}</a>", esc::Html(d), esc::Html(t.continue_link))
        }
        None => "<span id=\"go\"></span>".to_string(),
    };
    let b = format!(
        "<div class=\"card c\" id=\"w\" data-id=\"{id}\" data-lang=\"{lang}\" data-base=\"{base}\"{dst_attr}><div class=\"spin\" id=\"spin\"></div>\
<p id=\"m\">{body}</p>{go}<a id=\"retry\" class=\"btn\" href=\"{retry}\" hidden>{again}</a></div><script>{WAIT_JS}</script>",
        id = esc::Html(v.id.as_str()),
        base = esc::Html(c.base),
        lang = c.lang.code(),
        body = esc::Html(v.body),
        retry = esc::Html(v.retry_href),
        again = esc::Html(t.try_again),
    );
    layout(c, v.title, head, &b)
}

/// Online (or ready): forwards to the destination when there is a safe one.
/// The "you are online" page. `share` is the note for a package of several devices (how
/// another device joins): with it, the page stays instead of moving on by itself.
pub fn success(
    c: &Chrome<'_>,
    title: &str,
    body: &str,
    time_left: Option<&str>,
    dst: Option<&str>,
    share: Option<&str>,
) -> String {
    let t = c.lang.t();
    let mut b = format!("<div class=\"card c\"><p id=\"m\">{}</p>", esc::Html(body));
    if let Some(left) = time_left {
        let _ = write!(b, "<p class=\"note\">{}: {}</p>", esc::Html(t.time_left), esc::Html(left));
    }
    if let Some(s) = share {
        let _ = write!(b, "<p class=\"note\" id=\"share\">{}</p>", esc::Html(s));
    }
    let head = match dst {
        Some(d) if share.is_some() => {
            let _ = write!(b, "{}", link(d, t.continue_link, ""));
            String::new()
        }
        Some(d) => {
            let _ = write!(b, "<p class=\"note\">{}</p>{}", esc::Html(t.forwarding), link(d, t.continue_link, ""));
            format!("<meta http-equiv=\"refresh\" content=\"2;url={}\">", esc::Html(d))
        }
        None => String::new(),
    };
    b.push_str("</div>");
    layout(c, title, &head, &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_and_style_have_no_external_references() {
        for s in [CSS, WAIT_JS] {
            assert!(!s.contains("http:") && !s.contains("https:") && !s.contains("url(") && !s.contains("//"), "{s}");
        }
    }

    #[test]
    fn message_escapes() {
        let c = Chrome { lang: Lang::Sw, toggle_href: "/?lang=en&x=\"", base: "" };
        let p = message(&c, "<t>", "<b>", Some(("/\"x", "<a>")));
        assert!(
            p.contains("&lt;t&gt;") && p.contains("&lt;b&gt;") && p.contains("/&quot;x") && p.contains("&lt;a&gt;")
        );
        assert!(p.contains("lang=\"sw\"") && p.contains(">English<") && p.contains("/?lang=en&amp;x=&quot;"));
    }
}
