//! Properties over random logs: inclusion against every later head, consistency between any
//! two heads, refusal of any flipped bit, rebuilding, and fork detection.

use super::{operator, pool, sample_entries};
use crate::Digest;
use crate::directory::PartyId;
use crate::log::{
    Denial, HeadMonitor, LogEntry, LogError, SignedTreeHead, TransferLog, TreeHead, compare_heads,
    leaf_hash,
};
use crate::reach::reaching_half_each;
use crate::signed::SignedPayload;
use crate::testing::party_for;
use crate::time::Timestamp;
use proptest::prelude::*;
use std::sync::OnceLock;

/// Encoded entries of every kind, made once.
fn fixed_entries() -> &'static [Vec<u8>] {
    static FIXED: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FIXED.get_or_init(|| {
        let mut all: Vec<Vec<u8>> = sample_entries().iter().map(LogEntry::to_bytes).collect();
        for receipt in &pool().receipts[1..] {
            all.push(
                LogEntry::receipt(receipt.clone())
                    .expect("receipt")
                    .to_bytes(),
            );
        }
        all
    })
}

/// An entry: one of the fixed ones, or a denial about someone or no one.
fn entry(choice: u8, salt: u32) -> LogEntry {
    let fixed = fixed_entries();
    match usize::from(choice) {
        i if i < fixed.len() => LogEntry::from_bytes(&fixed[i]).expect("fixed entry"),
        i => {
            let subject = (i % 2 == 0).then(|| party_for("parent"));
            LogEntry::Denial(
                Denial::attributed(
                    Digest::of(&salt.to_be_bytes()),
                    None,
                    None,
                    subject,
                    ["request_too_old"],
                    Timestamp(u64::from(salt)),
                )
                .expect("denial"),
            )
        }
    }
}

fn entries() -> impl Strategy<Value = Vec<LogEntry>> {
    prop::collection::vec((0u8..12, any::<u32>()), 1..18)
        .prop_map(|v| v.into_iter().map(|(c, s)| entry(c, s)).collect())
}

/// The log of `entries` and its signed heads at every size from 0, dated by size.
fn log_with_heads(entries: &[LogEntry]) -> (TransferLog, Vec<SignedTreeHead>) {
    let (key, operator) = operator();
    let public = key.verifying_key();
    let mut log = TransferLog::new();
    let sign = |log: &TransferLog| {
        SignedTreeHead::verify(
            &log.sign_head(&key, operator, Timestamp(1000 + log.len())),
            operator,
            &public,
        )
        .expect("valid head")
    };
    let mut heads = vec![sign(&log)];
    for e in entries {
        log.append(e);
        heads.push(sign(&log));
    }
    (log, heads)
}

fn flip(bytes: &mut [u8], bit: usize) {
    let bit = bit % (bytes.len() * 8);
    bytes[bit / 8] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_entry_is_included_in_every_later_head(entries in entries()) {
        let (log, heads) = log_with_heads(&entries);
        for (size, head) in heads.iter().enumerate() {
            let size = size as u64;
            prop_assert_eq!(head.tree_size(), size);
            for index in 0..size {
                let proof = log.inclusion_proof(index, size).expect("proof");
                let bytes = log.entry(index).expect("entry");
                prop_assert!(head.verify_inclusion(bytes, &proof).is_ok());
            }
        }
    }

    #[test]
    fn any_two_heads_are_consistent(entries in entries()) {
        let (log, heads) = log_with_heads(&entries);
        for a in &heads {
            for b in &heads {
                let (lo, hi) = (a.tree_size().min(b.tree_size()), a.tree_size().max(b.tree_size()));
                let proof = log.consistency_proof(lo, hi).expect("proof");
                prop_assert!(compare_heads(a, b, Some(&proof)).is_ok());
            }
        }
        let mut monitor = HeadMonitor::new();
        let mut last = 0;
        for head in &heads {
            let proof = log.consistency_proof(last, head.tree_size()).expect("proof");
            prop_assert!(monitor.observe(head.clone(), Some(&proof)).is_ok());
            last = head.tree_size();
        }
    }

    #[test]
    fn rebuilt_log_has_the_same_root_and_proofs(entries in entries()) {
        let (log, _) = log_with_heads(&entries);
        let rebuilt = TransferLog::from_entries(log.entries().iter().cloned()).expect("rebuild");
        prop_assert_eq!(rebuilt.root(), log.root());
        prop_assert_eq!(rebuilt.len(), log.len());
        for index in 0..log.len() {
            prop_assert_eq!(
                rebuilt.inclusion_proof(index, log.len()).expect("proof"),
                log.inclusion_proof(index, log.len()).expect("proof")
            );
            prop_assert_eq!(leaf_hash(rebuilt.entry(index).expect("e")), entries[index as usize].leaf_hash());
        }
        for subject in [party_for("parent"), party_for("child"), PartyId::from_bytes([0; 16])] {
            prop_assert_eq!(rebuilt.indices_about(&subject), log.indices_about(&subject));
        }
    }

    #[test]
    fn a_fork_is_detected(
        prefix in entries(),
        left in entries(),
        right in entries(),
        cut in any::<prop::sample::Index>(),
    ) {
        // Two logs share `prefix`, then each appends its own entries, starting with a distinct
        // denial so that they differ.
        let marker = |tag: &str| LogEntry::Denial(
            Denial::new(Digest::of(tag.as_bytes()), None, None, ["malformed"], Timestamp(0))
                .expect("denial"));
        let a: Vec<LogEntry> = prefix.iter().cloned().chain([marker("left")]).chain(left).collect();
        let b: Vec<LogEntry> = prefix.iter().cloned().chain([marker("right")]).chain(right).collect();
        let (log_a, heads_a) = log_with_heads(&a);
        let (log_b, heads_b) = log_with_heads(&b);
        let shared = prefix.len();

        // A monitor that followed log a past the fork point refuses every head of log b past it.
        let seen = &heads_a[shared + 1 + cut.index(heads_a.len() - shared - 1)];
        let mut monitor = HeadMonitor::starting_at(seen.clone());
        for offered in &heads_b[shared + 1..] {
            let result = if offered.tree_size() >= seen.tree_size() {
                let proof = log_b.consistency_proof(seen.tree_size(), offered.tree_size()).expect("p");
                monitor.observe(offered.clone(), Some(&proof))
            } else {
                monitor.observe(offered.clone(), None)
            };
            let detected = matches!(
                result,
                Err(LogError::Fork { .. } | LogError::Rollback { .. })
            );
            prop_assert!(detected, "{:?}", result);
            prop_assert_eq!(monitor.latest(), Some(seen));
            // Log a's own proof does not link the two heads either.
            let (lo, hi) = (seen.tree_size().min(offered.tree_size()), seen.tree_size().max(offered.tree_size()));
            if let Ok(p) = log_a.consistency_proof(lo, hi) {
                prop_assert!(compare_heads(seen, offered, Some(&p)).is_err());
            }
        }
        // Heads up to the shared prefix are consistent with both.
        let common = &heads_a[shared];
        prop_assert_eq!(common, &heads_b[shared]);
    }
}

// ---------------------------------------------------------------------------------------------
// Properties with conditional assertions run with a count, per assertion, of the inputs that
// reach it, which must be at least half.

#[test]
fn any_flipped_bit_is_refused() {
    reaching_half_each(
        "any_flipped_bit_is_refused",
        48,
        (entries(), any::<prop::sample::Index>(), any::<usize>()),
        ["path hash", "lying size", "consistency hash"],
        |(entries, pick, bit)| {
            let mut reached = [false; 3];
            let (key, operator) = operator();
            let public = key.verifying_key();
            let (log, heads) = log_with_heads(&entries);
            let head = heads.last().expect("head");
            let size = log.len();
            let index = pick.index(entries.len()) as u64;
            let bytes = log.entry(index).expect("entry").to_vec();
            let proof = log.inclusion_proof(index, size).expect("proof");

            // The entry.
            let mut tampered = bytes.clone();
            flip(&mut tampered, bit);
            prop_assert!(head.verify_inclusion(&tampered, &proof).is_err());
            // The proof: a hash of its path, its index or its size.
            if !proof.path.is_empty() {
                reached[0] = true;
                let mut p = proof.clone();
                let i = bit % p.path.len();
                flip(&mut p.path[i].0, bit / 7);
                prop_assert!(head.verify_inclusion(&bytes, &p).is_err());
            }
            let mut p = proof.clone();
            p.leaf_index ^= 1 << (bit % 64);
            // A changed index is accepted only where the log really holds the same bytes (two
            // identical sibling entries have interchangeable proofs): the proof is then true.
            let accepted = head.verify_inclusion(&bytes, &p).is_ok();
            prop_assert!(!accepted || log.entry(p.leaf_index) == Some(&bytes[..]));
            let mut p = proof.clone();
            p.tree_size ^= 1 << (bit % 64);
            prop_assert!(head.verify_inclusion(&bytes, &p).is_err());
            // The signed head's bytes.
            let mut head_bytes = head.as_bytes().to_vec();
            flip(&mut head_bytes, bit);
            prop_assert!(SignedTreeHead::verify(&head_bytes, operator, &public).is_err());
            // A root or size the operator did not compute, even signed by them.
            let mut root = head.root_hash();
            flip(&mut root.0, bit);
            let lying = TreeHead {
                root_hash: root,
                ..*head.head()
            };
            let lying =
                SignedTreeHead::verify(&lying.sign(&key), operator, &public).expect("signed");
            prop_assert!(lying.verify_inclusion(&bytes, &proof).is_err());
            let lying = TreeHead {
                tree_size: size ^ (1 << (bit % 64)),
                ..*head.head()
            };
            if let Ok(lying) = SignedTreeHead::verify(&lying.sign(&key), operator, &public) {
                reached[1] = true;
                prop_assert!(lying.verify_inclusion(&bytes, &proof).is_err());
            }
            // A consistency proof with a flipped hash.
            let old = &heads[(bit % heads.len()).max(1)];
            let mut consistency = log.consistency_proof(old.tree_size(), size).expect("proof");
            if !consistency.path.is_empty() {
                reached[2] = true;
                let i = bit % consistency.path.len();
                flip(&mut consistency.path[i].0, bit / 5);
                prop_assert!(compare_heads(old, head, Some(&consistency)).is_err());
            }
            let _ = operator;
            Ok(reached)
        },
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    reaching_half_each(
        "arbitrary_bytes_never_panic",
        256,
        (prop::collection::vec(any::<u8>(), 0..512), any::<usize>()),
        ["flipped entry decodes"],
        |(bytes, bit)| {
            let (key, operator) = operator();
            let _ = LogEntry::from_bytes(&bytes);
            let _ = SignedTreeHead::verify(&bytes, operator, &key.verifying_key());
            let _ = TransferLog::from_entries([bytes.clone()]);
            // A valid entry with a flipped bit either decodes to another entry or is refused.
            let fixed = fixed_entries();
            let mut entry = fixed[bit % fixed.len()].clone();
            flip(&mut entry, bit / 3);
            let decoded = LogEntry::from_bytes(&entry);
            if let Ok(decoded) = &decoded {
                prop_assert_eq!(decoded.to_bytes(), entry);
            }
            Ok([decoded.is_ok()])
        },
    );
}
