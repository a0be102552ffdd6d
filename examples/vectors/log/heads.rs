//! Signed tree heads: valid heads at several sizes, a fork, a backdated head, another log's
//! head, and refused heads.

use consentry::cose::{Envelope, ObjectKind};
use consentry::danger;
use consentry::log::TreeHead;
use consentry::signed::SignedPayload;
use consentry::testing::party_for;

use super::super::common::{enc, payload_of, with, without};
use super::Tree;
use super::codes::{flip, flip_hash};
use super::collect::{LogGen, key};
use super::story::Logged;

/// Valid heads at several sizes, each dated a minute after its last entry; the fork's head, a
/// backdated head, another log's head.
pub fn valid(g: &mut LogGen<'_>, t: &Tree) {
    let (operator, size, latest_at) = (t.operator, t.size, t.latest_at);
    let Tree {
        op_key,
        log,
        times,
        fork,
        ..
    } = t;
    let sizes = [0, 1, 5, 8, size];
    for &n in &sizes {
        let at = if n == 0 {
            times[0]
        } else {
            times[n as usize - 1].plus_secs(60)
        };
        let bytes = t.prefix(n).sign_head(op_key, operator, at);
        let description = match n {
            0 => "the empty log's head: the root is SHA-256 of nothing",
            1 => "the head after the first entry: the root is the entry's leaf hash",
            n if n == size => "the latest head: every entry",
            _ => "a head of a prefix of the log",
        };
        g.head(
            &format!("head-{n}"),
            description,
            "log-operator",
            bytes,
            None,
            false,
        );
    }
    g.head(
        &format!("fork-{size}"),
        "signed by the operator over another log of the same size: the paused-grant denial (index 6) is left out and another entry appended",
        "log-operator",
        fork.sign_head(op_key, operator, latest_at),
        None,
        false,
    );
    g.head(
        &format!("backdated-{size}"),
        "the latest tree, signed with a timestamp before head-8's",
        "log-operator",
        log.sign_head(op_key, operator, times[0]),
        None,
        false,
    );
    let other = party_for("other-log");
    g.head(
        "other-log-head-1",
        "the head of another log (another operator, another log id), verified with that operator's key",
        "other-log",
        t.prefix(1).sign_head(&key("other-log"), other, times[0].plus_secs(60)),
        None,
        false,
    );
}

/// Refused heads: a stranger's signature, altered claims or signature, malformed heads.
pub fn invalid(g: &mut LogGen<'_>, t: &Tree, logged: &[Logged]) {
    let (operator, size, latest_at) = (t.operator, t.size, t.latest_at);
    let Tree {
        op_key,
        log,
        times,
        latest_name,
        ..
    } = t;
    let latest_bytes = g.heads[latest_name].bytes.clone();
    let head_claims = log.tree_head(operator, latest_at);
    g.head(
        "head-signed-by-stranger",
        "the latest head's claims signed with another key than the operator's",
        "log-operator",
        head_claims.sign(&key("stranger")),
        Some("log/wrong_key"),
        false,
    );
    let payload = payload_of(&latest_bytes);
    let signature = &latest_bytes[latest_bytes.len() - 64..];
    let protected = Envelope::parse(&latest_bytes)
        .map(|e| e.protected().to_vec())
        .unwrap_or_else(|e| panic!("{e}"));
    let modified_root = with(
        &payload,
        3,
        enc(|e| {
            e.bytes(flip_hash(log.root()).as_bytes());
        }),
    );
    g.head(
        "head-modified-root",
        "the latest head with one bit of its root changed, signature kept",
        "log-operator",
        danger::assemble(&protected, &[0xa0], &modified_root, signature),
        Some("log/bad_signature"),
        false,
    );
    let modified_size = with(
        &payload,
        2,
        enc(|e| {
            e.uint(size + 1);
        }),
    );
    g.head(
        "head-modified-size",
        "the latest head with its tree size changed, signature kept",
        "log-operator",
        danger::assemble(&protected, &[0xa0], &modified_size, signature),
        Some("log/bad_signature"),
        false,
    );
    let n = latest_bytes.len();
    g.head(
        "head-bad-signature",
        "the latest head with one bit of its signature changed",
        "log-operator",
        flip(&latest_bytes, n - 1),
        Some("log/bad_signature"),
        false,
    );
    g.head(
        "head-empty-wrong-root",
        "a head of size 0 whose root is not SHA-256 of nothing, signed by the operator",
        "log-operator",
        TreeHead {
            log_id: operator,
            tree_size: 0,
            root_hash: log.root(),
            timestamp: times[0],
        }
        .sign(op_key),
        Some("log/malformed_head"),
        false,
    );
    g.head(
        "head-missing-timestamp",
        "the latest head without its timestamp (key 4), signed by the operator",
        "log-operator",
        danger::sign(ObjectKind::TreeHead, op_key, &without(&payload, 4)),
        Some("log/malformed_head"),
        true,
    );
    g.head(
        "head-short-root",
        "the latest head with a root of 31 bytes, signed by the operator",
        "log-operator",
        danger::sign(
            ObjectKind::TreeHead,
            op_key,
            &with(
                &payload,
                3,
                enc(|e| {
                    e.bytes(&log.root().as_bytes()[..31]);
                }),
            ),
        ),
        Some("log/malformed_head"),
        true,
    );
    g.head(
        "head-version-1",
        "the latest head with version 1 (the previous format), signed by the operator",
        "log-operator",
        danger::sign(
            ObjectKind::TreeHead,
            op_key,
            &with(
                &payload,
                0,
                enc(|e| {
                    e.uint(1);
                }),
            ),
        ),
        Some("log/malformed_head"),
        true,
    );
    let receipt_bytes = logged[1]
        .entry
        .signed_bytes()
        .unwrap_or_else(|| unreachable!())
        .to_vec();
    g.head(
        "head-is-a-receipt",
        "a receipt presented as a tree head",
        "log-operator",
        receipt_bytes.clone(),
        Some("log/malformed_head"),
        false,
    );
}
