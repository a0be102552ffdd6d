//! Signature and key refusals: the bytes decode, the signature or the signer's key does not hold.

use consentry::Timestamp;
use consentry::cose::{self, ObjectKind};
use consentry::danger;
use consentry::testing::{Scenario, key_for};

use super::super::cases::Gen;
use super::super::common::{DAY, uint, with};
use super::Objects;

/// A flipped bit, an altered payload, a substituted kid, unknown, foreign, early, expired and
/// compromised keys.
pub fn refusals(g: &mut Gen, s: &Scenario, o: &Objects) {
    use ObjectKind::{Grant as G, Request as R};
    let Objects {
        mk,
        grant,
        request,
        grant_payload,
        prot,
        sig,
        ..
    } = o;
    let p = grant_payload;
    let mut flipped = grant.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    g.invalid(
        "signature-flipped-bit",
        "the grant with the last bit of its signature flipped",
        G,
        "canteen",
        flipped,
        "signature/invalid",
        false,
    );
    g.invalid(
        "signature-payload-altered",
        "the grant's payload with retention changed, the signature left as it was",
        G,
        "canteen",
        danger::assemble(prot, &[0xa0], &with(p, 13, uint(400 * DAY)), sig),
        "signature/invalid",
        false,
    );
    g.invalid(
        "signature-kid-substituted",
        "the parent's signature under a protected header naming the city hall's kid",
        G,
        "canteen",
        danger::assemble(
            &cose::protected_header(G, &mk.key_id()),
            &[0xa0],
            grant_payload,
            sig,
        ),
        "signature/invalid",
        false,
    );
    g.invalid(
        "signature-unknown-key",
        "the grant signed with a key no party holds",
        G,
        "canteen",
        danger::sign(G, &key_for("stranger"), grant_payload),
        "signature/unknown_key",
        false,
    );
    g.invalid(
        "signature-not-signers-key",
        "the parent's grant signed with the city hall's key",
        G,
        "canteen",
        danger::sign(G, mk, grant_payload),
        "signature/not_signers_key",
        false,
    );
    let early = s
        .grant()
        .issued_at(Timestamp::from_secs(1_733_011_200)) // 2024-12-01
        .build(&s.ceilings)
        .unwrap_or_else(|e| panic!("{e}"));
    g.invalid(
        "signature-key-not-yet-valid",
        "a grant issued 2024-12-01, before the parent's key is valid",
        G,
        "canteen",
        s.sign_grant(&early),
        "signature/key_not_yet_valid",
        false,
    );
    g.invalid(
        "signature-key-expired",
        "a grant issued 2025-09-01 with the parent's first key, valid until 2025-06-01",
        G,
        "canteen-rotated",
        grant.clone(),
        "signature/key_expired",
        false,
    );
    g.invalid(
        "signature-key-compromised",
        "a request issued 2025-09-01 with the city hall's key, reported compromised 2025-08-31",
        R,
        "canteen-compromised",
        request.clone(),
        "signature/key_compromised",
        false,
    );
}
