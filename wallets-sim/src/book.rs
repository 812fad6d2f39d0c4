//! What both simulators keep: issued tokens, the payments asked for and how each ends, the
//! callbacks sent, injected faults. The wire formats are each provider's module's.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

/// How a payment ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Paid,
    /// Failed with the provider's own code (MTN: `APPROVAL_REJECTED`; Airtel: `DP00800001005`).
    Failed(String),
    /// Left pending until [`crate::WalletSim::answer`].
    Pending,
}

/// How its callback goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    #[default]
    Once,
    /// Lost: only the status query tells.
    Never,
    /// Delivered twice.
    Twice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub decision: Decision,
    pub delivery: Delivery,
}

impl Scenario {
    pub fn paid() -> Scenario {
        Scenario { decision: Decision::Paid, delivery: Delivery::Once }
    }
    pub fn failed(code: &str) -> Scenario {
        Scenario { decision: Decision::Failed(code.into()), delivery: Delivery::Once }
    }
    pub fn pending() -> Scenario {
        Scenario { decision: Decision::Pending, delivery: Delivery::Once }
    }
    /// The same ending, its callback lost.
    pub fn lost(self) -> Scenario {
        Scenario { delivery: Delivery::Never, ..self }
    }
    /// The same ending, its callback sent twice.
    pub fn twice(self) -> Scenario {
        Scenario { delivery: Delivery::Twice, ..self }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayState {
    Pending,
    Paid { receipt: String },
    Failed { code: String },
}

/// A payment as the simulator took it.
#[derive(Debug, Clone)]
pub struct PaymentRecord {
    /// The key the status query uses (MTN: X-Reference-Id; Airtel: the transaction id).
    pub reference: String,
    /// The merchant's own id (MTN: externalId; Airtel: the transaction id again).
    pub external_id: String,
    pub msisdn: String,
    /// As sent, text: `"1000"`, `"5.00"`.
    pub amount: String,
    pub currency: String,
    pub callback_url: Option<String>,
    pub state: PayState,
    pub delivery: Delivery,
    pub callbacks_sent: usize,
}

/// Which request a fault stands in front of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Token,
    Pay,
    Status,
}

#[derive(Default)]
pub(crate) struct BookState {
    pub tokens: HashMap<String, Instant>,
    pub payments: Vec<PaymentRecord>,
    pub scenarios: VecDeque<Scenario>,
    pub faults: HashMap<Endpoint, VecDeque<u16>>,
    /// Statuses answered after a payment was taken (its prompt is out, the answer lost).
    pub lost_answers: VecDeque<u16>,
    pub hits: HashMap<Endpoint, usize>,
    pub seq: u64,
}

#[derive(Default)]
pub(crate) struct Book {
    state: Mutex<BookState>,
}

impl Book {
    pub fn lock(&self) -> MutexGuard<'_, BookState> {
        // Plain data: a panic elsewhere while holding the lock leaves it usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a request and returns the status of a fault queued in front of it, if any.
    pub fn hit(&self, e: Endpoint) -> Option<u16> {
        let mut s = self.lock();
        *s.hits.entry(e).or_default() += 1;
        s.faults.get_mut(&e).and_then(VecDeque::pop_front)
    }

    /// The status to answer a payment just taken with instead of the provider's own, if queued.
    pub fn lost_answer(&self) -> Option<u16> {
        self.lock().lost_answers.pop_front()
    }

    pub fn issue_token(&self, life: Duration) -> String {
        let t = daraja_sim::serve::random_string(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40);
        self.lock().tokens.insert(t.clone(), Instant::now() + life);
        t
    }

    pub fn token_ok(&self, t: &str) -> bool {
        self.lock().tokens.get(t).is_some_and(|until| Instant::now() < *until)
    }

    /// Records a new payment, decided by the next queued scenario (else paid). Returns it.
    pub fn take(&self, mut p: PaymentRecord, receipt: impl FnOnce(u64) -> String) -> PaymentRecord {
        let mut s = self.lock();
        let sc = s.scenarios.pop_front().unwrap_or_else(Scenario::paid);
        s.seq += 1;
        p.state = match sc.decision {
            Decision::Paid => PayState::Paid { receipt: receipt(s.seq) },
            Decision::Failed(code) => PayState::Failed { code },
            Decision::Pending => PayState::Pending,
        };
        p.delivery = sc.delivery;
        s.payments.push(p.clone());
        p
    }

    pub fn find(&self, reference: &str) -> Option<PaymentRecord> {
        self.lock().payments.iter().find(|p| p.reference == reference).cloned()
    }

    /// Decides a pending payment; the decided record, or `None` if it is not pending.
    pub fn decide(&self, reference: &str, d: Decision, receipt: impl FnOnce(u64) -> String) -> Option<PaymentRecord> {
        let mut s = self.lock();
        s.seq += 1;
        let seq = s.seq;
        let p = s.payments.iter_mut().find(|p| p.reference == reference && p.state == PayState::Pending)?;
        p.state = match d {
            Decision::Paid => PayState::Paid { receipt: receipt(seq) },
            Decision::Failed(code) => PayState::Failed { code },
            Decision::Pending => return None,
        };
        Some(p.clone())
    }

    pub fn count_callback(&self, reference: &str) {
        if let Some(p) = self.lock().payments.iter_mut().find(|p| p.reference == reference) {
            p.callbacks_sent += 1;
        }
    }
}
