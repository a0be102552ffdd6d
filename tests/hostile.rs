//! Hostile inputs: lying length fields, deep nesting, oversized input, objects of one kind
//! presented as another, validly signed non-deterministic payloads, keys of the wrong party,
//! statements by the wrong signer. Every one is refused with its own error, and none costs more
//! memory than a small multiple of its own size: a counting allocator measures the peak.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use consentry::danger;
use consentry::{DecodeError, Limits, Major};

use consentry::cose::{Envelope, EnvelopeError, ObjectKind};
use consentry::danger::cbor::{Encoder, Value};
use consentry::decision::StatementRefusal;
use consentry::deletion::Deletion;
use consentry::directory::{
    Directory, DirectoryError, DirectoryHistory, DirectorySnapshot, DirectoryUpdate, KeyRefusal,
    UpdateError,
};
use consentry::fuzzing;
use consentry::grant::Grant;
use consentry::habilitation::Habilitation;
use consentry::notify::{Carried, Inbox, Notification, Notifier};
use consentry::request::Request;
use consentry::signed::{
    ObjectError, ParseError, SignedPayload, Unverified, Verified, VerifyError,
};
use consentry::statement::{Action, Statement};
use consentry::testing::Scenario;

// ---------------------------------------------------------------------------------------------
// A counting allocator: per-thread current and peak bytes, so that tests running in parallel do
// not disturb each other's figures.

struct Counting;

thread_local! {
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn grew(n: usize) {
    let _ = CURRENT.try_with(|c| {
        let now = c.get().saturating_add(n);
        c.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

fn shrank(n: usize) {
    let _ = CURRENT.try_with(|c| c.set(c.get().saturating_sub(n)));
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `System`; the bookkeeping touches only
// const-initialised thread-local `Cell`s, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract (non-zero size), passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (hence by `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` was allocated by `System` with `layout`; the caller upholds the rest.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f`; returns its result, the peak number of bytes it held at once beyond what was held
/// before, and its duration. The directory history that updates are offered to is built first,
/// so that neither figure counts it.
fn measure<R>(f: impl FnOnce() -> R) -> (R, usize, Duration) {
    REGISTRY.with(|_| ());
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    let peak = PEAK.with(Cell::get) - base;
    (out, peak, elapsed)
}

/// What every typed decoder of the format says about an input: the signed objects of the four
/// kinds (grant, habilitation, statement, request), their bare payloads in the same order and a
/// directory update's, the envelope, the directory, and the signed directory and update as a
/// service's directory history takes them.
#[derive(Debug, PartialEq)]
struct Verdicts {
    signed: [Result<(), ParseError>; 4],
    payload: [Result<(), DecodeError>; 5],
    envelope: Result<(), EnvelopeError>,
    directory: Result<(), DirectoryError>,
    registry: [Result<(), UpdateError>; 2],
}

/// Every typed decoder of the format over `data`.
fn verdicts(data: &[u8]) -> Verdicts {
    Verdicts {
        signed: [
            Unverified::<Grant>::parse(data).map(drop),
            Unverified::<Habilitation>::parse(data).map(drop),
            Unverified::<Statement>::parse(data).map(drop),
            Unverified::<Request>::parse(data).map(drop),
        ],
        payload: [
            Grant::from_payload_bytes(data).map(drop),
            Habilitation::from_payload_bytes(data).map(drop),
            Statement::from_payload_bytes(data).map(drop),
            Request::from_payload_bytes(data).map(drop),
            DirectoryUpdate::from_payload_bytes(data).map(drop),
        ],
        envelope: Envelope::parse(data).map(drop),
        directory: Directory::from_cbor(data).map(drop),
        registry: REGISTRY.with(|h| {
            let loaded = DirectoryHistory::load(data, h.borrow().operator()).map(drop);
            let applied = h.borrow_mut().apply(data).map(drop);
            if applied.is_ok() {
                *h.borrow_mut() = registry();
            }
            [loaded, applied]
        }),
    }
}

thread_local! {
    /// The history an update is offered to (restored if one ever applies).
    static REGISTRY: RefCell<DirectoryHistory> = RefCell::new(registry());
}

/// The canteen directory's history, as the operator signed it.
fn registry() -> DirectoryHistory {
    let s = Scenario::canteen();
    let genesis = DirectorySnapshot::genesis(s.directory.clone(), s.now);
    let operator = fuzzing::registry_operator();
    DirectoryHistory::load(&genesis.sign(&operator), &operator.verifying_key())
        .expect("the canteen directory loads")
}

impl Verdicts {
    /// Every decoder refuses: the envelope (hence each signed kind) with `envelope`, each bare
    /// payload with `payload`, the directory with `directory` (which it reports as text).
    fn refused(envelope: EnvelopeError, payload: DecodeError, directory: DecodeError) -> Self {
        Verdicts {
            signed: std::array::from_fn(|_| Err(ParseError::Envelope(envelope.clone()))),
            payload: std::array::from_fn(|_| Err(payload.clone())),
            registry: std::array::from_fn(|_| {
                Err(UpdateError::Parse(ParseError::Envelope(envelope.clone())))
            }),
            envelope: Err(envelope),
            directory: Err(DirectoryError::Malformed(directory.to_string())),
        }
    }
}

/// Checks that every typed decoder gives exactly its `expected` verdict on `data`.
fn assert_verdicts(name: &str, data: &[u8], expected: &Verdicts) {
    let got = verdicts(data);
    assert_eq!(&got, expected, "{name}");
}

/// Slack for small fixed costs (error strings, a few vectors).
const SLACK: usize = 4096;

/// Measures every typed decoder and the generic decoder on `data`, prints the figures, and
/// checks the typed decoders stay within 8× the input plus [`SLACK`], the generic one within
/// one `Value` node per input byte plus [`SLACK`].
fn check_cost(name: &str, data: &[u8]) {
    let (_, typed, t_typed) = measure(|| verdicts(data));
    let (_, generic, t_generic) = measure(|| {
        // One after the other: each tree is dropped before the next is built.
        let object = Value::decode(data, Limits::OBJECT).is_ok();
        let directory = Value::decode(data, Limits::DIRECTORY).is_ok();
        (object, directory)
    });
    let ratio = |peak: usize| peak as f64 / data.len().max(1) as f64;
    println!(
        "{name:<34} {:>10} B  typed peak {:>9} B ({:>5.2}x, {:?})  generic peak {:>9} B ({:>5.2}x, {:?})",
        data.len(),
        typed,
        ratio(typed),
        t_typed,
        generic,
        ratio(generic),
        t_generic,
    );
    assert!(
        typed <= 8 * data.len() + SLACK,
        "{name}: typed decoders held {typed} bytes for a {}-byte input",
        data.len()
    );
    let node = std::mem::size_of::<Value>();
    assert!(
        generic <= node * data.len() + SLACK,
        "{name}: the generic decoder held {generic} bytes for a {}-byte input",
        data.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Inputs.

fn header(major: u8, len: u64) -> Vec<u8> {
    let mut out = vec![major << 5 | 27];
    out.extend(len.to_be_bytes());
    out
}

/// Items whose headers claim 2^32 - 1, 2^32, 2^63 and 2^64 - 1 bytes or entries, with a little
/// payload; each with what every typed decoder must answer. None is an envelope (no tag 18). A
/// payload or a directory is a map, so a string or an array is refused for its type at its
/// header, and a map for its length at once: its entries would need 2 bytes each, and only the
/// 16 bytes after the header (or none) remain.
fn lying_lengths() -> Vec<(String, Vec<u8>, Verdicts)> {
    let mut out = Vec::new();
    for (major, what, found) in [
        (2u8, "bstr", Major::Bytes),
        (3, "tstr", Major::Text),
        (4, "array", Major::Array),
        (5, "map", Major::Map),
    ] {
        let mut cases = Vec::new();
        for len in [1 << 32, 1 << 63, u64::MAX] {
            let mut data = header(major, len);
            data.extend([0u8; 16]);
            cases.push((format!("{what} claiming {len}"), data, len, 16));
        }
        let mut short = vec![major << 5 | 26];
        short.extend(u32::MAX.to_be_bytes());
        cases.push((
            format!("{what} claiming 2^32-1 (4-byte)"),
            short,
            u64::from(u32::MAX),
            0,
        ));
        for (name, data, len, rest) in cases {
            let refusal = if found == Major::Map {
                DecodeError::TooLong {
                    offset: 0,
                    len,
                    limit: rest / 2,
                }
            } else {
                not_a_map(found)
            };
            let expected = Verdicts::refused(
                EnvelopeError::WrongTag { found: None },
                refusal.clone(),
                refusal,
            );
            out.push((name, data, expected));
        }
    }
    out
}

/// The refusal of a payload or directory decoder given another item than a map.
fn not_a_map(found: Major) -> DecodeError {
    DecodeError::WrongType {
        offset: 0,
        expected: "map",
        found,
    }
}

fn nested(depth: usize) -> Vec<u8> {
    let mut data = vec![0x81; depth];
    data.push(0x00);
    data
}

#[test]
fn lying_length_fields_are_refused_unread() {
    for (name, data, expected) in lying_lengths() {
        for limits in [Limits::OBJECT, Limits::DIRECTORY] {
            let err = Value::decode(&data, limits).expect_err(&name);
            assert!(
                matches!(err, DecodeError::TooLong { .. }),
                "{name}: {err:?}"
            );
        }
        assert_verdicts(&name, &data, &expected);
        check_cost(&name, &data);
    }
    // Inside an envelope: the protected header claims 2^63 bytes, with 70 left.
    let mut env = vec![0xd2, 0x84];
    env.extend(header(2, 1 << 63));
    env.extend([0u8; 70]);
    let too_long = DecodeError::TooLong {
        offset: 2,
        len: 1 << 63,
        limit: 70,
    };
    assert_verdicts(
        "envelope, protected claiming 2^63",
        &env,
        &Verdicts::refused(
            EnvelopeError::Malformed(too_long),
            not_a_map(Major::Tag),
            not_a_map(Major::Tag),
        ),
    );
    check_cost("envelope, protected claiming 2^63", &env);
    // A valid request payload whose categories array (key 7) claims 2^32 entries: every field
    // before it is read, and the array's length is refused before any entry is.
    let s = Scenario::canteen();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let request = s.request(&grant);
    let good = request.to_payload_bytes();
    let mut categories = Encoder::new();
    categories
        .uint(7)
        .array(request.categories().len())
        .text(request.categories()[0].as_str());
    let categories = categories.into_bytes();
    let at = good
        .windows(categories.len())
        .position(|w| w == categories)
        .expect("the categories entry");
    assert_eq!(request.categories().len(), 1);
    let mut payload = good[..=at].to_vec();
    payload.extend(header(4, 1 << 32));
    payload.extend(&good[at + 2..]);
    let remaining = (payload.len() - (at + 1 + 9)) as u64;
    let too_long = DecodeError::TooLong {
        offset: at + 1,
        len: 1 << 32,
        limit: remaining.min(Limits::OBJECT.max_items as u64),
    };
    assert_eq!(
        Request::from_payload_bytes(&payload),
        Err(too_long),
        "request payload, lying array"
    );
    check_cost("request payload, lying array", &payload);
}

#[test]
fn deep_nesting_is_refused() {
    let data = nested(10_000);
    for limits in [Limits::OBJECT, Limits::DIRECTORY] {
        let err = Value::decode(&data, limits).unwrap_err();
        assert!(
            matches!(err, DecodeError::TooDeep { limit: 8, .. }),
            "{err:?}"
        );
    }
    // The typed decoders want a map (or tag 18) where the first array is.
    assert_verdicts(
        "arrays nested 10 000 deep",
        &data,
        &Verdicts::refused(
            EnvelopeError::WrongTag { found: None },
            not_a_map(Major::Array),
            not_a_map(Major::Array),
        ),
    );
    check_cost("arrays nested 10 000 deep", &data);
    let mut maps = [0xa1, 0x00].repeat(10_000);
    maps.push(0x00);
    assert!(matches!(
        Value::decode(&maps, Limits::DIRECTORY),
        Err(DecodeError::TooDeep { .. })
    ));
    // The payload and directory decoders walk the maps ({0: {0: …}}) and stop at the ninth,
    // at byte 16: the outer map counts as level 1.
    let too_deep = DecodeError::TooDeep {
        offset: 16,
        limit: 8,
    };
    assert_verdicts(
        "maps nested 10 000 deep",
        &maps,
        &Verdicts::refused(
            EnvelopeError::WrongTag { found: None },
            too_deep.clone(),
            too_deep,
        ),
    );
    check_cost("maps nested 10 000 deep", &maps);
    let mut tags = [0xc1].repeat(10_000);
    tags.push(0x00);
    assert!(matches!(
        Value::decode(&tags, Limits::OBJECT),
        Err(DecodeError::TooDeep { .. })
    ));
    assert_verdicts(
        "tags nested 10 000 deep",
        &tags,
        &Verdicts::refused(
            EnvelopeError::WrongTag { found: Some(1) },
            not_a_map(Major::Tag),
            not_a_map(Major::Tag),
        ),
    );
    check_cost("tags nested 10 000 deep", &tags);
}

#[test]
fn oversized_input_is_refused_at_once() {
    let s = Scenario::canteen();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let mut data = grant.clone();
    data.resize(10 * 1024 * 1024, 0);
    let too_large = |size: usize| DecodeError::TooLarge {
        size,
        limit: Limits::OBJECT.max_size,
    };
    // Every object decoder refuses it for its size; the directory's limit is 16 MiB, so the
    // directory decoder reads it, and refuses the grant's tag where it wants a map.
    let mut expected = Verdicts::refused(
        EnvelopeError::Malformed(too_large(10_485_760)),
        too_large(10_485_760),
        not_a_map(Major::Tag),
    );
    // The signed directory's limit is the directory's: it reads the grant, then refuses the rest.
    expected.registry[0] = Err(UpdateError::Parse(ParseError::Envelope(
        EnvelopeError::Malformed(DecodeError::TrailingBytes {
            offset: grant.len(),
            count: data.len() - grant.len(),
        }),
    )));
    let (got, peak, elapsed) = measure(|| (Value::decode(&data, Limits::OBJECT), verdicts(&data)));
    assert_eq!(got.0, Err(too_large(10_485_760)));
    assert_eq!(got.1, expected, "10 MiB: a grant then zeros");
    println!("10 MiB input: refused in {elapsed:?}, peak {peak} B");
    assert!(elapsed < Duration::from_millis(50), "{elapsed:?}");
    assert!(peak < SLACK);
    check_cost("10 MiB: a grant then zeros", &data);
    // Above the directory's own limit too.
    let mut huge = s.directory.to_cbor();
    huge.resize(Limits::DIRECTORY.max_size + 1, 0);
    let size = huge.len();
    expected = Verdicts::refused(
        EnvelopeError::Malformed(too_large(size)),
        too_large(size),
        DecodeError::TooLarge {
            size,
            limit: Limits::DIRECTORY.max_size,
        },
    );
    expected.registry[0] = Err(UpdateError::Parse(ParseError::Envelope(
        EnvelopeError::Malformed(DecodeError::TooLarge {
            size,
            limit: Limits::DIRECTORY.max_size,
        }),
    )));
    assert_verdicts("a directory one byte too large", &huge, &expected);
}

/// Signed objects of every kind, each presented as every other kind, the signed directory and
/// its updates included.
#[test]
fn every_cross_kind_confusion_is_refused() {
    let mut s = Scenario::canteen();
    let (logged, _) = s.transfer_and_log();
    let deletion = Deletion::for_receipt(&logged, s.now, s.now).sign(s.key(s.mairie));
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let habilitation = s.habilitation().sign(s.key(s.authority));
    let statement = s.statement(&grant, Action::Pause, s.parent);
    let request = s.sign_request(&s.request(&grant));
    let receipt = danger::sign(ObjectKind::Receipt, s.key(s.dgfip), b"");
    let tree_head = danger::sign(ObjectKind::TreeHead, s.key(s.dgfip), b"");
    let operator = fuzzing::registry_operator();
    let signed_directory = DirectorySnapshot::genesis(s.directory.clone(), s.now).sign(&operator);
    let update = registry()
        .next_update(s.now)
        .report_compromise(s.key(s.mairie).key_id(), s.now)
        .sign(&operator);
    let notification = Notifier {
        emitter: s.dgfip,
        key: s.key(s.dgfip),
    }
    .sign(
        s.cnaf,
        1,
        s.now,
        &Carried::Statement {
            statement: statement.clone(),
            basis: grant.clone(),
        },
    );
    let objects = [
        (ObjectKind::Grant, &grant),
        (ObjectKind::Habilitation, &habilitation),
        (ObjectKind::Statement, &statement),
        (ObjectKind::Request, &request),
        (ObjectKind::Receipt, &receipt),
        (ObjectKind::TreeHead, &tree_head),
        (ObjectKind::Directory, &signed_directory),
        (ObjectKind::DirectoryUpdate, &update),
        (ObjectKind::Deletion, &deletion),
        (ObjectKind::Notification, &notification),
    ];
    // The directory history takes a signed directory and an update, and nothing else.
    let registry_kind = |bytes: &[u8], expected: ObjectKind| {
        let got = if expected == ObjectKind::Directory {
            DirectoryHistory::load(bytes, &operator.verifying_key()).map(drop)
        } else {
            registry().apply(bytes).map(drop)
        };
        got.map_err(|e| match e {
            UpdateError::Parse(ParseError::Envelope(EnvelopeError::WrongKind {
                found, ..
            })) => found,
            other => panic!("{expected}: {other}"),
        })
    };
    fn confused<T: SignedPayload>(bytes: &[u8], found: ObjectKind) -> bool {
        if found == T::KIND {
            return Unverified::<T>::parse(bytes).is_ok();
        }
        let wrong = ParseError::Envelope(EnvelopeError::WrongKind {
            expected: T::KIND,
            found,
        });
        Unverified::<T>::parse(bytes).err() == Some(wrong)
    }
    let mut pairs = 0;
    for (kind, bytes) in objects {
        assert!(confused::<Grant>(bytes, kind), "{kind} as grant");
        assert!(
            confused::<Habilitation>(bytes, kind),
            "{kind} as habilitation"
        );
        assert!(confused::<Statement>(bytes, kind), "{kind} as statement");
        assert!(confused::<Request>(bytes, kind), "{kind} as request");
        assert!(confused::<Deletion>(bytes, kind), "{kind} as deletion");
        assert!(
            confused::<Notification>(bytes, kind),
            "{kind} as notification"
        );
        for expected in [ObjectKind::Directory, ObjectKind::DirectoryUpdate] {
            let got = registry_kind(bytes, expected);
            assert_eq!(got, if kind == expected { Ok(()) } else { Err(kind) });
        }
        for expected in ObjectKind::ALL {
            let out = Envelope::parse_kind(bytes, expected);
            if expected == kind {
                assert!(out.is_ok());
            } else {
                assert_eq!(
                    out,
                    Err(EnvelopeError::WrongKind {
                        expected,
                        found: kind
                    })
                );
                pairs += 1;
            }
        }
        // Applying a valid update copies the directory it changes: that cost is the
        // directory's size, not the input's, so it is not held to the input's multiple.
        if kind != ObjectKind::DirectoryUpdate {
            check_cost(&format!("signed {kind}"), bytes);
        }
    }
    assert_eq!(pairs, 90);
    // The grant presented as a request, to the verifier.
    let d = s.decide(&grant, &grant);
    assert_eq!(d.codes(), ["wrong_kind"]);
    // A request presented as the basis.
    assert_eq!(s.decide(&request, &request).codes(), ["wrong_kind"]);
}

/// The claims of the parent's revocation of `grant`.
fn statement_payload(s: &Scenario, grant: &[u8]) -> Statement {
    Unverified::<Statement>::parse(&s.statement(grant, Action::Revoke, s.parent))
        .unwrap()
        .claims()
        .clone()
}

#[test]
fn signed_non_deterministic_payloads_are_refused() {
    let s = Scenario::canteen();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let st = statement_payload(&s, &grant);
    let good = st.to_payload_bytes();
    assert_eq!(&good[..3], [0xa6, 0x00, 0x02]);
    let key = s.key(s.parent);

    // Non-shortest integer: version 2 written as 0x18 0x02.
    let mut non_shortest = vec![0xa6, 0x00, 0x18, 0x02];
    non_shortest.extend(&good[3..]);
    // Unsorted keys: the id entry (key 1) before the version entry (key 0).
    let id_entry_len = 1 + 1 + 16;
    let mut unsorted = vec![0xa6];
    unsorted.extend(&good[3..3 + id_entry_len]);
    unsorted.extend(&good[1..3]);
    unsorted.extend(&good[3 + id_entry_len..]);
    // Indefinite-length map.
    let mut indefinite = vec![0xbf];
    indefinite.extend(&good[1..]);
    indefinite.push(0xff);
    // Non-shortest map header.
    let mut long_header = vec![0xb8, 0x06];
    long_header.extend(&good[1..]);
    // Duplicate key: the version twice.
    let mut duplicate = vec![0xa7, 0x00, 0x02];
    duplicate.extend(&good[1..]);

    for (name, payload, check) in [
        (
            "non-shortest int",
            non_shortest,
            (|e: &DecodeError| matches!(e, DecodeError::NonShortest { offset: 2 })) as fn(&_) -> _,
        ),
        ("unsorted keys", unsorted, |e| {
            matches!(e, DecodeError::UnsortedKeys { .. })
        }),
        ("indefinite length", indefinite, |e| {
            matches!(e, DecodeError::Indefinite { offset: 0 })
        }),
        ("non-shortest map header", long_header, |e| {
            matches!(e, DecodeError::NonShortest { offset: 0 })
        }),
        ("duplicate key", duplicate, |e| {
            matches!(e, DecodeError::DuplicateKey { .. })
        }),
    ] {
        let signed = danger::sign(ObjectKind::Statement, key, &payload);
        // The envelope itself is well formed and its signature is good…
        let env = Envelope::parse(&signed).unwrap();
        assert!(env.verify(&key.verifying_key()).is_ok(), "{name}");
        // …but the payload is refused with the right error, before any trust is placed in it.
        match Unverified::<Statement>::parse(&signed) {
            Err(ParseError::Payload(e)) => assert!(check(&e), "{name}: {e:?}"),
            other => panic!("{name}: {other:?}"),
        }
        // Every other typed decoder: another kind, not a bare payload, not a directory.
        let got = verdicts(&signed);
        let wrong_kind = |expected| {
            Err(ParseError::Envelope(EnvelopeError::WrongKind {
                expected,
                found: ObjectKind::Statement,
            }))
        };
        assert_eq!(got.signed[0], wrong_kind(ObjectKind::Grant), "{name}");
        assert_eq!(
            got.signed[1],
            wrong_kind(ObjectKind::Habilitation),
            "{name}"
        );
        assert_eq!(got.signed[3], wrong_kind(ObjectKind::Request), "{name}");
        assert_eq!(got.payload, [(); 5].map(|()| Err(not_a_map(Major::Tag))));
        assert_eq!(got.envelope, Ok(()), "{name}");
        assert_eq!(
            got.directory,
            Err(DirectoryError::Malformed(not_a_map(Major::Tag).to_string()))
        );
        match Verified::<Statement>::parse_and_verify(&signed, &s.directory) {
            Err(ObjectError::Parse(ParseError::Payload(e))) => assert!(check(&e), "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        check_cost(&format!("signed payload, {name}"), &signed);
    }
}

#[test]
fn a_valid_signature_by_another_party_is_refused() {
    let s = Scenario::canteen();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    // The parent's statement, signed with the city hall's key.
    let st = statement_payload(&s, &grant);
    let forged = st.sign(s.key(s.mairie));
    match Verified::<Statement>::parse_and_verify(&forged, &s.directory) {
        Err(ObjectError::Verify(VerifyError::Key(KeyRefusal::NotSignersKey {
            owner,
            claimed,
            ..
        }))) => {
            assert_eq!(owner, s.mairie);
            assert_eq!(claimed, s.parent);
        }
        other => panic!("{other:?}"),
    }
    // The same for a grant expressed by the parent but signed by FranceConnect.
    let g = Unverified::<Grant>::parse(&grant).unwrap().claims().clone();
    let forged = g.sign(s.key(s.franceconnect));
    assert!(matches!(
        Verified::<Grant>::parse_and_verify(&forged, &s.directory),
        Err(ObjectError::Verify(VerifyError::Key(
            KeyRefusal::NotSignersKey { .. }
        )))
    ));
    assert_eq!(
        s.decide(&s.sign_request(&s.request(&forged)), &forged)
            .codes(),
        ["key_not_valid"]
    );
}

#[test]
fn a_statement_by_the_consumer_is_refused() {
    let s = Scenario::canteen();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let by_consumer = s.statement(&grant, Action::Revoke, s.mairie);
    assert_eq!(
        s.apply(&by_consumer, &grant),
        Err(StatementRefusal::NotEntitled { signer: s.mairie })
    );
    // The grant still works.
    assert!(
        s.decide(&s.sign_request(&s.request(&grant)), &grant)
            .is_allow()
    );
}

/// Valid objects, and the largest request the limits let through, cost little too.
#[test]
fn valid_objects_cost_little() {
    let s = Scenario::canteen();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    check_cost("valid grant", &grant);
    check_cost("valid request", &s.sign_request(&s.request(&grant)));
    check_cost("canteen directory", &s.directory.to_cbor());
    // A request asking for 64 one-letter categories (the most a list may hold).
    let r = Unverified::<Request>::parse(&s.sign_request(&s.request(&grant)))
        .unwrap()
        .claims()
        .to_builder()
        .categories((0..64).map(|i| consentry::vocab::Category::new(format!("a:{i:02}")).unwrap()))
        .build()
        .unwrap();
    let signed = s.sign_request(&r);
    assert!(Unverified::<Request>::parse(&signed).is_ok());
    check_cost("request with 64 categories", &signed);
    // A generic array of 256 one-byte items: the generic decoder's worst case per byte.
    let mut flat = vec![0x99, 0x01, 0x00];
    flat.extend([0u8; 256]);
    check_cost("array of 256 zeros", &flat);
}

/// A grant's payload with its chain (key 3) replaced by `chain`, signed by FranceConnect.
fn with_chain(s: &Scenario, chain: Value) -> Vec<u8> {
    let grant = s
        .grant_for(s.child)
        .chain([s.franceconnect, s.parent])
        .build(&s.ceilings)
        .unwrap();
    let Ok(Value::Map(mut entries)) = Value::decode(&grant.to_payload_bytes(), Limits::OBJECT)
    else {
        unreachable!("a payload is a map")
    };
    for (key, value) in &mut entries {
        if *key == Value::Unsigned(3) {
            *value = chain.clone();
        }
    }
    danger::sign(
        ObjectKind::Grant,
        s.key(s.franceconnect),
        &Value::Map(entries).encode(),
    )
}

fn party(p: consentry::directory::PartyId) -> Value {
    Value::Bytes(p.as_bytes().to_vec())
}

/// Hostile chains of representation: over-long (refused on the array's length, however many
/// parties follow, at a small multiple of the input's size), lying about their length,
/// looping, naming the subject, of a receipt's shape in a grant, and out of order. Each is
/// refused with its own error; none reaches a directory lookup.
#[test]
fn hostile_chains_are_refused_with_their_own_errors() {
    let s = Scenario::canteen();
    let payload = |e| ParseError::Payload(e);
    // 200 distinct parties: within the item limit, refused as too long, cheaply.
    let many: Vec<Value> = (0..200u8).map(|i| Value::Bytes(vec![i; 16])).collect();
    let long = with_chain(&s, Value::Array(many));
    assert_eq!(
        Unverified::<Grant>::parse(&long).map(drop),
        Err(payload(DecodeError::ChainTooLong {
            links: 200,
            limit: 3
        }))
    );
    check_cost("grant with a 200-party chain", &long);
    let four = with_chain(
        &s,
        Value::Array(vec![
            party(s.franceconnect),
            party(s.mairie),
            party(s.other_consumer),
            party(s.parent),
        ]),
    );
    let refused = Unverified::<Grant>::parse(&four).map(drop).unwrap_err();
    assert_eq!(refused.code(), "value/chain_too_long");
    // A decision on it fails at stage 1, before any representation is looked up.
    let other = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let decided = s.decide(&s.sign_request(&s.request(&other)), &four);
    assert_eq!(decided.codes(), ["malformed"]);
    // The same party twice; the subject in the chain.
    for (chain, who) in [
        (
            vec![party(s.franceconnect), party(s.franceconnect)],
            s.franceconnect,
        ),
        (vec![party(s.franceconnect), party(s.child)], s.child),
    ] {
        assert_eq!(
            Unverified::<Grant>::parse(&with_chain(&s, Value::Array(chain))).map(drop),
            Err(payload(DecodeError::ChainRepeatsParty { party: who }))
        );
    }
    // A receipt's link shape, `[party, kind]`, where a grant names a party.
    let shaped = with_chain(
        &s,
        Value::Array(vec![Value::Array(vec![
            party(s.franceconnect),
            Value::Unsigned(2),
        ])]),
    );
    assert_eq!(
        Unverified::<Grant>::parse(&shaped)
            .map(drop)
            .unwrap_err()
            .code(),
        "cbor/wrong_type"
    );
    // An empty chain: the subject's grant has no key 3 at all.
    assert_eq!(
        Unverified::<Grant>::parse(&with_chain(&s, Value::Array(Vec::new())))
            .map(drop)
            .unwrap_err()
            .code(),
        "value/invalid"
    );
    // A chain claiming 2^32 parties: refused on its header, nothing allocated for it.
    let mut lying = with_chain(&s, Value::Array(vec![party(s.franceconnect)]));
    let env = Envelope::parse(&lying).unwrap();
    let mut bad = env.payload().to_vec();
    let at = bad
        .windows(2)
        .position(|w| w == [0x03, 0x81])
        .expect("key 3");
    bad.splice(at + 1..at + 2, header(4, 1 << 32));
    lying = danger::sign(ObjectKind::Grant, s.key(s.franceconnect), &bad);
    assert!(matches!(
        Unverified::<Grant>::parse(&lying),
        Err(ParseError::Payload(DecodeError::TooLong { .. }))
    ));
    check_cost("grant with a chain claiming 2^32 parties", &lying);
    // Out of order: the parent first, then FranceConnect. Well formed, but neither link is a
    // representation the directory holds: both refused, each named.
    let reversed = s.sign_grant(
        &s.grant_for(s.child)
            .chain([s.parent, s.franceconnect])
            .build(&s.ceilings)
            .unwrap(),
    );
    let d = s.decide(&s.sign_request(&s.request(&reversed)), &reversed);
    assert_eq!(
        d.codes(),
        ["representation_not_valid", "representation_not_valid"]
    );
}

/// The canteen grant's payload with key 15 (derivations) set to `derivations`, signed by the
/// parent.
fn with_derivations(s: &Scenario, derivations: Value) -> Vec<u8> {
    let grant = s.grant().build(&s.ceilings).unwrap();
    let Ok(Value::Map(mut entries)) = Value::decode(&grant.to_payload_bytes(), Limits::OBJECT)
    else {
        unreachable!("a payload is a map")
    };
    entries.push((Value::Unsigned(15), derivations));
    danger::sign(
        ObjectKind::Grant,
        s.key(s.parent),
        &Value::Map(entries).encode(),
    )
}

fn term(category: &str, code: &str, parameters: Vec<u64>) -> Value {
    Value::Array(vec![
        Value::Text(category.to_owned()),
        Value::Text(code.to_owned()),
        Value::Array(parameters.into_iter().map(Value::Unsigned).collect()),
    ])
}

/// Hostile derivations in a grant (key 15): each refused when the grant is read, with its own
/// error, before any vocabulary or ceiling is consulted; a parameter list lying about its length
/// costs a small multiple of its own size.
#[test]
fn hostile_derivations_are_refused_with_their_own_errors() {
    let s = Scenario::canteen();
    let rfr = "dgfip:revenu_fiscal_reference";
    let code = "dgfip:tranche_rfr";
    let refused = |v: Value| {
        Unverified::<Grant>::parse(&with_derivations(&s, v))
            .map(drop)
            .unwrap_err()
    };
    let invalid = |v: Value| match refused(v) {
        ParseError::Payload(DecodeError::InvalidValue { field, .. }) => field,
        other => panic!("not an invalid value: {other:?}"),
    };
    // Well formed: read back.
    let ok = with_derivations(&s, Value::Array(vec![term(rfr, code, vec![1, 2])]));
    let read = Unverified::<Grant>::parse(&ok).unwrap();
    assert_eq!(read.claims().derivations()[0].parameters(), [1, 2]);
    // Written only when not empty.
    assert_eq!(invalid(Value::Array(vec![])), "derivations");
    // No parameter, 17 parameters, unsorted or repeated parameters.
    assert_eq!(
        invalid(Value::Array(vec![term(rfr, code, vec![])])),
        "derivation parameters"
    );
    assert_eq!(
        invalid(Value::Array(vec![term(rfr, code, (0..17).collect())])),
        "derivation parameters"
    );
    assert_eq!(
        invalid(Value::Array(vec![term(rfr, code, vec![2, 1])])),
        "derivation parameters"
    );
    assert_eq!(
        invalid(Value::Array(vec![term(rfr, code, vec![2, 2])])),
        "derivation parameters"
    );
    // A category the scope does not cover; the same category twice.
    assert_eq!(
        invalid(Value::Array(vec![term(
            "cnaf:quotient_familial",
            code,
            vec![1]
        )])),
        "derivations"
    );
    assert_eq!(
        invalid(Value::Array(vec![
            term(rfr, code, vec![1]),
            term(rfr, code, vec![2])
        ])),
        "derivations"
    );
    // A code or a category that is not namespace:name.
    assert_eq!(
        invalid(Value::Array(vec![term(rfr, "tranche", vec![1])])),
        "derivation"
    );
    assert_eq!(
        invalid(Value::Array(vec![term("rfr", code, vec![1])])),
        "category"
    );
    // The wrong shapes: a map instead of the list, a term of two items, a negative parameter.
    assert_eq!(refused(Value::Map(vec![])).code(), "cbor/wrong_type");
    assert_eq!(
        invalid(Value::Array(vec![Value::Array(vec![
            Value::Text(rfr.into()),
            Value::Text(code.into())
        ])])),
        "derivation"
    );
    assert_eq!(
        refused(Value::Array(vec![Value::Array(vec![
            Value::Text(rfr.into()),
            Value::Text(code.into()),
            Value::Array(vec![Value::Negative(0)]),
        ])]))
        .code(),
        "cbor/wrong_type"
    );
    // A parameter list claiming 2^32 items: refused on its header, nothing allocated for it.
    let env = Envelope::parse(&ok).unwrap();
    let mut bad = env.payload().to_vec();
    let at = bad
        .windows(3)
        .position(|w| w == [0x82, 0x01, 0x02])
        .expect("the parameters");
    bad.splice(at..at + 1, header(4, 1 << 32));
    let lying = danger::sign(ObjectKind::Grant, s.key(s.parent), &bad);
    assert!(Unverified::<Grant>::parse(&lying).is_err());
    check_cost("grant with parameters claiming 2^32", &lying);
}

/// A verifier's ledger keeps the log its receipts go to: a deletion reaches it only through
/// [`log_deletion`], which refuses every statement but the receipt's consumer's about a
/// receipt logged there, and appends nothing when it refuses.
#[test]
fn a_ledgers_log_takes_only_the_receiving_consumers_deletion() {
    use consentry::decision::{Basis, Receipts, Verifier};
    use consentry::ledger::InMemoryLedger;
    use consentry::log::{LogEntry, LogStore, log_deletion};

    let s = Scenario::canteen();
    let ledger = InMemoryLedger::new();
    let next = std::sync::atomic::AtomicU64::new(1);
    let ids = || {
        uuid::Uuid::from_u64_pair(
            0xde1,
            next.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        )
    };
    let verifier = Verifier::new(s.verifier_provider, &s.directory, &s.ceilings, &ledger)
        .with_receipts(Receipts {
            key: s.key(s.dgfip),
            ids: &ids,
        });
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let request = s.sign_request(&s.request(&grant));
    assert!(
        verifier
            .decide(&request, Basis::Signed(&grant), s.now)
            .is_allow()
    );
    let size = ledger.log_size().unwrap();
    let Ok(LogEntry::Receipt(receipt)) = LogEntry::from_bytes(&ledger.log_entry(size - 1).unwrap())
    else {
        panic!("the allow's receipt");
    };
    let deletion = Deletion::for_receipt(&receipt, s.now, s.now);
    // Another consumer, as itself; the consumer's name with another key; a receipt the ledger
    // never logged; not a deletion at all.
    let as_other = Deletion {
        consumer: s.other_consumer,
        ..deletion.clone()
    }
    .sign(s.key(s.other_consumer));
    let with_other_key = deletion.sign(s.key(s.other_consumer));
    let unlogged = Deletion {
        receipt_digest: consentry::Digest::of(&request),
        ..deletion.clone()
    }
    .sign(s.key(s.mairie));
    for (bytes, code) in [
        (&as_other, "deletion/wrong_signer"),
        (&with_other_key, "deletion/invalid_object"),
        (&unlogged, "deletion/receipt_hash_mismatch"),
        (&grant, "deletion/invalid_object"),
    ] {
        let refused = log_deletion(&ledger, bytes, &s.directory).unwrap_err();
        assert_eq!(refused.code(), code);
        assert_eq!(ledger.log_size(), Ok(size), "{code}: nothing appended");
    }
    log_deletion(&ledger, &deletion.sign(s.key(s.mairie)), &s.directory).unwrap();
    assert_eq!(ledger.log_size(), Ok(size + 1));
    let twice = log_deletion(&ledger, &deletion.sign(s.key(s.mairie)), &s.directory).unwrap_err();
    assert_eq!(twice.code(), "deletion/already_deleted");
}

/// Notifications that break the payload's rules, each signed by its emitter so that only the
/// rule refuses it: each refused as `notification/malformed` with its own detail code, and
/// nothing applied.
#[test]
fn malformed_notifications_are_refused_with_their_codes() {
    let s = Scenario::canteen();
    let grant = s.sign_grant(&s.grant().build(&s.ceilings).unwrap());
    let statement = s.statement(&grant, Action::Pause, s.parent);
    let (dgfip, cnaf) = (s.dgfip.as_bytes().to_vec(), s.cnaf.as_bytes().to_vec());
    // The payload with `entries` after the version, in order, as (key, writer).
    type Entry<'a> = (u64, &'a dyn Fn(&mut Encoder));
    let payload = |version: u64, entries: &[Entry<'_>]| {
        let mut e = Encoder::new();
        e.map(entries.len() + 1).uint(0).uint(version);
        for (key, write) in entries {
            e.uint(*key);
            write(&mut e);
        }
        e.into_bytes()
    };
    let emitter = |e: &mut Encoder| {
        e.bytes(&dgfip);
    };
    let recipient = |e: &mut Encoder| {
        e.bytes(&cnaf);
    };
    let to_self = |e: &mut Encoder| {
        e.bytes(&dgfip);
    };
    let one = |e: &mut Encoder| {
        e.uint(1);
    };
    let zero = |e: &mut Encoder| {
        e.uint(0);
    };
    let now = |e: &mut Encoder| {
        e.uint(s.now.secs());
    };
    let st = |e: &mut Encoder| {
        e.bytes(&statement);
    };
    let basis = |e: &mut Encoder| {
        e.bytes(&grant);
    };
    let update = |e: &mut Encoder| {
        e.bytes(&[0xd2]);
    };
    let text = |e: &mut Encoder| {
        e.text("pause");
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "seq 0",
            payload(
                2,
                &[
                    (1, &emitter),
                    (2, &recipient),
                    (3, &zero),
                    (4, &now),
                    (5, &st),
                    (6, &basis),
                ],
            ),
            "value/invalid",
        ),
        (
            "to itself",
            payload(
                2,
                &[
                    (1, &emitter),
                    (2, &to_self),
                    (3, &one),
                    (4, &now),
                    (5, &st),
                    (6, &basis),
                ],
            ),
            "value/invalid",
        ),
        (
            "a statement without its basis",
            payload(
                2,
                &[
                    (1, &emitter),
                    (2, &recipient),
                    (3, &one),
                    (4, &now),
                    (5, &st),
                ],
            ),
            "value/invalid",
        ),
        (
            "a statement and an update",
            payload(
                2,
                &[
                    (1, &emitter),
                    (2, &recipient),
                    (3, &one),
                    (4, &now),
                    (5, &st),
                    (6, &basis),
                    (7, &update),
                ],
            ),
            "value/invalid",
        ),
        (
            "nothing carried",
            payload(2, &[(1, &emitter), (2, &recipient), (3, &one), (4, &now)]),
            "value/invalid",
        ),
        (
            "an unknown key",
            payload(
                2,
                &[
                    (1, &emitter),
                    (2, &recipient),
                    (3, &one),
                    (4, &now),
                    (5, &st),
                    (6, &basis),
                    (8, &one),
                ],
            ),
            "cbor/unknown_key",
        ),
        (
            "version 1",
            payload(
                1,
                &[
                    (1, &emitter),
                    (2, &recipient),
                    (3, &one),
                    (4, &now),
                    (5, &st),
                    (6, &basis),
                ],
            ),
            "payload/unsupported_version",
        ),
        (
            "a statement as text",
            payload(
                2,
                &[
                    (1, &emitter),
                    (2, &recipient),
                    (3, &one),
                    (4, &now),
                    (5, &text),
                    (6, &basis),
                ],
            ),
            "cbor/wrong_type",
        ),
        (
            "no recipient",
            payload(
                2,
                &[(1, &emitter), (3, &one), (4, &now), (5, &st), (6, &basis)],
            ),
            "cbor/missing_key",
        ),
    ];
    let ledger = consentry::InMemoryLedger::new();
    let v = consentry::Verifier::new(s.cnaf, &s.directory, &s.ceilings, &ledger);
    for (name, payload, detail) in cases {
        let signed = danger::sign(ObjectKind::Notification, s.key(s.dgfip), &payload);
        let mut inbox = Inbox::new(s.cnaf);
        let err = inbox.receive_statement(&signed, &v, s.now).unwrap_err();
        assert_eq!(
            (err.code(), err.detail_code()),
            ("notification/malformed", detail),
            "{name}"
        );
        // The two rules of the claims name the field at fault.
        let names = match name {
            "seq 0" => Some("invalid seq: a notification stream is numbered from 1"),
            "to itself" => Some("invalid recipient: a party does not notify itself"),
            _ => None,
        };
        if let Some(names) = names {
            assert!(err.to_string().contains(names), "{name}: {err}");
        }
        assert_eq!(inbox.last_seq(s.dgfip), 0, "{name}");
    }
    // Larger than an object may be: refused by the envelope, before anything is read.
    let huge = Notifier {
        emitter: s.dgfip,
        key: s.key(s.dgfip),
    }
    .sign(
        s.cnaf,
        1,
        s.now,
        &Carried::Statement {
            statement,
            basis: vec![0; 64 * 1024],
        },
    );
    let err = Inbox::new(s.cnaf)
        .receive_statement(&huge, &v, s.now)
        .unwrap_err();
    assert_eq!(
        (err.code(), err.detail_code()),
        ("notification/malformed", "cbor/too_large")
    );
    assert_eq!(
        ledger.status(&consentry::danger::basis_key(
            consentry::ids::BasisKind::Grant,
            s.parent,
            Unverified::<Grant>::parse(&grant).unwrap().claims().id()
        )),
        consentry::ledger::Status::Active
    );
}
