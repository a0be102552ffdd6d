//! The decision vectors: a request and its basis decided by DGFiP, sometimes after earlier
//! decisions and statements, with the decision a verifier must reach.

mod allow;
mod chains;
mod derived;
mod integrity;
mod many;
mod refusals;
mod roles;
mod state;
mod terms;
mod usage;

use consentry::testing::Scenario;

use super::cases::{DecisionCase, Gen, Want};
use super::common::NOW;

/// The cases, each with the reason codes it must give (none for an allow).
type Cases = Vec<(DecisionCase, Vec<&'static str>)>;

/// The bases of the allowed cases that later cases reuse.
pub struct Bases {
    grant: Vec<u8>,
    req: Vec<u8>,
    fc_grant: Vec<u8>,
    hab: Vec<u8>,
}

/// The objects of the allowed uses that later cases reuse or replay.
pub struct Uses {
    one_time: Vec<u8>,
    one_time_req: Vec<u8>,
    twice: Vec<u8>,
    twice_first: Vec<u8>,
    monthly: Vec<u8>,
    monthly_first: Vec<u8>,
    monthly_again: Vec<u8>,
    paused_grant: Vec<u8>,
    pause: Vec<u8>,
}

/// Adds every decision case to `g`, in the index's order.
pub fn decisions(g: &mut Gen, s: &mut Scenario) {
    s.now = NOW;
    s.verifier_provider = s.dgfip;
    let mut cases = Cases::new();
    let b = allow::bases(s, &mut cases);
    let u = allow::uses(s, &mut cases);
    allow::edges(s, &mut cases, &b);
    refusals::refusals(s, &mut cases, &b, &u);
    roles::roles(s, &mut cases, &b);
    terms::terms(s, &mut cases, &b);
    state::state(s, &mut cases, &b, &u);
    usage::usage(s, &mut cases, &b, &u);
    many::many(s, &mut cases, &b);
    integrity::integrity(s, &mut cases, &b, &u);
    chains::chains(s, &mut cases);
    derived::derived(s, &mut cases);
    for (c, want) in cases {
        let w = if want.is_empty() {
            Want::Allow
        } else {
            Want::Deny(&want)
        };
        g.decision(c, w);
    }
}
