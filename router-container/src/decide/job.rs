//! What a job that arrived means, given what the journal already holds for its id, and whether
//! a grant can still be put on the router.

use crate::journal::{GrantRecord, GrantState, JobState};

/// What to do with a verified job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Never seen: record it, then apply it.
    Record,
    /// Recorded but not finished (a crash, or RouterOS was down): apply it again.
    Resume,
    /// Finished before: only acknowledge it.
    AlreadyDone(JobState),
}

/// The journal's state for a job's id decides. A refused copy (stale, from the future,
/// unreadable) never blocks a later valid one with the same id: that one is recorded anew.
pub fn admit(journaled: Option<JobState>) -> Admission {
    match journaled {
        None | Some(JobState::Rejected) => Admission::Record,
        Some(JobState::Received) => Admission::Resume,
        Some(done) => Admission::AlreadyDone(done),
    }
}

/// What applying a grant comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantStep {
    /// Revoked (or expired) before it was applied: nothing to do, and that is an outcome.
    AlreadyEnded,
    /// Its time ran out while it waited: it can no longer be applied.
    TooLate,
    /// Put it on the router.
    Apply,
}

pub fn grant_step(g: &GrantRecord, now: i64) -> GrantStep {
    if g.state == GrantState::Ended {
        GrantStep::AlreadyEnded
    } else if g.expires_at <= now {
        GrantStep::TooLate
    } else {
        GrantStep::Apply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_job_is_only_acknowledged() {
        assert_eq!(admit(None), Admission::Record);
        assert_eq!(admit(Some(JobState::Received)), Admission::Resume);
        for done in [JobState::Applied, JobState::Failed] {
            assert_eq!(admit(Some(done)), Admission::AlreadyDone(done));
        }
        assert_eq!(admit(Some(JobState::Rejected)), Admission::Record, "a refused copy blocks nothing");
    }

    #[test]
    fn a_grant_is_applied_only_while_it_has_time() {
        let mut g = crate::decide::reconcile::tests::grant("DA:A1:19:00:00:01", 1_000);
        assert_eq!(grant_step(&g, 999), GrantStep::Apply);
        assert_eq!(grant_step(&g, 1_000), GrantStep::TooLate, "expiry is exclusive");
        g.state = GrantState::Ended;
        assert_eq!(grant_step(&g, 10), GrantStep::AlreadyEnded);
    }
}
