//! Voucher sheets as PDF: A4, 18 cards a page (3 × 6, the HTML sheet's grid), each with dashed
//! cut lines, the place, the package, its price, the code and a QR code of the portal address.
//! Text is in the PDF base fonts (Helvetica, Courier), so nothing is embedded: a sheet of 250
//! codes is a few tens of kilobytes.

use crate::store::VoucherRecord;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use qrcode::QrCode;

use super::sheet::SheetInfo;

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const MARGIN: f32 = 10.0 * MM;
const COLS: usize = 3;
const ROWS: usize = 6;
const CARD_W: f32 = 190.0 / COLS as f32 * MM;
const CARD_H: f32 = 46.0 * MM;
const PAD: f32 = 3.0 * MM;
const QR: f32 = 24.0 * MM;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const MONO: Name<'static> = Name(b"F3");

/// Text as WinAnsi bytes (the base fonts' encoding): Latin-1 letters stay, anything else is `?`,
/// and it is cut to `max` characters (the base fonts are not measured here).
fn win_ansi(s: &str, max: usize) -> Vec<u8> {
    let mut out: Vec<u8> = s
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .map(|c| match u32::from(c) {
            0x20..=0x7e | 0xa0..=0xff => c as u8,
            _ => b'?',
        })
        .collect();
    if s.chars().filter(|c| !c.is_control()).count() > max && max > 1 {
        out.truncate(max - 1);
        out.push(0x85); // WinAnsi ellipsis
    }
    out
}

fn text(c: &mut Content, font: Name, size: f32, x: f32, y: f32, s: &[u8]) {
    c.begin_text();
    c.set_font(font, size);
    c.next_line(x, y);
    c.show(Str(s));
    c.end_text();
}

/// The QR code's dark modules as filled runs, in a `size` square whose top-left is (x, top).
fn qr(c: &mut Content, code: &QrCode, x: f32, top: f32, size: f32) {
    let w = code.width();
    // A quiet zone of 2 modules each side, inside the square.
    let m = size / (w + 4) as f32;
    let colors = code.to_colors();
    c.set_fill_gray(0.0);
    for row in 0..w {
        let mut col = 0;
        while col < w {
            if colors[row * w + col] == qrcode::Color::Dark {
                let start = col;
                while col < w && colors[row * w + col] == qrcode::Color::Dark {
                    col += 1;
                }
                let y = top - (row + 3) as f32 * m;
                c.rect(x + (start + 2) as f32 * m, y, (col - start) as f32 * m, m);
            } else {
                col += 1;
            }
        }
    }
    c.fill_nonzero();
}

fn card(c: &mut Content, v: &VoucherRecord, info: &SheetInfo<'_>, code: &QrCode, x: f32, top: f32) {
    // The cut lines.
    c.set_stroke_gray(0.45);
    c.set_line_width(0.6);
    c.set_dash_pattern([3.0, 2.0], 0.0);
    c.rect(x, top - CARD_H, CARD_W, CARD_H);
    c.stroke();
    c.set_dash_pattern([], 0.0);

    let p = &v.package;
    let left = x + PAD;
    text(c, REGULAR, 8.0, left, top - PAD - 8.0, &win_ansi(&format!("{} WiFi", info.router_name), 22));
    text(c, BOLD, 11.0, left, top - PAD - 22.0, &win_ansi(p.name(), 15));
    text(c, REGULAR, 10.0, left, top - PAD - 36.0, &win_ansi(&p.price().to_string(), 22));
    text(c, REGULAR, 7.0, left, top - PAD - 47.0, &win_ansi(&format!("valid {} from first use", p.validity()), 26));
    qr(c, code, x + CARD_W - PAD - QR, top - PAD, QR);
    let code_y = top - PAD - QR - 16.0;
    text(c, MONO, 14.0, left, code_y, v.code.grouped().as_bytes());
    text(c, REGULAR, 6.5, left, code_y - 12.0, b"Join the WiFi, open the page, enter the code.");
    text(c, REGULAR, 5.5, left, code_y - 21.0, &win_ansi(info.portal_url, 60));
}

/// The sheet as PDF bytes.
pub fn pdf(vouchers: &[VoucherRecord], info: &SheetInfo<'_>) -> Result<Vec<u8>, String> {
    let code = QrCode::new(info.portal_url.as_bytes()).map_err(|e| format!("QR code of {:?}: {e}", info.portal_url))?;
    let per_page = COLS * ROWS;
    let pages = vouchers.len().div_ceil(per_page).max(1);
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let fonts = [
        (REGULAR, Ref::new(3), "Helvetica"),
        (BOLD, Ref::new(4), "Helvetica-Bold"),
        (MONO, Ref::new(5), "Courier-Bold"),
    ];
    // Pages and their contents after the fixed objects: page i is 6 + 2i, its content 7 + 2i.
    let page_ref = |i: usize| Ref::new(6 + 2 * i as i32);
    let content_ref = |i: usize| Ref::new(7 + 2 * i as i32);
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids((0..pages).map(page_ref)).count(pages as i32);
    for (_, id, base) in fonts {
        pdf.type1_font(id).base_font(Name(base.as_bytes())).encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for i in 0..pages {
        let mut page = pdf.page(page_ref(i));
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_ref(i));
        let mut res = page.resources();
        let mut f = res.fonts();
        for (name, id, _) in fonts {
            f.pair(name, id);
        }
        f.finish();
        res.finish();
        page.finish();

        let mut c = Content::new();
        for (n, v) in vouchers.iter().skip(i * per_page).take(per_page).enumerate() {
            let (row, col) = (n / COLS, n % COLS);
            let x = MARGIN + col as f32 * CARD_W;
            let top = PAGE_H - MARGIN - row as f32 * CARD_H;
            card(&mut c, v, info, &code, x, top);
        }
        pdf.stream(content_ref(i), &c.finish());
    }
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_win_ansi_and_bounded() {
        assert_eq!(win_ansi("Café", 10), b"Caf\xe9".to_vec());
        assert_eq!(win_ansi("ナイロビ", 10), b"????".to_vec());
        assert_eq!(win_ansi("abcdef", 4), b"abc\x85".to_vec());
        assert_eq!(win_ansi("a\nb", 4), b"ab".to_vec());
    }

    #[test]
    fn one_page_per_eighteen_cards() {
        let v: Vec<VoucherRecord> = Vec::new();
        let info = SheetInfo { router_name: "x", portal_url: "http://172.17.0.2/" };
        let bytes = pdf(&v, &info).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        assert_eq!(String::from_utf8_lossy(&bytes).matches("/Type /Page\n").count(), 1, "an empty sheet is one page");
    }
}
