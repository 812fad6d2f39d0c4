//! Whether a clock reading can be believed.

/// A reading before `not_before` (the agent's build, the journal's newest record) is a router
/// that booted without a battery and has not heard from NTP yet.
pub fn plausible(now: i64, not_before: i64) -> bool {
    now >= not_before
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_clock_before_the_build_is_not_believed() {
        let built = 1_793_491_200;
        assert!(!super::plausible(300, built), "1970, fresh from boot");
        assert!(!super::plausible(built - 1, built));
        assert!(super::plausible(built, built));
        assert!(super::plausible(built + 86_400 * 365, built));
    }
}
