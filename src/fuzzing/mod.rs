//! Fuzzing entry points: plain functions over `&[u8]`, shared by the `fuzz/` targets and by
//! `tests/fuzz_replay.rs`, which replays the committed seeds and past crash inputs.
//!
//! Each function accepts any input and returns normally; it panics only when an invariant of
//! the library is broken (an `assert!` below), which is what the fuzzer reports as a crash.
//! Not part of the public API.
//!
//! One module per fuzz target family: [`decode_object()`], [`envelope_verify()`], [`decide()`],
//! [`merkle_proofs()`], [`directory_updates()`], [`notifications()`], and the [`structured()`] oracle.

mod decide;
mod decode;
mod envelope;
mod merkle;
mod notify;
mod registry;
mod structured;

pub use decide::{Fixture, decide, with_fixture};
pub use decode::{change_one, decode_object, decode_object_reach, shaped_object};
pub use envelope::{envelope_key, envelope_verify, envelope_verify_reach, shaped_envelope};
pub use merkle::{
    MERKLE_LEAVES, merkle_consistency, merkle_inclusion, merkle_leaf, merkle_pool_index,
    merkle_proofs, merkle_proofs_reach,
};
pub use notify::{notifications, notifications_reach};
pub use registry::{directory_updates, directory_updates_reach, registry_operator};
pub use structured::{structured, structured_outcome};
