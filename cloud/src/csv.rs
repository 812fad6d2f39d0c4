//! CSV for spreadsheets: the revenue report's downloads and the voucher lists.

/// A CSV field, quoted when it needs to be; a leading `=+-@` is defused so spreadsheets do not
/// run it as a formula.
pub fn field(s: &str) -> String {
    let s = match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn formulas_are_defused_and_separators_quoted() {
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("cafe-a"), "cafe-a");
    }
}
