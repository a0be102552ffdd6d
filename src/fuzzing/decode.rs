//! `decode_object`: every wire object kind decoded strictly and re-encoded, on raw and on
//! *shaped* inputs (a valid payload with one item changed).

use super::envelope::envelope_key;
use crate::cbor::{Limits, Value};
use crate::cose::{self, Envelope, ObjectKind};
use crate::deletion::Deletion;
use crate::directory::Directory;
use crate::grant::Grant;
use crate::habilitation::Habilitation;
use crate::keys::SigningKey;
use crate::log::LogEntry;
use crate::notify::Notification;
use crate::request::Request;
use crate::signed::{SignedPayload, Unverified};
use crate::statement::Statement;
use crate::testing::Scenario;

/// Decodes `data` as every wire object kind; whatever decodes must re-encode to exactly the
/// same bytes, and must also be accepted by the generic strict decoder.
pub fn decode_object(data: &[u8]) {
    decode_object_reach(data);
}

/// Runs [`decode_object`]'s checks on `data`, then on the *shaped* input derived from it (see
/// [`shaped_object`]); whether any decoder accepted either, so that an assertion on what it
/// accepted was reached. Raw bytes almost never decode; the shaped input mostly does.
#[allow(
    clippy::must_use_candidate,
    reason = "run for its assertions; the reach report is for the tests that want it"
)]
pub fn decode_object_reach(data: &[u8]) -> bool {
    let raw = decode_checks(data);
    let shaped = decode_checks(&shaped_object(data));
    raw || shaped
}

/// A valid payload of the canteen scenario (grant, habilitation, statement, request, or a grant
/// through a chain of representation, chosen by the first byte) with one item changed as the next eight bytes say (see `change_one`),
/// re-encoded deterministically, and signed as its kind with [`envelope_key`] when the ninth
/// byte is odd. The decoders thus see well-formed, deterministic bytes and judge the fields.
#[must_use]
pub fn shaped_object(data: &[u8]) -> Vec<u8> {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let kind = usize::from(byte(0) % 5);
    let mut choice = [0u8; 8];
    for (i, c) in choice.iter_mut().enumerate() {
        *c = byte(1 + i);
    }
    let payload = TEMPLATES.with(|t| t.payloads[kind].clone());
    let Ok(Value::Map(mut entries)) = Value::decode(&payload, Limits::OBJECT) else {
        unreachable!("a payload is a map")
    };
    let choice = u64::from_be_bytes(choice);
    let at = (choice >> 40) as usize % entries.len();
    change_one(&mut entries[at].1, choice);
    let payload = Value::Map(entries).encode();
    if byte(9) % 2 == 1 {
        let kinds = [
            ObjectKind::Grant,
            ObjectKind::Habilitation,
            ObjectKind::Statement,
            ObjectKind::Request,
            ObjectKind::Grant,
        ];
        TEMPLATES.with(|t| cose::sign(kinds[kind], &t.key, &payload))
    } else {
        payload
    }
}

/// Valid payloads of the four kinds (and a grant with a chain of representation, so that its
/// key 3 is there to change) and the key [`shaped_object`] and
/// [`shaped_envelope`](super::shaped_envelope) use.
pub(super) struct Templates {
    pub(super) payloads: [Vec<u8>; 5],
    pub(super) key: SigningKey,
}

impl Templates {
    fn new() -> Self {
        let s = Scenario::canteen();
        let grant = s.sign_grant(&s.grant().build(&s.ceilings).expect("the canteen grant"));
        let payload = |bytes: &[u8]| {
            Envelope::parse(bytes)
                .expect("a signed object")
                .payload()
                .to_vec()
        };
        let statement = s.statement(&grant, crate::statement::Action::Pause, s.parent);
        let chain = s
            .grant_for(s.child)
            .chain([s.franceconnect, s.parent])
            .build(&s.ceilings)
            .expect("the canteen's chain grant");
        Templates {
            payloads: [
                payload(&grant),
                s.habilitation().to_payload_bytes(),
                payload(&statement),
                s.request(&grant).to_payload_bytes(),
                chain.to_payload_bytes(),
            ],
            key: envelope_key(),
        }
    }
}

thread_local! {
    pub(super) static TEMPLATES: Templates = Templates::new();
}

/// Changes one item inside `v` as `choice` says, mostly keeping it valid: an integer gets a
/// nearby value (rarely any), a byte string a flipped bit (rarely a byte more or less), a text
/// string another character of the codes' alphabet (rarely one outside it), a boolean the other
/// value; in an array or a map, one element (rarely, in an array, one dropped or repeated).
pub fn change_one(v: &mut Value, choice: u64) {
    let pick = |n: usize| (choice >> 8) as usize % n.max(1);
    let how = choice % 16;
    let bit = (choice >> 4) % 8;
    match v {
        Value::Unsigned(n) => {
            *n = match how {
                0 => choice >> 16,
                1 => n.wrapping_add(1),
                2 => n.saturating_sub(1),
                _ => *n ^ 1 << bit,
            }
        }
        Value::Negative(n) => *n ^= 1 << bit,
        Value::Bytes(b) => match how {
            0 => b.push(choice.to_le_bytes()[0]),
            1 => {
                b.pop();
            }
            _ if b.is_empty() => b.push(0),
            _ => {
                let i = pick(b.len());
                b[i] ^= 1 << bit;
            }
        },
        Value::Text(t) => {
            let mut chars: Vec<char> = t.chars().collect();
            let i = pick(chars.len()).max(1);
            let c = match how {
                0 => char::from(b"Z :"[bit as usize % 3]),
                _ => char::from(b"abcxyz0189_"[(choice >> 4) as usize % 11]),
            };
            if how == 1 {
                chars.pop();
            } else if i < chars.len() && chars[i] != ':' {
                chars[i] = c;
            } else {
                chars.push(c);
            }
            *t = chars.into_iter().collect();
        }
        Value::Bool(b) => *b = !*b,
        Value::Array(items) if !items.is_empty() => {
            let i = pick(items.len());
            match how {
                0 => {
                    items.remove(i);
                }
                1 => items.insert(i, items[i].clone()),
                _ => change_one(&mut items[i], choice.rotate_right(11)),
            }
        }
        Value::Map(entries) if !entries.is_empty() => {
            let i = pick(entries.len());
            change_one(&mut entries[i].1, choice.rotate_right(11));
        }
        Value::Tag(_, inner) => change_one(inner, choice.rotate_right(11)),
        _ => {}
    }
}

/// [`decode_object`]'s checks on one input; whether any decoder accepted it.
fn decode_checks(data: &[u8]) -> bool {
    let mut accepted = false;
    accepted |= signed_roundtrip::<Grant>(data);
    accepted |= signed_roundtrip::<Habilitation>(data);
    accepted |= signed_roundtrip::<Statement>(data);
    accepted |= signed_roundtrip::<Request>(data);
    accepted |= signed_roundtrip::<Notification>(data);
    accepted |= payload_roundtrip::<Grant>(data);
    accepted |= payload_roundtrip::<Habilitation>(data);
    accepted |= payload_roundtrip::<Statement>(data);
    accepted |= payload_roundtrip::<Request>(data);
    accepted |= signed_roundtrip::<Deletion>(data);
    accepted |= payload_roundtrip::<Deletion>(data);

    if let Ok(entry) = LogEntry::from_bytes(data) {
        accepted = true;
        assert_eq!(
            entry.to_bytes(),
            data,
            "log entry re-encoding differs from its input"
        );
    }
    accepted |= payload_roundtrip::<Notification>(data);

    if let Ok(env) = Envelope::parse(data) {
        accepted = true;
        let again = cose::raw::assemble(env.protected(), &[0xa0], env.payload(), sig_of(data));
        assert_eq!(again, data, "envelope re-assembly differs from its input");
        assert!(Value::decode(data, Limits::OBJECT).is_ok());
        for kind in ObjectKind::ALL {
            assert_eq!(Envelope::parse_kind(data, kind).is_ok(), kind == env.kind());
        }
    }

    if let Ok(dir) = Directory::from_cbor(data) {
        accepted = true;
        assert_eq!(
            dir.to_cbor(),
            data,
            "directory re-encoding differs from its input"
        );
        assert!(Value::decode(data, Limits::DIRECTORY).is_ok());
    }

    for limits in [Limits::OBJECT, Limits::DIRECTORY] {
        if let Ok(v) = Value::decode(data, limits) {
            accepted = true;
            assert_eq!(
                v.encode(),
                data,
                "generic value re-encoding differs from its input"
            );
        }
    }
    accepted
}

/// The last 64 bytes: the signature of a parsed envelope (its last item, a 64-byte string).
pub(super) fn sig_of(data: &[u8]) -> &[u8] {
    &data[data.len().saturating_sub(64)..]
}

fn signed_roundtrip<T: SignedPayload>(data: &[u8]) -> bool {
    let parsed = Unverified::<T>::parse(data);
    if let Ok(obj) = &parsed {
        let env = Envelope::parse_kind(data, T::KIND).unwrap_or_else(|e| {
            panic!("parsed as {} but its envelope does not parse: {e}", T::KIND)
        });
        assert_eq!(
            obj.claims().to_payload_bytes(),
            env.payload(),
            "{} payload re-encoding differs from the signed payload",
            T::KIND
        );
    }
    parsed.is_ok()
}

fn payload_roundtrip<T: SignedPayload>(data: &[u8]) -> bool {
    let decoded = T::from_payload_bytes(data);
    if let Ok(p) = &decoded {
        assert_eq!(
            p.to_payload_bytes(),
            data,
            "{} payload re-encoding differs from its input",
            T::KIND
        );
        assert!(
            Value::decode(data, Limits::OBJECT).is_ok(),
            "a {} payload the generic decoder refuses",
            T::KIND
        );
    }
    decoded.is_ok()
}
