//! Helpers shared by the consent tests.

use consentry::directory::{Directory, Party};
use consentry::grant::GrantBuilder;
use consentry::testing::Scenario;

/// Builds a grant within the ceilings and signs it with its expresser's key.
pub fn signed(s: &Scenario, builder: GrantBuilder) -> Vec<u8> {
    let grant = builder
        .build(&s.ceilings)
        .unwrap_or_else(|e| panic!("the grant should be within the ceilings: {e}"));
    s.sign_grant(&grant)
}

/// The scenario's default grant, signed.
pub fn default_grant(s: &Scenario) -> Vec<u8> {
    signed(s, s.grant())
}

/// Rebuilds the scenario's directory with each party passed through `edit` (representations
/// kept).
pub fn rebuild_directory(s: &mut Scenario, edit: impl Fn(Party) -> Party) {
    let mut directory = Directory::new();
    for party in s.directory.parties() {
        directory
            .add_party(edit(party.clone()))
            .unwrap_or_else(|e| panic!("edited party refused: {e}"));
    }
    for rep in s.directory.representations() {
        directory
            .add_representation(rep.clone())
            .unwrap_or_else(|e| panic!("representation refused: {e}"));
    }
    s.directory = directory;
}

/// A source of fresh receipt ids for `Receipts` (a counter: tests need no randomness).
pub fn receipt_ids() -> impl Fn() -> uuid::Uuid + Sync {
    let next = std::sync::atomic::AtomicU64::new(1);
    move || {
        uuid::Uuid::from_u128(u128::from(
            next.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        ))
    }
}
