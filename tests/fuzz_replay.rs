//! Replays the fuzzers' committed inputs through the same entry points as the fuzz targets:
//! the seed corpora (`fuzz/seeds/<target>/`) and every past crash (`fuzz/regressions/<target>/`).
//! A plain `cargo test` thus keeps every fixed crash fixed, without a fuzzing toolchain.

use std::fs;
use std::path::Path;

use consentry::fuzzing;

type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 5] = [
    ("decode_object", fuzzing::decode_object),
    ("envelope_verify", fuzzing::envelope_verify),
    ("decide", fuzzing::decide),
    ("merkle_proofs", fuzzing::merkle_proofs),
    ("structured", fuzzing::structured),
];

fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind);
    let mut count = 0;
    for (target, run) in TARGETS {
        let Ok(entries) = fs::read_dir(root.join(target)) else {
            continue;
        };
        let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        let hidden = |f: &&std::path::PathBuf| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        };
        for file in files.iter().filter(|f| f.is_file() && !hidden(f)) {
            let data = fs::read(file).expect("read an input");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", file.display());
            count += 1;
        }
    }
    count
}

#[test]
fn seeds_replay() {
    let n = replay("seeds");
    println!("{n} seed inputs replayed");
    assert!(n > 0, "no seed found under fuzz/seeds");
}

#[test]
fn regressions_replay() {
    let n = replay("regressions");
    println!("{n} regression inputs replayed");
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
