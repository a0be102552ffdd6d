//! Log helpers: the scenario's transfer log, written as a provider's log keeps it and read back
//! as a subject or an auditor checks it.

use super::Scenario;
use crate::decision::{Decision, StatementRefusal};
use crate::deletion::{Deletion, DeletionError};
use crate::directory::PartyId;
use crate::habilitation::Habilitation;
use crate::ledger::Status;
use crate::log::{
    Denial, HistoryReport, LogEntry, LogError, LoggedObject, OverdueError, OverdueReceipt,
    OverdueReport, Receipt, SignedTreeHead, verify_history_against, verify_overdue,
};
use crate::signed::{SignedPayload, Unverified};
use crate::stats::{Period, StatsError, UsageReport};
use crate::time::Timestamp;

impl Scenario {
    /// Logs a decision as the deciding provider's log keeps it, and returns the entry's index:
    /// for an *allow*, its receipt ([`Receipt::for_authorization`], with a fresh id, issued at
    /// the clock) signed with the provider's key; for a *deny*, its denial
    /// ([`Denial::for_decision`]).
    pub fn log_decision(&mut self, decision: &Decision) -> u64 {
        let entry = match decision {
            Decision::Allow(allow) => {
                let receipt = Receipt::for_authorization(allow, self.next_uuid(), self.now);
                let bytes = receipt.sign(self.key(allow.provider()));
                LogEntry::Receipt(LoggedObject::from_parts(bytes, receipt))
            }
            Decision::Deny(_) => LogEntry::Denial(
                Denial::for_decision(decision).unwrap_or_else(|| unreachable!("a deny")),
            ),
        };
        self.log.append(&entry)
    }

    /// Decides on a request with its basis bytes, now ([`Scenario::decide`]), and logs the
    /// decision ([`Scenario::log_decision`]).
    pub fn decide_and_log(&mut self, request: &[u8], basis: &[u8]) -> Decision {
        let decision = self.decide(request, basis);
        self.log_decision(&decision);
        decision
    }

    /// Logs a grant as issued ([`LogEntry::grant_issued`]) and returns the entry's index.
    ///
    /// # Errors
    ///
    /// [`LogError::MalformedObject`] if `grant` is not a well-formed grant.
    pub fn log_grant(&mut self, grant: &[u8]) -> Result<u64, LogError> {
        let entry = LogEntry::grant_issued(grant.to_vec())?;
        Ok(self.log.append(&entry))
    }

    /// Logs a lifecycle statement about `basis` and returns the entry's index: about a grant,
    /// attributed to its subject ([`LogEntry::statement_about_grant`]); about a habilitation, to
    /// nobody ([`LogEntry::statement_about_habilitation`]).
    ///
    /// # Errors
    ///
    /// [`LogError::MalformedObject`] if `statement` is not a well-formed statement or `basis`
    /// neither a well-formed grant nor a habilitation, [`LogError::StatementNotAboutBasis`] if
    /// the statement names other bytes than `basis`.
    pub fn log_statement(&mut self, statement: &[u8], basis: &[u8]) -> Result<u64, LogError> {
        let statement = statement.to_vec();
        let entry = if Unverified::<Habilitation>::parse(basis).is_ok() {
            LogEntry::statement_about_habilitation(statement, basis)?
        } else {
            LogEntry::statement_about_grant(statement, basis)?
        };
        Ok(self.log.append(&entry))
    }

    /// Applies a lifecycle statement now ([`Scenario::apply`]) and, if it was applied, logs it
    /// ([`Scenario::log_statement`]), as a verifier keeping a log does: a refused statement is
    /// not logged.
    ///
    /// # Errors
    ///
    /// The refusals of [`Scenario::apply`]; nothing is logged then.
    pub fn apply_and_log(
        &mut self,
        statement: &[u8],
        basis: &[u8],
    ) -> Result<Status, StatementRefusal> {
        let status = self.apply(statement, basis)?;
        self.log_statement(statement, basis)
            .unwrap_or_else(|e| unreachable!("an applied statement is about its basis: {e}"));
        Ok(status)
    }

    /// The log's current tree head, signed at the clock with the log operator's key
    /// ([`Scenario::key`] of [`Scenario::log_operator`]).
    #[must_use]
    pub fn sign_head(&self) -> Vec<u8> {
        let operator = self.log_operator;
        self.log.sign_head(self.key(operator), operator, self.now)
    }

    /// `subject`'s history as the log keeper hands it for the signed head `head` (every entry
    /// about the subject within the head's size, each with its inclusion proof), checked as the
    /// subject would check it: the head against the log operator's key, then each entry against
    /// the head ([`verify_history_against`]). An entry that fails is listed in the report's
    /// failures.
    ///
    /// # Errors
    ///
    /// The refusals of [`SignedTreeHead::verify`] for `head` (a head of another log, or signed
    /// with another key than the operator's at the clock); [`LogError::Proof`] if the head is
    /// larger than the log.
    pub fn proven_history(&self, subject: PartyId, head: &[u8]) -> Result<HistoryReport, LogError> {
        let operator = self.log_operator;
        let head = SignedTreeHead::verify(head, operator, &self.key(operator).verifying_key())?;
        let history = self.log.access_history(subject, head.tree_size())?;
        Ok(verify_history_against(&history, head))
    }

    /// The usage statistics of `period` ([`UsageReport::compute`]) over every entry of the log,
    /// against its head signed now ([`Scenario::sign_head`]), with counts below `threshold`
    /// suppressed: what a publisher computes and a reader checks with [`UsageReport::verify`].
    ///
    /// # Errors
    ///
    /// [`StatsError::PeriodAfterHead`] if `period` ends after the clock.
    pub fn usage_report(&self, period: Period, threshold: u64) -> Result<UsageReport, StatsError> {
        let operator = self.log_operator;
        let head = SignedTreeHead::verify(
            &self.sign_head(),
            operator,
            &self.key(operator).verifying_key(),
        )
        .unwrap_or_else(|e| unreachable!("the scenario's own head verifies: {e}"));
        UsageReport::compute(self.log.entries(), &head, period, threshold)
    }

    /// Makes one transfer of the canteen case and logs it: a fresh grant of the parent, a
    /// request of the mairie under it, the decision (an *allow*) and its receipt, signed by
    /// the provider. Returns the receipt as logged and its entry's index.
    ///
    /// # Panics
    ///
    /// If the scenario's grant or request is refused (a scenario that is not the canteen's).
    pub fn transfer_and_log(&mut self) -> (LoggedObject<Receipt>, u64) {
        let grant = self
            .grant()
            .build(&self.ceilings)
            .expect("the scenario's grant");
        let grant = self.sign_grant(&grant);
        let request = self.sign_request(&self.request(&grant));
        let decision = self.decide(&request, &grant);
        assert!(decision.allowed().is_some(), "the transfer is allowed");
        let index = self.log_decision(&decision);
        let bytes = self.log.entry(index).expect("just logged").to_vec();
        match LogEntry::from_bytes(&bytes) {
            Ok(LogEntry::Receipt(receipt)) => (receipt, index),
            _ => unreachable!("an allow is logged as its receipt"),
        }
    }

    /// The receipt's consumer states that it deleted the data now: its deletion statement
    /// ([`Deletion::for_receipt`]) signed with its key, appended with the log's checks
    /// ([`TransferLog::append_deletion`](crate::log::TransferLog::append_deletion)). Returns the
    /// entry's index.
    ///
    /// # Errors
    ///
    /// The refusals of [`TransferLog::append_deletion`](crate::log::TransferLog::append_deletion).
    pub fn delete_and_log(
        &mut self,
        receipt: &LoggedObject<Receipt>,
    ) -> Result<u64, DeletionError> {
        let deletion = Deletion::for_receipt(receipt, self.now, self.now);
        let bytes = deletion.sign(self.key(deletion.consumer));
        self.log.append_deletion(bytes, &self.directory)
    }

    /// The auditor's overdue query in one call: the log's head signed now, the report of the
    /// receipts overdue at `at` computed by replaying every entry
    /// ([`OverdueReport::compute`]), then checked as an auditor holding the entries checks it
    /// ([`verify_overdue`], against the log operator's key and the directory).
    ///
    /// # Errors
    ///
    /// The refusals of [`OverdueReport::compute`] and [`verify_overdue`] (for instance
    /// [`OverdueError::AfterHead`] if `at` is after the clock).
    pub fn overdue_audit(&self, at: Timestamp) -> Result<Vec<OverdueReceipt>, OverdueError> {
        let operator = self.log_operator;
        let key = self.key(operator).verifying_key();
        let head = self.sign_head();
        let entries = self.log.entries();
        let report = OverdueReport::compute(entries, &head, operator, &key, at, &self.directory)?;
        verify_overdue(&report, entries, operator, &key, &self.directory)
    }
}
