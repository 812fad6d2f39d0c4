//! Account numbers of monthly subscribers (PPPoE, VPN): what a subscriber types as the Paybill
//! "Account Number" (M-Pesa's `BillRefNumber`) to renew, and the PPP user name on the router.

use std::fmt;
use std::str::FromStr;

/// Digits only, so it is typed on any phone's keypad; the last digit is a Luhn check digit, so a
/// mistyped digit or two swapped neighbours is refused at validation (the money stays with the
/// subscriber) instead of renewing someone else.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountNumberError {
    #[error("an account number is {min} to {max} digits (got {0})", min = AccountNumber::MIN_LEN, max = AccountNumber::MAX_LEN)]
    Length(usize),
    #[error("an account number is digits only (got {0:?})")]
    NotDigit(char),
    #[error("that account number has a typing mistake: its check digit does not match")]
    CheckDigit,
}

/// The Luhn check digit of `digits` (each a value 0-9).
fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl AccountNumber {
    pub const MIN_LEN: usize = 5;
    pub const MAX_LEN: usize = 12;
    /// Issued numbers: 6 random digits and the check digit (10^6 accounts per operator's paybill).
    pub const ISSUED_LEN: usize = 7;

    /// A new random number (the store refuses one already taken; draw again).
    pub fn issue() -> AccountNumber {
        use rand::Rng;
        let mut rng = rand::rng();
        // No leading zero: some phones' M-Pesa menus and spreadsheets drop it.
        let mut digits: Vec<u8> = vec![rng.random_range(1..=9)];
        digits.extend((1..Self::ISSUED_LEN - 1).map(|_| rng.random_range(0..=9u8)));
        digits.push(luhn_check_digit(&digits));
        AccountNumber(digits.iter().map(|d| char::from(b'0' + d)).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AccountNumber {
    type Err = AccountNumberError;

    /// Reads what a subscriber typed: spaces and dashes between digits are dropped.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let kept: String = s.trim().chars().filter(|c| *c != ' ' && *c != '-').collect();
        if let Some(c) = kept.chars().find(|c| !c.is_ascii_digit()) {
            return Err(AccountNumberError::NotDigit(c));
        }
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&kept.len()) {
            return Err(AccountNumberError::Length(kept.len()));
        }
        let digits: Vec<u8> = kept.bytes().map(|b| b - b'0').collect();
        let (body, check) = digits.split_at(digits.len() - 1);
        if luhn_check_digit(body) != check[0] {
            return Err(AccountNumberError::CheckDigit);
        }
        Ok(AccountNumber(kept))
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountNumber({})", self.0)
    }
}

crate::serde_str::serde_via_str!(AccountNumber);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn luhn_matches_the_published_example() {
        // ISO/IEC 7812's worked example: 7992739871 has check digit 3.
        assert_eq!(luhn_check_digit(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]), 3);
        assert!("79927398713".parse::<AccountNumber>().is_ok());
        assert_eq!("7992-7398 713".parse::<AccountNumber>().unwrap().as_str(), "79927398713");
        assert_eq!("79927398710".parse::<AccountNumber>(), Err(AccountNumberError::CheckDigit));
        assert!(matches!("ACC1001".parse::<AccountNumber>(), Err(AccountNumberError::NotDigit('A'))));
        assert!(matches!("1234".parse::<AccountNumber>(), Err(AccountNumberError::Length(4))));
    }

    proptest! {
        #[test]
        fn issued_numbers_read_back_and_catch_one_wrong_digit(pos in 0usize..7, delta in 1u8..10) {
            let n = AccountNumber::issue();
            prop_assert_eq!(n.as_str().len(), AccountNumber::ISSUED_LEN);
            prop_assert_eq!(n.as_str().parse::<AccountNumber>(), Ok(n.clone()));
            let mut b = n.as_str().as_bytes().to_vec();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let typo = String::from_utf8(b).unwrap();
            prop_assert_eq!(typo.parse::<AccountNumber>(), Err(AccountNumberError::CheckDigit));
        }

        #[test]
        fn swapped_neighbours_are_caught(pos in 0usize..6) {
            let n = AccountNumber::issue();
            let mut b = n.as_str().as_bytes().to_vec();
            // Luhn misses only 09 <-> 90.
            prop_assume!(b[pos] != b[pos + 1] && !matches!((b[pos], b[pos + 1]), (b'0', b'9') | (b'9', b'0')));
            b.swap(pos, pos + 1);
            let swapped = String::from_utf8(b).unwrap();
            prop_assert_eq!(swapped.parse::<AccountNumber>(), Err(AccountNumberError::CheckDigit));
        }
    }
}
