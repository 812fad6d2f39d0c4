//! Civil (proleptic Gregorian) dates from Unix seconds and back, at a fixed UTC offset. Kenya
//! keeps UTC+3 all year, so a fixed offset is exact there; no time-zone database is needed.

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = (if z >= 0 { z } else { z - 146_096 }) / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// The civil date of a Unix time seen at `offset_secs` east of UTC.
pub fn date_of(ts: i64, offset_secs: i64) -> (i64, u32, u32) {
    civil_from_days((ts + offset_secs).div_euclid(86_400))
}

/// `yyyy-mm-dd` of a Unix time at an offset.
pub fn day_string(ts: i64, offset_secs: i64) -> String {
    let (y, m, d) = date_of(ts, offset_secs);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `yyyy-mm` of a Unix time in UTC.
pub fn month_string(ts: i64) -> String {
    let (y, m, _) = date_of(ts, 0);
    format!("{y:04}-{m:02}")
}

/// `yyyy-mm-dd hh:mm` of a Unix time at an offset.
pub fn minute_string(ts: i64, offset_secs: i64) -> String {
    let local = ts + offset_secs;
    let secs = local.rem_euclid(86_400);
    format!("{} {:02}:{:02}", day_string(ts, offset_secs), secs / 3600, (secs % 3600) / 60)
}

/// The first second of the month after the one `ts` falls in (UTC).
pub fn next_month_start(ts: i64) -> i64 {
    let (y, m, _) = date_of(ts, 0);
    let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    days_from_civil(y, m, 1) * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(date_of(1_790_000_000, 0), (2026, 9, 21));
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        // 2024-02-29 exists; 23:30 UTC on the 29th is 1 March in Nairobi.
        let t = days_from_civil(2024, 2, 29) * 86_400 + 23 * 3600 + 1800;
        assert_eq!(day_string(t, 0), "2024-02-29");
        assert_eq!(day_string(t, 3 * 3600), "2024-03-01");
        assert_eq!(minute_string(t, 3 * 3600), "2024-03-01 02:30");
        assert_eq!(month_string(t), "2024-02");
        assert_eq!(next_month_start(t), days_from_civil(2024, 3, 1) * 86_400);
        assert_eq!(next_month_start(days_from_civil(2024, 12, 5) * 86_400), days_from_civil(2025, 1, 1) * 86_400);
    }
}
