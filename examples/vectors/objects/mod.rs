//! The object vectors: signed objects, valid or refused at one layer (envelope, payload,
//! signature), each with what a strict reader must say about it.

mod chains;
mod derived;
mod envelope;
mod payload;
mod signature;
mod valid;
mod value;

use consentry::SigningKey;
use consentry::testing::Scenario;

use super::cases::Gen;

pub use chains::chains;
pub use derived::derived;

/// The objects the cases start from or alter, built once, in the order that fixes their ids.
pub struct Objects {
    pub pk: SigningKey,
    pub mk: SigningKey,
    pub grant: Vec<u8>,
    pub fc_grant: Vec<u8>,
    pub child_grant: Vec<u8>,
    pub one_time: Vec<u8>,
    pub onward: Vec<u8>,
    pub hab: Vec<u8>,
    pub request: Vec<u8>,
    pub hab_request: Vec<u8>,
    pub pause: Vec<u8>,
    pub resume: Vec<u8>,
    pub revoke: Vec<u8>,
    pub fc_pause: Vec<u8>,
    pub hab_revoke: Vec<u8>,
    pub reordered: Vec<u8>,
    pub rotated_grant: Vec<u8>,
    pub other_request: Vec<u8>,
    pub grant_payload: Vec<u8>,
    pub statement_payload: Vec<u8>,
    pub request_payload: Vec<u8>,
    pub hab_payload: Vec<u8>,
    pub prot: Vec<u8>,
    pub sig: Vec<u8>,
}

/// Adds every object case to `g`, in the index's order.
pub fn objects(g: &mut Gen, s: &Scenario) {
    let o = valid::fixtures(s);
    valid::grants(g, &o);
    valid::habilitation_and_requests(g, &o);
    valid::statements(g, &o);
    envelope::header(g, &o);
    envelope::items(g, &o);
    envelope::encoding(g, &o);
    payload::map(g, &o);
    payload::types(g, &o);
    value::grant(g, s, &o);
    value::grant_fields(g, &o);
    value::others(g, &o);
    signature::refusals(g, s, &o);
}
