//! English and Swahili for the portal: choosing the language, and the sentences built from
//! values (durations, speeds, errors). The fixed sentences are in `texts`.

mod texts;

pub use texts::{EN, SW, Texts};

use hotspot_core::VoucherError;
use hotspot_core::phone::PhoneError;
use hotspot_core::wire::PaymentFailure;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Sw,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sw => "sw",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Sw,
            Lang::Sw => Lang::En,
        }
    }

    /// The toggle's label, written in the language it switches to.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Sw => "Kiswahili",
        }
    }

    pub fn from_code(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "sw" => Some(Lang::Sw),
            _ => None,
        }
    }

    /// `?lang=` wins; then the best of `sw`/`en` in Accept-Language; then English.
    pub fn choose(param: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = param.and_then(Lang::from_code) {
            return l;
        }
        let Some(header) = accept_language else {
            return Lang::En;
        };
        let mut best: Option<(u16, Lang)> = None;
        for item in header.split(',').take(32) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let primary = tag.split('-').next().unwrap_or("");
            let Some(lang) = Lang::from_code(primary) else {
                continue;
            };
            let mut q = 1000u16;
            for p in parts {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = parse_q(v).unwrap_or(0);
                }
            }
            if q > 0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::En)
    }

    pub fn t(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Sw => &SW,
        }
    }
}

/// A q-value in thousandths: `1`, `0.8`, `0.125`.
fn parse_q(v: &str) -> Option<u16> {
    let v = v.trim();
    if v.len() > 5 {
        return None;
    }
    let (w, f) = v.split_once('.').unwrap_or((v, ""));
    if !(w == "0" || w == "1") || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut frac = 0u16;
    for (i, b) in f.bytes().chain(std::iter::repeat(b'0')).take(3).enumerate() {
        frac += u16::from(b - b'0') * [100, 10, 1][i];
    }
    Some((if w == "1" { 1000 } else { frac }).min(1000))
}

/// Why a payment failed: naming M-Pesa on a hotspot that takes it alone, naming no wallet on one
/// that takes others (`generic`).
pub fn failure_text(lang: Lang, f: PaymentFailure, generic: bool) -> std::borrow::Cow<'static, str> {
    if generic { payment_failure_any(lang, f).into() } else { payment_failure(lang, f).into() }
}

/// As [`payment_failure`], on a hotspot that takes several wallets: the words name none (the
/// agent does not know which one a failed payment was from).
pub fn payment_failure_any(lang: Lang, f: PaymentFailure) -> String {
    match (lang, f) {
        (Lang::En, PaymentFailure::NotMpesa) => {
            "That number cannot pay with the wallet you chose. Choose another, or use another number.".into()
        }
        (Lang::Sw, PaymentFailure::NotMpesa) => {
            "Nambari hiyo haiwezi kulipa kwa njia uliyochagua. Chagua nyingine, au tumia nambari nyingine.".into()
        }
        (Lang::En, f) => payment_failure(lang, f).replace("M-Pesa", "mobile money"),
        (Lang::Sw, f) => payment_failure(lang, f)
            .replace("la M-Pesa", "la malipo")
            .replace("ya M-Pesa", "ya malipo")
            .replace("M-Pesa", "huduma ya malipo"),
    }
}

/// Why a payment failed, in words a guest can act on.
pub fn payment_failure(lang: Lang, f: PaymentFailure) -> &'static str {
    match lang {
        Lang::En => f.guest_message(),
        Lang::Sw => match f {
            PaymentFailure::Cancelled => "Ulighairi ombi la M-Pesa.",
            PaymentFailure::InsufficientFunds => "Salio lako la M-Pesa halikutosha.",
            PaymentFailure::PhoneUnreachable => "Hatukuweza kufikia simu yako. Hakikisha imewashwa na ina mtandao.",
            PaymentFailure::WrongPin => "PIN ya M-Pesa uliyoweka si sahihi.",
            PaymentFailure::Expired => "Muda wa ombi la M-Pesa uliisha kabla hujajibu.",
            PaymentFailure::PromptFailed => "Ombi la M-Pesa halikuweza kuonyeshwa kwenye simu yako.",
            PaymentFailure::TooSoon => {
                "Malipo ya kiasi hicho hicho yamefanywa sasa hivi. Subiri dakika 2 kisha ujaribu tena."
            }
            PaymentFailure::SubscriberBusy => {
                "Simu yako ina ombi jingine la M-Pesa au kikao cha USSD kilicho wazi. Kifunge, kisha ujaribu tena."
            }
            PaymentFailure::NotMpesa => {
                "Nambari hiyo haiwezi kulipa kwa M-Pesa hapa. Tumia nambari ya Safaricom M-Pesa."
            }
            PaymentFailure::SystemBusy => "M-Pesa ina shughuli nyingi sasa hivi. Jaribu tena baada ya dakika moja.",
            PaymentFailure::AmountMismatch => "Kiasi kilicholipwa hakilingani na kifurushi. Omba msaada kwa mhudumu.",
            PaymentFailure::Unknown => "Hatukuweza kuthibitisha malipo. Omba msaada kwa mhudumu.",
            PaymentFailure::Other => "Malipo hayakufanikiwa.",
        },
    }
}

fn sentence(s: String) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => s,
    }
}

/// How another device joins a package of several: the code to type on it.
pub fn share_code(lang: Lang, code: &str, devices: u8) -> String {
    match lang {
        Lang::En => format!(
            "This package is for {devices} devices. On another phone or laptop, join the WiFi, open any website \
             and enter the code {code} in the voucher box."
        ),
        Lang::Sw => format!(
            "Kifurushi hiki ni cha vifaa {devices}. Kwenye simu au kompyuta nyingine, jiunge na WiFi, fungua tovuti \
             yoyote na uweke nambari {code} kwenye kisanduku cha vocha."
        ),
    }
}

/// A package of several devices whose every place is taken by a device online now.
pub fn devices_full(lang: Lang, devices: u8) -> String {
    match lang {
        Lang::En => format!(
            "All {devices} devices of this package are online now. Log one of them out (its status page), \
             then try again here, or buy another package."
        ),
        Lang::Sw => format!(
            "Vifaa vyote {devices} vya kifurushi hiki viko mtandaoni sasa. Toa kimoja (ukurasa wake wa hali), \
             kisha ujaribu tena hapa, au nunua kifurushi kingine."
        ),
    }
}

/// Why the number typed is not one the hotspot can prompt. Country names are the same in
/// Swahili.
pub fn phone_error(lang: Lang, e: &PhoneError) -> String {
    match lang {
        Lang::En => sentence(e.to_string()),
        Lang::Sw => match e {
            PhoneError::Empty => "Weka nambari ya simu.".to_string(),
            PhoneError::BadChar => {
                "Nambari ya simu inaweza kuwa na tarakimu, nafasi, '-' na '+' mwanzoni tu.".to_string()
            }
            PhoneError::Length { country, code, digits } => format!(
                "Nambari za {} zina tarakimu 9 baada ya 0 (0XX XXX XXXX) au baada ya +{code}; umeweka tarakimu {digits}.",
                country.name()
            ),
            PhoneError::UnknownCountry(code) => format!("+{code}… si nchi ambayo hotspot hii inauza."),
            PhoneError::NotMobile(c) => format!("Si nambari ya simu ya mkononi ya {}.", c.name()),
            PhoneError::Abroad { want, got } => {
                format!("Ni nambari ya {}: hapa zinapokelewa nambari za {} tu.", got.name(), want.name())
            }
            PhoneError::NotInternational(_) => "Andika nambari nzima, pamoja na msimbo wa nchi.".to_string(),
        },
    }
}

pub fn voucher_error(lang: Lang, e: &VoucherError) -> String {
    match lang {
        Lang::En => sentence(e.to_string()),
        Lang::Sw => match e {
            VoucherError::Length(n) => format!("Nambari ya vocha lazima iwe na herufi 6 hadi 16 (umeweka {n})."),
            VoucherError::Ambiguous(c) => {
                format!("Nambari za vocha hazina {c:?}: angalia karatasi (0/O, 1/I/L hazitumiki).")
            }
            VoucherError::BadChar(c) => format!("Nambari ya vocha ina alama isiyo herufi wala tarakimu: {c:?}."),
        },
    }
}

/// `1 hour 30 minutes` / `saa 1 dakika 30`: the two largest units.
pub fn duration(lang: Lang, secs: u64) -> String {
    const UNITS: [(u64, &str, &str, &str, &str); 5] = [
        (604_800, "week", "weeks", "wiki", "wiki"),
        (86_400, "day", "days", "siku", "siku"),
        (3_600, "hour", "hours", "saa", "saa"),
        (60, "minute", "minutes", "dakika", "dakika"),
        (1, "second", "seconds", "sekunde", "sekunde"),
    ];
    let mut parts = Vec::new();
    let mut left = secs;
    for (size, one, many, sw_one, sw_many) in UNITS {
        let n = left / size;
        left %= size;
        if n == 0 {
            continue;
        }
        parts.push(match lang {
            Lang::En => format!("{n} {}", if n == 1 { one } else { many }),
            Lang::Sw => format!("{} {n}", if n == 1 { sw_one } else { sw_many }),
        });
        if parts.len() == 2 {
            break;
        }
    }
    if parts.is_empty() {
        return match lang {
            Lang::En => "0 seconds".to_string(),
            Lang::Sw => "sekunde 0".to_string(),
        };
    }
    parts.join(" ")
}

/// A download speed from bits per second: `5 Mbps`, `512 kbps`.
pub fn speed(bps: u64) -> String {
    if bps >= 1_000_000 {
        let tenths = bps / 100_000;
        if tenths.is_multiple_of(10) {
            format!("{} Mbps", tenths / 10)
        } else {
            format!("{}.{} Mbps", tenths / 10, tenths % 10)
        }
    } else if bps >= 1_000 {
        format!("{} kbps", bps / 1_000)
    } else {
        format!("{bps} bps")
    }
}

/// A data cap: `500 MB`, `1.5 GB`.
pub fn bytes(n: u64) -> String {
    if n >= 1_000_000_000 {
        let tenths = n / 100_000_000;
        if tenths.is_multiple_of(10) {
            format!("{} GB", tenths / 10)
        } else {
            format!("{}.{} GB", tenths / 10, tenths % 10)
        }
    } else {
        format!("{} MB", n / 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choosing_a_language() {
        assert_eq!(Lang::choose(Some("sw"), Some("en")), Lang::Sw);
        assert_eq!(Lang::choose(Some("EN"), Some("sw")), Lang::En);
        assert_eq!(Lang::choose(Some("fr"), Some("sw-KE,en;q=0.5")), Lang::Sw);
        assert_eq!(Lang::choose(None, Some("en-GB,sw;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(None, Some("fr,sw;q=0.3,en;q=0.2")), Lang::Sw);
        assert_eq!(Lang::choose(None, Some("sw;q=0,en;q=0.1")), Lang::En);
        assert_eq!(Lang::choose(None, Some("fr")), Lang::En);
        assert_eq!(Lang::choose(None, Some(";;,q=,sw;q=9.99;q=")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
    }

    #[test]
    fn q_values() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("0.8"), Some(800));
        assert_eq!(parse_q("0.125"), Some(125));
        assert_eq!(parse_q("2"), None);
        assert_eq!(parse_q("0.x"), None);
    }

    #[test]
    fn every_failure_has_swahili() {
        use PaymentFailure::*;
        for f in [
            Cancelled,
            InsufficientFunds,
            PhoneUnreachable,
            WrongPin,
            Expired,
            PromptFailed,
            TooSoon,
            AmountMismatch,
            Unknown,
            Other,
        ] {
            assert_ne!(payment_failure(Lang::Sw, f), payment_failure(Lang::En, f));
        }
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(duration(Lang::En, 3600), "1 hour");
        assert_eq!(duration(Lang::En, 5400), "1 hour 30 minutes");
        assert_eq!(duration(Lang::Sw, 7 * 86_400), "wiki 1");
        assert_eq!(duration(Lang::Sw, 2 * 86_400 + 3 * 3600 + 5), "siku 2 saa 3");
        assert_eq!(duration(Lang::En, 0), "0 seconds");
        assert_eq!(speed(5_000_000), "5 Mbps");
        assert_eq!(speed(2_500_000), "2.5 Mbps");
        assert_eq!(speed(512_000), "512 kbps");
        assert_eq!(bytes(1_500_000_000), "1.5 GB");
        assert_eq!(bytes(500_000_000), "500 MB");
    }

    #[test]
    fn error_text() {
        use hotspot_core::phone::Country;
        let short = PhoneError::Length { country: Country::Uganda, code: "256", digits: 3 };
        assert!(
            phone_error(Lang::En, &short).starts_with("Uganda numbers have 9 digits"),
            "{}",
            phone_error(Lang::En, &short)
        );
        assert!(phone_error(Lang::Sw, &short).contains("tarakimu 3"));
        let abroad = PhoneError::Abroad { want: Country::Kenya, got: Country::Uganda };
        assert_eq!(phone_error(Lang::En, &abroad), "A Uganda number: only Kenya numbers are taken here.");
        assert!(phone_error(Lang::Sw, &PhoneError::NotMobile(Country::Kenya)).ends_with("ya Kenya."));
        assert!(voucher_error(Lang::Sw, &VoucherError::Length(3)).contains("(umeweka 3)"));
    }
}
