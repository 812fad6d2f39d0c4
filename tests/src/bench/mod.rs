//! The parts of `bench-stack`, the benchmark driver `scripts/bench.sh` runs (issue 8): a
//! keep-alive HTTP client that can come from any loopback address, the load generators, `/proc`
//! readings, request tallies from moto and the gateway, the AWS prices, and the money phases (lost
//! callbacks, the fault matrix). See
//! `docs/benchmarks.md` for what each metric measures.

pub mod admin;
pub mod aws;
pub mod flood;
pub mod http;
pub mod load;
pub mod money;
pub mod radius;
pub mod sys;

use std::io::Write;

/// Prints one metric as a JSON line on stdout, at once (progress goes to stderr).
pub fn metric(name: &str, value: f64, unit: &str) {
    // `+ 0.0` turns a negative zero (an empty f64 sum) into 0.
    let v = if value.is_finite() { (value * 1000.0).round() / 1000.0 + 0.0 } else { 0.0 };
    // In the issue's key order (a serde_json map would sort them).
    let line =
        format!(r#"{{"metric": {}, "value": {}, "unit": {}}}"#, serde_json::json!(name), v, serde_json::json!(unit));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Progress for the operator, on stderr.
pub fn progress(msg: impl std::fmt::Display) {
    eprintln!("bench-stack: {msg}");
}

/// The `p`-th percentile (0–100) by nearest rank; `None` for no samples.
pub fn percentile(samples: &[f64], p: f64) -> Option<f64> {
    let mut s: Vec<f64> = samples.iter().copied().filter(|v| v.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * s.len() as f64).ceil().max(1.0) as usize;
    s.get(rank.min(s.len()) - 1).copied()
}

/// `percentile`, or NaN for no samples (a metric line still prints, visibly empty).
pub fn pct(samples: &[f64], p: f64) -> f64 {
    percentile(samples, p).unwrap_or(f64::NAN)
}

pub fn median(samples: &[f64]) -> Option<f64> {
    percentile(samples, 50.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(percentile(&s, 50.0), Some(100.0));
        assert_eq!(percentile(&s, 99.0), Some(198.0));
        assert_eq!(percentile(&s, 100.0), Some(200.0));
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    }
}
