//! `envelope_verify`: envelopes parsed and verified with one key, on raw and on *shaped*
//! inputs (a shaped payload signed under a reordered or bit-flipped header).

use super::decide::with_fixture;
use super::decode::{TEMPLATES, shaped_object, sig_of};
use crate::cbor::Encoder;
use crate::cose::{self, Envelope, ObjectKind};
use crate::digest::Digest;
use crate::directory::Directory;
use crate::grant::Grant;
use crate::habilitation::Habilitation;
use crate::keys::SigningKey;
use crate::request::Request;
use crate::signed::{SignedPayload, Verified};
use crate::statement::Statement;
use crate::testing::{self};

/// The key [`envelope_verify`] checks signatures with (the city hall's key of
/// [`Scenario::canteen`](crate::testing::Scenario::canteen)).
#[must_use]
pub fn envelope_key() -> SigningKey {
    testing::key_for("mairie")
}

/// Parses `data` as an envelope and verifies it with [`envelope_key`]: verification is
/// deterministic, re-assembling the parts gives the input, and an envelope that verifies with
/// the canonical protected header is exactly what signing its payload gives (no malleability).
/// Then verifies it as each object kind against the canteen directory.
pub fn envelope_verify(data: &[u8]) {
    envelope_verify_reach(data);
}

/// Runs [`envelope_verify`]'s checks on `data`, then on the *shaped* envelope derived from it
/// (see [`shaped_envelope`]); whether either parsed, so that verification and its assertions
/// were reached. Raw bytes almost never parse; the shaped envelope mostly does.
#[allow(
    clippy::must_use_candidate,
    reason = "run for its assertions; the reach report is for the tests that want it"
)]
pub fn envelope_verify_reach(data: &[u8]) -> bool {
    let raw = envelope_checks(data);
    let shaped = envelope_checks(&shaped_envelope(data));
    raw || shaped
}

/// A payload of [`shaped_object`] signed with [`envelope_key`] under a protected header whose
/// three parameters are written in the order the tenth byte picks (of the six), then, when the
/// eleventh byte is a multiple of four, with one bit flipped where the next two bytes say.
#[must_use]
pub fn shaped_envelope(data: &[u8]) -> Vec<u8> {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let mut shaped = shaped_object(data);
    if let Ok(env) = Envelope::parse(&shaped) {
        shaped = env.payload().to_vec();
    }
    let kind = [
        ObjectKind::Grant,
        ObjectKind::Habilitation,
        ObjectKind::Statement,
        ObjectKind::Request,
        ObjectKind::Grant,
    ][usize::from(byte(0) % 5)];
    TEMPLATES.with(|t| {
        let kid = t.key.key_id();
        let mut params: [Vec<u8>; 3] = [
            Encoder::new()
                .int(1)
                .int(cose::ALG_EDDSA)
                .as_bytes()
                .to_vec(),
            Encoder::new()
                .int(3)
                .uint(kind.content_type())
                .as_bytes()
                .to_vec(),
            Encoder::new().int(4).bytes(&kid.0).as_bytes().to_vec(),
        ];
        let order = usize::from(byte(10) % 6);
        params.swap(0, order % 3);
        if order >= 3 {
            params.swap(1, 2);
        }
        let mut protected = vec![0xa3];
        for p in &params {
            protected.extend(p);
        }
        let signature = t.key.sign(&cose::sig_structure(&protected, &shaped));
        let mut out = cose::raw::assemble(&protected, &[0xa0], &shaped, &signature);
        if byte(11) % 4 == 0 {
            let at = usize::from(u16::from_be_bytes([byte(12), byte(13)]));
            let len = out.len();
            out[at % len] ^= 1 << (byte(13) % 8);
        }
        out
    })
}

/// [`envelope_verify`]'s checks on one input; whether it parsed as an envelope.
fn envelope_checks(data: &[u8]) -> bool {
    thread_local! {
        static KEY: SigningKey = envelope_key();
    }
    let parsed = KEY.with(|key| envelope_verify_with(key, data));
    with_fixture(|f| {
        verified_consistently::<Grant>(data, &f.scenario.directory);
        verified_consistently::<Habilitation>(data, &f.scenario.directory);
        verified_consistently::<Statement>(data, &f.scenario.directory);
        verified_consistently::<Request>(data, &f.scenario.directory);
    });
    parsed
}

fn envelope_verify_with(key: &SigningKey, data: &[u8]) -> bool {
    let public = key.verifying_key();
    let parsed = Envelope::parse(data);
    if let Ok(env) = &parsed {
        let first = env.verify(&public);
        assert_eq!(
            first,
            env.verify(&public),
            "verification is not deterministic"
        );
        let again = cose::raw::assemble(env.protected(), &[0xa0], env.payload(), sig_of(data));
        assert_eq!(again, data, "envelope re-assembly differs from its input");
        if let Ok(payload) = first {
            assert_eq!(payload, env.payload());
            assert_eq!(
                env.kid(),
                key.key_id(),
                "verified under a key it does not name"
            );
            if env.protected() == cose::protected_header(env.kind(), &env.kid()) {
                assert_eq!(
                    cose::sign(env.kind(), key, payload),
                    data,
                    "a verifying envelope that signing would not produce"
                );
            }
        }
    }
    parsed.is_ok()
}

fn verified_consistently<T: SignedPayload + PartialEq + std::fmt::Debug>(
    data: &[u8],
    directory: &Directory,
) {
    let once = Verified::<T>::parse_and_verify(data, directory);
    let twice = Verified::<T>::parse_and_verify(data, directory);
    assert_eq!(once, twice, "verification is not deterministic");
    if let Ok(v) = once {
        assert_eq!(v.digest(), Digest::of(data));
        assert_eq!(v.encoded_len(), data.len());
        let env = Envelope::parse_kind(data, T::KIND).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.claims().to_payload_bytes(), env.payload());
    }
}
