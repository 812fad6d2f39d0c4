//! The one constant-time comparison, for secrets a caller can probe by timing (a callback's
//! secret path, a re-login code).

use subtle::ConstantTimeEq;

/// Equal bytes, compared without an early exit at the first difference (a length difference
/// still answers at once: lengths are not secret here).
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn compares_bytes() {
        assert!(super::eq(b"secret", b"secret"));
        assert!(!super::eq(b"secret", b"secreT"));
        assert!(!super::eq(b"secret", b"secrets"));
        assert!(super::eq(b"", b""));
    }
}
