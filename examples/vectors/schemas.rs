//! The JSON vectors (`json/`): every JSON form the library and its C ABI emit or read, one
//! directory per form named after its schema under `docs/schemas/`.
//!
//! - `json/FORM/valid/*.json`: documents the library wrote (or, for the C ABI's own forms,
//!   wrote as the C ABI does), each valid under the form's schema;
//! - `json/FORM/invalid/*.json`: structurally invalid documents, each refused by the schema
//!   and, for a form the library reads, by the library with the code the index gives;
//! - `json/FORM/refused/*.json`: documents the schema accepts but a rule it cannot express
//!   refuses (an empty range, unsorted sets, a text too long in bytes): the library's alone.
//!
//! `json/index.json` lists them. Every expected code is stated here, by the case, and checked
//! against the library before anything is written.

use std::collections::BTreeMap;

use consentry::ceiling::PurposeCeiling;
use consentry::cose::Envelope;
use consentry::danger::UncheckedGrant;
use consentry::decision::Decision;
use consentry::derivation::{Derivation, DerivationTerm};
use consentry::directory::{Directory, DirectoryHistory, DirectorySnapshot, DirectoryUpdate};
use consentry::ids::BasisId;
use consentry::json::{self, JsonForm};
use consentry::log::{LogEntry, Receipt, TreeHead};
use consentry::notify::{Carried, Notification};
use consentry::signed::SignedPayload;
use consentry::statement::Action;
use consentry::stats::UsageReport;
use consentry::terms::{AccessPattern, DataRange, Scope};
use consentry::testing::Scenario;
use consentry::vocab::{Category, Purpose};
use consentry::{Grant, Habilitation, Request, Statement};
use serde::Serialize;
use serde_json::{Value as Json, json};

use super::cases::Gen;
use super::common::{DAY, build, build_unchecked, grant_for, year};

/// One form's documents.
#[derive(Default)]
struct Form {
    valid: Vec<(String, Json)>,
    invalid: Vec<(String, Json, Option<&'static str>)>,
    refused: Vec<(String, Json, &'static str)>,
}

/// Reads `text` as `form` with the library, if it reads that form: the document it writes back,
/// or the code of its refusal.
pub fn read(form: &str, text: &str) -> Option<Result<Json, String>> {
    fn with<T: JsonForm + Serialize>(text: &str) -> Result<Json, String> {
        json::from_json::<T>(text)
            .map(|t| value(&t))
            .map_err(|e| e.code().to_owned())
    }
    Some(match form {
        "grant" => with::<Grant>(text),
        "habilitation" => with::<Habilitation>(text),
        "request" => with::<Request>(text),
        "statement" => with::<Statement>(text),
        "deletion" => with::<consentry::Deletion>(text),
        "notification" => with::<Notification>(text),
        "ceiling" => with::<PurposeCeiling>(text),
        "ceilings" => with::<Vec<PurposeCeiling>>(text),
        "scope" => with::<Scope>(text),
        "access-pattern" => with::<AccessPattern>(text),
        "data-range" => with::<DataRange>(text),
        "purpose" => with::<Purpose>(text),
        "category" => with::<Category>(text),
        "derivation" => with::<Derivation>(text),
        "derivations" => with::<Vec<Derivation>>(text),
        "derivation-term" => with::<DerivationTerm>(text),
        "directory" => Directory::from_json(text)
            .map(|d| serde_json::from_str(&d.to_json()).unwrap_or(Json::Null))
            .map_err(|e| e.code().to_owned()),
        // The directory's signed objects and the usage report.
        "directory-update" => with::<DirectoryUpdate>(text),
        "signed-directory" => with::<DirectorySnapshot>(text),
        "usage-report" => with::<UsageReport>(text),
        _ => return None,
    })
}

/// The forms and what emits or reads each (the index says it).
const FORMS: [(&str, &str); 38] = [
    (
        "grant",
        "consentry::Grant; consentry_issue_grant reads it, consentry_object_inspect writes it",
    ),
    (
        "habilitation",
        "consentry::Habilitation; consentry_issue_habilitation, consentry_object_inspect",
    ),
    (
        "request",
        "consentry::Request; consentry_issue_request, consentry_object_inspect",
    ),
    (
        "statement",
        "consentry::Statement; consentry_issue_statement, consentry_object_inspect",
    ),
    (
        "notification",
        "consentry::notify::Notification, the claims of a notification (content type 65010)",
    ),
    ("scope", "consentry::Scope, inside grants and habilitations"),
    (
        "access-pattern",
        "consentry::AccessPattern, inside grants and ceilings",
    ),
    (
        "data-range",
        "consentry::DataRange, inside grants, requests, decisions and receipts",
    ),
    (
        "purpose",
        "consentry::Purpose, inside grants, habilitations, requests and ceilings",
    ),
    ("category", "consentry::Category"),
    (
        "derivation",
        "consentry::derivation::Derivation: one derivation of the vocabulary",
    ),
    (
        "derivations",
        "a list of derivations: the vocabulary published with the ceilings",
    ),
    (
        "derivation-term",
        "consentry::derivation::DerivationTerm, inside grants, authorizations and receipts",
    ),
    ("ceiling", "consentry::ceiling::PurposeCeiling"),
    (
        "ceilings",
        "a list of ceilings: consentry_ceilings_from_json reads it",
    ),
    (
        "ceiling-excesses",
        "consentry::ceiling::CeilingExcess list: the end of a BEYOND_CEILING message",
    ),
    (
        "directory",
        "consentry::Directory::to_json and from_json; consentry_directory_to_json, _from_json",
    ),
    ("authorization", "consentry::Authorization"),
    ("reason", "consentry::Reason"),
    ("refusal", "consentry::Refusal"),
    (
        "decision",
        "consentry::Decision: consentry_decide writes it",
    ),
    ("basis-status", "consentry::ledger::Status"),
    ("statement-outcome", "consentry_apply_statement writes it"),
    (
        "decision-history",
        "consentry::ledger::DecisionRecord list: consentry_ledger_take_decisions writes it",
    ),
    ("receipt", "consentry::log::Receipt (claims)"),
    ("deletion", "consentry::Deletion (claims)"),
    ("object-info", "consentry_object_inspect writes it"),
    (
        "directory-update",
        "consentry::directory::DirectoryUpdate: what the operator signs (content type 65008)",
    ),
    (
        "signed-directory",
        "consentry::directory::DirectorySnapshot: a first version or a checkpoint (content type 65007)",
    ),
    (
        "usage-report",
        "consentry::stats::UsageReport: public usage statistics, read back before verify",
    ),
    (
        "tree-head",
        "the claims of a signed tree head: consentry_tree_head_verify writes them, and the head of a history report",
    ),
    (
        "log-entry-info",
        "a transfer-log entry, unverified: consentry_log_entry_inspect writes it, and each entry of a history report",
    ),
    (
        "access-history",
        "a subject's access history: consentry_ledger_access_history and consentry_log_access_history write it, consentry_verify_history reads it",
    ),
    (
        "history-report",
        "a checked history: consentry_verify_history writes it, consentry_verify_history_retention with retention",
    ),
    (
        "outbox-listing",
        "the notifications waiting in an outbox: consentry_ledger_outbox_pending writes it",
    ),
    (
        "inbox-outcome",
        "a notification accepted: consentry_inbox_receive_statement and _receive_update write it",
    ),
    (
        "overdue-report",
        "the overdue query: consentry_overdue_report writes it, consentry_verify_overdue reads it",
    ),
    (
        "overdue-receipts",
        "the receipts consentry_verify_overdue confirms overdue",
    ),
];

fn value<T: Serialize>(v: &T) -> Json {
    serde_json::to_value(v).unwrap_or_else(|e| panic!("{e}"))
}

/// `doc` with `path` (object keys and array indices, `/`-separated) set to `v`, or removed if
/// `v` is `None`.
fn edit(doc: &Json, path: &str, v: Option<Json>) -> Json {
    let mut out = doc.clone();
    let (parent, last) = path.rsplit_once('/').unwrap_or(("", path));
    let target = if parent.is_empty() {
        &mut out
    } else {
        out.pointer_mut(&format!("/{parent}"))
            .unwrap_or_else(|| panic!("no {parent}"))
    };
    match (target, v) {
        (Json::Object(m), Some(v)) => {
            m.insert(last.to_owned(), v);
        }
        (Json::Object(m), None) => {
            assert!(m.remove(last).is_some(), "no {path}");
        }
        (Json::Array(a), Some(v)) => a[last.parse::<usize>().unwrap_or_else(|e| panic!("{e}"))] = v,
        (Json::Array(a), None) => {
            a.remove(last.parse::<usize>().unwrap_or_else(|e| panic!("{e}")));
        }
        (other, _) => panic!("{path}: not a container: {other}"),
    }
    out
}

impl Form {
    fn valid(&mut self, name: &str, doc: Json) {
        self.valid.push((name.to_owned(), doc));
    }
    fn invalid(&mut self, name: &str, doc: Json, code: Option<&'static str>) {
        self.invalid.push((name.to_owned(), doc, code));
    }
    fn refused(&mut self, name: &str, doc: Json, code: &'static str) {
        self.refused.push((name.to_owned(), doc, code));
    }
    /// The structural mutations every object form has: each required field missing, an
    /// unknown field, the document not an object.
    fn object_mutations(&mut self, base: &Json, required: &[&str], code: Option<&'static str>) {
        for field in required {
            self.invalid(
                &format!("missing-{}", field.replace('_', "-")),
                edit(base, field, None),
                code,
            );
        }
        self.invalid(
            "unknown-field",
            edit(base, "comment", Some(json!("not a field"))),
            code,
        );
        self.invalid("not-an-object", json!("a string"), code);
    }
}

/// Builds every JSON vector and adds its files to `g`.
#[allow(clippy::too_many_lines)]
pub fn json_vectors(g: &mut Gen) {
    let mut s = Scenario::canteen();
    let mut forms: BTreeMap<&str, Form> = BTreeMap::new();
    const SHAPE: Option<&str> = Some("json/shape");

    // The signed objects' claims: every valid object case.
    for o in g
        .objects
        .iter()
        .filter(|o| o["expected"]["outcome"] == "valid")
    {
        let (kind, name) = (
            o["kind"].as_str().unwrap_or_default(),
            o["name"].as_str().unwrap_or_default(),
        );
        forms
            .entry(match kind {
                "grant" => "grant",
                "habilitation" => "habilitation",
                "statement" => "statement",
                "request" => "request",
                other => panic!("no JSON form for {other}"),
            })
            .or_default()
            .valid(name, o["expected"]["claims"].clone());
        // What consentry_object_inspect writes about the object (the C ABI's tests check that
        // it writes exactly this).
        let bytes = &g.files[o["file"].as_str().unwrap_or_default()];
        let env = Envelope::parse(bytes).unwrap_or_else(|e| panic!("{e}"));
        forms.entry("object-info").or_default().valid(
            name,
            json!({
                "kind": env.kind(),
                "content_type": env.kind().content_type(),
                "kid": env.kid().to_hex(),
                "digest": o["expected"]["digest"],
                "claims": o["expected"]["claims"],
            }),
        );
    }
    let grant = build(&s, s.grant());
    let grant_doc = forms["grant"]
        .valid
        .iter()
        .find(|(n, _)| n == "grant-by-parent")
        .map(|(_, d)| d.clone())
        .unwrap_or_else(|| panic!("grant-by-parent"));

    // The parts of a grant.
    let f = forms.entry("scope").or_default();
    f.valid("one-provider", grant_doc["scope"].clone());
    let mut two = Scope::new();
    two.add(
        s.dgfip,
        [consentry::testing::rfr(), consentry::testing::household()],
    );
    two.add(s.cnaf, [consentry::testing::quotient_familial()]);
    f.valid("two-providers", value(&two));
    f.invalid("empty", json!([]), Some("terms/bad_scope"));
    f.invalid(
        "no-categories",
        edit(&grant_doc["scope"], "0/categories", Some(json!([]))),
        Some("terms/bad_scope"),
    );
    let cat = grant_doc["scope"][0]["categories"][0].clone();
    f.invalid(
        "repeated-category",
        edit(&grant_doc["scope"], "0/categories", Some(json!([cat, cat]))),
        Some("terms/bad_scope"),
    );
    f.invalid(
        "provider-not-a-uuid",
        edit(&grant_doc["scope"], "0/provider", Some(json!("dgfip"))),
        SHAPE,
    );
    f.invalid(
        "entry-unknown-field",
        edit(&grant_doc["scope"], "0/note", Some(json!(1))),
        SHAPE,
    );
    f.invalid("not-an-array", grant_doc["scope"][0].clone(), SHAPE);
    let two = value(&two);
    let swapped = json!([two[1].clone(), two[0].clone()]);
    f.refused("providers-out-of-order", swapped, "terms/bad_scope");
    let mut cats = two[0]["categories"].as_array().cloned().unwrap_or_default();
    cats.reverse();
    f.refused(
        "categories-unsorted",
        edit(&two, "0/categories", Some(Json::Array(cats))),
        "terms/bad_scope",
    );

    let f = forms.entry("access-pattern").or_default();
    f.valid("one-time", value(&AccessPattern::one_time()));
    f.valid("monthly", value(&AccessPattern::MONTHLY));
    f.invalid(
        "no-uses",
        json!({"periodic": {"max_uses": 0, "period_secs": 86400}}),
        Some("terms/no_uses"),
    );
    f.invalid(
        "empty-period",
        json!({"periodic": {"max_uses": 1, "period_secs": 0}}),
        Some("terms/empty_period"),
    );
    f.invalid(
        "uses-beyond-u32",
        json!({"periodic": {"max_uses": 4_294_967_296_u64, "period_secs": 86400}}),
        SHAPE,
    );
    f.invalid("unknown-variant", json!("daily"), SHAPE);
    f.invalid(
        "periodic-missing-period",
        json!({"periodic": {"max_uses": 1}}),
        SHAPE,
    );
    f.invalid(
        "periodic-unknown-field",
        json!({"periodic": {"max_uses": 1, "period_secs": 86400, "burst": 2}}),
        SHAPE,
    );

    let f = forms.entry("data-range").or_default();
    f.valid("year-2025", grant_doc["data_range"].clone());
    f.object_mutations(&grant_doc["data_range"], &["from", "until"], SHAPE);
    f.invalid(
        "negative-from",
        edit(&grant_doc["data_range"], "from", Some(json!(-1))),
        SHAPE,
    );
    f.invalid(
        "until-beyond-u64",
        edit(
            &grant_doc["data_range"],
            "until",
            Some(json!(18_446_744_073_709_551_616_f64)),
        ),
        SHAPE,
    );
    f.invalid(
        "from-as-text",
        edit(&grant_doc["data_range"], "from", Some(json!("2025-01-01"))),
        SHAPE,
    );
    f.refused(
        "empty",
        json!({"from": 1_735_689_600, "until": 1_735_689_600}),
        "terms/empty_range",
    );
    f.refused(
        "inverted",
        json!({"from": 1_767_225_600, "until": 1_735_689_600}),
        "terms/empty_range",
    );

    let f = forms.entry("purpose").or_default();
    f.valid("with-text", grant_doc["purpose"].clone());
    f.valid("code-only", json!({"code": grant_doc["purpose"]["code"]}));
    f.object_mutations(&grant_doc["purpose"], &["code"], SHAPE);
    f.invalid(
        "code-without-namespace",
        json!({"code": "cantine"}),
        Some("code/no_namespace"),
    );
    f.invalid(
        "empty-text",
        edit(&grant_doc["purpose"], "text", Some(json!(""))),
        Some("code/empty_text"),
    );
    f.invalid(
        "text-too-long",
        edit(&grant_doc["purpose"], "text", Some(json!("x".repeat(513)))),
        Some("code/text_too_long"),
    );
    f.refused(
        "text-too-long-in-bytes",
        edit(&grant_doc["purpose"], "text", Some(json!("é".repeat(300)))),
        "code/text_too_long",
    );

    let f = forms.entry("category").or_default();
    f.valid("rfr", value(&consentry::testing::rfr()));
    f.invalid(
        "no-namespace",
        json!("revenu_fiscal_reference"),
        Some("code/no_namespace"),
    );
    f.invalid(
        "upper-case-namespace",
        json!("DGFIP:rfr"),
        Some("code/bad_namespace"),
    );
    f.invalid(
        "namespace-starts-with-digit",
        json!("1dgfip:rfr"),
        Some("code/bad_namespace"),
    );
    f.invalid("empty-name", json!("dgfip:"), Some("code/bad_name"));
    f.invalid(
        "name-too-long",
        json!(format!("dgfip:{}", "a".repeat(65))),
        Some("code/bad_name"),
    );
    f.invalid("not-a-string", json!(42), SHAPE);

    // Derivations: the vocabulary, and a term with its fixed parameters.
    let d_doc = value(&consentry::testing::rfr_bracket());
    let f = forms.entry("derivation").or_default();
    f.valid("rfr-bracket", d_doc.clone());
    f.valid(
        "age-over",
        json!({"code": "insee:majeur", "category": "insee:age", "kind": "age_over"}),
    );
    f.object_mutations(&d_doc, &["code", "category", "kind"], SHAPE);
    f.invalid(
        "bracket-without-max-bounds",
        edit(&d_doc, "max_bounds", None),
        Some("derivation/bad_max_bounds"),
    );
    f.invalid(
        "max-bounds-zero",
        edit(&d_doc, "max_bounds", Some(json!(0))),
        Some("derivation/bad_max_bounds"),
    );
    f.invalid(
        "max-bounds-too-many",
        edit(&d_doc, "max_bounds", Some(json!(17))),
        Some("derivation/bad_max_bounds"),
    );
    f.invalid(
        "max-bounds-on-a-threshold",
        edit(&d_doc, "kind", Some(json!("below"))),
        Some("derivation/bad_max_bounds"),
    );
    f.invalid(
        "unknown-kind",
        edit(&d_doc, "kind", Some(json!("rounded"))),
        SHAPE,
    );
    f.invalid(
        "code-without-namespace",
        edit(&d_doc, "code", Some(json!("tranche"))),
        Some("derivation/bad_code"),
    );
    let f = forms.entry("derivations").or_default();
    f.valid(
        "canteen",
        value(&s.ceilings.derivations().iter().collect::<Vec<_>>()),
    );
    f.invalid("not-an-array", d_doc.clone(), SHAPE);
    let t_doc = value(&consentry::testing::derived(
        consentry::testing::rfr(),
        consentry::testing::RFR_BRACKET,
        &[15_000, 30_000, 45_000],
    ));
    let f = forms.entry("derivation-term").or_default();
    f.valid("rfr-bracket", t_doc.clone());
    f.object_mutations(&t_doc, &["category", "derivation", "parameters"], SHAPE);
    f.invalid(
        "no-parameters",
        edit(&t_doc, "parameters", Some(json!([]))),
        Some("derivation/bad_parameter_count"),
    );
    f.invalid(
        "too-many-parameters",
        edit(
            &t_doc,
            "parameters",
            Some(json!((1..=17).collect::<Vec<u64>>())),
        ),
        Some("derivation/bad_parameter_count"),
    );
    f.invalid(
        "negative-parameter",
        edit(&t_doc, "parameters", Some(json!([-1]))),
        SHAPE,
    );
    f.refused(
        "parameters-unsorted",
        edit(&t_doc, "parameters", Some(json!([30_000, 15_000]))),
        "derivation/unsorted_parameters",
    );
    f.refused(
        "parameters-repeated",
        edit(&t_doc, "parameters", Some(json!([15_000, 15_000]))),
        "derivation/unsorted_parameters",
    );

    // The signed objects' forms.
    let f = forms.entry("grant").or_default();
    let required = [
        "id",
        "subject",
        "consumer",
        "scope",
        "purpose",
        "issued_at",
        "not_before",
        "expires_at",
        "access",
        "data_range",
        "retention_secs",
    ];
    f.object_mutations(&grant_doc, &required, SHAPE);
    f.invalid(
        "id-not-a-uuid",
        edit(&grant_doc, "id", Some(json!("grant-1"))),
        SHAPE,
    );
    f.invalid(
        "onward-transfer-not-boolean",
        edit(&grant_doc, "onward_transfer", Some(json!("yes"))),
        SHAPE,
    );
    f.invalid(
        "retention-negative",
        edit(&grant_doc, "retention_secs", Some(json!(-1))),
        SHAPE,
    );
    f.invalid(
        "scope-empty",
        edit(&grant_doc, "scope", Some(json!([]))),
        Some("terms/bad_scope"),
    );
    f.invalid(
        "access-unknown",
        edit(&grant_doc, "access", Some(json!("always"))),
        SHAPE,
    );
    f.invalid(
        "purpose-bad-code",
        edit(&grant_doc, "purpose/code", Some(json!("Cantine"))),
        Some("code/no_namespace"),
    );
    f.refused(
        "empty-window",
        edit(
            &grant_doc,
            "expires_at",
            grant_doc.get("not_before").cloned(),
        ),
        "grant/empty_window",
    );
    f.refused(
        "data-range-empty",
        edit(
            &grant_doc,
            "data_range/until",
            grant_doc["data_range"].get("from").cloned(),
        ),
        "terms/empty_range",
    );
    let derived_doc = edit(&grant_doc, "derivations", Some(json!([t_doc.clone()])));
    f.invalid(
        "derivations-not-an-array",
        edit(&grant_doc, "derivations", Some(t_doc.clone())),
        SHAPE,
    );
    f.refused(
        "derivation-of-a-category-not-covered",
        edit(
            &derived_doc,
            "derivations/0/category",
            Some(json!("cnaf:quotient_familial")),
        ),
        "grant/bad_derivations",
    );
    f.refused(
        "derivation-twice-for-a-category",
        edit(&grant_doc, "derivations", Some(json!([t_doc, t_doc]))),
        "grant/bad_derivations",
    );

    let hab_doc = value(&s.habilitation());
    let f = forms.entry("habilitation").or_default();
    f.object_mutations(
        &hab_doc,
        &[
            "id",
            "authority",
            "consumer",
            "scope",
            "purpose",
            "legal_reference",
            "issued_at",
            "not_before",
            "expires_at",
            "retention_secs",
        ],
        SHAPE,
    );
    f.invalid(
        "legal-reference-empty",
        edit(&hab_doc, "legal_reference", Some(json!(""))),
        Some("habilitation/bad_legal_reference"),
    );
    f.invalid(
        "access-not-a-field",
        edit(&hab_doc, "access", Some(json!("one_time"))),
        SHAPE,
    );
    f.refused(
        "empty-window",
        edit(&hab_doc, "expires_at", hab_doc.get("not_before").cloned()),
        "habilitation/empty_window",
    );
    f.refused(
        "legal-reference-too-long-in-bytes",
        edit(&hab_doc, "legal_reference", Some(json!("é".repeat(300)))),
        "habilitation/bad_legal_reference",
    );

    let req_doc = value(&s.request(&grant));
    let f = forms.entry("request").or_default();
    f.object_mutations(
        &req_doc,
        &[
            "id",
            "basis",
            "basis_digest",
            "consumer",
            "provider",
            "subject",
            "categories",
            "purpose",
            "data_range",
            "issued_at",
        ],
        SHAPE,
    );
    f.invalid(
        "digest-too-short",
        edit(&req_doc, "basis_digest", Some(json!("ab".repeat(31)))),
        SHAPE,
    );
    f.invalid(
        "digest-not-hex",
        edit(&req_doc, "basis_digest", Some(json!("zz".repeat(32)))),
        SHAPE,
    );
    f.invalid(
        "no-categories",
        edit(&req_doc, "categories", Some(json!([]))),
        Some("request/bad_categories"),
    );
    let cat = req_doc["categories"][0].clone();
    f.invalid(
        "repeated-category",
        edit(&req_doc, "categories", Some(json!([cat, cat]))),
        Some("request/bad_categories"),
    );
    f.refused(
        "categories-unsorted",
        edit(
            &req_doc,
            "categories",
            Some(json!([
                "dgfip:revenu_fiscal_reference",
                "dgfip:composition_foyer"
            ])),
        ),
        "request/bad_categories",
    );

    let pause = s.statement(&grant, Action::Pause, s.parent);
    let st_doc = value(
        consentry::signed::Unverified::<Statement>::parse(&pause)
            .unwrap_or_else(|e| panic!("{e}"))
            .claims(),
    );
    let f = forms.entry("statement").or_default();
    f.object_mutations(
        &st_doc,
        &["basis", "basis_digest", "action", "issued_by", "issued_at"],
        SHAPE,
    );
    f.invalid(
        "unknown-action",
        edit(&st_doc, "action", Some(json!("delete"))),
        SHAPE,
    );
    f.invalid(
        "issued-at-fractional",
        edit(&st_doc, "issued_at", Some(json!(1.5))),
        SHAPE,
    );

    // A deletion statement.
    let mut d = Scenario::canteen();
    let (receipt, _) = d.transfer_and_log();
    let del_doc = value(&consentry::Deletion::for_receipt(&receipt, d.now, d.now));
    let f = forms.entry("deletion").or_default();
    f.valid("city-hall-deletes", del_doc.clone());
    f.object_mutations(
        &del_doc,
        &[
            "receipt",
            "receipt_digest",
            "request",
            "subject",
            "consumer",
            "deleted_at",
            "issued_at",
        ],
        SHAPE,
    );
    f.invalid(
        "receipt-digest-short",
        edit(&del_doc, "receipt_digest", Some(json!("abcd"))),
        SHAPE,
    );
    // Notifications: DGFiP tells CNAF of the pause; and of a directory update.
    let n_doc = value(&Notification {
        emitter: s.dgfip,
        recipient: s.cnaf,
        seq: 1,
        issued_at: s.now,
        carried: Carried::Statement {
            statement: pause.clone(),
            basis: grant.clone(),
        },
    });
    let f = forms.entry("notification").or_default();
    f.valid("statement", n_doc.clone());
    f.valid(
        "directory-update",
        edit(
            &n_doc,
            "carried",
            Some(json!({"directory_update": "d28443a10127a0f6"})),
        ),
    );
    f.object_mutations(
        &n_doc,
        &["emitter", "recipient", "seq", "issued_at", "carried"],
        SHAPE,
    );
    f.invalid(
        "seq-zero",
        edit(&n_doc, "seq", Some(json!(0))),
        Some("notification/invalid"),
    );
    f.invalid(
        "statement-without-basis",
        edit(&n_doc, "carried/statement/basis", None),
        SHAPE,
    );
    f.invalid(
        "bytes-not-hex",
        edit(&n_doc, "carried/statement/basis", Some(json!("not hex"))),
        SHAPE,
    );
    f.refused(
        "to-itself",
        edit(&n_doc, "recipient", n_doc.get("emitter").cloned()),
        "notification/invalid",
    );

    // Ceilings.
    let mut ceilings: Vec<PurposeCeiling> = s.ceilings.iter().cloned().collect();
    ceilings.sort_by(|a, b| (a.publisher, a.purpose.code()).cmp(&(b.publisher, b.purpose.code())));
    let c_doc = value(&ceilings[0]);
    let f = forms.entry("ceiling").or_default();
    for c in &ceilings {
        let publisher = [(s.dgfip, "dgfip"), (s.cnaf, "cnaf")]
            .iter()
            .find(|(id, _)| *id == c.publisher)
            .map_or("other", |(_, n)| *n);
        f.valid(
            &format!("{publisher}-{}", c.purpose.code().replace(':', "-")),
            value(c),
        );
    }
    f.object_mutations(
        &c_doc,
        &[
            "publisher",
            "purpose",
            "categories",
            "max_validity_secs",
            "max_access",
            "max_retention_secs",
            "max_data_range_secs",
        ],
        SHAPE,
    );
    f.valid(
        "dgfip-derived-only",
        value(&super::common::scholarship_ceiling(&s)),
    );
    f.invalid(
        "derived-only-missing-derivations",
        edit(
            &value(&super::common::scholarship_ceiling(&s)),
            "derived_only/0/derivations",
            None,
        ),
        SHAPE,
    );
    f.invalid(
        "max-access-no-uses",
        edit(
            &c_doc,
            "max_access",
            Some(json!({"periodic": {"max_uses": 0, "period_secs": 1}})),
        ),
        Some("terms/no_uses"),
    );
    let f = forms.entry("ceilings").or_default();
    f.valid("canteen", value(&ceilings));
    f.valid("none", json!([]));
    f.invalid("not-an-array", c_doc.clone(), SHAPE);
    f.invalid(
        "item-unknown-field",
        json!([edit(&c_doc, "comment", Some(json!("x")))]),
        SHAPE,
    );

    // What a grant beyond the ceilings is refused with.
    let f = forms.entry("ceiling-excesses").or_default();
    let greedy = grant_for(&s, s.parent)
        .valid(s.now, s.now.plus_secs(5 * 365 * DAY))
        .retention_secs(10 * 365 * DAY)
        .cover(s.dgfip, [consentry::testing::quotient_familial()])
        .build_without_ceiling_check()
        .unwrap_or_else(|e| panic!("{e}"));
    let excesses = s.ceilings.excesses(&greedy.ceiling_terms());
    assert!(excesses.len() >= 3, "{excesses:?}");
    f.valid("categories-validity-retention", value(&excesses));
    let closed = Grant::builder(
        BasisId(s.next_uuid()),
        s.parent,
        s.mairie,
        Purpose::new("fiscalite:controle").unwrap_or_else(|e| panic!("{e}")),
    )
    .cover(s.dgfip, [consentry::testing::rfr()])
    .issued_at(s.now)
    .valid(s.now, s.now.plus_secs(30 * DAY))
    .access(AccessPattern::one_time())
    .data_range(year(2025))
    .retention_secs(30 * DAY)
    .build_without_ceiling_check()
    .unwrap_or_else(|e| panic!("{e}"));
    f.valid(
        "no-ceiling",
        value(&s.ceilings.excesses(&closed.ceiling_terms())),
    );
    let mut strict = s.ceilings.clone();
    strict.publish(super::common::scholarship_ceiling(&s));
    let raw = Grant::builder(
        BasisId(s.next_uuid()),
        s.parent,
        s.mairie,
        super::common::scholarship(),
    )
    .cover(s.dgfip, [consentry::testing::rfr()])
    .issued_at(s.now)
    .valid(s.now, s.now.plus_secs(30 * DAY))
    .access(AccessPattern::one_time())
    .data_range(year(2025))
    .retention_secs(30 * DAY)
    .build_without_ceiling_check()
    .unwrap_or_else(|e| panic!("{e}"));
    f.valid(
        "raw-where-derived-only",
        value(&strict.excesses(&raw.ceiling_terms())),
    );
    let e0 = value(&excesses[0]);
    f.invalid(
        "unknown-excess",
        json!([edit(&e0, "excess", Some(json!("too_much")))]),
        None,
    );
    f.invalid(
        "missing-provider",
        json!([edit(&e0, "provider", None)]),
        None,
    );
    f.invalid("not-an-array", e0, None);

    // The directory.
    let f = forms.entry("directory").or_default();
    for (name, (dir, _)) in &g.dirs {
        f.valid(
            name,
            serde_json::from_str(&dir.to_json()).unwrap_or_else(|e| panic!("{e}")),
        );
    }
    let d =
        serde_json::from_str::<Json>(&g.dir("canteen").to_json()).unwrap_or_else(|e| panic!("{e}"));
    const MALFORMED: Option<&str> = Some("directory/malformed");
    f.object_mutations(&d, &["version", "parties"], MALFORMED);
    f.invalid("version-1", edit(&d, "version", Some(json!(1))), MALFORMED);
    f.invalid(
        "party-missing-keys",
        edit(&d, "parties/0/keys", None),
        MALFORMED,
    );
    f.invalid(
        "party-unknown-field",
        edit(&d, "parties/0/email", Some(json!("x@example.org"))),
        MALFORMED,
    );
    f.invalid(
        "unknown-role",
        edit(&d, "parties/0/roles", Some(json!(["citizen"]))),
        MALFORMED,
    );
    f.invalid(
        "repeated-role",
        edit(&d, "parties/0/roles", Some(json!(["subject", "subject"]))),
        Some("directory/duplicate_role"),
    );
    f.invalid(
        "no-role",
        edit(&d, "parties/0/roles", Some(json!([]))),
        Some("directory/no_role"),
    );
    f.invalid(
        "empty-name",
        edit(&d, "parties/0/name", Some(json!(""))),
        Some("directory/bad_name"),
    );
    f.invalid(
        "public-key-short",
        edit(
            &d,
            "parties/0/keys/0/public_key",
            Some(json!("ab".repeat(31))),
        ),
        MALFORMED,
    );
    f.invalid(
        "kid-not-hex",
        edit(&d, "parties/0/keys/0/kid", Some(json!("not a kid"))),
        Some("directory/kid_mismatch"),
    );
    f.invalid(
        "key-unknown-field",
        edit(&d, "parties/0/keys/0/revoked", Some(json!(true))),
        MALFORMED,
    );
    f.invalid(
        "representation-unknown-kind",
        edit(&d, "representations/0/kind", Some(json!("friend"))),
        MALFORMED,
    );
    let kid = another_kid(&d["parties"][0]["keys"][0]["kid"]);
    f.refused(
        "kid-of-another-key",
        edit(&d, "parties/0/keys/0/kid", Some(json!(kid))),
        "directory/kid_mismatch",
    );
    f.refused(
        "name-too-long-in-bytes",
        edit(&d, "parties/0/name", Some(json!("é".repeat(200)))),
        "directory/bad_name",
    );
    // A legal person's numbers and rules.
    let c = serde_json::from_str::<Json>(&g.dir("canteen-company").to_json())
        .unwrap_or_else(|e| panic!("{e}"));
    let company = c["parties"]
        .as_array()
        .and_then(|ps| ps.iter().position(|p| p.get("legal_person").is_some()))
        .unwrap_or_else(|| panic!("canteen-company lists a legal person"));
    let at = |path: &str| format!("parties/{company}/{path}");
    f.invalid(
        "siren-short",
        edit(&c, &at("legal_person/siren"), Some(json!("84215739"))),
        MALFORMED,
    );
    f.invalid(
        "legal-person-unknown-field",
        edit(&c, &at("legal_person/naf"), Some(json!("10.71C"))),
        MALFORMED,
    );
    f.invalid(
        "representation-kind-unknown-code",
        edit(&c, "representations/0/kind", Some(json!(3))),
        MALFORMED,
    );
    f.refused(
        "siren-check-digit",
        edit(&c, &at("legal_person/siren"), Some(json!("842157399"))),
        "directory/malformed",
    );
    f.refused(
        "siret-of-another-siren",
        edit(
            &c,
            &at("legal_person/sirets"),
            Some(json!(["73282932000074"])),
        ),
        "directory/foreign_siret",
    );
    f.refused(
        "legal-person-with-a-key",
        edit(&c, &at("keys"), Some(d["parties"][0]["keys"].clone())),
        "directory/legal_person_key",
    );
    f.refused(
        "legal-representative-of-a-person",
        edit(
            &d,
            "representations/0/kind",
            Some(json!("legal_representative")),
        ),
        "directory/not_a_legal_person",
    );

    // Decisions, as the verifier gives them.
    let request = s.sign_request(&s.request(&grant));
    let allow = s.decide(&request, &grant);
    let replay = s.decide(&request, &grant);
    let garbage = s.decide(b"not a request", &grant);
    let habilitation = s.habilitation().sign(s.key(s.authority));
    let hab_allow = s.decide(&s.sign_request(&s.request(&habilitation)), &habilitation);
    let child_grant = build(&s, grant_for(&s, s.child).expressed_by(s.parent));
    let child_allow = s.decide(&s.sign_request(&s.request(&child_grant)), &child_grant);
    let unchecked = build_unchecked(
        &s,
        grant_for(&s, s.parent).valid(s.now, s.now.plus_secs(5 * 365 * DAY)),
    );
    let many = s.decide(&s.sign_request(&s.request(&unchecked)), &grant);
    let allows: [(&str, &Decision); 3] = [
        ("grant-by-parent", &allow),
        ("habilitation", &hab_allow),
        ("grant-by-legal-representative", &child_allow),
    ];
    let denials: [(&str, &Decision); 3] = [
        ("replayed", &replay),
        ("malformed-request", &garbage),
        ("many-reasons", &many),
    ];
    for (name, d) in allows {
        let a = d
            .allowed()
            .unwrap_or_else(|| panic!("{name}: {:?}", d.codes()));
        forms
            .entry("authorization")
            .or_default()
            .valid(name, value(a));
        forms
            .entry("decision")
            .or_default()
            .valid(&format!("allow-{name}"), value(d));
        let receipt = Receipt::for_authorization(a, s.next_uuid(), s.now);
        forms
            .entry("receipt")
            .or_default()
            .valid(name, value(&receipt));
    }
    for (name, d) in denials {
        let r = d.refusal().unwrap_or_else(|| panic!("{name}: allowed"));
        forms.entry("refusal").or_default().valid(name, value(r));
        forms
            .entry("decision")
            .or_default()
            .valid(&format!("deny-{name}"), value(d));
    }
    forms
        .entry("reason")
        .or_default()
        .valid("replayed-request", value(&replay.reasons()[0]));
    let a_doc = value(allow.allowed().unwrap_or_else(|| unreachable!()));
    let r_doc = value(replay.refusal().unwrap_or_else(|| unreachable!()));
    let f = forms.entry("authorization").or_default();
    f.object_mutations(
        &a_doc,
        &[
            "request",
            "basis_digest",
            "categories",
            "consent",
            "decided_at",
        ],
        None,
    );
    f.invalid(
        "no-categories",
        edit(&a_doc, "categories", Some(json!([]))),
        None,
    );
    f.invalid(
        "basis-kind-unknown",
        edit(&a_doc, "basis_kind", Some(json!("contract"))),
        None,
    );
    f.invalid(
        "digest-upper-case",
        edit(
            &a_doc,
            "request_digest",
            Some(json!(
                a_doc["request_digest"]
                    .as_str()
                    .unwrap_or_default()
                    .to_uppercase()
            )),
        ),
        None,
    );
    let f = forms.entry("refusal").or_default();
    f.object_mutations(
        &r_doc,
        &["reasons", "request_digest", "request", "decided_at"],
        None,
    );
    f.invalid("no-reasons", edit(&r_doc, "reasons", Some(json!([]))), None);
    let f = forms.entry("reason").or_default();
    f.object_mutations(&r_doc["reasons"][0], &["code", "message"], None);
    f.invalid(
        "code-upper-case",
        edit(&r_doc["reasons"][0], "code", Some(json!("Replayed"))),
        None,
    );
    let allow_doc = value(&allow);
    let deny_doc = value(&replay);
    let f = forms.entry("decision").or_default();
    f.invalid("missing-decision", edit(&allow_doc, "decision", None), None);
    f.invalid(
        "unknown-decision",
        edit(&allow_doc, "decision", Some(json!("maybe"))),
        None,
    );
    f.invalid(
        "allow-with-reasons",
        edit(&allow_doc, "reasons", deny_doc.get("reasons").cloned()),
        None,
    );
    f.invalid(
        "deny-without-reasons",
        edit(&deny_doc, "reasons", None),
        None,
    );
    f.invalid(
        "deny-tagged-allow",
        edit(&deny_doc, "decision", Some(json!("allow"))),
        None,
    );
    f.invalid(
        "allow-unknown-field",
        edit(&allow_doc, "comment", Some(json!("x"))),
        None,
    );
    let rc_doc = forms["receipt"].valid[2].1.clone();
    let f = forms.entry("receipt").or_default();
    f.object_mutations(&rc_doc, &["id", "basis_kind", "categories", "chain"], None);
    let link = rc_doc["chain"][0].clone();
    assert!(link.is_object(), "the receipt case has a chain");
    f.invalid(
        "chain-too-long",
        edit(&rc_doc, "chain", Some(json!([link, link, link, link]))),
        None,
    );
    f.invalid(
        "chain-unknown-kind",
        edit(&rc_doc, "chain/0/kind", Some(json!("friend"))),
        None,
    );
    f.invalid(
        "chain-link-missing-represented",
        edit(&rc_doc, "chain/0/represented", None),
        None,
    );

    // Statements applied, and the decisions the ledger kept.
    s.advance_days(1);
    let mut outcomes = Vec::new();
    for (action, by) in [
        (Action::Pause, s.parent),
        (Action::Pause, s.parent),
        (Action::Resume, s.parent),
        (Action::Revoke, s.parent),
        (Action::Resume, s.parent),
    ] {
        s.now = s.now.plus_secs(60);
        let st = s.statement(&grant, action, by);
        outcomes.push(s.apply(&st, &grant));
    }
    // The first pause, the resume and the revocation: one status of each kind.
    let f = forms.entry("basis-status").or_default();
    for (name, i) in [("paused", 0), ("active", 2), ("revoked", 3)] {
        let status = outcomes[i].as_ref().expect("applied");
        f.valid(name, value(status));
    }
    f.invalid("paused-without-since", json!({"status": "paused"}), None);
    f.invalid("unknown-status", json!({"status": "suspended"}), None);
    f.invalid("active-with-at", json!({"status": "active", "at": 1}), None);
    let f = forms.entry("statement-outcome").or_default();
    // A second pause of a paused basis is applied and changes nothing; a resume after the
    // revocation is refused.
    for (name, o) in [
        "applied-pause",
        "applied-pause-again",
        "applied-resume",
        "applied-revoke",
        "refused-after-revoke",
    ]
    .iter()
    .zip(&outcomes)
    {
        // As consentry_apply_statement writes it (its tests check that it does).
        let doc = match o {
            Ok(st) => json!({"applied": true, "status": st}),
            Err(r) => {
                json!({"applied": false, "refusal": {"code": r.code(), "message": r.to_string()}})
            }
        };
        f.valid(name, doc);
    }
    f.invalid("applied-without-status", json!({"applied": true}), None);
    f.invalid(
        "refused-with-status",
        json!({"applied": false, "status": {"status": "active"}}),
        None,
    );
    f.invalid(
        "applied-not-boolean",
        json!({"applied": "yes", "status": {"status": "active"}}),
        None,
    );
    let history = value(&s.ledger.take_decisions());
    assert!(
        history.as_array().is_some_and(|h| h.len() >= 5),
        "{history}"
    );
    let f = forms.entry("decision-history").or_default();
    f.valid("canteen", history.clone());
    f.valid("none", json!([]));
    f.invalid(
        "record-missing-allowed",
        json!([edit(&history[0], "allowed", None)]),
        None,
    );
    f.invalid(
        "record-unknown-field",
        json!([edit(&history[0], "note", Some(json!(1)))]),
        None,
    );
    f.invalid(
        "reason-not-a-code",
        json!([edit(&history[1], "reasons", Some(json!(["Not A Code"])))]),
        None,
    );
    f.invalid("not-an-array", history[0].clone(), None);

    let oi = forms["object-info"].valid[0].1.clone();
    let f = forms.entry("object-info").or_default();
    f.object_mutations(
        &oi,
        &["kind", "content_type", "kid", "digest", "claims"],
        None,
    );
    f.invalid(
        "claims-of-another-kind",
        edit(&oi, "kind", Some(json!("request"))),
        None,
    );
    f.invalid(
        "receipt-with-claims",
        edit(&oi, "kind", Some(json!("receipt"))),
        None,
    );
    f.invalid("kid-short", edit(&oi, "kid", Some(json!("abcd"))), None);

    directory_forms(g, &mut forms);
    usage_report(&mut forms);

    abi_forms(g, &mut forms);
    write(g, &forms);
}

/// The signed directory and its updates: the registry vectors' applied updates and versions.
#[allow(clippy::too_many_lines)]
fn directory_forms(g: &Gen, forms: &mut BTreeMap<&str, Form>) {
    const SHAPE: Option<&str> = Some("json/shape");
    let operator = consentry::testing::key_for("operator");
    let mut h =
        DirectoryHistory::load(&g.files["registry/genesis.cbor"], &operator.verifying_key())
            .unwrap_or_else(|e| panic!("{e}"));
    let genesis = DirectorySnapshot::genesis(h.current().clone(), h.versions()[0].issued_at);
    let f = forms.entry("directory-update").or_default();
    let steps = g.registry["updates"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for step in &steps {
        let bytes = &g.files[step["file"].as_str().unwrap_or_default()];
        // A refused update changes nothing; an applied one is a valid case.
        if let Ok(update) = h.apply(bytes) {
            f.valid(step["name"].as_str().unwrap_or_default(), value(update));
        }
    }
    let kinds: std::collections::BTreeSet<String> = f
        .valid
        .iter()
        .flat_map(|(_, d)| d["changes"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c.as_object().and_then(|m| m.keys().next().cloned()))
        .collect();
    assert_eq!(
        kinds.len(),
        7,
        "the registry's updates hold every change: {kinds:?}"
    );

    let named = |name: &str| {
        f.valid
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.clone())
            .unwrap_or_else(|| panic!("registry update {name}"))
    };
    let (rotation, handover, company) = (
        named("rotate-mairie-key"),
        named("compromise-mandate-handover"),
        named("add-company"),
    );
    let f = forms.entry("directory-update").or_default();
    f.object_mutations(
        &rotation,
        &["seq", "previous", "issued_at", "changes"],
        SHAPE,
    );
    f.invalid("seq-zero", edit(&rotation, "seq", Some(json!(0))), SHAPE);
    f.invalid(
        "no-changes",
        edit(&rotation, "changes", Some(json!([]))),
        SHAPE,
    );
    let retire = rotation["changes"][1].clone();
    f.invalid(
        "too-many-changes",
        edit(&rotation, "changes", Some(json!(vec![retire.clone(); 257]))),
        SHAPE,
    );
    f.invalid(
        "previous-not-hex",
        edit(&rotation, "previous", Some(json!("zz".repeat(32)))),
        SHAPE,
    );
    f.invalid(
        "unknown-change",
        edit(&rotation, "changes/0", Some(json!({"add_role": {}}))),
        SHAPE,
    );
    f.invalid(
        "two-changes-in-one",
        edit(
            &rotation,
            "changes/0",
            Some(json!({"add_key": rotation["changes"][0]["add_key"], "retire_key": retire["retire_key"]})),
        ),
        SHAPE,
    );
    f.invalid(
        "change-not-an-object",
        edit(&rotation, "changes/1", Some(json!("retire_key"))),
        SHAPE,
    );
    f.invalid(
        "retire-key-kid-short",
        edit(&rotation, "changes/1/retire_key/kid", Some(json!("abcd"))),
        SHAPE,
    );
    f.invalid(
        "retire-key-unknown-field",
        edit(
            &rotation,
            "changes/1/retire_key/reason",
            Some(json!("rotation")),
        ),
        SHAPE,
    );
    f.invalid(
        "add-key-missing-key",
        edit(&rotation, "changes/0/add_key/key", None),
        SHAPE,
    );
    let op = handover["changes"]
        .as_array()
        .and_then(|cs| cs.iter().position(|c| c.get("operator_key").is_some()))
        .unwrap_or_else(|| panic!("the handover names the operator's next key"));
    f.invalid(
        "operator-key-short",
        edit(
            &handover,
            &format!("changes/{op}/operator_key"),
            Some(json!("ab".repeat(31))),
        ),
        SHAPE,
    );
    f.invalid(
        "representation-unknown-kind",
        edit(
            &company,
            "changes/1/add_representation/kind",
            Some(json!("friend")),
        ),
        SHAPE,
    );
    f.invalid(
        "party-role-twice",
        edit(
            &company,
            "changes/0/add_party/roles",
            Some(json!(["subject", "subject"])),
        ),
        Some("directory/duplicate_role"),
    );
    f.invalid(
        "siren-short",
        edit(
            &company,
            "changes/0/add_party/legal_person/siren",
            Some(json!("84215739")),
        ),
        Some("registry/wrong_length"),
    );
    let siret = company["changes"][0]["add_party"]["legal_person"]["sirets"][0].clone();
    f.invalid(
        "siret-twice",
        edit(
            &company,
            "changes/0/add_party/legal_person/sirets",
            Some(json!([siret, siret])),
        ),
        Some("directory/duplicate_siret"),
    );
    let kid = another_kid(&rotation["changes"][0]["add_key"]["key"]["kid"]);
    f.refused(
        "kid-of-another-key",
        edit(&rotation, "changes/0/add_key/key/kid", Some(json!(kid))),
        "directory/kid_mismatch",
    );
    f.refused(
        "siren-check-digit",
        edit(
            &company,
            "changes/0/add_party/legal_person/siren",
            Some(json!("842157399")),
        ),
        "registry/bad_check_digit",
    );

    // The signed directory: the registry's first version, and a checkpoint of its last.
    let last = h.versions()[h.versions().len() - 1];
    let checkpoint = h.checkpoint(last.issued_at);
    let f = forms.entry("signed-directory").or_default();
    f.valid("genesis", value(&genesis));
    let cp = value(&checkpoint);
    f.valid("checkpoint", cp.clone());
    f.object_mutations(&cp, &["seq", "issued_at", "directory"], SHAPE);
    f.invalid(
        "checkpoint-without-head",
        edit(&cp, "head", Some(Json::Null)),
        SHAPE,
    );
    f.invalid("head-short", edit(&cp, "head", Some(json!("abcd"))), SHAPE);
    f.invalid("seq-negative", edit(&cp, "seq", Some(json!(-1))), SHAPE);
    f.invalid(
        "directory-version-1",
        edit(&cp, "directory/version", Some(json!(1))),
        SHAPE,
    );
    f.invalid(
        "directory-unknown-field",
        edit(&cp, "directory/operator", Some(json!("x"))),
        SHAPE,
    );
    f.invalid(
        "directory-role-twice",
        edit(
            &cp,
            "directory/parties/0/roles",
            Some(json!(["subject", "subject"])),
        ),
        Some("directory/duplicate_role"),
    );
    let parties = cp["directory"]["parties"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let company = parties
        .iter()
        .position(|p| p.get("legal_person").is_some())
        .unwrap_or_else(|| panic!("the checkpoint lists the company"));
    f.refused(
        "party-twice",
        edit(
            &cp,
            "directory/parties/1/id",
            Some(parties[0]["id"].clone()),
        ),
        "directory/duplicate_party",
    );
    f.refused(
        "legal-person-with-a-key",
        edit(
            &cp,
            &format!("directory/parties/{company}/keys"),
            Some(parties[0]["keys"].clone()),
        ),
        "directory/legal_person_key",
    );
    f.refused(
        "siren-check-digit",
        edit(
            &cp,
            &format!("directory/parties/{company}/legal_person/siren"),
            Some(json!("842157399")),
        ),
        "registry/bad_check_digit",
    );
}

/// The usage report of a busy day of the canteen (small counts suppressed), and of an empty
/// day.
fn usage_report(forms: &mut BTreeMap<&str, Form>) {
    const SHAPE: Option<&str> = Some("json/shape");
    let mut s = Scenario::canteen();
    let habilitation = s.habilitation().sign(s.key(s.authority));
    let mut replayed = Vec::new();
    for _ in 0..12 {
        let request = s.sign_request(&s.request(&habilitation));
        assert!(s.decide_and_log(&request, &habilitation).is_allow());
        replayed = request;
    }
    for _ in 0..3 {
        let grant = build(&s, s.grant());
        let request = s.sign_request(&s.request(&grant));
        assert!(s.decide_and_log(&request, &grant).is_allow());
    }
    for _ in 0..11 {
        assert!(!s.decide_and_log(&replayed, &habilitation).is_allow());
    }
    let busy = consentry::stats::Period::new(s.now, s.now.plus_secs(DAY))
        .unwrap_or_else(|e| panic!("{e}"));
    let quiet = consentry::stats::Period::new(busy.until(), busy.until().plus_secs(DAY))
        .unwrap_or_else(|e| panic!("{e}"));
    s.advance_days(2);
    let report = |p| value(&s.usage_report(p, 10).unwrap_or_else(|e| panic!("{e}")));
    let (busy, quiet) = (report(busy), report(quiet));
    assert!(
        busy["breakdowns"][3]["rows"][0]["count"].is_null(),
        "the busy day suppresses the three grants' legal basis: {busy}"
    );
    let f = forms.entry("usage-report").or_default();
    f.valid("busy-day", busy.clone());
    f.valid("empty-day", quiet);
    f.object_mutations(&busy, &["period", "threshold", "head", "breakdowns"], SHAPE);
    f.invalid(
        "unknown-dimension",
        edit(&busy, "breakdowns/2/dimension", Some(json!("region"))),
        SHAPE,
    );
    let mut swapped = busy["breakdowns"].as_array().cloned().unwrap_or_default();
    swapped.swap(0, 1);
    f.invalid(
        "breakdowns-out-of-order",
        edit(&busy, "breakdowns", Some(Json::Array(swapped))),
        SHAPE,
    );
    f.invalid(
        "breakdown-left-out",
        edit(&busy, "breakdowns/4", None),
        SHAPE,
    );
    f.invalid(
        "count-as-string",
        edit(&busy, "breakdowns/0/rows/0/count", Some(json!("15"))),
        SHAPE,
    );
    f.invalid(
        "count-negative",
        edit(&busy, "breakdowns/0/rows/0/count", Some(json!(-1))),
        SHAPE,
    );
    f.invalid(
        "count-left-out",
        edit(&busy, "breakdowns/3/rows/0/count", None),
        SHAPE,
    );
    f.invalid(
        "total-left-out",
        edit(&busy, "breakdowns/0/total", None),
        SHAPE,
    );
    f.invalid(
        "row-unknown-field",
        edit(&busy, "breakdowns/0/rows/0/share", Some(json!(0.5))),
        SHAPE,
    );
    f.invalid(
        "root-hash-not-hex",
        edit(&busy, "head/root_hash", Some(json!("zz".repeat(32)))),
        SHAPE,
    );
    f.invalid(
        "head-unknown-field",
        edit(&busy, "head/signature", Some(json!("x"))),
        SHAPE,
    );
    f.invalid(
        "period-missing-until",
        edit(&busy, "period/until", None),
        SHAPE,
    );
    f.refused(
        "empty-period",
        edit(&busy, "period/until", busy["period"].get("from").cloned()),
        "terms/empty_range",
    );
    f.refused(
        "inverted-period",
        edit(
            &edit(&busy, "period/from", busy["period"].get("until").cloned()),
            "period/until",
            busy["period"].get("from").cloned(),
        ),
        "terms/empty_range",
    );
}

/// Checks every case against the library and the code it was meant to have, writes the files
/// and `json/index.json`.
fn write(g: &mut Gen, forms: &BTreeMap<&str, Form>) {
    let names: Vec<&str> = FORMS.iter().map(|(n, _)| *n).collect();
    let mut keys: Vec<&str> = forms.keys().copied().collect();
    keys.sort_unstable();
    let mut want = names.clone();
    want.sort_unstable();
    assert_eq!(
        keys, want,
        "every form has vectors, and only the forms listed"
    );
    let mut index = Vec::new();
    let (mut nv, mut ni, mut nr) = (0, 0, 0);
    for (name, about) in FORMS {
        let f = &forms[name];
        let text = |doc: &Json| serde_json::to_string_pretty(doc).unwrap_or_default() + "\n";
        let mut valid = Vec::new();
        for (case, doc) in &f.valid {
            if let Some(got) = read(name, &doc.to_string()) {
                assert_eq!(
                    got.as_ref(),
                    Ok(doc),
                    "{name}/valid/{case}: read and written back"
                );
            }
            valid.push(g.file(
                format!("json/{name}/valid/{case}.json"),
                text(doc).into_bytes(),
            ));
        }
        let mut invalid = Vec::new();
        for (case, doc, code) in &f.invalid {
            let got = read(name, &doc.to_string());
            assert_eq!(
                got.is_some(),
                code.is_some(),
                "{name}/invalid/{case}: the library reads this form: give the code"
            );
            if let (Some(got), Some(code)) = (got, code) {
                assert_eq!(got.err().as_deref(), Some(*code), "{name}/invalid/{case}");
            }
            let file = g.file(
                format!("json/{name}/invalid/{case}.json"),
                text(doc).into_bytes(),
            );
            invalid.push(json!({"file": file, "code": code}));
        }
        let mut refused = Vec::new();
        for (case, doc, code) in &f.refused {
            let got = read(name, &doc.to_string()).unwrap_or_else(|| panic!("{name}: no reader"));
            assert_eq!(got.err().as_deref(), Some(*code), "{name}/refused/{case}");
            let file = g.file(
                format!("json/{name}/refused/{case}.json"),
                text(doc).into_bytes(),
            );
            refused.push(json!({"file": file, "code": code}));
        }
        assert!(
            !valid.is_empty() && !invalid.is_empty(),
            "{name}: valid and invalid cases"
        );
        (nv, ni, nr) = (nv + valid.len(), ni + invalid.len(), nr + refused.len());
        index.push(json!({
            "form": name,
            "schema": format!("{name}.schema.json"),
            "about": about,
            "read_by_library": read(name, "null").is_some(),
            "valid": valid,
            "invalid": invalid,
            "refused": refused,
        }));
    }
    let doc = json!({
        "description": "every JSON form of the library and its C ABI: valid documents, structurally invalid ones (refused by the schema, and by the library with `code` where it reads the form), and documents only the library refuses; schemas under docs/schemas; see tests/vectors/README.md",
        "counts": {"forms": index.len(), "valid": nv, "invalid": ni, "refused": nr},
        "forms": index,
    });
    g.file(
        "json/index.json".to_owned(),
        (serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n").into_bytes(),
    );
}

/// Lower-case hexadecimal, as the C ABI writes bytes.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A log entry as `consentry_log_entry_inspect` writes it.
fn entry_info(entry: &LogEntry) -> Json {
    let about = match entry {
        LogEntry::Receipt(r) => value(r.claims()),
        LogEntry::GrantIssued(g) => json!({"id": g.claims().id(), "digest": g.digest().to_hex()}),
        LogEntry::Statement(s) => value(s.statement().claims()),
        LogEntry::Denial(d) => json!({
            "request_digest": d.request_digest().to_hex(),
            "request": d.request(),
            "basis": d.basis(),
            "reasons": d.reasons(),
        }),
        LogEntry::Deletion(d) => value(d.claims()),
        _ => Json::Null,
    };
    json!({
        "kind": entry.kind().to_string(),
        "subject": entry.subject(),
        "time": entry.time().secs(),
        "leaf_hash": entry.leaf_hash().to_hex(),
        "about": about,
    })
}

/// A signed tree head's claims as `consentry_tree_head_verify` writes them.
fn head_info(head: &[u8]) -> Json {
    let env = Envelope::parse(head).unwrap_or_else(|e| panic!("{e}"));
    let h = consentry::Unverified::<TreeHead>::parse(head).unwrap_or_else(|e| panic!("{e}"));
    let h = h.claims();
    json!({
        "log_id": h.log_id,
        "tree_size": h.tree_size,
        "root_hash": h.root_hash.to_hex(),
        "timestamp": h.timestamp.secs(),
        "kid": env.kid().to_hex(),
    })
}

/// Entries with their proofs, as the access history and the overdue report list them.
fn proven(entry: &[u8], proof: &consentry::log::InclusionProof) -> Json {
    json!({
        "index": proof.leaf_index,
        "entry": hex(entry),
        "path": proof.path.iter().map(consentry::Digest::to_hex).collect::<Vec<_>>(),
    })
}

/// The C ABI's own forms about the log, notifications and audits, each as the C ABI writes it.
#[allow(
    clippy::too_many_lines,
    reason = "one form after the other, as the rest of the generator"
)]
fn abi_forms(g: &Gen, forms: &mut BTreeMap<&'static str, Form>) {
    // What consentry_object_inspect writes about a deletion statement and a notification (the
    // C ABI's tests find their bytes by the vector's name: `log-NAME` in `log/objects/`,
    // `notifications-NAME` in `notifications/`).
    for (path, name) in [
        ("log/objects/13-deletion.cbor", "log-13-deletion"),
        ("notifications/01-pause.cbor", "notifications-01-pause"),
    ] {
        let bytes = &g.files[path];
        let env = Envelope::parse(bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        let claims = match env.kind() {
            consentry::cose::ObjectKind::Deletion => value(
                consentry::Unverified::<consentry::Deletion>::parse(bytes)
                    .unwrap_or_else(|e| panic!("{path}: {e}"))
                    .claims(),
            ),
            _ => value(
                consentry::Unverified::<Notification>::parse(bytes)
                    .unwrap_or_else(|e| panic!("{path}: {e}"))
                    .claims(),
            ),
        };
        forms.entry("object-info").or_default().valid(
            name,
            json!({
                "kind": env.kind(),
                "content_type": env.kind().content_type(),
                "kid": env.kid().to_hex(),
                "digest": consentry::Digest::of(bytes).to_hex(),
                "claims": claims,
            }),
        );
    }

    // Every entry and every good head of the log vectors.
    let f = forms.entry("log-entry-info").or_default();
    for (path, bytes) in &g.files {
        let Some(name) = path.strip_prefix("log/entries/") else {
            continue;
        };
        let entry = LogEntry::from_bytes(bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        f.valid(
            &format!("log-{}", name.trim_end_matches(".cbor")),
            entry_info(&entry),
        );
    }
    let denial = f
        .valid
        .iter()
        .find(|(_, d)| d["kind"] == "denial")
        .map(|(_, d)| d.clone())
        .unwrap_or_else(|| panic!("a denial entry"));
    f.object_mutations(
        &denial,
        &["kind", "subject", "time", "leaf_hash", "about"],
        None,
    );
    f.invalid(
        "unknown-kind",
        edit(&denial, "kind", Some(json!("transfer"))),
        None,
    );
    f.invalid(
        "denial-without-reasons",
        edit(&denial, "about/reasons", Some(json!([]))),
        None,
    );
    f.invalid(
        "leaf-hash-upper-case",
        edit(
            &denial,
            "leaf_hash",
            Some(json!(
                denial["leaf_hash"]
                    .as_str()
                    .unwrap_or_default()
                    .to_uppercase()
            )),
        ),
        None,
    );
    let f = forms.entry("tree-head").or_default();
    for (path, bytes) in &g.files {
        let Some(name) = path.strip_prefix("log/heads/head-") else {
            continue;
        };
        if name.trim_end_matches(".cbor").parse::<u64>().is_ok() {
            f.valid(
                &format!("head-{}", name.trim_end_matches(".cbor")),
                head_info(bytes),
            );
        }
    }
    let head_doc = f.valid[0].1.clone();
    f.object_mutations(
        &head_doc,
        &["log_id", "tree_size", "root_hash", "timestamp", "kid"],
        None,
    );
    f.invalid(
        "negative-size",
        edit(&head_doc, "tree_size", Some(json!(-1))),
        None,
    );

    // The canteen's log: two transfers to the city hall, the first one's data deleted three days
    // later; the parent's history, checked; the overdue query after every retention.
    let mut s = Scenario::canteen();
    let (first, _) = s.transfer_and_log();
    s.transfer_and_log();
    s.advance_days(3);
    let deletion = consentry::Deletion::for_receipt(&first, s.now, s.now).sign(s.key(s.mairie));
    s.log
        .append_deletion(deletion, &s.directory)
        .unwrap_or_else(|e| panic!("{e}"));
    let head = s.sign_head();
    let size = s.log.len();
    let history = s
        .log
        .access_history(s.parent, size)
        .unwrap_or_else(|e| panic!("{e}"));
    let history_doc = json!({
        "subject": s.parent,
        "tree_size": size,
        "items": history.items.iter().map(|i| proven(&i.entry, &i.proof)).collect::<Vec<_>>(),
    });
    let f = forms.entry("access-history").or_default();
    f.valid("parent-two-transfers-one-deletion", history_doc.clone());
    f.valid(
        "empty",
        json!({"subject": s.child, "tree_size": size, "items": []}),
    );
    f.object_mutations(&history_doc, &["subject", "tree_size", "items"], None);
    f.invalid(
        "item-unknown-field",
        edit(&history_doc, "items/0/note", Some(json!(1))),
        None,
    );
    f.invalid(
        "entry-not-hexadecimal",
        edit(&history_doc, "items/0/entry", Some(json!("xyz"))),
        None,
    );
    f.invalid(
        "path-too-long",
        edit(
            &history_doc,
            "items/0/path",
            Some(json!(vec!["00".repeat(32); 65])),
        ),
        None,
    );

    let report = s
        .proven_history(s.parent, &head)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.is_clean());
    let mut report_doc = json!({
        "clean": report.is_clean(),
        "subject": report.subject,
        "head": head_info(&head),
        "verified": report.verified.iter().map(|c| json!({
            "index": c.index,
            "entry": entry_info(&c.entry),
        })).collect::<Vec<_>>(),
        "failures": [],
    });
    let f = forms.entry("history-report").or_default();
    f.valid("clean", report_doc.clone());
    let retention: Vec<Json> = report
        .retention(&s.directory)
        .iter()
        .map(|r| {
            let state = match r.state(s.now) {
                consentry::log::RetentionState::Deleted { late: false, .. } => "deleted",
                consentry::log::RetentionState::Deleted { late: true, .. } => "deleted_late",
                consentry::log::RetentionState::Overdue => "overdue",
                _ => "not_yet",
            };
            json!({
                "receipt_index": r.receipt_index,
                "receipt": value(&r.receipt),
                "received_on": r.received_on().secs(),
                "kept_until": r.kept_until().secs(),
                "deleted": r.deleted.map(|d| json!({"index": d.index, "deleted_at": d.deleted_at.secs()})),
                "state": state,
                "line": r.describe(s.now),
            })
        })
        .collect();
    assert_eq!(retention.len(), 2);
    if let Some(m) = report_doc.as_object_mut() {
        m.insert("retention".into(), json!(retention));
    }
    f.valid("with-retention", report_doc.clone());
    let failed = json!({
        "clean": false,
        "subject": s.parent,
        "head": head_info(&head),
        "verified": report_doc["verified"].as_array().map(|v| v[1..].to_vec()),
        "failures": [{
            "position": 0,
            "index": report_doc["verified"][0]["index"],
            "code": "log/root_mismatch",
            "message": "the inclusion proof does not lead to the head's root",
        }],
    });
    f.valid("one-failure", failed);
    f.object_mutations(
        &report_doc,
        &["clean", "subject", "head", "verified", "failures"],
        None,
    );
    f.invalid(
        "retention-unknown-state",
        edit(&report_doc, "retention/0/state", Some(json!("gone"))),
        None,
    );
    f.invalid(
        "failure-without-code",
        edit(
            &report_doc,
            "failures",
            Some(json!([{"position": 0, "index": 0, "message": "…"}])),
        ),
        None,
    );

    let operator = s.log_operator;
    let key = s.key(operator).verifying_key();
    let at = s.now.plus_secs(400 * DAY);
    s.now = at;
    let late_head = s.sign_head();
    let overdue = consentry::log::OverdueReport::compute(
        s.log.entries(),
        &late_head,
        operator,
        &key,
        at,
        &s.directory,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        overdue.items.len(),
        1,
        "the transfer whose data was not deleted"
    );
    let overdue_doc = json!({
        "head": hex(&overdue.head),
        "at": overdue.at.secs(),
        "items": overdue.items.iter().map(|i| proven(&i.entry, &i.proof)).collect::<Vec<_>>(),
    });
    let f = forms.entry("overdue-report").or_default();
    f.valid("one-overdue", overdue_doc.clone());
    f.valid(
        "none",
        json!({"head": overdue_doc["head"], "at": s.now.minus_secs(400 * DAY).secs(), "items": []}),
    );
    f.object_mutations(&overdue_doc, &["head", "at", "items"], None);
    f.invalid(
        "head-not-hexadecimal",
        edit(&overdue_doc, "head", Some(json!("d28"))),
        None,
    );
    let confirmed =
        consentry::log::verify_overdue(&overdue, s.log.entries(), operator, &key, &s.directory)
            .unwrap_or_else(|e| panic!("{e}"));
    let confirmed_doc: Json = confirmed
        .iter()
        .map(|c| json!({"index": c.index, "receipt": value(c.receipt.claims())}))
        .collect();
    let f = forms.entry("overdue-receipts").or_default();
    f.valid("one", confirmed_doc.clone());
    f.valid("none", json!([]));
    f.invalid("not-an-array", confirmed_doc[0].clone(), None);
    f.invalid(
        "receipt-missing",
        json!([edit(&confirmed_doc[0], "receipt", None)]),
        None,
    );

    // DGFiP's notifications of the parent's pause, and what a recipient's inbox says.
    let grant = build(&s, s.grant());
    let pause = s.statement(&grant, Action::Pause, s.parent);
    let notifier = consentry::notify::Notifier {
        emitter: s.dgfip,
        key: s.key(s.dgfip),
    };
    let carried = Carried::Statement {
        statement: pause,
        basis: grant,
    };
    let listing: Json = [s.cnaf, s.mairie]
        .iter()
        .map(|&recipient| {
            json!({
                "emitter": s.dgfip,
                "recipient": recipient,
                "seq": 1,
                "bytes": hex(&notifier.sign(recipient, 1, s.now, &carried)),
            })
        })
        .collect();
    let f = forms.entry("outbox-listing").or_default();
    f.valid("pause-for-two", listing.clone());
    f.valid("empty", json!([]));
    f.invalid("not-an-array", listing[0].clone(), None);
    f.invalid(
        "seq-zero",
        json!([edit(&listing[0], "seq", Some(json!(0)))]),
        None,
    );
    f.invalid(
        "bytes-odd",
        json!([edit(&listing[0], "bytes", Some(json!("d28")))]),
        None,
    );
    f.invalid(
        "unknown-field",
        json!([edit(&listing[0], "note", Some(json!(1)))]),
        None,
    );
    let f = forms.entry("inbox-outcome").or_default();
    let applied = json!({
        "outcome": "applied",
        "status": value(&consentry::ledger::Status::Paused { since: s.now }),
    });
    f.valid("applied", applied.clone());
    f.valid(
        "statement-refused",
        json!({"outcome": "statement_refused", "refusal": {"code": "statement_too_old", "message": "the statement was issued too long ago"}}),
    );
    f.valid(
        "directory-updated",
        json!({"outcome": "directory_updated", "version": 1}),
    );
    f.valid(
        "update-refused",
        json!({"outcome": "update_refused", "refusal": {"code": "update/already_applied", "message": "update 1 is applied already"}}),
    );
    f.valid("already-applied", json!({"outcome": "already_applied"}));
    f.invalid("unknown-outcome", json!({"outcome": "delivered"}), None);
    f.invalid(
        "applied-without-status",
        json!({"outcome": "applied"}),
        None,
    );
    f.invalid(
        "already-applied-with-status",
        edit(&applied, "outcome", Some(json!("already_applied"))),
        None,
    );
    f.invalid("not-an-object", json!("applied"), None);
}

/// A kid in hex that is not `kid`'s (its first byte changed): a well-formed kid of no key.
fn another_kid(kid: &Json) -> String {
    let mut kid = kid.as_str().unwrap_or_default().to_owned();
    kid.replace_range(0..2, if kid.starts_with("00") { "01" } else { "00" });
    kid
}
