//! Replays the fuzzers' committed inputs through the same entry points as the fuzz targets:
//! the seed corpora (`fuzz/seeds/<target>/`) and every past crash (`fuzz/regressions/<target>/`).
//! A plain `cargo test` thus keeps every fixed crash fixed, without a fuzzing toolchain.

use std::fs;
use std::path::{Path, PathBuf};

use consentry::fuzzing;

type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 7] = [
    ("decode_object", fuzzing::decode_object),
    ("envelope_verify", fuzzing::envelope_verify),
    ("decide", fuzzing::decide),
    ("merkle_proofs", fuzzing::merkle_proofs),
    ("structured", fuzzing::structured),
    ("directory_updates", fuzzing::directory_updates),
    ("notifications", fuzzing::notifications),
];

/// Placeholder files that keep an empty directory in git; not inputs.
const PLACEHOLDERS: [&str; 1] = [".gitkeep"];

/// What one target's directory under `fuzz/<kind>/` held and what was replayed from it.
struct Replayed {
    target: &'static str,
    /// Entries present on disk, other than placeholders, counted by listing the directory.
    present: usize,
    /// Inputs run through the target without a panic.
    replayed: usize,
}

/// Replays every input of every target under `fuzz/<kind>/`. Every target's directory must
/// exist (each is committed, at least with a placeholder); a missing one fails the test.
fn replay(kind: &str) -> Vec<Replayed> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind);
    let mut out = Vec::new();
    for (target, run) in TARGETS {
        let dir = root.join(target);
        let entries: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        let placeholder = |f: &PathBuf| {
            f.file_name()
                .is_some_and(|n| PLACEHOLDERS.iter().any(|p| n == *p))
        };
        let present = entries.iter().filter(|f| !placeholder(f)).count();
        // Only regular files are inputs; anything else present (a directory, a link to
        // nowhere) is not replayed, and the count below then fails.
        let mut files: Vec<_> = entries
            .into_iter()
            .filter(|f| f.is_file() && !placeholder(f))
            .collect();
        files.sort();
        let mut replayed = 0;
        for file in &files {
            let data = fs::read(file).expect("read an input");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", file.display());
            replayed += 1;
        }
        out.push(Replayed {
            target,
            present,
            replayed,
        });
    }
    out
}

#[test]
fn seeds_replay() {
    let replayed = replay("seeds");
    assert_eq!(replayed.len(), TARGETS.len());
    for r in &replayed {
        println!("{}: {} seed inputs replayed", r.target, r.replayed);
        assert!(r.present > 0, "fuzz/seeds/{} holds no seed", r.target);
        assert_eq!(
            r.replayed, r.present,
            "fuzz/seeds/{}: {} entries present, {} replayed",
            r.target, r.present, r.replayed
        );
    }
}

#[test]
fn regressions_replay() {
    let replayed = replay("regressions");
    assert_eq!(replayed.len(), TARGETS.len());
    for r in &replayed {
        println!("{}: {} regression inputs replayed", r.target, r.replayed);
        assert_eq!(
            r.replayed, r.present,
            "fuzz/regressions/{}: {} entries present, {} replayed",
            r.target, r.present, r.replayed
        );
    }
}

/// Every target also survives the empty input and a few degenerate ones.
#[test]
fn degenerate_inputs() {
    for (_, run) in TARGETS {
        for data in [&[][..], &[0], &[0xff; 3], &[0x00; 100]] {
            run(data);
        }
    }
}

/// `count` pseudo-random inputs (xorshift64 from a fixed seed) of 0 to `max_len` bytes.
fn random_inputs(count: usize, max_len: usize) -> Vec<Vec<u8>> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = (next() % (max_len as u64 + 1)) as usize;
            (0..len).map(|_| next() as u8).collect()
        })
        .collect()
}

/// Most inputs of `merkle_proofs` reach the proof's hash chain rather than stopping at the
/// index, size or length checks: every shaped reading (three mode bytes in four) does, in each
/// of the four modes; the literal reading, which the seeds use, mostly does not.
#[test]
fn most_merkle_inputs_reach_the_hash_chain() {
    let inputs = random_inputs(4096, 160);
    let mut reached = [[0usize; 2]; 4];
    let mut seen = [[0usize; 2]; 4];
    for data in &inputs {
        let hit = fuzzing::merkle_proofs_reach(data);
        fuzzing::merkle_proofs(data);
        if let Some(&mode) = data.first() {
            let shaped = usize::from((mode >> 2) % 4 != 0);
            let kind = usize::from(mode % 4);
            seen[kind][shaped] += 1;
            reached[kind][shaped] += usize::from(hit);
        } else {
            assert!(!hit);
        }
    }
    let total: usize = reached.iter().flatten().sum();
    for kind in 0..4 {
        let [literal, shaped] = reached[kind];
        let [of_literal, of_shaped] = seen[kind];
        println!(
            "merkle_proofs mode {kind}: literal {literal} of {of_literal}, shaped {shaped} of {of_shaped} reach the hash chain"
        );
        assert!(of_shaped > 0 && shaped == of_shaped, "mode {kind}");
    }
    println!(
        "merkle_proofs: {total} of {} inputs reach the hash chain",
        inputs.len()
    );
    assert!(2 * total >= inputs.len(), "{total} of {}", inputs.len());
}

/// Most inputs of `decode_object` and `envelope_verify` reach their assertions: random bytes
/// almost never decode or parse (2 and 0 in 4096), so each target also checks a shaped input
/// derived from its bytes (a valid payload with one field changed, signed or not; signed
/// under a header in any order, sometimes with a bit flipped), which mostly does.
#[test]
fn most_decode_and_envelope_inputs_reach_their_assertions() {
    use consentry::cose::Envelope;
    let inputs = random_inputs(1024, 160);
    let n = inputs.len();
    let decoded = inputs
        .iter()
        .filter(|d| fuzzing::decode_object_reach(d))
        .count();
    let parsed = inputs
        .iter()
        .filter(|d| fuzzing::envelope_verify_reach(d))
        .count();
    // A typed decoder (not only the generic one) accepts the shaped object.
    let typed = inputs
        .iter()
        .filter(|d| typed_accepts(&fuzzing::shaped_object(d)))
        .count();
    let public = fuzzing::envelope_key().verifying_key();
    let verified = inputs
        .iter()
        .filter(|d| {
            let shaped = fuzzing::shaped_envelope(d);
            Envelope::parse(&shaped).is_ok_and(|e| e.verify(&public).is_ok())
        })
        .count();
    println!("decode_object: {decoded} of {n} inputs decode, {typed} shaped by a typed decoder");
    println!("envelope_verify: {parsed} of {n} parse, {verified} verify with the key");
    assert!(2 * decoded >= n, "decode_object: {decoded} of {n}");
    assert!(2 * typed >= n, "decode_object: {typed} of {n} typed");
    assert!(2 * parsed >= n, "envelope_verify: {parsed} of {n}");
    assert!(
        2 * verified >= n,
        "envelope_verify: {verified} of {n} verify"
    );
}

/// Whether a typed decoder (a signed object or a bare payload of one of the four kinds) accepts
/// `data`.
fn typed_accepts(data: &[u8]) -> bool {
    use consentry::grant::Grant;
    use consentry::habilitation::Habilitation;
    use consentry::request::Request;
    use consentry::signed::{SignedPayload, Unverified};
    use consentry::statement::Statement;
    Unverified::<Grant>::parse(data).is_ok()
        || Unverified::<Habilitation>::parse(data).is_ok()
        || Unverified::<Statement>::parse(data).is_ok()
        || Unverified::<Request>::parse(data).is_ok()
        || Grant::from_payload_bytes(data).is_ok()
        || Habilitation::from_payload_bytes(data).is_ok()
        || Statement::from_payload_bytes(data).is_ok()
        || Request::from_payload_bytes(data).is_ok()
}

/// Each seed of `target` with one to three bits flipped, `rounds` times over, from a fixed
/// pseudo-random sequence: the inputs a coverage-guided fuzzer starts from.
fn mutated_seeds(target: &str, rounds: usize) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/seeds")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = fs::read_dir(dir)
        .expect("the target's seeds")
        .flatten()
        .map(|e| fs::read(e.path()).expect("a seed"))
        .collect();
    seeds.sort();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::new();
    for _ in 0..rounds {
        for seed in &seeds {
            let mut input = seed.clone();
            for _ in 0..=next() % 3 {
                if !input.is_empty() {
                    let at = (next() % input.len() as u64) as usize;
                    input[at] ^= 1 << (next() % 8);
                }
            }
            out.push(input);
        }
    }
    out
}

/// The `structured` target compares the verifier with an oracle of its own: both sides of the
/// comparison must be reached. The all-zero input is the scenario's valid case, and from the
/// seeds a fuzzer reaches allows and denials alike.
#[test]
fn structured_inputs_reach_both_outcomes() {
    assert_eq!(fuzzing::structured_outcome(&[]), Some(true));
    let inputs = mutated_seeds("structured", 128);
    let outcomes: Vec<Option<bool>> = inputs
        .iter()
        .map(|d| fuzzing::structured_outcome(d))
        .collect();
    let (n, built) = (inputs.len(), outcomes.iter().flatten().count());
    let allowed = outcomes.iter().filter(|o| **o == Some(true)).count();
    println!("structured: {built} of {n} mutated seeds build a case, {allowed} allowed");
    assert!(2 * built >= n, "structured: {built} of {n} build a case");
    assert!(
        10 * allowed >= built,
        "structured: {allowed} of {built} allowed"
    );
    assert!(
        10 * (built - allowed) >= built,
        "structured: too few denials"
    );
}

/// The `structured` target's last two choices are the grant's derivation and whether DGFiP's
/// ceiling releases the income only derived: from the valid all-zero case, every pair of them
/// at every offset is decided and checked against the oracle's minimization rules, and both
/// outcomes are reached (a derivation the vocabulary does not define, or the income asked for
/// raw where only its bracket is released, is denied; the bracket is allowed).
#[test]
fn structured_minimization_choices_reach_both_outcomes() {
    let (mut allowed, mut denied) = (0, 0);
    for offset in 0..64 {
        for derivation in 0..5u8 {
            for derived_only in 0..2u8 {
                let mut input = vec![0; offset];
                input.extend([derivation, derived_only]);
                match fuzzing::structured_outcome(&input) {
                    Some(true) => allowed += 1,
                    Some(false) => denied += 1,
                    None => {}
                }
            }
        }
    }
    println!("structured minimization: {allowed} allowed, {denied} denied of 640");
    assert!(
        allowed >= 64 && denied >= 64,
        "{allowed} allowed, {denied} denied"
    );
}

/// Most inputs of `directory_updates` get past the operator's signature to the sequence and
/// change rules: raw bytes never do, so the target also offers the shaped update derived from
/// its bytes (the fixture's valid update with one item changed, signed by the operator).
#[test]
fn most_directory_update_inputs_reach_the_rules() {
    let inputs = random_inputs(512, 64);
    let n = inputs.len();
    let reached = inputs
        .iter()
        .filter(|d| fuzzing::directory_updates_reach(d))
        .count();
    println!("directory_updates: {reached} of {n} inputs reach the sequence and change rules");
    assert!(2 * reached >= n, "directory_updates: {reached} of {n}");
}

/// Most inputs of `notifications` get past the emitter's signature to the inbox's rules: raw
/// bytes never do, so the target also offers the shaped notification derived from its bytes
/// (the fixture's valid notification with one item changed, signed by its emitter).
#[test]
fn most_notification_inputs_reach_the_inbox_rules() {
    let inputs = random_inputs(256, 64);
    let n = inputs.len();
    let reached = inputs
        .iter()
        .filter(|d| fuzzing::notifications_reach(d))
        .count();
    println!("notifications: {reached} of {n} inputs reach the inbox's rules");
    assert!(2 * reached >= n, "notifications: {reached} of {n}");
}
