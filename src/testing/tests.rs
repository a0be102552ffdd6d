//! The kit's unit tests: the canteen cast is the one the vectors were made from, and the codes
//! `docs/model.md` lists for audit tests are exactly those the library gives.

use super::{Scenario, ScenarioError};
use crate::cbor::DecodeError;
use crate::ceiling::CeilingExcess;
use crate::decision::{Reason, StatementRefusal, Subject};
use crate::derivation::DerivationError;
use crate::digest::Digest;
use crate::directory::{DirectoryError, PartyId};
use crate::grant::GrantError;
use crate::keys::KeyId;
use crate::ledger::{LedgerError, LifecycleRefusal};
use crate::log::{EntryKind, LogError, ProofError};
use crate::signed::{ParseError, VerifyError};
use crate::time::Timestamp;
use std::collections::BTreeSet;

#[test]
fn the_canteen_cast_is_the_directory_of_the_vectors() {
    let vector: &[u8] = include_bytes!("../../tests/vectors/directories/canteen.cbor");
    assert_eq!(Scenario::canteen().directory.to_cbor(), vector);
}

/// Checks that `samples` hold one value of each of a type's `variants` variants, as `index`
/// (an exhaustive match) numbers them, and returns their codes: a new variant is a compile
/// error in `index`, then a failure here until it has a sample.
fn one_of_each<T>(
    samples: &[T],
    variants: usize,
    index: fn(&T) -> usize,
    code: fn(&T) -> &'static str,
) -> BTreeSet<&'static str> {
    let indices: BTreeSet<usize> = samples.iter().map(index).collect();
    assert_eq!(indices, (0..variants).collect(), "a variant has no sample");
    samples.iter().map(code).collect()
}

const T: Timestamp = Timestamp(1);

fn party() -> PartyId {
    PartyId::from_bytes([1; 16])
}

fn kid() -> KeyId {
    KeyId::from_bytes([2; 16])
}

fn decode_error() -> DecodeError {
    DecodeError::TrailingBytes {
        offset: 0,
        count: 1,
    }
}

/// The codes a refused statement gives: for a refused basis or statement, its object's reason
/// code (of the rules that judge one object alone, listed here), and the statement's own.
fn statement_codes() -> BTreeSet<&'static str> {
    let object = [
        "malformed",
        "wrong_kind",
        "unknown_key",
        "bad_signature",
        "key_not_valid",
        "basis_from_future",
    ];
    assert!(object.iter().all(|c| Reason::all_codes().any(|r| r == *c)));
    let samples = [
        StatementRefusal::Object(Reason::Malformed {
            object: Subject::Statement,
            error: ParseError::Payload(decode_error()),
        }),
        StatementRefusal::BasisMismatch,
        StatementRefusal::BasisHashMismatch,
        StatementRefusal::NotEntitled { signer: party() },
        StatementRefusal::FromFuture { issued_at: T },
        StatementRefusal::TooOld { issued_at: T },
        StatementRefusal::Ledger(LifecycleRefusal::AlreadyRevoked { at: T }),
        StatementRefusal::Ledger(LifecycleRefusal::Duplicate),
        StatementRefusal::Ledger(LifecycleRefusal::ResumePredatesPause { pause_issued_at: T }),
        StatementRefusal::LedgerUnavailable(LedgerError::Unavailable(String::new())),
        StatementRefusal::LedgerUnavailable(LedgerError::Corrupt(String::new())),
    ];
    let own = one_of_each(
        &samples,
        11,
        |r| match r {
            StatementRefusal::Object(_) => 0,
            StatementRefusal::BasisMismatch => 1,
            StatementRefusal::BasisHashMismatch => 2,
            StatementRefusal::NotEntitled { .. } => 3,
            StatementRefusal::FromFuture { .. } => 4,
            StatementRefusal::TooOld { .. } => 5,
            StatementRefusal::Ledger(LifecycleRefusal::AlreadyRevoked { .. }) => 6,
            StatementRefusal::Ledger(LifecycleRefusal::Duplicate) => 7,
            StatementRefusal::Ledger(LifecycleRefusal::ResumePredatesPause { .. }) => 8,
            StatementRefusal::LedgerUnavailable(LedgerError::Unavailable(_)) => 9,
            StatementRefusal::LedgerUnavailable(LedgerError::Corrupt(_)) => 10,
        },
        StatementRefusal::code,
    );
    own.into_iter().chain(object).collect()
}

fn grant_codes() -> BTreeSet<&'static str> {
    let grants = [
        GrantError::Missing("x"),
        GrantError::BadScope,
        GrantError::EmptyWindow,
        GrantError::BeyondCeiling(Vec::new()),
        GrantError::ChainTooLong { links: 4 },
        GrantError::ChainRepeatsParty(party()),
        GrantError::BadDerivations,
    ];
    let excesses = [
        CeilingExcess::NoCeiling { provider: party() },
        CeilingExcess::Categories {
            provider: party(),
            categories: Vec::new(),
        },
        CeilingExcess::Validity {
            provider: party(),
            max_secs: 1,
        },
        CeilingExcess::Frequency { provider: party() },
        CeilingExcess::Retention {
            provider: party(),
            max_secs: 1,
        },
        CeilingExcess::DataRange {
            provider: party(),
            max_secs: 1,
        },
        CeilingExcess::RawWhereDerivedOnly {
            provider: party(),
            categories: Vec::new(),
        },
        CeilingExcess::Derivation {
            provider: party(),
            categories: Vec::new(),
        },
    ];
    let mut codes = one_of_each(
        &grants,
        7,
        |g| match g {
            GrantError::Missing(_) => 0,
            GrantError::BadScope => 1,
            GrantError::EmptyWindow => 2,
            GrantError::BeyondCeiling(_) => 3,
            GrantError::ChainTooLong { .. } => 4,
            GrantError::ChainRepeatsParty(_) => 5,
            GrantError::BadDerivations => 6,
        },
        GrantError::code,
    );
    codes.extend(one_of_each(
        &excesses,
        8,
        |e| match e {
            CeilingExcess::NoCeiling { .. } => 0,
            CeilingExcess::Categories { .. } => 1,
            CeilingExcess::Validity { .. } => 2,
            CeilingExcess::Frequency { .. } => 3,
            CeilingExcess::Retention { .. } => 4,
            CeilingExcess::DataRange { .. } => 5,
            CeilingExcess::RawWhereDerivedOnly { .. } => 6,
            CeilingExcess::Derivation { .. } => 7,
        },
        CeilingExcess::code,
    ));
    codes
}

fn proof_errors() -> Vec<ProofError> {
    vec![
        ProofError::IndexOutOfRange { index: 1, size: 1 },
        ProofError::SizeOutOfRange { size: 2, len: 1 },
        ProofError::InvalidSizes { old: 2, new: 1 },
        ProofError::WrongProofLength {
            expected: 1,
            got: 2,
        },
        ProofError::ProofTooLong { got: 99, max: 64 },
        ProofError::EmptyProofRequired { got: 1 },
        ProofError::RootMismatch,
    ]
}

fn log_codes() -> BTreeSet<&'static str> {
    let digest = Digest::of(b"x");
    let mut samples = vec![
        LogError::MalformedEntry(decode_error()),
        LogError::MalformedObject {
            kind: EntryKind::Receipt,
            error: ParseError::Payload(decode_error()),
        },
        LogError::StatementNotAboutBasis {
            statement: digest,
            basis: digest,
        },
        LogError::InvalidDenial("x"),
        LogError::MalformedHead(ParseError::Payload(decode_error())),
        LogError::WrongKey {
            expected: kid(),
            found: kid(),
        },
        LogError::BadSignature,
        LogError::HeadKey(VerifyError::BadSignature),
        LogError::WrongLog {
            expected: party(),
            found: party(),
        },
        LogError::Rollback {
            seen_size: 2,
            offered_size: 1,
        },
        LogError::Fork {
            old_size: 1,
            old_root: digest,
            new_size: 1,
            new_root: digest,
        },
        LogError::ConsistencyProofRequired {
            old_size: 1,
            new_size: 2,
        },
        LogError::InclusionProofMismatch {
            expected_index: 0,
            expected_size: 1,
            found_index: 0,
            found_size: 2,
        },
        LogError::ConsistencyProofMismatch {
            expected_old: 1,
            expected_new: 2,
            found_old: 1,
            found_new: 3,
        },
        LogError::TimeRegression {
            seen: T,
            offered: T,
        },
        LogError::NotAboutSubject {
            index: 0,
            subject: party(),
        },
        LogError::HistoryOrder { index: 0 },
        LogError::IndexTooLarge(u64::MAX),
        LogError::Storage(LedgerError::Unavailable(String::new())),
        LogError::InconsistentWithSignedHead {
            size: 1,
            root: digest,
            signed_size: 2,
        },
    ];
    let proofs = proof_errors();
    let mut codes = one_of_each(
        &proofs,
        7,
        |p| match p {
            ProofError::IndexOutOfRange { .. } => 0,
            ProofError::SizeOutOfRange { .. } => 1,
            ProofError::InvalidSizes { .. } => 2,
            ProofError::WrongProofLength { .. } => 3,
            ProofError::ProofTooLong { .. } => 4,
            ProofError::EmptyProofRequired { .. } => 5,
            ProofError::RootMismatch => 6,
        },
        ProofError::code,
    );
    samples.extend(proofs.into_iter().map(LogError::Proof));
    codes.extend(one_of_each(
        &samples,
        21,
        |e| match e {
            LogError::Proof(_) => 0,
            LogError::MalformedEntry(_) => 1,
            LogError::MalformedObject { .. } => 2,
            LogError::StatementNotAboutBasis { .. } => 3,
            LogError::InvalidDenial(_) => 4,
            LogError::MalformedHead(_) => 5,
            LogError::WrongKey { .. } => 6,
            LogError::BadSignature => 7,
            LogError::HeadKey(_) => 8,
            LogError::WrongLog { .. } => 9,
            LogError::Rollback { .. } => 10,
            LogError::Fork { .. } => 11,
            LogError::ConsistencyProofRequired { .. } => 12,
            LogError::InclusionProofMismatch { .. } => 13,
            LogError::ConsistencyProofMismatch { .. } => 14,
            LogError::TimeRegression { .. } => 15,
            LogError::NotAboutSubject { .. } => 16,
            LogError::HistoryOrder { .. } => 17,
            LogError::IndexTooLarge(_) => 18,
            LogError::Storage(_) => 19,
            LogError::InconsistentWithSignedHead { .. } => 20,
        },
        LogError::code,
    ));
    codes
}

/// The builder's refusals: its own, and those of the directory a cast can meet (tests/kit.rs
/// makes each).
fn kit_codes() -> BTreeSet<&'static str> {
    let directory = [
        DirectoryError::DuplicateParty(party()),
        DirectoryError::NoRole(party()),
        DirectoryError::DuplicateRole(party()),
        DirectoryError::BadName(party()),
        DirectoryError::TooManyKeys(party()),
        DirectoryError::DuplicateKey(kid()),
        DirectoryError::EmptyWindow(kid()),
        DirectoryError::UnknownParty(party()),
    ];
    let mut samples = vec![
        ScenarioError::NoProvider,
        ScenarioError::NotAProvider(party()),
        ScenarioError::Derivation(DerivationError::Redefined(
            crate::derivation::DerivationCode::new("a:b").unwrap(),
        )),
    ];
    samples.extend(directory.into_iter().map(ScenarioError::Directory));
    one_of_each(
        &samples,
        4,
        |e| match e {
            ScenarioError::Directory(_) => 0,
            ScenarioError::NoProvider => 1,
            ScenarioError::NotAProvider(_) => 2,
            ScenarioError::Derivation(_) => 3,
        },
        ScenarioError::code,
    )
}

/// A deletion's refusals (`src/log/tests/deletion.rs` makes each) and the overdue query's.
fn deletion_codes() -> BTreeSet<&'static str> {
    use crate::deletion::DeletionError;
    use crate::log::OverdueError;
    let digest = Digest::of(b"x");
    let deletions = [
        DeletionError::Object(crate::signed::ObjectError::Verify(
            VerifyError::BadSignature,
        )),
        DeletionError::WrongSigner {
            consumer: party(),
            signer: party(),
        },
        DeletionError::UnknownReceipt {
            receipt: uuid::Uuid::nil(),
            receipt_digest: digest,
        },
        DeletionError::ReceiptHashMismatch {
            named: digest,
            logged: digest,
        },
        DeletionError::ReceiptMismatch { field: "subject" },
        DeletionError::BeforeReceipt {
            deleted_at: T,
            received_at: T,
        },
        DeletionError::AlreadyDeleted { index: 0 },
        DeletionError::Storage(LedgerError::Unavailable(String::new())),
    ];
    let mut codes = one_of_each(
        &deletions,
        8,
        |e| match e {
            DeletionError::Object(_) => 0,
            DeletionError::WrongSigner { .. } => 1,
            DeletionError::UnknownReceipt { .. } => 2,
            DeletionError::ReceiptHashMismatch { .. } => 3,
            DeletionError::ReceiptMismatch { .. } => 4,
            DeletionError::BeforeReceipt { .. } => 5,
            DeletionError::AlreadyDeleted { .. } => 6,
            DeletionError::Storage(_) => 7,
        },
        DeletionError::code,
    );
    let overdue = [
        OverdueError::Head(LogError::BadSignature),
        OverdueError::AfterHead { at: T, head: T },
        OverdueError::EntryCount {
            head_size: 1,
            entries: 0,
        },
        OverdueError::Entry {
            index: 0,
            error: LogError::BadSignature,
        },
        OverdueError::RootMismatch,
        OverdueError::Item {
            position: 0,
            error: LogError::BadSignature,
        },
        OverdueError::ResultMismatch {
            expected: Vec::new(),
            listed: Vec::new(),
        },
    ];
    codes.extend(one_of_each(
        &overdue,
        7,
        |e| match e {
            OverdueError::Head(_) => 0,
            OverdueError::AfterHead { .. } => 1,
            OverdueError::EntryCount { .. } => 2,
            OverdueError::Entry { .. } => 3,
            OverdueError::RootMismatch => 4,
            OverdueError::Item { .. } => 5,
            OverdueError::ResultMismatch { .. } => 6,
        },
        OverdueError::code,
    ));
    codes
}

/// The codes of each list under "Codes an audit test may see" in `docs/model.md`, by the
/// list's bold name: every `snake_case` code in backquotes, with or without a `layer/` prefix.
fn documented() -> Vec<(String, BTreeSet<String>)> {
    let model = include_str!("../../docs/model.md");
    let start = model
        .find("**Codes an audit test may see.**")
        .expect("the section is in docs/model.md");
    let mut lists: Vec<(String, String)> = Vec::new();
    for line in model[start..].lines().skip(1) {
        if let Some(item) = line.strip_prefix("- **") {
            let (name, rest) = item.split_once("**").expect("a bold name");
            lists.push((name.to_owned(), rest.to_owned()));
        } else if let (Some(last), true) = (lists.last_mut(), line.starts_with("  ")) {
            last.1.push(' ');
            last.1.push_str(line);
        } else if !lists.is_empty() {
            break;
        }
    }
    let is_code = |s: &&str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'/')
    };
    lists
        .into_iter()
        .map(|(name, text)| {
            let codes = text
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(is_code)
                .map(str::to_owned)
                .collect();
            (name, codes)
        })
        .collect()
}

/// Why a store does not open.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn store_codes() -> BTreeSet<&'static str> {
    use crate::store::OpenError;
    let samples = [
        OpenError::SchemaTooNew {
            found: 3,
            supported: 2,
        },
        OpenError::Ledger(LedgerError::Unavailable("down".into())),
        OpenError::Log(LogError::Storage(LedgerError::Unavailable("down".into()))),
    ];
    one_of_each(
        &samples,
        3,
        |e| match e {
            OpenError::SchemaTooNew { .. } => 0,
            OpenError::Ledger(_) => 1,
            OpenError::Log(_) => 2,
        },
        OpenError::code,
    )
}

#[test]
fn the_documented_codes_are_the_library_codes() {
    let owned = |codes: BTreeSet<&'static str>| -> BTreeSet<String> {
        codes.into_iter().map(str::to_owned).collect()
    };
    let expected = [
        ("decisions", owned(Reason::all_codes().collect())),
        ("statements", owned(statement_codes())),
        ("grants", owned(grant_codes())),
        ("log", owned(log_codes())),
        ("kit", owned(kit_codes())),
        ("deletions", owned(deletion_codes())),
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        ("stores", owned(store_codes())),
    ];
    let mut documented = documented();
    // The stores' list only applies to a build with a store.
    if cfg!(not(any(feature = "sqlite", feature = "postgres"))) {
        documented.retain(|(name, _)| name != "stores");
    }
    assert_eq!(
        documented
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        expected.iter().map(|(n, _)| *n).collect::<Vec<_>>()
    );
    for ((name, listed), (_, codes)) in documented.iter().zip(&expected) {
        assert_eq!(
            listed.difference(codes).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "listed for {name} but not a code"
        );
        assert_eq!(
            codes.difference(listed).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "a code of {name} not listed"
        );
    }
}
