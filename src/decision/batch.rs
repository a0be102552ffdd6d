//! Deciding a queue of requests on several threads.

use super::Decision;
use super::verifier::{Basis, Verifier};
use crate::ledger::Ledger;
use crate::time::Timestamp;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

impl<L: Ledger + ?Sized> Verifier<'_, L> {
    /// Decides every queued `(request, basis)` at `now`, on `threads` scoped threads, and returns
    /// the decisions in the queue's order.
    ///
    /// Each decision is the one [`Verifier::decide`] gives, recorded in the ledger the same way.
    /// Requests on one basis compete at the ledger's commit point as concurrent calls to
    /// `decide` do, so the quota and replay rules hold whatever the interleaving; which of them
    /// wins is not the queue's order. The threads take requests one at a time from a shared
    /// cursor, so a slow request does not hold up a whole share of the queue. The core reads no
    /// system state: the caller chooses `threads` (for instance
    /// `std::thread::available_parallelism()`). With one thread, no thread is spawned.
    ///
    /// ```
    /// use consentry::Basis;
    /// use consentry::testing::Scenario;
    /// use std::num::NonZeroUsize;
    ///
    /// let s = Scenario::canteen();
    /// let grants: Vec<Vec<u8>> =
    ///     (0..4).map(|_| s.sign_grant(&s.grant().build(&s.ceilings).unwrap())).collect();
    /// let requests: Vec<Vec<u8>> = grants.iter().map(|g| s.sign_request(&s.request(g))).collect();
    /// let queue: Vec<(&[u8], Basis<'_>)> =
    ///     requests.iter().zip(&grants).map(|(r, g)| (&r[..], Basis::Signed(g))).collect();
    /// let decisions = s.verifier().decide_batch(&queue, s.now, NonZeroUsize::new(2).unwrap());
    /// assert!(decisions.iter().all(|d| d.is_allow()));
    /// ```
    #[must_use]
    pub fn decide_batch(
        &self,
        queue: &[(&[u8], Basis<'_>)],
        now: Timestamp,
        threads: NonZeroUsize,
    ) -> Vec<Decision> {
        let threads = threads.get().min(queue.len());
        if threads <= 1 {
            return queue
                .iter()
                .map(|(request, basis)| self.decide(request, *basis, now))
                .collect();
        }
        let cursor = AtomicUsize::new(0);
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = cursor.fetch_add(1, Ordering::Relaxed);
                let Some((request, basis)) = queue.get(i) else {
                    return done;
                };
                done.push((i, self.decide(request, *basis, now)));
            }
        };
        let mut decided: Vec<(usize, Decision)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
            // The calling thread works too.
            let mut all = work();
            for worker in workers {
                // `decide` never panics; were a thread to, its panic is the caller's.
                match worker.join() {
                    Ok(done) => all.extend(done),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            all
        });
        decided.sort_unstable_by_key(|(i, _)| *i);
        decided.into_iter().map(|(_, decision)| decision).collect()
    }
}
