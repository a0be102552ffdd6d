//! Consistency between heads, and a monitor following the log.

use super::Tree;
use super::codes::flip_hash;
use super::collect::LogGen;

/// Consistency between pairs of heads: prefixes, forks, altered or missing proofs, time regression,
/// another log.
pub fn pairs(g: &mut LogGen<'_>, t: &Tree) {
    let size = t.size;
    let Tree {
        latest_name, fork, ..
    } = t;
    let pairs = [(1, 5), (5, 8), (8, size), (1, size), (5, size), (1, 8)];
    for (old, new) in pairs {
        g.consistency(
            &format!("consistency-{old}-{new}"),
            "the older head is a prefix of the newer one",
            (&format!("head-{old}"), &format!("head-{new}")),
            Some(&t.cp(old, new)),
            None,
        );
    }
    g.consistency(
        &format!("consistency-{size}-8-reversed"),
        "the heads may be given in either order",
        (latest_name, "head-8"),
        Some(&t.cp(8, size)),
        None,
    );
    g.consistency(
        &format!("consistency-0-{size}"),
        "the empty log is a prefix of every log: no proof needed",
        ("head-0", latest_name),
        None,
        None,
    );
    g.consistency(
        "consistency-same-head",
        "a head is consistent with itself: no proof needed",
        (latest_name, latest_name),
        None,
        None,
    );
    g.consistency(
        "fork-same-size",
        "two heads of the same size with different roots, both signed by the operator",
        (latest_name, &format!("fork-{size}")),
        None,
        Some("log/fork"),
    );
    let fork_proof = fork
        .consistency_proof(8, size)
        .unwrap_or_else(|e| panic!("{e}"));
    g.consistency(
        "fork-larger",
        "head-8 and the fork's head, with the fork's consistency proof from 8: the fork does not extend head-8",
        ("head-8", &format!("fork-{size}")),
        Some(&fork_proof),
        Some("log/fork"),
    );
    g.consistency(
        "fork-extends-common-prefix",
        "head-5 and the fork's head: the fork shares the first six entries, so it extends head-5",
        ("head-5", &format!("fork-{size}")),
        Some(
            &fork
                .consistency_proof(5, size)
                .unwrap_or_else(|e| panic!("{e}")),
        ),
        None,
    );
    let mut p = t.cp(5, size);
    p.path[0] = flip_hash(p.path[0]);
    g.consistency(
        "modified-consistency-hash",
        "the proof from 5 with one bit of one hash changed: it does not link the roots",
        ("head-5", latest_name),
        Some(&p),
        Some("log/fork"),
    );
    let mut p = t.cp(5, size);
    p.path.pop();
    g.consistency(
        "truncated-consistency-proof",
        "the proof from 5 without its last hash",
        ("head-5", latest_name),
        Some(&p),
        Some("log/proof_length"),
    );
    g.consistency(
        "consistency-proof-missing",
        "heads of different sizes compared without a proof",
        ("head-5", latest_name),
        None,
        Some("log/consistency_proof_required"),
    );
    g.consistency(
        "consistency-proof-for-other-sizes",
        "head-5 and the latest head with the proof from 1",
        ("head-5", latest_name),
        Some(&t.cp(1, size)),
        Some("log/consistency_proof_mismatch"),
    );
    g.consistency(
        "time-regression",
        "head-8 and a head of the larger tree dated before it",
        ("head-8", &format!("backdated-{size}")),
        Some(&t.cp(8, size)),
        Some("log/time_regression"),
    );
    g.consistency(
        "wrong-log",
        "head-1 and another log's head of size 1",
        ("head-1", "other-log-head-1"),
        None,
        Some("log/wrong_log"),
    );
}

/// A monitor following the log, and the forks and rollbacks it catches.
pub fn monitors(g: &mut LogGen<'_>, t: &Tree) {
    let size = t.size;
    let Tree {
        latest_name, fork, ..
    } = t;
    let fork_proof = fork
        .consistency_proof(8, size)
        .unwrap_or_else(|e| panic!("{e}"));
    let (p01, p15, p58, p8n) = (t.cp(0, 1), t.cp(1, 5), t.cp(5, 8), t.cp(8, size));
    let latest = latest_name.as_str();
    g.monitor(
        "monitor-follows-the-log",
        "every head in order, each with its consistency proof from the previous one",
        &[
            ("head-0", None, None),
            ("head-1", Some(&p01), None),
            ("head-5", Some(&p15), None),
            ("head-8", Some(&p58), None),
            (latest, Some(&p8n), None),
            (latest, None, None),
        ],
    );
    g.monitor(
        "monitor-rollback",
        "after head-8, head-5 is offered again: the log shrank",
        &[
            ("head-5", None, None),
            ("head-8", Some(&p58), None),
            ("head-5", None, Some("log/rollback")),
        ],
    );
    let fork_name = format!("fork-{size}");
    g.monitor(
        "monitor-fork-same-size",
        "after the latest head, the fork's head of the same size",
        &[(latest, None, None), (&fork_name, None, Some("log/fork"))],
    );
    g.monitor(
        "monitor-fork-larger",
        "after head-8, the fork's head with the fork's proof from 8; the monitor keeps head-8 and then accepts the true latest head",
        &[
            ("head-8", None, None),
            (&fork_name, Some(&fork_proof), Some("log/fork")),
            (latest, Some(&p8n), None),
        ],
    );
    g.monitor(
        "monitor-missing-proof",
        "a larger head without a consistency proof",
        &[
            ("head-5", None, None),
            ("head-8", None, Some("log/consistency_proof_required")),
        ],
    );
    g.monitor(
        "monitor-other-log",
        "a head of another log offered to the monitor of this one",
        &[
            ("head-1", None, None),
            ("other-log-head-1", None, Some("log/wrong_log")),
        ],
    );
}
