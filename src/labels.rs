//! The map keys of the wire format, each named once.
//!
//! Every payload of the format, and every map of the party directory, is a CBOR map with small
//! unsigned integer keys. This module is the one place those keys are named, as coset's `iana`
//! module is for COSE: the encoders write `grant::ISSUED_AT`, the decoders read
//! `grant::ISSUED_AT`, and a reader of the code finds every key of a map, in key order, in that
//! map's sub-module. The labels of the COSE protected header (alg, content type, kid) are COSE's
//! own, registered by IANA; they are not here.
//!
//! Each sub-module names one map, one constant per key, and lists the map's every
//! `(name, key)` pair in key order in its `ALL`, under the field's name in `docs/format.md`.
//! The schema `docs/consentry.cddl` is the normative list of keys: a unit test reads it and
//! checks that each of its payload and directory rules lists exactly the keys of the matching
//! `ALL`, and that the key tables of `docs/format.md` give the same keys under the same names
//! (for the party, party key and representation maps, which `docs/format.md` writes inline, the
//! keys alone).
//!
//! ```
//! use consentry::labels::grant;
//!
//! assert_eq!(grant::ISSUED_AT, 8);
//! assert_eq!(grant::ALL.first(), Some(&("version", grant::VERSION)));
//! ```

/// Key 0 of every versioned map (each payload, the log's denial and the directory): the
/// version of its format.
pub const VERSION: u64 = 0;

/// The payload of a consent grant (`docs/format.md` §5.1).
pub mod grant {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// The grant's id.
    pub const ID: u64 = 1;
    /// The person the data is about.
    pub const SUBJECT: u64 = 2;
    /// The chain of representation, from the signer towards the subject (written only when
    /// a representative signs; absent, the subject consented and signs).
    pub const CHAIN: u64 = 3;
    /// Who may ask for the data.
    pub const CONSUMER: u64 = 4;
    /// Which categories at which providers.
    pub const SCOPE: u64 = 5;
    /// The purpose code.
    pub const PURPOSE: u64 = 6;
    /// The purpose for people (optional).
    pub const PURPOSE_TEXT: u64 = 7;
    /// When the grant was signed.
    pub const ISSUED_AT: u64 = 8;
    /// First second of validity.
    pub const NOT_BEFORE: u64 = 9;
    /// First second after validity.
    pub const EXPIRES_AT: u64 = 10;
    /// How often the data may be fetched.
    pub const ACCESS: u64 = 11;
    /// The period the data may cover.
    pub const DATA_RANGE: u64 = 12;
    /// How long the consumer may keep the data, in seconds.
    pub const RETENTION: u64 = 13;
    /// Onward transfer allowed (written only when true).
    pub const ONWARD_TRANSFER: u64 = 14;
    /// The derivations allowed, each category with its derivation and fixed parameters
    /// (written only when there is one).
    pub const DERIVATIONS: u64 = 15;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("id", ID),
        ("subject", SUBJECT),
        ("chain", CHAIN),
        ("consumer", CONSUMER),
        ("scope", SCOPE),
        ("purpose", PURPOSE),
        ("purpose text", PURPOSE_TEXT),
        ("issued at", ISSUED_AT),
        ("not before", NOT_BEFORE),
        ("expires at", EXPIRES_AT),
        ("access", ACCESS),
        ("data range", DATA_RANGE),
        ("retention", RETENTION),
        ("onward transfer", ONWARD_TRANSFER),
        ("derivations", DERIVATIONS),
    ];
}

/// The payload of a habilitation (`docs/format.md` §5.2).
pub mod habilitation {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// The habilitation's id.
    pub const ID: u64 = 1;
    /// The authority that issues and signs it.
    pub const AUTHORITY: u64 = 2;
    /// Who may ask for the data.
    pub const CONSUMER: u64 = 3;
    /// Which categories at which providers.
    pub const SCOPE: u64 = 4;
    /// The purpose code.
    pub const PURPOSE: u64 = 5;
    /// The purpose for people (optional).
    pub const PURPOSE_TEXT: u64 = 6;
    /// The legal text the habilitation rests on.
    pub const LEGAL_REFERENCE: u64 = 7;
    /// When the habilitation was signed.
    pub const ISSUED_AT: u64 = 8;
    /// First second of validity.
    pub const NOT_BEFORE: u64 = 9;
    /// First second after validity.
    pub const EXPIRES_AT: u64 = 10;
    /// How long the consumer may keep the data, in seconds.
    pub const RETENTION: u64 = 11;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("id", ID),
        ("authority", AUTHORITY),
        ("consumer", CONSUMER),
        ("scope", SCOPE),
        ("purpose", PURPOSE),
        ("purpose text", PURPOSE_TEXT),
        ("legal reference", LEGAL_REFERENCE),
        ("issued at", ISSUED_AT),
        ("not before", NOT_BEFORE),
        ("expires at", EXPIRES_AT),
        ("retention", RETENTION),
    ];
}

/// The payload of a lifecycle statement (`docs/format.md` §5.3).
pub mod statement {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// The id of the grant or habilitation the statement applies to.
    pub const BASIS: u64 = 1;
    /// SHA-256 of that basis's exact signed bytes.
    pub const BASIS_HASH: u64 = 2;
    /// The action: pause, resume or revoke.
    pub const ACTION: u64 = 3;
    /// Who signs the statement.
    pub const ISSUED_BY: u64 = 4;
    /// When the statement was signed.
    pub const ISSUED_AT: u64 = 5;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("basis", BASIS),
        ("basis hash", BASIS_HASH),
        ("action", ACTION),
        ("issued by", ISSUED_BY),
        ("issued at", ISSUED_AT),
    ];
}

/// The payload of a transfer request (`docs/format.md` §5.4).
pub mod request {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// The request's id.
    pub const ID: u64 = 1;
    /// The id of the grant or habilitation relied on.
    pub const BASIS: u64 = 2;
    /// SHA-256 of that basis's exact signed bytes.
    pub const BASIS_HASH: u64 = 3;
    /// Who asks and signs.
    pub const CONSUMER: u64 = 4;
    /// Who is asked.
    pub const PROVIDER: u64 = 5;
    /// The person the data is about.
    pub const SUBJECT: u64 = 6;
    /// The categories asked for.
    pub const CATEGORIES: u64 = 7;
    /// The purpose claimed (code only).
    pub const PURPOSE: u64 = 8;
    /// The period the data should cover.
    pub const DATA_RANGE: u64 = 9;
    /// When the request was signed.
    pub const ISSUED_AT: u64 = 10;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("id", ID),
        ("basis", BASIS),
        ("basis hash", BASIS_HASH),
        ("consumer", CONSUMER),
        ("provider", PROVIDER),
        ("subject", SUBJECT),
        ("categories", CATEGORIES),
        ("purpose", PURPOSE),
        ("data range", DATA_RANGE),
        ("issued at", ISSUED_AT),
    ];
}

/// The payload of a transfer receipt (`docs/format.md` §5.5), of a grant or of a habilitation:
/// a receipt of a habilitation carries neither [`receipt::ONWARD_TRANSFER`] nor
/// [`receipt::CHAIN`].
pub mod receipt {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// The receipt's own id.
    pub const ID: u64 = 1;
    /// The id of the request the transfer answered.
    pub const REQUEST: u64 = 2;
    /// SHA-256 of the request's exact signed bytes.
    pub const REQUEST_HASH: u64 = 3;
    /// The id of the grant or habilitation relied on.
    pub const BASIS: u64 = 4;
    /// Whether the basis is a grant (0) or a habilitation (1).
    pub const BASIS_KIND: u64 = 5;
    /// SHA-256 of the basis's exact signed bytes.
    pub const BASIS_HASH: u64 = 6;
    /// The person the data is about.
    pub const SUBJECT: u64 = 7;
    /// Who received the data.
    pub const CONSUMER: u64 = 8;
    /// Who sent the data and signs.
    pub const PROVIDER: u64 = 9;
    /// The categories delivered.
    pub const CATEGORIES: u64 = 10;
    /// The period the data delivered covers.
    pub const DATA_RANGE: u64 = 11;
    /// When the consumer must have deleted the data.
    pub const RETAIN_UNTIL: u64 = 12;
    /// When the receipt was signed.
    pub const ISSUED_AT: u64 = 13;
    /// Onward transfer allowed by the grant (written only when true).
    pub const ONWARD_TRANSFER: u64 = 14;
    /// The chain of representation through which the consent was expressed, when not by the
    /// subject: each link's representative and kind, signer first.
    pub const CHAIN: u64 = 15;
    /// The purpose code of the basis.
    pub const PURPOSE: u64 = 16;
    /// The legal reference of a habilitation (absent for a grant, whose basis is consent).
    pub const LEGAL_REFERENCE: u64 = 17;
    /// The derivations applied: each category sent in derived form, with its derivation and
    /// parameters (written only when there is one).
    pub const DERIVATIONS: u64 = 18;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("id", ID),
        ("request", REQUEST),
        ("request hash", REQUEST_HASH),
        ("basis", BASIS),
        ("basis kind", BASIS_KIND),
        ("basis hash", BASIS_HASH),
        ("subject", SUBJECT),
        ("consumer", CONSUMER),
        ("provider", PROVIDER),
        ("categories", CATEGORIES),
        ("data range", DATA_RANGE),
        ("retain until", RETAIN_UNTIL),
        ("issued at", ISSUED_AT),
        ("onward transfer", ONWARD_TRANSFER),
        ("chain", CHAIN),
        ("purpose", PURPOSE),
        ("legal reference", LEGAL_REFERENCE),
        ("derivations", DERIVATIONS),
    ];
}

/// The payload of a signed tree head of the transfer log (`docs/format.md` §5.6).
pub mod tree_head {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// The log, named by its operator's party id.
    pub const LOG_ID: u64 = 1;
    /// The number of entries in the tree.
    pub const TREE_SIZE: u64 = 2;
    /// The tree's RFC 9162 root hash.
    pub const ROOT_HASH: u64 = 3;
    /// When the head was signed.
    pub const TIMESTAMP: u64 = 4;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("log id", LOG_ID),
        ("tree size", TREE_SIZE),
        ("root hash", ROOT_HASH),
        ("timestamp", TIMESTAMP),
    ];
}

/// The denial map of a transfer log entry (`docs/format.md` §12.1); unsigned.
pub mod denial {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// SHA-256 of the request bytes received.
    pub const REQUEST_HASH: u64 = 1;
    /// The request's id, if the request was authenticated (optional).
    pub const REQUEST: u64 = 2;
    /// The basis's id, if the basis was verified (optional).
    pub const BASIS: u64 = 3;
    /// The person concerned, only from verified data (optional).
    pub const SUBJECT: u64 = 4;
    /// The decision's reason codes, in its order.
    pub const REASONS: u64 = 5;
    /// When the decision was made.
    pub const AT: u64 = 6;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("request hash", REQUEST_HASH),
        ("request", REQUEST),
        ("basis", BASIS),
        ("subject", SUBJECT),
        ("reasons", REASONS),
        ("at", AT),
    ];
}

/// The party directory's top-level map (`docs/format.md` §6).
pub mod directory {
    /// The directory's own format version.
    pub const VERSION: u64 = super::VERSION;
    /// The parties ([`party`](super::party) maps).
    pub const PARTIES: u64 = 1;
    /// The representations ([`representation`](super::representation) maps; absent when none).
    pub const REPRESENTATIONS: u64 = 2;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("parties", PARTIES),
        ("representations", REPRESENTATIONS),
    ];
}

/// One party of the directory (`docs/format.md` §6).
pub mod party {
    /// The party's id.
    pub const ID: u64 = 1;
    /// Its display name.
    pub const NAME: u64 = 2;
    /// Its roles, sorted by code.
    pub const ROLES: u64 = 3;
    /// Its keys ([`party_key`](super::party_key) maps).
    pub const KEYS: u64 = 4;
    /// For a legal person, its registry numbers (a [`legal_person`](super::legal_person) map;
    /// absent for a natural person or a public body listed without them).
    pub const LEGAL_PERSON: u64 = 5;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("id", ID),
        ("name", NAME),
        ("roles", ROLES),
        ("keys", KEYS),
        ("legal person", LEGAL_PERSON),
    ];
}

/// A legal person's registry numbers, in a party of the directory (`docs/format.md` §6).
pub mod legal_person {
    /// Its SIREN: 9 digits, as text.
    pub const SIREN: u64 = 1;
    /// Its establishments' SIRETs: 14 digits each, as text, sorted, unique (absent when none).
    pub const SIRETS: u64 = 2;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[("siren", SIREN), ("sirets", SIRETS)];
}

/// One key of a party in the directory (`docs/format.md` §6).
pub mod party_key {
    /// The Ed25519 public key.
    pub const PUBLIC_KEY: u64 = 1;
    /// First second the key may sign.
    pub const VALID_FROM: u64 = 2;
    /// First second it may no longer sign (optional).
    pub const VALID_UNTIL: u64 = 3;
    /// When the key was compromised (optional).
    pub const COMPROMISED_AT: u64 = 4;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("public key", PUBLIC_KEY),
        ("valid from", VALID_FROM),
        ("valid until", VALID_UNTIL),
        ("compromised at", COMPROMISED_AT),
    ];
}

/// One representation in the directory: who may act for whom (`docs/format.md` §6).
pub mod representation {
    /// Who acts for the subject.
    pub const REPRESENTATIVE: u64 = 1;
    /// The person represented.
    pub const SUBJECT: u64 = 2;
    /// The footing: legal representative or mandate.
    pub const KIND: u64 = 3;
    /// First second the representation holds.
    pub const VALID_FROM: u64 = 4;
    /// First second it no longer holds (optional).
    pub const VALID_UNTIL: u64 = 5;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("representative", REPRESENTATIVE),
        ("subject", SUBJECT),
        ("kind", KIND),
        ("valid from", VALID_FROM),
        ("valid until", VALID_UNTIL),
    ];
}

/// A directory as its operator signs it (`docs/format.md` §6.3).
pub mod signed_directory {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// The directory's version number: 0 for the first, then that of the last update applied.
    pub const SEQ: u64 = 1;
    /// The digest of the last update applied (absent at version 0).
    pub const HEAD: u64 = 2;
    /// When the operator signed it.
    pub const ISSUED_AT: u64 = 3;
    /// The directory's CBOR form, as a byte string.
    pub const DIRECTORY: u64 = 4;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("seq", SEQ),
        ("head", HEAD),
        ("issued at", ISSUED_AT),
        ("directory", DIRECTORY),
    ];
}

/// A signed change to the directory (`docs/format.md` §6.4).
pub mod directory_update {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// The version number the update gives the directory: the previous one plus one.
    pub const SEQ: u64 = 1;
    /// The digest of the previous version's signed bytes.
    pub const PREVIOUS: u64 = 2;
    /// When the operator signed it: nothing it adds takes effect earlier.
    pub const ISSUED_AT: u64 = 3;
    /// The changes, applied in order, all or none.
    pub const CHANGES: u64 = 4;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("seq", SEQ),
        ("previous", PREVIOUS),
        ("issued at", ISSUED_AT),
        ("changes", CHANGES),
    ];
}

/// The payload of a deletion statement (`docs/format.md` §5.7).
pub mod deletion {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// The id of the receipt of the transfer whose data was deleted.
    pub const RECEIPT: u64 = 1;
    /// SHA-256 of that receipt's exact signed bytes.
    pub const RECEIPT_HASH: u64 = 2;
    /// The request the transfer answered.
    pub const REQUEST: u64 = 3;
    /// The person the data is about.
    pub const SUBJECT: u64 = 4;
    /// The consumer that received the data, deleted it and signs.
    pub const CONSUMER: u64 = 5;
    /// When the data was deleted.
    pub const DELETED_AT: u64 = 6;
    /// When the statement was signed.
    pub const ISSUED_AT: u64 = 7;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("receipt", RECEIPT),
        ("receipt hash", RECEIPT_HASH),
        ("request", REQUEST),
        ("subject", SUBJECT),
        ("consumer", CONSUMER),
        ("deleted at", DELETED_AT),
        ("issued at", ISSUED_AT),
    ];
}

/// The payload of a notification (`docs/format.md` §14.1): what one party that applied a
/// change tells one other party, carrying the exact signed bytes of what it applied.
pub mod notification {
    /// The format version.
    pub const VERSION: u64 = super::VERSION;
    /// The party that applied the change and signs the notification.
    pub const EMITTER: u64 = 1;
    /// The party it is for.
    pub const RECIPIENT: u64 = 2;
    /// Its number in the (emitter, recipient) stream, from 1.
    pub const SEQ: u64 = 3;
    /// When the emitter signed it.
    pub const ISSUED_AT: u64 = 4;
    /// The lifecycle statement's exact signed bytes (with the basis).
    pub const STATEMENT: u64 = 5;
    /// The exact signed bytes of the basis the statement names (with the statement).
    pub const BASIS: u64 = 6;
    /// The directory update's exact signed bytes (instead of a statement and its basis).
    pub const DIRECTORY_UPDATE: u64 = 7;

    /// Every key of the map, in key order, with its name.
    pub const ALL: &[(&str, u64)] = &[
        ("version", VERSION),
        ("emitter", EMITTER),
        ("recipient", RECIPIENT),
        ("seq", SEQ),
        ("issued at", ISSUED_AT),
        ("statement", STATEMENT),
        ("basis", BASIS),
        ("directory update", DIRECTORY_UPDATE),
    ];
}

#[cfg(test)]
mod tests {
    use super::{
        deletion, denial, directory, directory_update, grant, habilitation, legal_person,
        notification, party, party_key, receipt, representation, request, signed_directory,
        statement, tree_head,
    };

    const CDDL: &str = include_str!("../docs/consentry.cddl");
    const FORMAT: &str = include_str!("../docs/format.md");

    /// Every map of the format: its labels, its CDDL rule, where `docs/format.md` states its
    /// keys, and whether that is a key table (`| key | name | …`) or an inline `{k: …}` form.
    const MAPS: &[Map] = &[
        (grant::ALL, "grant-payload", "### 5.1 Grant", Doc::Table),
        (
            habilitation::ALL,
            "habilitation-payload",
            "### 5.2 Habilitation",
            Doc::Table,
        ),
        (
            statement::ALL,
            "statement-payload",
            "### 5.3 Statement",
            Doc::Table,
        ),
        (
            request::ALL,
            "request-payload",
            "### 5.4 Request",
            Doc::Table,
        ),
        (receipt::ALL, "grant-receipt", "### 5.5 Receipt", Doc::Table),
        (
            tree_head::ALL,
            "tree-head-payload",
            "### 5.6 Tree head",
            Doc::Table,
        ),
        (denial::ALL, "denial", "Denial:", Doc::Table),
        (
            directory::ALL,
            "directory",
            "## 6. The party directory",
            Doc::Table,
        ),
        (
            signed_directory::ALL,
            "signed-directory-payload",
            "### 6.3 Signed directory",
            Doc::Table,
        ),
        (
            directory_update::ALL,
            "directory-update-payload",
            "### 6.4 Directory update",
            Doc::Table,
        ),
        (
            deletion::ALL,
            "deletion-payload",
            "### 5.7 Deletion",
            Doc::Table,
        ),
        (
            notification::ALL,
            "notification-payload",
            "### 14.1 Notification (content type 65010)",
            Doc::Table,
        ),
        (party::ALL, "party", "party: `{", Doc::Inline),
        (party_key::ALL, "party-key", "key: `{", Doc::Inline),
        (
            legal_person::ALL,
            "legal-person",
            "legal person: `{",
            Doc::Inline,
        ),
        (
            representation::ALL,
            "representation",
            "representation: `{",
            Doc::Inline,
        ),
    ];

    /// A map's `ALL`, its CDDL rule, its anchor in `docs/format.md` and the form found there.
    type Map = (
        &'static [(&'static str, u64)],
        &'static str,
        &'static str,
        Doc,
    );

    #[derive(Clone, Copy)]
    enum Doc {
        Table,
        Inline,
    }

    /// The lines of the one rule `name = {` (a map) or `name = (` (a group), up to its closing
    /// line; fails if there is no such rule or more than one.
    fn rule(name: &str, open: char) -> Vec<&'static str> {
        let head = format!("{name} = {open}");
        let close = if open == '{' { "}" } else { ")" };
        let starts: Vec<usize> = CDDL
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_end() == head)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            starts.len(),
            1,
            "the CDDL has no rule (or several) `{head}`"
        );
        let body: Vec<&str> = CDDL
            .lines()
            .skip(starts[0] + 1)
            .take_while(|l| l.trim_end() != close)
            .collect();
        assert_eq!(
            CDDL.lines()
                .nth(starts[0] + 1 + body.len())
                .map(str::trim_end),
            Some(close),
            "the CDDL rule `{name}` is not closed by a line `{close}`"
        );
        body
    }

    /// The integer keys the CDDL map rule `name` lists, its group references included, sorted;
    /// fails on a line it cannot read or a key listed twice.
    fn cddl_keys(name: &str) -> Vec<u64> {
        let mut keys = Vec::new();
        collect_keys(name, '{', &mut keys);
        let count = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(
            keys.len(),
            count,
            "the CDDL rule `{name}` lists a key twice"
        );
        keys
    }

    fn collect_keys(name: &str, open: char, keys: &mut Vec<u64>) {
        for line in rule(name, open) {
            // The entry without its comment and its optional marker.
            let entry = line.split(';').next().unwrap_or_default().trim();
            let entry = entry.strip_prefix("? ").unwrap_or(entry);
            if entry.is_empty() {
                continue;
            }
            if let Some((key, _)) = entry.split_once(" => ") {
                let key = key
                    .parse()
                    .unwrap_or_else(|_| panic!("`{name}`: `{key}` is not an integer key"));
                keys.push(key);
            } else {
                // A group reference, `receipt-fields,`: its keys are the map's.
                let group = entry
                    .strip_suffix(',')
                    .filter(|g| g.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                    .unwrap_or_else(|| panic!("`{name}`: cannot read the line `{line}`"));
                collect_keys(group, '(', keys);
            }
        }
    }

    /// The lines of `docs/format.md` after the one line starting with `anchor`.
    fn after(anchor: &str) -> impl Iterator<Item = &'static str> {
        let at: Vec<usize> = FORMAT
            .lines()
            .enumerate()
            .filter(|(_, l)| l.starts_with(anchor))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            at.len(),
            1,
            "docs/format.md has no line (or several) `{anchor}`"
        );
        FORMAT.lines().skip(at[0])
    }

    /// The (name, key) rows of the first key table after `anchor`, before the next heading.
    fn table(anchor: &str) -> Vec<(String, u64)> {
        let mut lines = after(anchor).skip(1);
        loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("no key table after `{anchor}`"));
            assert!(!line.starts_with('#'), "no key table after `{anchor}`");
            if line.starts_with("| key | name |") {
                break;
            }
        }
        assert!(
            lines.next().is_some_and(|l| l.starts_with("| ---")),
            "the key table after `{anchor}` has no separator line"
        );
        lines
            .take_while(|l| l.starts_with('|'))
            .map(|row| {
                let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                let key = cells[1]
                    .parse()
                    .unwrap_or_else(|_| panic!("`{anchor}`: `{row}` has no integer key"));
                (cells[2].to_owned(), key)
            })
            .collect()
    }

    /// The keys of the inline form `{1: …, ? 3: …}` starting at `anchor`, in order.
    fn inline(anchor: &str) -> Vec<u64> {
        let mut text = String::new();
        for line in after(anchor) {
            text.push_str(line);
            text.push(' ');
            if line.contains("}`") {
                break;
            }
        }
        let form = text
            .split_once('{')
            .and_then(|(_, rest)| rest.split_once("}`"))
            .unwrap_or_else(|| panic!("`{anchor}` is not followed by a `{{…}}` form"))
            .0;
        // Entries are `k: …` or `? k: …`; other comma-separated fragments are inside one.
        form.split(", ")
            .filter_map(|entry| {
                let entry = entry.trim();
                let entry = entry.strip_prefix("? ").unwrap_or(entry);
                entry.split_once(": ")?.0.parse().ok()
            })
            .collect()
    }

    fn keys(all: &[(&str, u64)]) -> Vec<u64> {
        all.iter().map(|&(_, key)| key).collect()
    }

    #[test]
    fn each_map_lists_its_keys_in_ascending_order_under_distinct_names() {
        for (all, rule, ..) in MAPS {
            assert!(
                all.windows(2).all(|w| w[0].1 < w[1].1),
                "{rule}: keys not ascending"
            );
            let mut names: Vec<_> = all.iter().map(|&(name, _)| name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), all.len(), "{rule}: a name is repeated");
        }
    }

    #[test]
    fn the_labels_are_the_keys_of_the_cddl_and_of_the_format_document() {
        // A receipt of a grant has the receipt's keys but those of a habilitation's alone.
        let habilitation_only = [receipt::LEGAL_REFERENCE];
        for &(all, rule, anchor, doc) in MAPS {
            let mut expected = keys(all);
            if rule == "grant-receipt" {
                expected.retain(|k| !habilitation_only.contains(k));
            }
            assert_eq!(cddl_keys(rule), expected, "CDDL rule `{rule}`");
            match doc {
                Doc::Table => {
                    let named: Vec<(&str, u64)> = all.to_vec();
                    let rows = table(anchor);
                    let rows: Vec<(&str, u64)> =
                        rows.iter().map(|(n, k)| (n.as_str(), *k)).collect();
                    assert_eq!(rows, named, "docs/format.md, table after `{anchor}`");
                }
                Doc::Inline => {
                    assert_eq!(inline(anchor), keys(all), "docs/format.md, `{anchor}`");
                }
            }
        }
        // A receipt of a habilitation has the receipt's keys but those of a grant's alone.
        let grant_only = [
            receipt::ONWARD_TRANSFER,
            receipt::CHAIN,
            receipt::DERIVATIONS,
        ];
        let mut of_habilitation = keys(receipt::ALL);
        of_habilitation.retain(|k| !grant_only.contains(k));
        assert_eq!(
            cddl_keys("habilitation-receipt"),
            of_habilitation,
            "CDDL rule `habilitation-receipt`"
        );
    }

    /// The parser refuses what it cannot read rather than skipping it.
    #[test]
    #[should_panic(expected = "no rule")]
    fn a_missing_rule_fails_loudly() {
        cddl_keys("no-such-payload");
    }
}
