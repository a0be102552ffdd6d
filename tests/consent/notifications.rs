//! Notifications: every lifecycle change and every key compromise produces exactly the
//! notifications the rules name (recipients, numbers, what they carry); a second provider
//! applying a received pause denies accordingly; the receiving side ignores a redelivery and
//! refuses a forged, misaddressed, out-of-order or forked notification with its code.

use consentry::decision::{Basis, Reason};
use consentry::directory::{DirectoryHistory, DirectorySnapshot};
use consentry::ledger::Status;
use consentry::notify::{
    Carried, InMemoryOutbox, Inbox, Notices, Notification, NotificationError, Notifier, Outbox,
    Queued, Received, StreamState,
};
use consentry::signed::{SignedPayload, Unverified};
use consentry::statement::Action;
use consentry::testing::{Scenario, quotient_familial};
use consentry::{Decision, Digest, InMemoryLedger, PartyId, SigningKey, Verifier};

/// The canteen grant covering both providers: DGFiP (the emitter) and CNAF.
fn two_provider_grant(s: &Scenario) -> Vec<u8> {
    let grant = s
        .grant()
        .cover(s.cnaf, [quotient_familial()])
        .build(&s.ceilings)
        .expect("within the ceilings");
    s.sign_grant(&grant)
}

fn notifier(s: &Scenario) -> Notifier<'_> {
    Notifier {
        emitter: s.dgfip,
        key: s.key(s.dgfip),
    }
}

/// The parties, in ascending id order (the order the rules give to recipients).
fn sorted(mut parties: Vec<PartyId>) -> Vec<PartyId> {
    parties.sort();
    parties
}

fn claims(q: &Queued) -> Notification {
    Unverified::<Notification>::parse(&q.bytes)
        .expect("a queued notification parses")
        .claims()
        .clone()
}

/// (recipient, seq, what it carries) of each queued notification, checking that its claims
/// repeat its stream.
fn summary(queued: &[Queued]) -> Vec<(PartyId, u64, Carried)> {
    queued
        .iter()
        .map(|q| {
            let n = claims(q);
            assert_eq!(
                (n.emitter, n.recipient, n.seq),
                (q.emitter, q.recipient, q.seq)
            );
            (q.recipient, q.seq, n.carried)
        })
        .collect()
}

fn carried(statement: &[u8], basis: &[u8]) -> Carried {
    Carried::Statement {
        statement: statement.to_vec(),
        basis: basis.to_vec(),
    }
}

#[test]
fn every_lifecycle_change_of_a_grant_notifies_its_consumer_and_other_providers() {
    let s = Scenario::canteen();
    let grant = two_provider_grant(&s);
    let v = s.verifier();
    let n = notifier(&s);
    let recipients = sorted(vec![s.cnaf, s.mairie]);
    let mut all = Vec::new();
    for (i, action) in [Action::Pause, Action::Resume, Action::Revoke]
        .into_iter()
        .enumerate()
    {
        let statement = s.statement(&grant, action, s.parent);
        let (_, queued) = v
            .apply_statement_notifying(&statement, &grant, s.now, &n)
            .unwrap_or_else(|e| panic!("{action:?}: {e}"));
        let seq = i as u64 + 1;
        let expected: Vec<_> = recipients
            .iter()
            .map(|r| (*r, seq, carried(&statement, &grant)))
            .collect();
        assert_eq!(summary(&queued), expected, "{action:?}");
        for q in &queued {
            assert_eq!(claims(q).issued_at, s.now);
        }
        all.extend(queued);
    }
    // The outbox holds them all, in queue order.
    assert_eq!(s.ledger.pending(100).unwrap(), all);
    // A statement the ledger refuses (revocation is final) queues nothing.
    let pause = s.statement(&grant, Action::Pause, s.parent);
    assert!(
        v.apply_statement_notifying(&pause, &grant, s.now, &n)
            .is_err()
    );
    assert_eq!(s.ledger.pending(100).unwrap(), all);
    assert_eq!(s.ledger.last_seq(s.dgfip, s.mairie), Ok(3));
}

#[test]
fn every_lifecycle_change_of_a_habilitation_notifies_its_consumer_and_other_providers() {
    let s = Scenario::canteen();
    let habilitation = s.habilitation().sign(s.key(s.authority));
    let v = s.verifier();
    let n = notifier(&s);
    let recipients = sorted(vec![s.cnaf, s.mairie]);
    for (i, action) in [Action::Pause, Action::Resume, Action::Revoke]
        .into_iter()
        .enumerate()
    {
        let statement = s.statement(&habilitation, action, s.authority);
        let (_, queued) = v
            .apply_statement_notifying(&statement, &habilitation, s.now, &n)
            .unwrap_or_else(|e| panic!("{action:?}: {e}"));
        let expected: Vec<_> = recipients
            .iter()
            .map(|r| (*r, i as u64 + 1, carried(&statement, &habilitation)))
            .collect();
        assert_eq!(summary(&queued), expected, "{action:?}");
    }
}

#[test]
fn the_emitter_is_never_notified_and_a_consumer_emitter_notifies_the_providers() {
    let s = Scenario::canteen();
    let grant = two_provider_grant(&s);
    let statement = s.statement(&grant, Action::Pause, s.parent);
    let g = Unverified::<consentry::grant::Grant>::parse(&grant).unwrap();
    let g = g.claims();
    let from_mairie =
        Notices::for_statement(s.mairie, g.consumer(), g.scope(), &statement, &grant, s.now);
    assert_eq!(from_mairie.recipients, sorted(vec![s.dgfip, s.cnaf]));
    let from_dgfip =
        Notices::for_statement(s.dgfip, g.consumer(), g.scope(), &statement, &grant, s.now);
    assert_eq!(from_dgfip.recipients, sorted(vec![s.cnaf, s.mairie]));
}

fn operator() -> SigningKey {
    SigningKey::from_seed(&[0x0b; 32])
}

fn history(s: &Scenario) -> DirectoryHistory {
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), s.now.minus_secs(3600));
    DirectoryHistory::load(&genesis.sign(&operator()), &operator().verifying_key()).unwrap()
}

#[test]
fn a_key_compromise_notifies_every_provider_and_consumer_but_the_emitter() {
    let s = Scenario::canteen();
    let mut h = history(&s);
    let kid = s.key(s.parent).key_id();
    let update = h
        .next_update(s.now)
        .report_compromise(kid, s.now.minus_secs(60));
    let signed = update.sign(&operator());
    h.apply(&signed).unwrap();
    let notices = Notices::for_directory_update(s.dgfip, h.current(), &update, &signed, s.now);
    // Providers and consumers of the canteen's directory: CNAF, the two city halls.
    assert_eq!(
        notices.recipients,
        sorted(vec![s.cnaf, s.mairie, s.other_consumer])
    );
    let outbox = InMemoryOutbox::new();
    let queued = outbox.enqueue(&notifier(&s), &notices).unwrap();
    let expected: Vec<_> = notices
        .recipients
        .iter()
        .map(|r| (*r, 1, Carried::DirectoryUpdate(signed.clone())))
        .collect();
    assert_eq!(summary(&queued), expected);
    // An update with no compromise (a new key) notifies nobody.
    let fresh = SigningKey::from_seed(&[0x5e; 32]);
    let quiet = h.next_update(s.now).add_key(
        s.parent,
        consentry::PartyKey::new(fresh.verifying_key(), s.now),
    );
    let quiet_signed = quiet.sign(&operator());
    h.apply(&quiet_signed).unwrap();
    let none = Notices::for_directory_update(s.dgfip, h.current(), &quiet, &quiet_signed, s.now);
    assert!(none.recipients.is_empty());
    assert!(outbox.enqueue(&notifier(&s), &none).unwrap().is_empty());
}

/// CNAF's verifier, on its own ledger.
fn cnaf_verifier<'a>(s: &'a Scenario, ledger: &'a InMemoryLedger) -> Verifier<'a, InMemoryLedger> {
    Verifier::new(s.cnaf, &s.directory, &s.ceilings, ledger)
}

/// A request from the city hall to CNAF under `grant`.
fn request_to_cnaf(s: &mut Scenario, grant: &[u8]) -> Vec<u8> {
    let verifier = s.verifier_provider;
    s.verifier_provider = s.cnaf;
    let request = s.sign_request(&s.request(grant));
    s.verifier_provider = verifier;
    request
}

/// DGFiP applies a pause and notifies; the notification for CNAF.
fn paused_at_dgfip(s: &Scenario, grant: &[u8]) -> Vec<u8> {
    let statement = s.statement(grant, Action::Pause, s.parent);
    let (_, queued) = s
        .verifier()
        .apply_statement_notifying(&statement, grant, s.now, &notifier(s))
        .unwrap();
    queued
        .into_iter()
        .find(|q| q.recipient == s.cnaf)
        .expect("CNAF is notified")
        .bytes
}

#[test]
fn a_second_provider_applying_a_received_pause_denies_the_next_request() {
    let mut s = Scenario::canteen();
    let grant = two_provider_grant(&s);
    let cnaf_ledger = InMemoryLedger::new();
    // Without the notification, CNAF (here on a ledger of its own) would allow.
    let control = InMemoryLedger::new();
    let before = request_to_cnaf(&mut s, &grant);
    assert!(
        cnaf_verifier(&s, &control)
            .decide(&before, Basis::Signed(&grant), s.now)
            .is_allow()
    );
    let note = paused_at_dgfip(&s, &grant);
    let mut inbox = Inbox::new(s.cnaf);
    let v = cnaf_verifier(&s, &cnaf_ledger);
    assert_eq!(
        inbox.receive_statement(&note, &v, s.now),
        Ok(Received::Applied(Status::Paused { since: s.now }))
    );
    assert_eq!(inbox.last_seq(s.dgfip), 1);
    let after = request_to_cnaf(&mut s, &grant);
    match cnaf_verifier(&s, &cnaf_ledger).decide(&after, Basis::Signed(&grant), s.now) {
        Decision::Deny(refusal) => {
            assert_eq!(refusal.reasons(), &[Reason::Paused { since: s.now }]);
        }
        Decision::Allow(_) => panic!("a paused grant was allowed"),
    }
}

#[test]
fn a_redelivery_is_ignored_and_a_fork_refused() {
    let s = Scenario::canteen();
    let grant = two_provider_grant(&s);
    let note = paused_at_dgfip(&s, &grant);
    let cnaf_ledger = InMemoryLedger::new();
    let v = cnaf_verifier(&s, &cnaf_ledger);
    let mut inbox = Inbox::new(s.cnaf);
    assert!(matches!(
        inbox.receive_statement(&note, &v, s.now),
        Ok(Received::Applied(_))
    ));
    // The same bytes again: nothing done (the ledger would have refused a duplicate).
    assert_eq!(
        inbox.receive_statement(&note, &v, s.now),
        Ok(Received::AlreadyApplied)
    );
    assert_eq!(inbox.last_seq(s.dgfip), 1);
    // Another notification under number 1, validly signed: a fork.
    let other = notifier(&s).sign(
        s.cnaf,
        1,
        s.now.plus_secs(1),
        &carried(&s.statement(&grant, Action::Resume, s.parent), &grant),
    );
    let err = inbox.receive_statement(&other, &v, s.now).unwrap_err();
    assert_eq!(err, NotificationError::Fork { seq: 1 });
    assert_eq!(err.code(), "notification/fork");
}

#[test]
fn a_notification_out_of_order_is_refused_then_accepted_in_order() {
    let s = Scenario::canteen();
    let grant = two_provider_grant(&s);
    let cnaf_ledger = InMemoryLedger::new();
    let v = cnaf_verifier(&s, &cnaf_ledger);
    let n = notifier(&s);
    let pause = n.sign(
        s.cnaf,
        1,
        s.now,
        &carried(&s.statement(&grant, Action::Pause, s.parent), &grant),
    );
    let resume = n.sign(
        s.cnaf,
        2,
        s.now,
        &carried(&s.statement(&grant, Action::Resume, s.parent), &grant),
    );
    let mut inbox = Inbox::new(s.cnaf);
    let err = inbox.receive_statement(&resume, &v, s.now).unwrap_err();
    assert_eq!(
        err,
        NotificationError::OutOfOrder {
            expected: 1,
            found: 2
        }
    );
    assert_eq!(err.code(), "notification/out_of_order");
    assert_eq!(inbox.last_seq(s.dgfip), 0);
    assert!(matches!(
        inbox.receive_statement(&pause, &v, s.now),
        Ok(Received::Applied(Status::Paused { .. }))
    ));
    assert_eq!(
        inbox.receive_statement(&resume, &v, s.now),
        Ok(Received::Applied(Status::Active))
    );
}

/// The digest an inbox keeps of a notification, as `docs/format.md` §14.2 gives it: SHA-256 of
/// the notification's bytes as signed (computed here apart from the library's objects).
fn digest_of(notification: &[u8]) -> Digest {
    Digest::of(notification)
}

/// DGFiP's notifications to CNAF numbered 1 (the pause) and 2 (the resume) of the grant.
fn pause_then_resume(s: &Scenario, grant: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let n = notifier(s);
    let pause = s.statement(grant, Action::Pause, s.parent);
    let resume = s.statement(grant, Action::Resume, s.parent);
    (
        n.sign(s.cnaf, 1, s.now, &carried(&pause, grant)),
        n.sign(s.cnaf, 2, s.now, &carried(&resume, grant)),
    )
}

/// A restarted service resumes its inbox from the stream states it saved: the next number is
/// applied, a redelivery still ignored and a fork still refused. Without them, the restarted
/// inbox refuses every later notification of the stream as out of order.
#[test]
fn a_restarted_inbox_resumes_its_streams_from_their_saved_states() {
    let s = Scenario::canteen();
    let grant = two_provider_grant(&s);
    // The ledger outlives the inbox, as a durable store does.
    let cnaf_ledger = InMemoryLedger::new();
    let v = cnaf_verifier(&s, &cnaf_ledger);
    let (pause, resume) = pause_then_resume(&s, &grant);
    let mut inbox = Inbox::new(s.cnaf);
    assert!(inbox.take_changed().is_empty());
    assert!(matches!(
        inbox.receive_statement(&pause, &v, s.now),
        Ok(Received::Applied(Status::Paused { .. }))
    ));
    let saved: Vec<Vec<u8>> = inbox
        .take_changed()
        .iter()
        .map(StreamState::to_bytes)
        .collect();
    let mut expected = s.dgfip.as_bytes().to_vec();
    expected.extend(1u64.to_be_bytes());
    expected.extend(digest_of(&pause).as_bytes());
    assert_eq!(saved, [expected]);
    // Taken: nothing changed since, and a reception that changes nothing adds nothing.
    assert!(inbox.take_changed().is_empty());
    assert_eq!(
        inbox.receive_statement(&pause, &v, s.now),
        Ok(Received::AlreadyApplied)
    );
    let third = notifier(&s).sign(
        s.cnaf,
        3,
        s.now,
        &carried(&s.statement(&grant, Action::Revoke, s.parent), &grant),
    );
    assert!(inbox.receive_statement(&third, &v, s.now).is_err());
    assert!(inbox.take_changed().is_empty());
    drop(inbox);

    // The restart, without the saved state: the stream is stuck.
    let mut forgetful = Inbox::new(s.cnaf);
    assert_eq!(
        forgetful.receive_statement(&resume, &v, s.now),
        Err(NotificationError::OutOfOrder {
            expected: 1,
            found: 2
        })
    );
    // With it: the stream goes on where it was.
    let mut inbox = Inbox::new(s.cnaf);
    for bytes in &saved {
        inbox.resume(StreamState::from_bytes(bytes).unwrap());
    }
    assert_eq!(inbox.last_seq(s.dgfip), 1);
    assert!(
        inbox.take_changed().is_empty(),
        "a resumed stream is not a change"
    );
    assert_eq!(
        inbox.receive_statement(&pause, &v, s.now),
        Ok(Received::AlreadyApplied)
    );
    let forked = notifier(&s).sign(
        s.cnaf,
        1,
        s.now.plus_secs(1),
        &carried(&s.statement(&grant, Action::Resume, s.parent), &grant),
    );
    assert_eq!(
        inbox.receive_statement(&forked, &v, s.now),
        Err(NotificationError::Fork { seq: 1 })
    );
    assert_eq!(
        inbox.receive_statement(&resume, &v, s.now),
        Ok(Received::Applied(Status::Active))
    );
    let changed = inbox.take_changed();
    assert_eq!(changed.len(), 1);
    assert_eq!((changed[0].emitter(), changed[0].last()), (s.dgfip, 2));
    assert_eq!(inbox.stream(s.dgfip), Some(changed[0].clone()));
    assert_eq!(inbox.stream(s.cnaf), None);
}

/// A service that stops after a reception and before saving its state resumes one step behind:
/// the notification, delivered again, counts as delivered and its statement is refused as a
/// duplicate, not applied twice.
#[test]
fn an_inbox_resumed_one_step_behind_refuses_the_statement_again() {
    let s = Scenario::canteen();
    let grant = two_provider_grant(&s);
    let cnaf_ledger = InMemoryLedger::new();
    let v = cnaf_verifier(&s, &cnaf_ledger);
    let (pause, resume) = pause_then_resume(&s, &grant);
    let mut inbox = Inbox::new(s.cnaf);
    assert!(matches!(
        inbox.receive_statement(&pause, &v, s.now),
        Ok(Received::Applied(_))
    ));
    // Stopped before saving: nothing was saved of the stream.
    let mut inbox = Inbox::new(s.cnaf);
    let got = inbox.receive_statement(&pause, &v, s.now).unwrap();
    assert!(
        matches!(&got, Received::StatementRefused(r) if r.code() == "duplicate_statement"),
        "{got:?}"
    );
    assert_eq!(inbox.last_seq(s.dgfip), 1);
    assert_eq!(
        inbox.receive_statement(&resume, &v, s.now),
        Ok(Received::Applied(Status::Active))
    );
}

/// A resumed stream keeps the digests of its last [`Inbox::KEPT`] notifications, no more: of a
/// stream at 300, number 45 (the oldest kept) is compared, 44 is too old to compare, and the
/// digest kept for each number is the one at its place.
#[test]
fn a_resumed_stream_compares_exactly_the_numbers_it_keeps() {
    let s = Scenario::canteen();
    let grant = two_provider_grant(&s);
    let cnaf_ledger = InMemoryLedger::new();
    let v = cnaf_verifier(&s, &cnaf_ledger);
    let pause = carried(&s.statement(&grant, Action::Pause, s.parent), &grant);
    let note = |seq| notifier(&s).sign(s.cnaf, seq, s.now, &pause);
    // Numbers 45 to 300 kept; the digests of 45, 100 and 300 are those of real notifications.
    let mut bytes = s.dgfip.as_bytes().to_vec();
    bytes.extend(300u64.to_be_bytes());
    for seq in 45..=300 {
        let d = match seq {
            45 | 100 | 300 => digest_of(&note(seq)),
            other => Digest::of(&u64::to_be_bytes(other)),
        };
        bytes.extend(d.as_bytes());
    }
    let mut inbox = Inbox::new(s.cnaf);
    inbox.resume(StreamState::from_bytes(&bytes).unwrap());
    for seq in [45, 100, 300] {
        assert_eq!(
            inbox.receive_statement(&note(seq), &v, s.now),
            Ok(Received::AlreadyApplied),
            "{seq}"
        );
    }
    for seq in [46, 99, 101, 299] {
        assert_eq!(
            inbox.receive_statement(&note(seq), &v, s.now),
            Err(NotificationError::Fork { seq }),
            "{seq}"
        );
    }
    assert_eq!(
        inbox.receive_statement(&note(44), &v, s.now),
        Err(NotificationError::Stale { seq: 44 })
    );
    assert_eq!(
        inbox.receive_statement(&note(302), &v, s.now),
        Err(NotificationError::OutOfOrder {
            expected: 301,
            found: 302
        })
    );
    assert!(matches!(
        inbox.receive_statement(&note(301), &v, s.now),
        Ok(Received::Applied(_))
    ));
    // Still 256 kept: 45 is now too old, 46 the oldest compared.
    let state = inbox.stream(s.dgfip).unwrap();
    assert_eq!(state.to_bytes().len(), 24 + 32 * Inbox::KEPT);
    assert_eq!(
        inbox.receive_statement(&note(45), &v, s.now),
        Err(NotificationError::Stale { seq: 45 })
    );
    assert_eq!(
        inbox.receive_statement(&note(46), &v, s.now),
        Err(NotificationError::Fork { seq: 46 })
    );
    // A stream of 255 grows to keep 256: number 1 is still compared after 256 arrives.
    let mut bytes = s.dgfip.as_bytes().to_vec();
    bytes.extend(255u64.to_be_bytes());
    bytes.extend(digest_of(&note(1)).as_bytes());
    for seq in 2..=255u64 {
        bytes.extend(Digest::of(&seq.to_be_bytes()).as_bytes());
    }
    let mut inbox = Inbox::new(s.cnaf);
    inbox.resume(StreamState::from_bytes(&bytes).unwrap());
    assert!(matches!(
        inbox.receive_statement(&note(256), &v, s.now),
        Ok(Received::StatementRefused(_))
    ));
    assert_eq!(
        inbox.receive_statement(&note(1), &v, s.now),
        Ok(Received::AlreadyApplied)
    );
    assert_eq!(
        inbox.stream(s.dgfip).unwrap().to_bytes().len(),
        24 + 32 * Inbox::KEPT
    );
}

#[test]
fn a_misaddressed_forged_or_unconcerned_notification_is_refused() {
    let s = Scenario::canteen();
    let grant = two_provider_grant(&s);
    let cnaf_ledger = InMemoryLedger::new();
    let v = cnaf_verifier(&s, &cnaf_ledger);
    let what = carried(&s.statement(&grant, Action::Pause, s.parent), &grant);
    let mut inbox = Inbox::new(s.cnaf);
    // For the city hall, not for CNAF.
    let to_mairie = notifier(&s).sign(s.mairie, 1, s.now, &what);
    let err = inbox.receive_statement(&to_mairie, &v, s.now).unwrap_err();
    assert_eq!(
        err,
        NotificationError::Misaddressed {
            recipient: s.mairie
        }
    );
    assert_eq!(err.code(), "notification/misaddressed");
    // Claiming DGFiP as emitter, signed with the city hall's key.
    let impostor = Notifier {
        emitter: s.dgfip,
        key: s.key(s.mairie),
    };
    let err = inbox
        .receive_statement(&impostor.sign(s.cnaf, 1, s.now, &what), &v, s.now)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.detail_code()),
        ("notification/forged", "signature/not_signers_key")
    );
    // A byte of the signature changed.
    let mut tampered = notifier(&s).sign(s.cnaf, 1, s.now, &what);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let err = inbox.receive_statement(&tampered, &v, s.now).unwrap_err();
    assert_eq!(
        (err.code(), err.detail_code()),
        ("notification/forged", "signature/invalid")
    );
    // Not a notification at all.
    let err = inbox.receive_statement(&grant, &v, s.now).unwrap_err();
    assert_eq!(
        (err.code(), err.detail_code()),
        ("notification/malformed", "envelope/wrong_kind")
    );
    // Validly signed by a party with nothing to do with the grant.
    let stranger = Notifier {
        emitter: s.other_consumer,
        key: s.key(s.other_consumer),
    };
    let err = inbox
        .receive_statement(&stranger.sign(s.cnaf, 1, s.now, &what), &v, s.now)
        .unwrap_err();
    assert_eq!(
        err,
        NotificationError::EmitterNotConcerned {
            emitter: s.other_consumer
        }
    );
    assert_eq!(err.code(), "notification/emitter_not_concerned");
    // A directory update where a statement is expected.
    let err = inbox
        .receive_statement(
            &notifier(&s).sign(s.cnaf, 1, s.now, &Carried::DirectoryUpdate(vec![1])),
            &v,
            s.now,
        )
        .unwrap_err();
    assert_eq!(err.code(), "notification/wrong_carried");
    // None of these advanced the stream, nor touched the ledger.
    assert_eq!(inbox.last_seq(s.dgfip), 0);
    assert!(matches!(
        inbox.receive_statement(&notifier(&s).sign(s.cnaf, 1, s.now, &what), &v, s.now),
        Ok(Received::Applied(Status::Paused { .. }))
    ));
}

#[test]
fn a_carried_statement_the_ledger_refuses_still_counts_as_delivered() {
    let s = Scenario::canteen();
    let grant = two_provider_grant(&s);
    let cnaf_ledger = InMemoryLedger::new();
    let v = cnaf_verifier(&s, &cnaf_ledger);
    let pause = s.statement(&grant, Action::Pause, s.parent);
    // CNAF got the pause directly from the subject first.
    v.apply_statement(&pause, Basis::Signed(&grant), s.now)
        .unwrap();
    let mut inbox = Inbox::new(s.cnaf);
    let note = notifier(&s).sign(s.cnaf, 1, s.now, &carried(&pause, &grant));
    let got = inbox.receive_statement(&note, &v, s.now).unwrap();
    assert!(
        matches!(&got, Received::StatementRefused(r) if r.code() == "duplicate_statement"),
        "{got:?}"
    );
    assert_eq!(inbox.last_seq(s.dgfip), 1);
}

#[test]
fn a_received_compromise_is_applied_to_the_directory_history() {
    let s = Scenario::canteen();
    let mut at_dgfip = history(&s);
    let mut at_cnaf = history(&s);
    let kid = s.key(s.parent).key_id();
    let update = at_dgfip
        .next_update(s.now)
        .report_compromise(kid, s.now.minus_secs(60));
    let signed = update.sign(&operator());
    at_dgfip.apply(&signed).unwrap();
    let notices =
        Notices::for_directory_update(s.dgfip, at_dgfip.current(), &update, &signed, s.now);
    let queued = InMemoryOutbox::new()
        .enqueue(&notifier(&s), &notices)
        .unwrap();
    let note = &queued.iter().find(|q| q.recipient == s.cnaf).unwrap().bytes;
    let mut inbox = Inbox::new(s.cnaf);
    assert_eq!(
        inbox.receive_update(note, &mut at_cnaf),
        Ok(Received::DirectoryUpdated { seq: 1 })
    );
    assert_eq!(
        inbox.receive_update(note, &mut at_cnaf),
        Ok(Received::AlreadyApplied)
    );
    assert_eq!(at_cnaf.version(), 1);
    // The parent's key no longer signs anything issued from the compromise on.
    assert!(at_cnaf.current().check_key(&kid, s.parent, s.now).is_err());
}

/// What a log line shows of a notifier: its party and its key's id, never the key itself.
#[test]
fn a_notifiers_debug_shows_its_party_and_key_id() {
    let s = Scenario::canteen();
    let key = s.key(s.dgfip);
    assert_eq!(
        format!("{:?}", notifier(&s)),
        format!(
            "Notifier {{ emitter: {:?}, key: {:?} }}",
            s.dgfip,
            key.key_id()
        )
    );
}

/// A habilitation's notification is judged as a grant's: applied when its emitter is one of the
/// habilitation's providers or its consumer, refused from a party with nothing to do with it.
#[test]
fn a_habilitations_notification_is_applied_from_its_provider_or_consumer_only() {
    let s = Scenario::canteen();
    let habilitation = s.habilitation().sign(s.key(s.authority));
    let what = carried(
        &s.statement(&habilitation, Action::Pause, s.authority),
        &habilitation,
    );
    for (emitter, applied) in [(s.dgfip, true), (s.mairie, true), (s.other_consumer, false)] {
        let cnaf_ledger = InMemoryLedger::new();
        let v = cnaf_verifier(&s, &cnaf_ledger);
        let note = Notifier {
            emitter,
            key: s.key(emitter),
        }
        .sign(s.cnaf, 1, s.now, &what);
        let got = Inbox::new(s.cnaf).receive_statement(&note, &v, s.now);
        if applied {
            assert_eq!(
                got,
                Ok(Received::Applied(Status::Paused { since: s.now })),
                "{emitter}"
            );
        } else {
            assert_eq!(got, Err(NotificationError::EmitterNotConcerned { emitter }));
        }
    }
}

/// Acknowledging removes exactly the notifications of one (emitter, recipient) stream up to
/// the number given, and says how many: not another stream's, not a later one, and a second
/// acknowledgement removes nothing. The same for the in-memory outbox and ledger.
#[test]
fn acknowledging_removes_one_stream_up_to_a_number() {
    fn check(outbox: &dyn Outbox, s: &Scenario) {
        let dgfip = notifier(s);
        let cnaf = Notifier {
            emitter: s.cnaf,
            key: s.key(s.cnaf),
        };
        let notices = |recipients: Vec<PartyId>| Notices {
            carried: Carried::DirectoryUpdate(vec![0xd2]),
            recipients,
            issued_at: s.now,
        };
        for _ in 0..3 {
            outbox
                .enqueue(&dgfip, &notices(vec![s.mairie, s.parent]))
                .unwrap();
            outbox.enqueue(&cnaf, &notices(vec![s.mairie])).unwrap();
        }
        let streams = |outbox: &dyn Outbox| -> Vec<(PartyId, PartyId, u64)> {
            let mut left: Vec<_> = outbox
                .pending(100)
                .unwrap()
                .iter()
                .map(|q| (q.emitter, q.recipient, q.seq))
                .collect();
            left.sort();
            left
        };
        let mut expected = streams(outbox);
        assert_eq!(expected.len(), 9);
        assert_eq!(outbox.acknowledge(s.dgfip, s.mairie, 0), Ok(0));
        assert_eq!(outbox.acknowledge(s.dgfip, s.mairie, 2), Ok(2));
        expected.retain(|&(e, r, seq)| !(e == s.dgfip && r == s.mairie && seq <= 2));
        assert_eq!(streams(outbox), expected);
        assert_eq!(outbox.acknowledge(s.dgfip, s.mairie, 2), Ok(0));
        assert_eq!(outbox.acknowledge(s.cnaf, s.parent, 3), Ok(0));
        assert_eq!(outbox.acknowledge(s.cnaf, s.mairie, u64::MAX), Ok(3));
        expected.retain(|&(e, _, _)| e != s.cnaf);
        assert_eq!(streams(outbox), expected);
        assert_eq!(expected.len(), 4);
        // Acknowledged or not, the counters go on.
        assert_eq!(outbox.last_seq(s.dgfip, s.mairie), Ok(3));
        assert_eq!(outbox.last_seq(s.cnaf, s.mairie), Ok(3));
    }
    let s = Scenario::canteen();
    check(&InMemoryOutbox::new(), &s);
    check(&InMemoryLedger::new(), &s);
}
