//! An amount taken from an hourly budget, and what becomes of it: the same on every limiter.

use async_trait::async_trait;

use super::to_milli;
use crate::settlement::Settlement;

/// Where a [`Charge`] was taken, able to change it afterwards: each limiter has its own.
#[async_trait]
pub(super) trait Taken: Send + Sync {
    /// Keeps `milli` thousandths instead of the `charged` ones: the difference is given back, or,
    /// when `milli` is more, added (even past the cap: it was spent).
    async fn correct(&self, charged: u64, milli: u64);

    /// Gives the `charged` thousandths back from [`Drop`], without waiting.
    fn give_back_now(&self, charged: u64);
}

/// An amount taken from a client's hourly budget for one upstream call or one upload. Until
/// [`Charge::sending`] it is given back if dropped (the submit was abandoned before anything
/// reached the provider); from then on it stands unless [`Charge::settle`] says otherwise
/// ([`crate::settlement`]), so a submit cut off mid-call (the whole submit's timeout) keeps it.
pub struct Charge {
    /// `None` once settled.
    taken: Option<Box<dyn Taken>>,
    milli: u64,
    sent: bool,
}

impl std::fmt::Debug for Charge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Charge")
            .field("milli", &self.milli)
            .field("sent", &self.sent)
            .field("settled", &self.taken.is_none())
            .finish()
    }
}

impl Charge {
    /// `milli` thousandths taken from `taken`.
    pub(super) fn new(taken: Box<dyn Taken>, milli: u64) -> Self {
        Self {
            taken: Some(taken),
            milli,
            sent: false,
        }
    }

    /// The request is about to be written to the provider: from now on, dropping the charge
    /// keeps it.
    pub fn sending(&mut self) {
        self.sent = true;
    }

    /// The amount stays spent.
    pub fn keep(mut self) {
        self.taken = None;
    }

    /// The whole amount is given back before this returns.
    pub async fn give_back(self) {
        self.correct_to(0).await;
    }

    /// Settles the charge as [`crate::settlement::settle`] decided.
    pub async fn settle(self, settlement: Settlement) {
        match settlement {
            Settlement::GiveBack => self.give_back().await,
            Settlement::Keep => self.keep(),
            Settlement::CorrectTo(amount) => self.correct_to(to_milli(amount)).await,
        }
    }

    /// Keeps `milli` thousandths instead of the amount charged (0: all given back; more than
    /// charged: the difference is added, even past the cap, since it was spent).
    async fn correct_to(mut self, milli: u64) {
        if let Some(taken) = self.taken.take() {
            if milli != self.milli {
                taken.correct(self.milli, milli).await;
            }
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        if self.sent {
            return;
        }
        if let Some(taken) = self.taken.take() {
            taken.give_back_now(self.milli);
        }
    }
}
