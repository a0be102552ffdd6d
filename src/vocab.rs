//! Data categories and purposes: validated codes.
//!
//! Syntax (checked on construction and on decoding):
//! - a **category** is `namespace:name`, where `namespace` is 1–32 characters from `a-z`, `0-9`,
//!   `_`, `-`, starting with a letter (the body that defines the code: `dgfip`, `cnaf`), and
//!   `name` is 1–64 characters from `a-z`, `0-9`, `_`, `-`, `.`;
//! - a **purpose** has a code of the same syntax (`education:tarification_cantine`) and an
//!   optional human-readable text of at most [`Purpose::MAX_TEXT`] bytes. Purposes compare by
//!   code only: the text is for people.
//!
//! Mapping to W3C DPV (the Data Privacy Vocabulary) is left to the namespace owner: a
//! namespace's codes can be documented with `dpv:` purpose and `dpv-pd:` personal-data IRIs
//! (see `docs/model.md`); the wire format carries the short codes only.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use thiserror::Error;

/// Why a code was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodeError {
    /// No `:` separating namespace and name.
    #[error("a code is namespace:name")]
    NoNamespace,
    /// The namespace is empty, too long, or has a character outside `a-z0-9_-`, or does not
    /// start with a letter.
    #[error("invalid namespace (1-32 of a-z 0-9 _ -, starting with a letter)")]
    BadNamespace,
    /// The name is empty, too long, or has a character outside `a-z0-9_-.`.
    #[error("invalid name (1-64 of a-z 0-9 _ - .)")]
    BadName,
    /// The purpose text is too long.
    #[error("purpose text longer than 512 bytes")]
    TextTooLong,
    /// The purpose text is empty (leave it out instead: the wire format has no empty text).
    #[error("empty purpose text")]
    EmptyText,
}

impl CodeError {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            CodeError::NoNamespace => "code/no_namespace",
            CodeError::BadNamespace => "code/bad_namespace",
            CodeError::BadName => "code/bad_name",
            CodeError::TextTooLong => "code/text_too_long",
            CodeError::EmptyText => "code/empty_text",
        }
    }
}

/// A byte of a name: `a-z`, `0-9`, `_`, `-`, `.`.
const NAME: u8 = 1;
/// A byte of a namespace: `a-z`, `0-9`, `_`, `-`.
const NAMESPACE: u8 = 2;

/// The classes of every byte value (a non-ASCII byte is in none).
const CLASSES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut c: u8 = 0;
    loop {
        classes[c as usize] =
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-' {
                NAME | NAMESPACE
            } else if c == b'.' {
                NAME
            } else {
                0
            };
        if c == u8::MAX {
            break classes;
        }
        c += 1;
    }
};

/// Checks the syntax of a code, `namespace:name` (see the module's documentation), in one pass
/// over its bytes: the namespace is what comes before the first `:`.
pub(crate) fn check_code(code: &str) -> Result<(), CodeError> {
    let bytes = code.as_bytes();
    // The classes all bytes before the first `:` share.
    let mut namespace = NAMESPACE;
    let mut colon = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' {
            colon = Some(i);
            break;
        }
        namespace &= CLASSES[usize::from(b)];
    }
    let colon = colon.ok_or(CodeError::NoNamespace)?;
    if namespace == 0 || !(1..=32).contains(&colon) || !bytes[0].is_ascii_lowercase() {
        return Err(CodeError::BadNamespace);
    }
    let name = &bytes[colon + 1..];
    let name_classes = name
        .iter()
        .fold(NAME, |all, &b| all & CLASSES[usize::from(b)]);
    if name_classes == 0 || !(1..=64).contains(&name.len()) {
        return Err(CodeError::BadName);
    }
    Ok(())
}

/// A data category, such as `dgfip:revenu_fiscal_reference`.
///
/// ```
/// use consentry::vocab::Category;
/// assert!(Category::new("dgfip:revenu_fiscal_reference").is_ok());
/// assert!(Category::new("revenu").is_err());
/// assert!(Category::new("DGFIP:x").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Category(String);

impl Category {
    /// Longest code, in bytes.
    pub const MAX_LEN: usize = 97;

    /// Checks and wraps a code.
    ///
    /// # Errors
    ///
    /// [`CodeError::NoNamespace`] if the code has no `:`, [`CodeError::BadNamespace`] or
    /// [`CodeError::BadName`] if the namespace or the name is empty, too long or has a character
    /// not allowed (a namespace must also start with a letter).
    pub fn new(code: impl Into<String>) -> Result<Self, CodeError> {
        let code = code.into();
        check_code(&code)?;
        Ok(Category(code))
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Category {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Category::new(String::deserialize(d)?).map_err(|e| crate::json::refuse(e.code(), e))
    }
}

impl fmt::Debug for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Category({})", self.0)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A purpose: a code, and optionally a text for people.
///
/// ```
/// use consentry::vocab::Purpose;
/// let p = Purpose::new("education:tarification_cantine")
///     .unwrap()
///     .with_text("Tarification de la cantine scolaire")
///     .unwrap();
/// assert_eq!(p, Purpose::new("education:tarification_cantine").unwrap());
/// ```
#[derive(Clone, Serialize)]
#[serde(into = "PurposeJson")]
pub struct Purpose {
    code: String,
    text: Option<String>,
}

crate::json::checked_deserialize!(Purpose, PurposeJson);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PurposeJson {
    code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

impl TryFrom<PurposeJson> for Purpose {
    type Error = CodeError;
    fn try_from(j: PurposeJson) -> Result<Self, CodeError> {
        let p = Purpose::new(j.code)?;
        match j.text {
            Some(t) => p.with_text(t),
            None => Ok(p),
        }
    }
}

impl From<Purpose> for PurposeJson {
    fn from(p: Purpose) -> Self {
        PurposeJson {
            code: p.code,
            text: p.text,
        }
    }
}

impl Purpose {
    /// Longest text, in bytes.
    pub const MAX_TEXT: usize = 512;

    /// Checks and wraps a purpose code.
    ///
    /// # Errors
    ///
    /// [`CodeError::NoNamespace`] if the code has no `:`, [`CodeError::BadNamespace`] or
    /// [`CodeError::BadName`] if the namespace or the name is empty, too long or has a character
    /// not allowed (a namespace must also start with a letter).
    pub fn new(code: impl Into<String>) -> Result<Self, CodeError> {
        let code = code.into();
        check_code(&code)?;
        Ok(Purpose { code, text: None })
    }

    /// Adds the human-readable text (1 to [`Purpose::MAX_TEXT`] bytes).
    ///
    /// # Errors
    ///
    /// [`CodeError::EmptyText`] if `text` is empty, [`CodeError::TextTooLong`] if it is longer
    /// than [`Purpose::MAX_TEXT`].
    pub fn with_text(mut self, text: impl Into<String>) -> Result<Self, CodeError> {
        let text = text.into();
        if text.is_empty() {
            return Err(CodeError::EmptyText);
        }
        if text.len() > Self::MAX_TEXT {
            return Err(CodeError::TextTooLong);
        }
        self.text = Some(text);
        Ok(self)
    }

    /// The code.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The text, if any.
    #[must_use]
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }
}

impl PartialEq for Purpose {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

impl Eq for Purpose {}

impl std::hash::Hash for Purpose {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.code.hash(state);
    }
}

impl fmt::Debug for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Purpose({})", self.code)
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_print_as_themselves() {
        let category = Category::new("cnaf:quotient_familial").expect("valid");
        assert_eq!(category.to_string(), "cnaf:quotient_familial");
        assert_eq!(format!("{category:?}"), "Category(cnaf:quotient_familial)");
        let purpose = Purpose::new("mairie:cantine").expect("valid");
        assert_eq!(format!("{purpose:?}"), "Purpose(mairie:cantine)");
        // A purpose prints as its code, with or without its human text.
        let described = purpose.with_text("Tarif de la cantine").expect("valid");
        assert_eq!(described.to_string(), "mairie:cantine");
    }

    #[test]
    fn code_syntax() {
        for ok in [
            "a:b",
            "dgfip:revenu_fiscal_reference",
            "cnaf:quotient-familial.v2",
            "x1:0",
        ] {
            assert!(Category::new(ok).is_ok(), "{ok}");
        }
        let cases = [
            ("nocolon", CodeError::NoNamespace),
            (":x", CodeError::BadNamespace),
            ("1a:x", CodeError::BadNamespace),
            ("Ab:x", CodeError::BadNamespace),
            ("a:", CodeError::BadName),
            ("a:B", CodeError::BadName),
            ("a:b:c", CodeError::BadName),
            ("a:é", CodeError::BadName),
        ];
        for (code, err) in cases {
            assert_eq!(Category::new(code), Err(err), "{code}");
        }
        assert_eq!(
            Category::new(format!("{}:x", "a".repeat(33))),
            Err(CodeError::BadNamespace)
        );
        assert_eq!(
            Category::new(format!("a:{}", "x".repeat(65))),
            Err(CodeError::BadName)
        );
        assert!(Category::new(format!("{}:{}", "a".repeat(32), "x".repeat(64))).is_ok());
        assert_eq!(
            Purpose::new("a:b")
                .unwrap()
                .with_text("t".repeat(513))
                .err(),
            Some(CodeError::TextTooLong)
        );
        assert_eq!(
            Purpose::new("a:b").unwrap().with_text("").err(),
            Some(CodeError::EmptyText)
        );
    }

    /// The rules of the module's documentation, restated over characters.
    fn rules(code: &str) -> Result<(), CodeError> {
        let Some((namespace, name)) = code.split_once(':') else {
            return Err(CodeError::NoNamespace);
        };
        let namespace_ok = (1..=32).contains(&namespace.chars().count())
            && namespace
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase())
            && namespace
                .chars()
                .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'));
        if !namespace_ok {
            return Err(CodeError::BadNamespace);
        }
        let name_ok = (1..=64).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-' | '.'));
        if name_ok {
            Ok(())
        } else {
            Err(CodeError::BadName)
        }
    }

    #[test]
    fn check_code_follows_the_rules_at_the_edges() {
        let (a, x) = (|n: usize| "a".repeat(n), |n: usize| "x".repeat(n));
        let mut cases: Vec<String> = [
            "", ":", "::", "a", "a:", ":b", "a:b", "a:b:c", "a::b", "ab:c:", "A:b", "a:B", "aB:c",
            "1a:b", "_a:b", "-a:b", ".a:b", "a1_-:b", "a.b:c", "a:b.c", "a:_", "a:-", "a:.", "a:0",
            "é:b", "a:é", "aé:b", "a:bé", "a b:c", "a:b c", "a\0:b", "a:b\0", "a:b\n", "\u{7f}:b",
            "a:\u{80}", "ǅ:b",
        ]
        .map(str::to_owned)
        .to_vec();
        for (ns, name) in [
            (32, 64),
            (33, 64),
            (32, 65),
            (33, 65),
            (0, 64),
            (32, 0),
            (1, 1),
        ] {
            cases.push(format!("{}:{}", a(ns), x(name)));
            cases.push(format!("{}:{}:", a(ns), x(name)));
            cases.push(format!("{}{}", a(ns), x(name)));
        }
        for case in &cases {
            assert_eq!(check_code(case), rules(case), "{case:?}");
        }
        // The edges themselves, restated: 32 and 64 are the longest parts.
        assert_eq!(check_code(&format!("{}:{}", a(32), x(64))), Ok(()));
        assert_eq!(
            check_code(&format!("{}:{}", a(33), x(64))),
            Err(CodeError::BadNamespace)
        );
        assert_eq!(
            check_code(&format!("{}:{}", a(32), x(65))),
            Err(CodeError::BadName)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Random strings over the alphabet, its neighbours and a few non-ASCII characters,
        /// of lengths around the limits, with zero, one or several colons.
        #[test]
        fn check_code_follows_the_rules(
            namespace in "[a-z0-9_.:A-Z\\-é\u{0}\u{7f}]{0,36}",
            name in "[a-z0-9_.:A-Z\\-é ]{0,68}",
            colon in proptest::bool::ANY,
        ) {
            let code = if colon { format!("{namespace}:{name}") } else { format!("{namespace}{name}") };
            proptest::prop_assert_eq!(check_code(&code), rules(&code), "{:?}", code);
        }
    }

    #[test]
    fn json_is_validated() {
        assert!(serde_json::from_str::<Category>("\"dgfip:rfr\"").is_ok());
        assert!(serde_json::from_str::<Category>("\"rfr\"").is_err());
        let p: Purpose = serde_json::from_str(r#"{"code":"a:b","text":"T"}"#).unwrap();
        assert_eq!(p.text(), Some("T"));
        assert!(serde_json::from_str::<Purpose>(r#"{"code":"a:b","x":1}"#).is_err());
    }
}
