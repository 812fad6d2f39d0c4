//! What a subscriber's payment does to their account: the pure decision, taking `now`, the
//! account's expiry and its plan, and returning the new expiry or why the money is held for the
//! operator. The Paybill shell (`paybill.rs`) reads and writes around it.

use hotspot_core::currency::Money;

hotspot_core::string_enum! {
    /// What an account's package does with a payment that is not its price.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub enum OddAmount("odd amount rule") {
        /// Whole periods only: a payment of 1, 2 … 12 times the price renews that many periods;
        /// any other amount is held for the operator (and refused at validation, where M-Pesa asks).
        #[default]
        Hold = "hold",
        /// Any amount buys its share of a period (half the price, half the period), to the minute.
        ProRata = "pro_rata",
    }
}

/// An account's plan, fixed when the account was made (a later price change is the operator's to
/// apply, not a surprise at the subscriber's next renewal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub price: Money,
    pub period_secs: i64,
    pub odd_amount: OddAmount,
}

/// At most this many periods in one payment: a year of a monthly plan. More is surely a mistake.
pub const MAX_PERIODS: u64 = 12;
/// Pro rata time is given to the minute; a payment buying less than this is held.
pub const MIN_PRO_RATA_SECS: i64 = 60 * 60;

/// Why a payment renews nothing and waits for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    /// No account has this number (or the subscriber typed it wrong).
    UnknownAccount,
    /// Paid in another currency than the plan's.
    Currency,
    /// Not a whole number of periods, on a plan that says `hold`.
    NotWholePeriods { paid: Money, price: Money },
    /// More than [`MAX_PERIODS`] periods.
    TooMuch { paid: Money, price: Money },
    /// Pro rata, but less than [`MIN_PRO_RATA_SECS`] of service.
    TooLittle { paid: Money, price: Money },
}

impl Held {
    /// For the operator's ledger and the logs (no phone numbers in it).
    pub fn describe(&self) -> String {
        match self {
            Held::UnknownAccount => "no account has this number".into(),
            Held::Currency => "paid in another currency than the plan's".into(),
            Held::NotWholePeriods { paid, price } => format!("paid {paid}, not a whole number of periods at {price}"),
            Held::TooMuch { paid, price } => format!("paid {paid}, more than {MAX_PERIODS} periods at {price}"),
            Held::TooLittle { paid, price } => format!("paid {paid}, less than an hour's share of {price}"),
        }
    }
}

/// What the payment does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    /// Service runs to `until`, counted on from `from`: the current expiry when the account is
    /// still running (renewing early loses nothing), or `now` when it has lapsed.
    Extend {
        from: i64,
        until: i64,
    },
    Held(Held),
}

/// The decision for a payment of `paid` to an account expiring at `expires_at`.
pub fn renewal(now: i64, expires_at: i64, plan: &Plan, paid: Money) -> Renewal {
    let held = Renewal::Held;
    if paid.currency() != plan.price.currency() {
        return held(Held::Currency);
    }
    let (paid_minor, price_minor) = (paid.minor(), plan.price.minor());
    if price_minor == 0 || paid_minor == 0 || plan.period_secs <= 0 {
        return held(Held::NotWholePeriods { paid, price: plan.price });
    }
    let secs = match plan.odd_amount {
        OddAmount::Hold => {
            if paid_minor % price_minor != 0 {
                return held(Held::NotWholePeriods { paid, price: plan.price });
            }
            let periods = paid_minor / price_minor;
            if periods > MAX_PERIODS {
                return held(Held::TooMuch { paid, price: plan.price });
            }
            i64::try_from(periods).unwrap_or(i64::MAX).saturating_mul(plan.period_secs)
        }
        OddAmount::ProRata => {
            if paid_minor > price_minor.saturating_mul(MAX_PERIODS) {
                return held(Held::TooMuch { paid, price: plan.price });
            }
            // u128: minor units times seconds cannot overflow.
            let exact = u128::from(paid_minor) * plan.period_secs as u128 / u128::from(price_minor);
            let secs = i64::try_from(exact).unwrap_or(i64::MAX) / 60 * 60;
            if secs < MIN_PRO_RATA_SECS {
                return held(Held::TooLittle { paid, price: plan.price });
            }
            secs
        }
    };
    let from = expires_at.max(now);
    Renewal::Extend { from, until: from.saturating_add(secs) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotspot_core::currency::Currency;

    const DAY: i64 = 86_400;
    const MONTH: i64 = 30 * DAY;

    fn kes(units: u64) -> Money {
        Money::whole_units(Currency::Kes, units).unwrap()
    }

    fn plan(odd_amount: OddAmount) -> Plan {
        Plan { price: kes(1500), period_secs: MONTH, odd_amount }
    }

    #[test]
    fn early_renewal_counts_on_from_the_expiry_and_a_lapsed_one_from_now() {
        let p = plan(OddAmount::Hold);
        assert_eq!(renewal(1_000, 5_000, &p, kes(1500)), Renewal::Extend { from: 5_000, until: 5_000 + MONTH });
        assert_eq!(renewal(9_000, 5_000, &p, kes(1500)), Renewal::Extend { from: 9_000, until: 9_000 + MONTH });
        assert_eq!(renewal(0, 0, &p, kes(4500)), Renewal::Extend { from: 0, until: 3 * MONTH });
    }

    #[test]
    fn odd_amounts_are_held_or_pro_rata_as_the_plan_says() {
        let hold = plan(OddAmount::Hold);
        assert!(matches!(renewal(0, 0, &hold, kes(1000)), Renewal::Held(Held::NotWholePeriods { .. })));
        assert!(matches!(renewal(0, 0, &hold, kes(1500 * 13)), Renewal::Held(Held::TooMuch { .. })));
        let pro = plan(OddAmount::ProRata);
        assert_eq!(renewal(0, 0, &pro, kes(750)), Renewal::Extend { from: 0, until: 15 * DAY });
        // 1000/1500 of 30 days = 20 days exactly; 1 shilling = 28.8 minutes: held.
        assert_eq!(renewal(0, 0, &pro, kes(1000)), Renewal::Extend { from: 0, until: 20 * DAY });
        assert!(matches!(renewal(0, 0, &pro, kes(1)), Renewal::Held(Held::TooLittle { .. })));
        let ugx = Money::whole_units(Currency::Ugx, 15_000).unwrap();
        assert_eq!(renewal(0, 0, &pro, ugx), Renewal::Held(Held::Currency));
    }
}
