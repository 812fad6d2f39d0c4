//! Operators' dashboard passwords: argon2id (the crate's defaults, OWASP's minimum: 19 MiB,
//! two passes), stored as PHC strings.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 256;

/// Whether a new password may be used, or why not.
pub fn acceptable(pw: &str, again: &str) -> Result<(), &'static str> {
    if pw != again {
        return Err("The two passwords differ.");
    }
    match pw.chars().count() {
        n if n < MIN_LEN => Err("The password needs at least 10 characters."),
        n if n > MAX_LEN => Err("The password is too long (at most 256 characters)."),
        _ => Ok(()),
    }
}

pub fn hash(pw: &str) -> Option<String> {
    let Ok(salt) = SaltString::encode_b64(&rand::random::<[u8; 16]>()) else { return None };
    Argon2::default().hash_password(pw.as_bytes(), &salt).ok().map(|h| h.to_string())
}

/// Checks `pw` against a stored hash; with none (no such login, invite not taken) the same
/// work is done against a throwaway hash, so timing does not tell which logins exist.
pub fn verify(pw: &str, stored: Option<&str>) -> bool {
    if pw.len() > MAX_LEN * 4 {
        burn();
        return false;
    }
    match stored.and_then(|s| PasswordHash::new(s).ok()) {
        Some(h) => Argon2::default().verify_password(pw.as_bytes(), &h).is_ok(),
        None => {
            burn();
            false
        }
    }
}

/// One hash's worth of work, for refusals that must not answer faster.
pub fn burn() {
    let _ = hash("not a password");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_refuse() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse battery", Some(&h)));
        assert!(!verify("correct horse batterY", Some(&h)));
        assert!(!verify("anything", None));
        assert!(!verify("anything", Some("not a phc string")));
    }

    #[test]
    fn new_passwords_are_checked() {
        assert!(acceptable("0123456789", "0123456789").is_ok());
        assert!(acceptable("012345678", "012345678").is_err());
        assert!(acceptable("0123456789", "0123456788").is_err());
    }
}
