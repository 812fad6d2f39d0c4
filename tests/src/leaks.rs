//! Scans the logs our own processes wrote during a test (the agent's and the functions') for what
//! must never be in a log: keys, passwords, secrets, voucher codes and whole phone numbers
//! (masked is `2547****5678`). The router's log is readable with `read` policy; CloudWatch by
//! anyone with logs access.

use std::path::Path;

/// Every line of every `*.log` under `dir` (but the simulators', which play Safaricom and the
/// router) that holds one of `secrets` or an unmasked Kenyan phone number: `file: what`.
pub fn scan(dir: &Path, secrets: &[(&str, String)]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    let mut files: Vec<_> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "log")).collect();
    files.sort();
    for path in files {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        for (n, line) in text.lines().enumerate() {
            for (what, secret) in secrets {
                if secret.len() >= 6 && line.contains(secret.as_str()) {
                    found.push(format!("{name}:{}: {what}", n + 1));
                }
            }
            if let Some(phone) = whole_phone(line) {
                found.push(format!("{name}:{}: a whole phone number ({}…)", n + 1, &phone[..4]));
            }
        }
    }
    found
}

/// The first run of digits that is a whole Kenyan mobile number: 2547/2541 and 8 more, or
/// 07/01 and 8 more (a run of exactly that length, so ids and timestamps do not count).
pub fn whole_phone(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let run = &line[start..i];
        // Inside a hex id or a word (`e0170580793f…`), digits are not a number of their own.
        let in_word =
            (start > 0 && b[start - 1].is_ascii_alphabetic()) || b.get(i).is_some_and(u8::is_ascii_alphabetic);
        let phone = !in_word
            && match run.len() {
                12 => run.starts_with("2547") || run.starts_with("2541"),
                10 => run.starts_with("07") || run.starts_with("01"),
                _ => false,
            };
        if phone {
            return Some(run);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_found_masked_ones_and_ids_are_not() {
        assert_eq!(whole_phone(r#"{"phone":"254712345678"}"#), Some("254712345678"));
        assert_eq!(whole_phone("to 0712345678."), Some("0712345678"));
        assert_eq!(whole_phone("phone=2547****5678 at 1796158800"), None);
        assert_eq!(whole_phone("ws_CO_191220191020363925 ts=1796158800123"), None);
        assert_eq!(whole_phone("2547123456789"), None, "13 digits is not a phone number");
        assert_eq!(whole_phone("ATXid_e0170580793fbed9"), None, "inside a hex id");
        assert_eq!(whole_phone("msisdn:0712345678,"), Some("0712345678"));
    }

    #[test]
    fn secrets_and_phones_are_reported_with_their_place() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("agent.log"), "ok\nkey=abcdef0123 here\n").unwrap();
        std::fs::write(dir.path().join("status.log"), "sent to 254712345678\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "abcdef0123").unwrap();
        let got = scan(dir.path(), &[("the router key", "abcdef0123".into())]);
        assert_eq!(got, ["agent.log:2: the router key", "status.log:1: a whole phone number (2547…)"]);
    }
}
