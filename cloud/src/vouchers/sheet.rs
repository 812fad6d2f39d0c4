//! Voucher sheets: HTML laid out for A4 (cards with dashed cut lines, each with the code, the
//! package, its price and a QR code of the portal address), and CSV.

use crate::store::VoucherRecord;
use hotspot_core::escape::html as esc;
use qrcode::QrCode;
use qrcode::render::svg;

/// What the sheet says about the place.
pub struct SheetInfo<'a> {
    pub router_name: &'a str,
    pub portal_url: &'a str,
}

/// The QR code of `url` as an inline SVG element.
pub fn qr_svg(url: &str) -> Result<String, String> {
    let code = QrCode::new(url.as_bytes()).map_err(|e| format!("QR code of {url:?}: {e}"))?;
    let svg = code
        .render::<svg::Color>()
        .min_dimensions(96, 96)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // Inline in HTML: drop the XML declaration.
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

const STYLE: &str = "\
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { margin: 0; font-family: Helvetica, Arial, sans-serif; color: #000; }
.sheet { display: grid; grid-template-columns: repeat(3, 1fr); width: 190mm; }
.card { height: 46mm; padding: 3mm; border: 0.3mm dashed #777; break-inside: avoid; page-break-inside: avoid;
        display: grid; grid-template-columns: 1fr 24mm; gap: 2mm; overflow: hidden; }
.place { font-size: 8pt; color: #333; }
.pkg { font-size: 11pt; font-weight: bold; margin-top: 1mm; }
.price { font-size: 10pt; }
.code { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 14pt; font-weight: bold;
        letter-spacing: 0.5mm; margin-top: 2mm; white-space: nowrap; }
.how { font-size: 6.5pt; color: #333; margin-top: 1mm; }
.qr svg { width: 24mm; height: 24mm; }
.url { font-size: 5.5pt; word-break: break-all; color: #333; }
@media screen { body { background: #eee; } .sheet { background: #fff; margin: 10mm auto; } }
";

/// A print-ready page of voucher cards.
pub fn html(vouchers: &[VoucherRecord], info: &SheetInfo<'_>) -> Result<String, String> {
    let qr = qr_svg(info.portal_url)?;
    let place = esc(info.router_name);
    let url = esc(info.portal_url);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(&format!("<title>Vouchers: {place}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n"));
    out.push_str("<main class=\"sheet\">\n");
    for v in vouchers {
        let p = &v.package;
        out.push_str(&format!(
            "<div class=\"card\"><div>\
             <div class=\"place\">{place} WiFi</div>\
             <div class=\"pkg\">{name}</div>\
             <div class=\"price\">{price} &middot; valid {validity} from first use</div>\
             <div class=\"code\">{code}</div>\
             <div class=\"how\">Join the WiFi, open the page, enter the code.</div>\
             </div><div class=\"qr\">{qr}<div class=\"url\">{url}</div></div></div>\n",
            name = esc(p.name()),
            price = esc(&p.price().to_string()),
            validity = p.validity(),
            code = esc(&v.code.grouped()),
        ));
    }
    out.push_str("</main>\n</body>\n</html>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotspot_core::{Package, VoucherCode};

    fn voucher(code: &str, name: &str) -> VoucherRecord {
        let package: Package = serde_json::from_value(serde_json::json!({
            "id": "1d", "name": name, "price": 50, "validity": "1d", "rate_limit": "2M/5M", "devices": 1
        }))
        .unwrap();
        VoucherRecord {
            code: code.parse::<VoucherCode>().unwrap(),
            router_id: "cafe-a".parse().unwrap(),
            batch_id: "vb-1".into(),
            package,
            created_at: 1_790_000_000,
            used: None,
        }
    }

    #[test]
    fn html_sheet_has_every_code_escaped_with_a_qr() {
        let vs = [voucher("ABCD2345", "Day <pass>"), voucher("WXYZ6789", "Day pass")];
        let info = SheetInfo { router_name: "Cafe \"A\" & Co", portal_url: "http://wifi.cafe/login?x=1&y=2" };
        let page = html(&vs, &info).unwrap();
        assert!(page.contains("@page { size: A4"));
        assert!(page.contains("dashed"));
        assert_eq!(page.matches("class=\"card\"").count(), 2);
        assert!(page.contains("ABCD-2345") && page.contains("WXYZ-6789"));
        assert!(page.contains("Day &lt;pass&gt;") && !page.contains("Day <pass>"));
        assert!(page.contains("Cafe &quot;A&quot; &amp; Co"));
        assert!(page.contains("KES 50"));
        assert_eq!(page.matches("<svg").count(), 2);
        assert!(!page.contains("<?xml"));
        assert!(page.contains("http://wifi.cafe/login?x=1&amp;y=2"));
    }

    #[test]
    fn qr_decodes_to_its_modules() {
        // The same URL gives the same SVG; different URLs differ.
        assert_eq!(qr_svg("http://a/").unwrap(), qr_svg("http://a/").unwrap());
        assert_ne!(qr_svg("http://a/").unwrap(), qr_svg("http://b/").unwrap());
    }
}
