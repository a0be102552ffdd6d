//! The JSON forms of the model objects, read with a typed refusal.
//!
//! Every object a service exchanges as JSON — [`Grant`], [`Habilitation`], [`Request`],
//! [`Statement`], [`Deletion`], [`Notification`](crate::notify::Notification),
//! [`PurposeCeiling`] and [`Derivation`] (and a list of each), and their parts
//! [`DerivationTerm`], [`Scope`],
//! [`AccessPattern`], [`DataRange`], [`Purpose`], [`Category`]; the directory's signed forms
//! [`DirectoryUpdate`](crate::directory::DirectoryUpdate) and
//! [`DirectorySnapshot`](crate::directory::DirectorySnapshot), and the usage statistics
//! [`UsageReport`](crate::stats::UsageReport) — is its serde form, with unknown
//! fields refused; the directory has its own reader ([`Directory::from_json`]). Each form has a
//! JSON Schema (draft 2020-12) under `docs/schemas/`, named by [`JsonForm::SCHEMA`]; the
//! schemas state the shapes, and the rules a schema cannot express (`until` after `from`, sorted
//! sets, non-empty windows) stay the library's.
//!
//! [`from_json`] reads one form and refuses with a [`JsonError`] whose [`code`](JsonError::code)
//! says why: `json/too_large`, `json/syntax` (not JSON), `json/shape` (JSON, but not the form:
//! a missing, unknown or mistyped field, an id that is not a UUID, a digest that is not 64 hex
//! digits…), or the code of the rule that refused a value (`terms/empty_range`,
//! `grant/empty_window`, `code/no_namespace`, `request/bad_categories`…).
//!
//! ```
//! use consentry::json::{self, JsonError};
//! use consentry::DataRange;
//!
//! let range: DataRange = json::from_json(r#"{"from": 100, "until": 200}"#)?;
//! assert_eq!(range.len_secs(), 100);
//! let refused = json::from_json::<DataRange>(r#"{"from": 200, "until": 100}"#).unwrap_err();
//! assert_eq!(refused.code(), "terms/empty_range");
//! let refused = json::from_json::<DataRange>(r#"{"from": 100}"#).unwrap_err();
//! assert_eq!(refused.code(), "json/shape");
//! # Ok::<(), JsonError>(())
//! ```
//!
//! [`Directory::from_json`]: crate::Directory::from_json

use crate::ceiling::PurposeCeiling;
use crate::deletion::Deletion;
use crate::derivation::{Derivation, DerivationError, DerivationTerm};
use crate::grant::{Grant, GrantError};
use crate::habilitation::{Habilitation, HabilitationError};
use crate::request::{Request, RequestError};
use crate::statement::Statement;
use crate::terms::{AccessPattern, DataRange, Scope, TermsError};
use crate::vocab::{Category, CodeError, Purpose};
use serde::de::DeserializeOwned;
use std::fmt;
use thiserror::Error;

/// Longest JSON document [`from_json`] reads, in bytes (a grant of the largest scope is well
/// under it).
pub const MAX_JSON: usize = 1 << 20;

/// A form [`from_json`] reads: its JSON Schema's file under `docs/schemas/`.
pub trait JsonForm: DeserializeOwned {
    /// The schema's file name (also its relative `$id`).
    const SCHEMA: &'static str;
}

macro_rules! forms {
    ($($t:ty => $schema:literal),* $(,)?) => {$(
        impl JsonForm for $t {
            const SCHEMA: &'static str = $schema;
        }
    )*};
}

forms! {
    Grant => "grant.schema.json",
    Habilitation => "habilitation.schema.json",
    Request => "request.schema.json",
    Statement => "statement.schema.json",
    Deletion => "deletion.schema.json",
    crate::notify::Notification => "notification.schema.json",
    PurposeCeiling => "ceiling.schema.json",
    Vec<PurposeCeiling> => "ceilings.schema.json",
    Scope => "scope.schema.json",
    AccessPattern => "access-pattern.schema.json",
    DataRange => "data-range.schema.json",
    Purpose => "purpose.schema.json",
    Category => "category.schema.json",
    Derivation => "derivation.schema.json",
    Vec<Derivation> => "derivations.schema.json",
    DerivationTerm => "derivation-term.schema.json",
}

forms! {
    crate::directory::DirectoryUpdate => "directory-update.schema.json",
    crate::directory::DirectorySnapshot => "signed-directory.schema.json",
    crate::stats::UsageReport => "usage-report.schema.json",
}

/// Why a JSON document was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The document is longer than [`MAX_JSON`] bytes.
    #[error("the JSON document is longer than {MAX_JSON} bytes")]
    TooLarge,
    /// Not JSON, or cut short.
    #[error("not JSON: {0}")]
    Syntax(String),
    /// JSON, but not the form: a field missing, unknown or of the wrong type, an unknown
    /// variant, an id or digest of the wrong syntax.
    #[error("not the JSON form: {0}")]
    Shape(String),
    /// The form, but a value one of the library's rules refuses; `code` is that rule's.
    #[error("{message}")]
    Refused {
        /// The rule's code (`terms/empty_range`, `grant/empty_window`, …).
        code: &'static str,
        /// What was refused, and where.
        message: String,
    },
}

impl JsonError {
    /// A stable code naming the refusal: `json/too_large`, `json/syntax`, `json/shape`, or the
    /// code of the rule that refused a value.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            JsonError::TooLarge => "json/too_large",
            JsonError::Syntax(_) => "json/syntax",
            JsonError::Shape(_) => "json/shape",
            JsonError::Refused { code, .. } => code,
        }
    }

    /// Classifies a `serde_json` error: syntax, a rule's refusal (marked by [`refuse`]), or shape.
    fn of(e: &serde_json::Error) -> JsonError {
        use serde_json::error::Category as C;
        let text = e.to_string();
        match e.classify() {
            C::Syntax | C::Eof | C::Io => JsonError::Syntax(text),
            C::Data => match rule_of(&text) {
                Some((code, message)) => JsonError::Refused {
                    code,
                    message: message.to_owned(),
                },
                None => JsonError::Shape(text),
            },
        }
    }
}

/// The codes of every rule a deserializer applies to a value ([`refuse`] marks its message
/// with one of them).
const RULE_CODES: &[&str] = &[
    "code/no_namespace",
    "code/bad_namespace",
    "code/bad_name",
    "code/text_too_long",
    "code/empty_text",
    "terms/empty_range",
    "terms/year_out_of_range",
    "terms/no_uses",
    "terms/empty_period",
    "terms/bad_scope",
    "grant/missing_term",
    "grant/bad_scope",
    "grant/empty_window",
    "grant/beyond_ceiling",
    "habilitation/missing_term",
    "habilitation/bad_scope",
    "habilitation/empty_window",
    "habilitation/bad_legal_reference",
    "habilitation/beyond_ceiling",
    "request/missing_claim",
    "request/bad_categories",
    "derivation/bad_code",
    "derivation/bad_parameter_count",
    "derivation/unsorted_parameters",
    "derivation/bad_max_bounds",
    "grant/bad_derivations",
    "notification/invalid",
    // The directory's rules, met in a directory update or a signed directory.
    "directory/duplicate_party",
    "directory/duplicate_key",
    "directory/no_role",
    "directory/bad_name",
    "directory/too_many_keys",
    "directory/empty_window",
    "directory/unknown_party",
    "directory/kid_mismatch",
    "directory/duplicate_role",
    "directory/legal_person_key",
    "directory/too_many_sirets",
    "directory/foreign_siret",
    "directory/duplicate_siret",
    "directory/duplicate_siren",
    "directory/not_a_legal_person",
    "directory/not_a_natural_person",
    "registry/wrong_length",
    "registry/not_digits",
    "registry/bad_check_digit",
    "registry/siren_check_digit",
];

/// The rule code and the message of a serde error message made by [`refuse`].
fn rule_of(text: &str) -> Option<(&'static str, &str)> {
    let rest = text.strip_prefix('[')?;
    let (code, message) = rest.split_once("] ")?;
    RULE_CODES
        .iter()
        .find(|c| **c == code)
        .map(|c| (*c, message))
}

/// A serde error for a value refused by the rule `code`: its message starts with `[code] `,
/// which [`from_json`] reads back into [`JsonError::Refused`].
pub(crate) fn refuse<E: serde::de::Error>(code: &'static str, message: impl fmt::Display) -> E {
    E::custom(format_args!("[{code}] {message}"))
}

/// The errors of the rules a deserializer applies, with their codes.
pub(crate) trait RuleError: fmt::Display {
    fn rule_code(&self) -> &'static str;
}

macro_rules! rule_errors {
    ($($t:ty),*) => {$(
        impl RuleError for $t {
            fn rule_code(&self) -> &'static str {
                self.code()
            }
        }
    )*};
}
rule_errors!(
    CodeError,
    TermsError,
    GrantError,
    HabilitationError,
    RequestError,
    DerivationError
);

/// Implements `Deserialize` for `$t` by reading its unchecked JSON shape `$json` and checking it
/// with `TryFrom`, marking a refusal with the rule's code.
macro_rules! checked_deserialize {
    ($t:ty, $json:ty) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let unchecked = <$json as serde::Deserialize>::deserialize(d)?;
                <$t>::try_from(unchecked)
                    .map_err(|e| crate::json::refuse(crate::json::RuleError::rule_code(&e), &e))
            }
        }
    };
}
pub(crate) use checked_deserialize;

/// Reads the JSON form of `T`, refusing unknown fields, documents over [`MAX_JSON`] bytes and
/// every value the library's rules refuse.
///
/// # Errors
///
/// [`JsonError`]: see its [`code`](JsonError::code).
pub fn from_json<T: JsonForm>(text: &str) -> Result<T, JsonError> {
    if text.len() > MAX_JSON {
        return Err(JsonError::TooLarge);
    }
    serde_json::from_str(text).map_err(|e| JsonError::of(&e))
}

/// The JSON form of any value of the library that has one (compact).
#[must_use]
pub fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // The library's serde forms are strings, numbers, booleans, arrays and maps with string
    // keys: serialising them into a String cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_code_is_known_to_the_reader() {
        let mut codes: Vec<&str> = Vec::new();
        for e in [
            CodeError::NoNamespace,
            CodeError::BadNamespace,
            CodeError::BadName,
            CodeError::TextTooLong,
            CodeError::EmptyText,
        ] {
            codes.push(e.rule_code());
        }
        for e in [
            TermsError::EmptyRange,
            TermsError::YearOutOfRange,
            TermsError::NoUses,
            TermsError::EmptyPeriod,
            TermsError::BadScope,
        ] {
            codes.push(e.rule_code());
        }
        codes.extend([
            GrantError::Missing("x").rule_code(),
            GrantError::BadScope.rule_code(),
            GrantError::EmptyWindow.rule_code(),
            GrantError::BeyondCeiling(Vec::new()).rule_code(),
            HabilitationError::Missing("x").rule_code(),
            HabilitationError::BadScope.rule_code(),
            HabilitationError::EmptyWindow.rule_code(),
            HabilitationError::BadLegalReference.rule_code(),
            HabilitationError::BeyondCeiling(Vec::new()).rule_code(),
            RequestError::Missing("x").rule_code(),
            RequestError::BadCategories.rule_code(),
            DerivationError::BadCode(CodeError::NoNamespace).rule_code(),
            DerivationError::BadParameterCount.rule_code(),
            DerivationError::UnsortedParameters.rule_code(),
            DerivationError::BadMaxBounds.rule_code(),
            GrantError::BadDerivations.rule_code(),
            crate::notify::JSON_INVALID,
        ]);
        use crate::directory::{DirectoryError as D, PartyId};
        use crate::keys::KeyId;
        use crate::registry::{RegistryError, Siren, Siret};
        let (id, kid) = (PartyId::from_bytes([1; 16]), KeyId::from_bytes([2; 16]));
        let siret = Siret::parse("73282932000074").unwrap_or_else(|e| panic!("{e}"));
        let siren = Siren::parse("732829320").unwrap_or_else(|e| panic!("{e}"));
        for e in [
            D::DuplicateParty(id),
            D::DuplicateKey(kid),
            D::NoRole(id),
            D::BadName(id),
            D::TooManyKeys(id),
            D::EmptyWindow(kid),
            D::UnknownParty(id),
            D::KidMismatch { expected: kid },
            D::DuplicateRole(id),
            D::LegalPersonKey(id),
            D::TooManySirets(id),
            D::ForeignSiret { party: id, siret },
            D::DuplicateSiret(siret),
            D::DuplicateSiren(siren),
            D::NotALegalPerson { subject: id },
            D::NotANaturalPerson { subject: id },
        ] {
            codes.push(e.code());
        }
        for e in [
            RegistryError::WrongLength {
                number: "SIREN",
                expected: 9,
                found: 1,
            },
            RegistryError::NotDigits,
            RegistryError::BadCheckDigit,
            RegistryError::SirenCheckDigit,
        ] {
            codes.push(e.code());
        }
        assert_eq!(codes, RULE_CODES);
    }

    #[test]
    fn refusals_are_classified() {
        let too_large = " ".repeat(MAX_JSON + 1);
        assert_eq!(
            from_json::<DataRange>(&too_large).unwrap_err(),
            JsonError::TooLarge
        );
        let cases: &[(&str, &str)] = &[
            ("{\"from\": 1,", "json/syntax"),
            ("\"2025\"", "json/shape"),
            ("{\"from\": 1, \"until\": 2, \"x\": 0}", "json/shape"),
            ("{\"from\": -1, \"until\": 2}", "json/shape"),
            ("{\"from\": 2, \"until\": 2}", "terms/empty_range"),
        ];
        for (text, code) in cases {
            let e = from_json::<DataRange>(text).expect_err(text);
            assert_eq!(e.code(), *code, "{text}: {e}");
        }
        // A message that merely looks like a rule's is shape, not a rule: only the library's
        // own codes are read back.
        let e = from_json::<Category>("\"[x/y] z\"").unwrap_err();
        assert_eq!(e.code(), "code/no_namespace", "{e}");
        assert_eq!(rule_of("[x/y] z"), None);
        assert_eq!(
            rule_of("[terms/no_uses] m at line 1"),
            Some(("terms/no_uses", "m at line 1"))
        );
    }

    #[test]
    fn the_reader_reads_every_form_back() {
        assert_eq!(
            from_json::<AccessPattern>("\"one_time\"").ok(),
            Some(AccessPattern::one_time())
        );
        let e = from_json::<AccessPattern>(r#"{"periodic": {"max_uses": 0, "period_secs": 1}}"#)
            .unwrap_err();
        assert_eq!(e.code(), "terms/no_uses");
        let e = from_json::<Scope>("[]").unwrap_err();
        assert_eq!(e.code(), "terms/bad_scope");
        let e = from_json::<Purpose>(r#"{"code": "nons"}"#).unwrap_err();
        assert_eq!(e.code(), "code/no_namespace");
        let e = from_json::<Purpose>(r#"{"code": "a:b", "text": ""}"#).unwrap_err();
        assert_eq!(e.code(), "code/empty_text");
    }
}
