//! Property tests: every printed value parses back to itself, and parsing never panics.

use hotspot_core::{MacAddr, Msisdn, RateLimit, RosDuration, Shillings, VoucherCode};
use proptest::prelude::*;

proptest! {
    #[test]
    fn mac_round_trips_in_every_form(b in any::<[u8; 6]>()) {
        let mut b = b;
        b[0] &= 0xFE; // unicast
        prop_assume!(b != [0; 6]);
        let m = MacAddr::from_bytes(b).unwrap();
        let canon = m.to_string();
        prop_assert_eq!(canon.parse::<MacAddr>().unwrap(), m);
        prop_assert_eq!(canon.to_lowercase().replace(':', "-").parse::<MacAddr>().unwrap(), m);
        prop_assert_eq!(m.compact().parse::<MacAddr>().unwrap(), m);
        prop_assert_eq!(m.is_locally_administered(), b[0] & 2 != 0);
    }

    #[test]
    fn multicast_macs_are_refused(b in any::<[u8; 6]>()) {
        let mut b = b;
        b[0] |= 0x01;
        prop_assert!(MacAddr::from_bytes(b).is_err());
    }

    #[test]
    fn msisdn_forms_agree(second in prop::sample::select(vec!["70", "71", "72", "79", "10", "11"]), rest in "[0-9]{7}") {
        let canon = format!("254{second}{rest}");
        let local = format!("0{second}{rest}");
        let spaced = format!("+254 {second}{} {}", &rest[..1], &rest[1..]);
        let plus = format!("+{canon}");
        for form in [&canon, &local, &spaced, &plus] {
            let parsed: Msisdn = form.parse().unwrap();
            prop_assert_eq!(parsed.digits(), canon.clone());
        }
        let m: Msisdn = canon.parse().unwrap();
        prop_assert_eq!(m.masked(), format!("{}****{}", &canon[..4], &canon[8..]));
        let logged = format!("{} {:?}", m, m);
        prop_assert!(!logged.contains(&canon), "full number leaked: {}", logged);
    }

    #[test]
    fn msisdn_wrong_prefix_refused(first in "[02-689]", rest in "[0-9]{8}") {
        let s = format!("0{first}{rest}");
        prop_assert!(s.parse::<Msisdn>().is_err());
    }

    #[test]
    fn msisdn_wrong_length_refused(digits in "[0-9]{0,20}") {
        // 9 digits is the national number without its 0, 10 with it, 12 with 254.
        prop_assume!(![9, 10, 12].contains(&digits.len()));
        prop_assert!(digits.parse::<Msisdn>().is_err());
    }

    #[test]
    fn money_round_trips(v in 1u32..=250_000) {
        let m = Shillings::new(v as u64).unwrap();
        prop_assert_eq!(m.to_string().parse::<Shillings>().unwrap(), m);
        prop_assert_eq!(v.to_string().parse::<Shillings>().unwrap(), m);
        prop_assert_eq!(format!("{v}.00").parse::<Shillings>().unwrap(), m);
    }

    #[test]
    fn money_out_of_range_refused(v in 250_001u64..u64::MAX) {
        prop_assert!(Shillings::new(v).is_err());
        prop_assert!(v.to_string().parse::<Shillings>().is_err());
    }

    #[test]
    fn duration_round_trips(secs in 0u64..=RosDuration::MAX_SECS) {
        let d = RosDuration::from_secs(secs).unwrap();
        let printed = d.to_string();
        prop_assert_eq!(printed.parse::<RosDuration>().unwrap(), d);
        // The clock form RouterOS 6 prints parses to the same value.
        let (w, r) = (secs / 604_800, secs % 604_800);
        let (dd, r) = (r / 86_400, r % 86_400);
        let clock = format!("{w}w{dd}d{:02}:{:02}:{:02}", r / 3600, r % 3600 / 60, r % 60);
        prop_assert_eq!(clock.parse::<RosDuration>().unwrap(), d);
    }

    #[test]
    fn parsers_never_panic(s in "\\PC{0,40}") {
        let _ = s.parse::<MacAddr>();
        let _ = s.parse::<Msisdn>();
        let _ = s.parse::<Shillings>();
        let _ = s.parse::<RosDuration>();
        let _ = s.parse::<RateLimit>();
        let _ = s.parse::<VoucherCode>();
    }

    #[test]
    fn duration_printed_form_is_canonical(s in "([0-9]{1,3}w)?([0-9]{1,3}d)?([0-9]{1,3}h)?([0-9]{1,3}m)?([0-9]{1,3}s)?") {
        prop_assume!(!s.is_empty());
        let d: RosDuration = s.parse().unwrap();
        let again: RosDuration = d.to_string().parse().unwrap();
        prop_assert_eq!(again, d);
        prop_assert_eq!(again.to_string(), d.to_string());
    }

    #[test]
    fn rate_limit_round_trips(rx in 1u64..=100_000_000_000, tx in 1u64..=100_000_000_000) {
        let s = format!("{rx}/{tx}");
        let rl: RateLimit = s.parse().unwrap();
        prop_assert_eq!((rl.rx.bps(), rl.tx.bps()), (rx, tx));
        prop_assert_eq!(rl.to_string().parse::<RateLimit>().unwrap(), rl);
    }

    #[test]
    fn voucher_codes_round_trip(len in 6usize..=16) {
        let c = VoucherCode::generate(len);
        prop_assert_eq!(c.grouped().to_lowercase().parse::<VoucherCode>().unwrap(), c.clone());
        prop_assert!(!c.as_str().contains(['0', 'O', '1', 'I', 'L']));
    }
}
