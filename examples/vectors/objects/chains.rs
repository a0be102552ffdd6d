//! Grants expressed through a chain of representation: one valid, and the chains a reader
//! refuses (too long, a party twice, the subject in it, empty). Built after the decisions, so
//! that the ids of the objects and decisions before them stay as they were.

use consentry::cose::ObjectKind;
use consentry::danger;
use consentry::testing::{Scenario, party_for};

use super::super::cases::Gen;
use super::super::common::{build, enc, grant_for, payload_of, with};

/// The valid two-link grant and the refused chains, written over its payload.
pub fn chains(g: &mut Gen, s: &Scenario) {
    use ObjectKind::Grant as G;
    let grant = build(s, grant_for(s, s.child).chain([s.franceconnect, s.parent]));
    g.valid(
        "grant-by-chain",
        "a grant about the child expressed and signed by FranceConnect under the parent's mandate, through the parent: key 3 is the chain [FranceConnect, parent]",
        G,
        grant.clone(),
    );
    let p = payload_of(&grant);
    let fc = s.key(s.franceconnect);
    let sg = |payload: &[u8]| danger::sign(G, fc, payload);
    let chain = |parties: &[consentry::directory::PartyId]| {
        enc(|e| {
            e.array(parties.len());
            for party in parties {
                e.bytes(party.as_bytes());
            }
        })
    };
    let guardian = party_for("guardian");
    g.invalid(
        "value-grant-chain-too-long",
        "a chain of four parties (at most three links), refused on its length before any party is read",
        G,
        "canteen",
        sg(&with(
            &p,
            3,
            chain(&[s.franceconnect, guardian, s.other_consumer, s.parent]),
        )),
        "value/chain_too_long",
        true,
    );
    g.invalid(
        "value-grant-chain-repeats-party",
        "a chain naming FranceConnect twice",
        G,
        "canteen",
        sg(&with(&p, 3, chain(&[s.franceconnect, s.franceconnect]))),
        "value/chain_repeats_party",
        false,
    );
    g.invalid(
        "value-grant-chain-names-subject",
        "a chain naming the grant's subject (the child) as a representative",
        G,
        "canteen",
        sg(&with(&p, 3, chain(&[s.franceconnect, s.child]))),
        "value/chain_repeats_party",
        false,
    );
    g.invalid(
        "value-grant-chain-empty",
        "an empty chain: a grant the subject signs has no key 3 at all",
        G,
        "canteen",
        sg(&with(&p, 3, chain(&[]))),
        "value/invalid",
        true,
    );
}
