//! Properties that must reach their assertions: a property whose assertion sits behind a
//! condition (the input decoded, the request was allowed…) proves nothing about the inputs
//! that miss the condition, so each such property counts, per assertion, the inputs that reach
//! it, and fails unless at least half of them did.
//!
//! Shared by the crate's unit tests and the integration tests (each includes this file).

// Each includer uses one of the two entry points.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use std::cell::Cell;

/// Runs `test` on `cases` inputs drawn from `strategy`, as `proptest!` does (a failure is
/// shrunk and reported); `test` says, for each of its conditional assertions (named by
/// `labels`), whether the input reached it. Fails unless at least half of the inputs reached
/// each. Returns, per label, how many did, and the number of inputs.
pub fn reaching_half_each<S: Strategy, const N: usize>(
    name: &str,
    cases: u32,
    strategy: S,
    labels: [&str; N],
    test: impl Fn(S::Value) -> Result<[bool; N], TestCaseError>,
) -> ([u32; N], u32) {
    let reached: [Cell<u32>; N] = std::array::from_fn(|_| Cell::new(0));
    let total = Cell::new(0u32);
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let outcome = runner.run(&strategy, |v| {
        total.set(total.get() + 1);
        for (count, hit) in reached.iter().zip(test(v)?) {
            count.set(count.get() + u32::from(hit));
        }
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{name}: {e}");
    }
    let total = total.get();
    let counts = reached.map(|c| c.get());
    for (label, count) in labels.iter().zip(counts) {
        println!("{name}: {label}: {count} of {total} inputs reached the assertion");
        assert!(
            2 * count >= total,
            "{name}: {label}: only {count} of {total} inputs reached the assertion"
        );
    }
    (counts, total)
}

/// [`reaching_half_each`] for a property with one conditional assertion.
pub fn reaching_half<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<bool, TestCaseError>,
) -> (u32, u32) {
    let ([reached], total) =
        reaching_half_each(name, cases, strategy, ["assertion"], |v| Ok([test(v)?]));
    (reached, total)
}
