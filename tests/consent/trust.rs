//! Trust as an input: a verifier backed by a registry other than the in-memory `Directory`.
//! The registry only answers lookups; each test shows that the verifier asks at the right time
//! and that the rules applied to the answers stay the library's.

use super::common::default_grant;
use consentry::decision::{Decision, Reason, Subject, Verifier};
use consentry::directory::{Directory, KeyRefusal, PartyId, PartyKey, Representation, Role, Trust};
use consentry::testing::Scenario;
use consentry::{Basis, KeyId, Timestamp};
use std::sync::Mutex;

/// A federation registry in front of the scenario's directory: it can end one party's role at
/// a time, report one key compromised, or hide every representation; it records every role
/// question it is asked.
#[derive(Debug)]
struct Registry<'a> {
    directory: &'a Directory,
    role_ends: Option<(PartyId, Role, Timestamp)>,
    compromised: Option<(KeyId, PartyKey)>,
    no_representations: bool,
    asked: Mutex<Vec<(PartyId, Role, Timestamp)>>,
}

impl<'a> Registry<'a> {
    fn new(s: &'a Scenario) -> Self {
        Registry {
            directory: &s.directory,
            role_ends: None,
            compromised: None,
            no_representations: false,
            asked: Mutex::new(Vec::new()),
        }
    }

    fn decide(&self, s: &Scenario, request: &[u8], grant: &[u8]) -> Decision {
        Verifier::new(s.verifier_provider, self, &s.ceilings, &s.ledger).decide(
            request,
            Basis::Signed(grant),
            s.now,
        )
    }
}

impl Trust for Registry<'_> {
    fn find_key(&self, kid: &KeyId) -> Option<(PartyId, &PartyKey)> {
        let (owner, key) = self.directory.find_key(kid)?;
        match &self.compromised {
            Some((k, reported)) if k == kid => Some((owner, reported)),
            _ => Some((owner, key)),
        }
    }

    fn has_role(&self, party: PartyId, role: Role, at: Timestamp) -> bool {
        self.asked.lock().unwrap().push((party, role, at));
        let ended = self
            .role_ends
            .is_some_and(|(p, r, end)| p == party && r == role && at >= end);
        !ended && self.directory.has_role(party, role, at)
    }

    fn representations_between(
        &self,
        representative: PartyId,
        subject: PartyId,
    ) -> &[Representation] {
        if self.no_representations {
            return &[];
        }
        self.directory
            .representations_between(representative, subject)
    }
}

#[test]
fn a_role_is_judged_at_the_issue_time_of_what_its_holder_signed() {
    let s = Scenario::canteen();
    let before = s.now.minus_secs(60);
    // A monthly grant allows one use: each decision gets its own.
    let signed_at = |grant: &[u8], at: Timestamp| {
        let request = s.request(grant).to_builder().issued_at(at).build().unwrap();
        s.sign_request(&request)
    };
    let mut registry = Registry::new(&s);
    // The city hall stops being a consumer 30 seconds before now.
    registry.role_ends = Some((s.mairie, Role::Consumer, s.now.minus_secs(30)));
    let grant = default_grant(&s);
    assert!(
        registry
            .decide(&s, &signed_at(&grant, before), &grant)
            .is_allow()
    );
    assert!(
        registry
            .asked
            .lock()
            .unwrap()
            .contains(&(s.mairie, Role::Consumer, before)),
        "the consumer's role is asked at the request's issue time"
    );
    let grant = default_grant(&s);
    assert_eq!(
        registry
            .decide(&s, &signed_at(&grant, s.now), &grant)
            .reasons(),
        [Reason::SignerNotEntitled {
            object: Subject::Request,
            signer: s.mairie,
            required: Role::Consumer,
        }]
    );
}

#[test]
fn the_key_rule_is_the_librarys_whatever_the_registry() {
    let s = Scenario::canteen();
    let grant = default_grant(&s);
    let request = s.sign_request(&s.request(&grant));
    let kid = s.key(s.mairie).key_id();
    let (_, key) = s.directory.find_key(&kid).unwrap();
    let mut reported = key.clone();
    reported.compromised_at = Some(s.now.minus_secs(1));
    let mut registry = Registry::new(&s);
    registry.compromised = Some((kid, reported));
    // The registry only said when the key was compromised; the verifier refused the request.
    match registry.decide(&s, &request, &grant).reasons() {
        [
            Reason::KeyNotValid {
                object: Subject::Request,
                refusal: KeyRefusal::Compromised { compromised_at, .. },
            },
        ] => assert_eq!(*compromised_at, s.now.minus_secs(1)),
        other => panic!("expected the key refused as compromised, got {other:?}"),
    }
}

#[test]
fn representations_come_from_the_registry() {
    let s = Scenario::canteen();
    // The parent's grant, expressed by FranceConnect under the parent's mandate.
    let grant = || super::common::signed(&s, s.grant().expressed_by(s.franceconnect));
    let mut registry = Registry::new(&s);
    let first = grant();
    let request = s.sign_request(&s.request(&first));
    assert!(registry.decide(&s, &request, &first).is_allow());
    registry.no_representations = true;
    let grant = grant();
    let again = s.sign_request(&s.request(&grant));
    assert_eq!(
        registry.decide(&s, &again, &grant).codes(),
        ["representation_not_valid"]
    );
}
