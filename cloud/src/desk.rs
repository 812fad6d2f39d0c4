//! The support desk's view of a purchase and its remedies, shared by `hotspotctl` and the
//! dashboard: the timeline (prompt sent → paid → grant queued → applied → online → ended) is a
//! pure function of the records; re-sending a grant, extending and disconnecting are jobs to the
//! router.

use hotspot_core::wire::{Extend, Payload, Revoke};
use hotspot_core::{MessageId, PurchaseId, RosDuration};

use crate::jobs::{JobError, send_job};
use crate::outbox::job_for;
use crate::store::{Purchase, PurchaseState, RouterRecord, SessionRecord, Store, StoreError};

/// One step of a purchase's story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub what: StepKind,
    /// When it happened, if the records say.
    pub at: Option<i64>,
    /// The detail a support person reads out (a receipt, a failure and its Daraja code).
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    PromptSent,
    Paid,
    Failed,
    GrantQueued,
    Applied,
    Online,
    Ended,
    /// Something the guest is still waiting for.
    Waiting,
}

impl StepKind {
    pub fn label(self) -> &'static str {
        match self {
            StepKind::PromptSent => "Prompt sent",
            StepKind::Paid => "Paid",
            StepKind::Failed => "Not paid",
            StepKind::GrantQueued => "Grant queued",
            StepKind::Applied => "Applied on the router",
            StepKind::Online => "Online",
            StepKind::Ended => "Ended",
            StepKind::Waiting => "Waiting",
        }
    }

    /// Whether the step is a problem the desk should look at.
    pub fn is_problem(self) -> bool {
        matches!(self, StepKind::Failed | StepKind::Waiting)
    }
}

/// The purchase's timeline as of `now`.
pub fn timeline(p: &Purchase, session: Option<&SessionRecord>, now: i64) -> Vec<Step> {
    let step = |what, at, detail: String| Step { what, at, detail };
    let mut out = vec![match &p.checkout_id {
        Some(_) => {
            step(StepKind::PromptSent, Some(p.created_at), format!("{} for {}", p.package.name(), p.package.price()))
        }
        None => step(StepKind::Waiting, Some(p.created_at), "the M-Pesa prompt was not accepted by Daraja".into()),
    }];
    match p.state {
        PurchaseState::Pending => {
            out.push(step(StepKind::Waiting, None, "no answer from M-Pesa yet (the reconciler asks again)".into()));
            return out;
        }
        PurchaseState::Failed | PurchaseState::AmountMismatch | PurchaseState::Unknown => {
            let why = p.failure.map(|f| f.as_str().replace('_', " ")).unwrap_or_else(|| p.state.as_str().into());
            let code = p.failure_code.as_deref().map(|c| format!(" (Daraja {c})")).unwrap_or_default();
            let receipt = p.receipt.as_deref().map(|r| format!("; receipt {r}")).unwrap_or_default();
            out.push(step(StepKind::Failed, Some(p.updated_at), format!("{why}{code}{receipt}")));
            return out;
        }
        PurchaseState::Paid | PurchaseState::Active => {}
    }
    let amount = p.paid_amount.map(|a| format!(" ({a})")).unwrap_or_default();
    out.push(step(StepKind::Paid, p.paid_at, format!("receipt {}{amount}", p.receipt.as_deref().unwrap_or("?"))));
    match p.job_pending {
        true => out.push(step(StepKind::Waiting, None, "the grant is not yet on the router's queue".into())),
        false => out.push(step(StepKind::GrantQueued, None, String::new())),
    }
    match p.state {
        PurchaseState::Active => out.push(step(StepKind::Applied, Some(p.updated_at), String::new())),
        _ if !p.job_pending => {
            out.push(step(StepKind::Waiting, None, "the router has not reported the grant applied".into()))
        }
        _ => {}
    }
    if let Some(s) = session {
        if let Some(at) = s.started_at {
            out.push(step(StepKind::Online, Some(at), String::new()));
        }
        let ended = match (s.revoked_at, s.ended_at) {
            (Some(at), _) => Some((at, if at < s.expires_at { "disconnected" } else { "time ran out" })),
            (None, Some(at)) => Some((at, "session ended on the router")),
            (None, None) if s.expires_at <= now => Some((s.expires_at, "time ran out")),
            _ => None,
        };
        if let Some((at, why)) = ended {
            out.push(step(StepKind::Ended, Some(at), why.into()));
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Job(#[from] JobError),
    #[error("{0}")]
    Refused(String),
}

/// Sends the router the purchase's grant again, under a new job id (the first one is in the
/// router's journal as done): for a router that lost the user (a reset, a reflash). The agent
/// puts the user back and logs the device in if it is there.
pub async fn resend_grant(
    sqs: &aws_sdk_sqs::Client,
    router: &RouterRecord,
    p: &Purchase,
    session: Option<&SessionRecord>,
    now: i64,
) -> Result<MessageId, DeskError> {
    if !matches!(p.state, PurchaseState::Paid | PurchaseState::Active) {
        return Err(DeskError::Refused(format!("purchase {} is not paid: there is no grant to send", p.id)));
    }
    if let Some(s) = session
        && (s.revoked_at.is_some() || s.expires_at <= now)
    {
        return Err(DeskError::Refused(format!("purchase {}'s time has ended: sell a new package instead", p.id)));
    }
    let Some((_, payload)) = job_for(p) else {
        return Err(DeskError::Refused(format!("purchase {} owes its router no grant", p.id)));
    };
    let id: MessageId = format!("resend:{}:{now}", p.id)
        .parse()
        .map_err(|e: hotspot_core::IdError| DeskError::Refused(e.to_string()))?;
    Ok(send_job(sqs, router, id, payload, now).await?)
}

/// Ends a live session now: a revoke job, then the session leaves the live index. False when
/// it had already ended (the router was told again all the same).
pub async fn disconnect(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    router: &RouterRecord,
    id: &PurchaseId,
    who: &str,
    now: i64,
) -> Result<bool, DeskError> {
    if store.get_live_session(id, &router.id).await?.is_none() {
        return Err(DeskError::Refused(format!("no live session {id} at router {}; nothing was changed", router.id)));
    }
    let job = Payload::Revoke(Revoke { purchase_id: id.clone(), reason: format!("operator {who}") });
    send_job(sqs, router, MessageId::derived("operator-revoke", id), job, now).await?;
    // The job is out: the router ends the session. If this write loses a race (it expired
    // meanwhile), the session is ended all the same.
    Ok(store.revoke_live_session(id, &router.id, who, now).await?)
}

/// Gives a live session `by` more time: the cloud's expiry moves first (a conditional write,
/// so two operators extending at once extend once each, in turn), then an `extend` job tells the
/// router; if the job cannot be sent the expiry is put back. Returns the new expiry.
pub async fn extend_session(
    store: &Store,
    sqs: &aws_sdk_sqs::Client,
    router: &RouterRecord,
    id: &PurchaseId,
    by: RosDuration,
    now: i64,
) -> Result<i64, DeskError> {
    if by.is_zero() {
        return Err(DeskError::Refused("the extension must be longer than zero; nothing was changed".into()));
    }
    let Some(s) = store.get_live_session(id, &router.id).await? else {
        return Err(DeskError::Refused(format!("no live session {id} at router {}; nothing was changed", router.id)));
    };
    if s.expires_at <= now {
        return Err(DeskError::Refused(format!(
            "session {id} has expired; sell a new package instead (nothing was changed)"
        )));
    }
    let new = s.expires_at.saturating_add(by.secs() as i64);
    if !store.set_live_session_expiry(id, &router.id, s.expires_at, new).await? {
        return Err(DeskError::Refused(format!(
            "session {id} changed meanwhile (ended or extended); nothing was changed"
        )));
    }
    let job_id: MessageId =
        format!("extend:{id}:{new}").parse().map_err(|e: hotspot_core::IdError| DeskError::Refused(e.to_string()))?;
    let job = Payload::Extend(Extend { purchase_id: id.clone(), expires_at: new });
    if let Err(e) = send_job(sqs, router, job_id, job, now).await {
        // Put the expiry back so the cloud and the router agree.
        return match store.set_live_session_expiry(id, &router.id, new, s.expires_at).await {
            Ok(true) => Err(DeskError::Job(e)),
            _ => Err(DeskError::Refused(format!(
                "{e}; the cloud now says the session ends at {new} but the router was not told: extend again"
            ))),
        };
    }
    Ok(new)
}
