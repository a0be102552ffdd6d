//! French business registry numbers: the SIREN of a legal person and the SIRET of each of its
//! establishments, with their check digits.
//!
//! INSEE's SIRENE register gives every legal person (a company, an association, a public body) a
//! **SIREN** of 9 digits, the last a check digit, and each of its establishments a **SIRET** of 14
//! digits: the SIREN, then a 5-digit internal number (NIC) whose last digit is again a check
//! digit. Both check digits follow the Luhn formula: from the right, every second digit is
//! doubled (9 subtracted when the double exceeds 9), and the sum of all digits is a multiple of
//! 10.
//!
//! One documented exception: La Poste's establishments, all under the single SIREN
//! [`Siren::LA_POSTE`] (356000000), are too many for the Luhn key; a SIRET of that SIREN that
//! fails the Luhn rule is valid when the sum of its 14 digits is a multiple of 5. The source is
//! INSEE's own validator, the R package `validinsee` (`InseeFrLab/validinsee`,
//! `R/validation_sirene.R`): « un SIRET de La Poste (SIREN 356000000) ne respectant pas la règle
//! ci-dessus [...] est valide si la somme des chiffres le composant est un multiple de 5 ». The
//! head office's SIRET, 35600000000048, passes the Luhn rule itself.
//!
//! ```
//! use consentry::registry::{RegistryError, Siren, Siret};
//! let siren = Siren::parse("732829320")?;
//! let siret = Siret::parse("73282932000074")?;
//! assert_eq!(siret.siren(), siren);
//! assert_eq!(siret.nic(), "00074");
//! assert_eq!(Siren::parse("732829321"), Err(RegistryError::BadCheckDigit));
//! // La Poste: the sum of the digits is a multiple of 5.
//! assert!(Siret::parse("35600000009075").is_ok());
//! # Ok::<(), RegistryError>(())
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use thiserror::Error;

/// Why a registry number was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Not the number's length (9 for a SIREN, 14 for a SIRET).
    #[error("a {number} has {expected} digits; {found} characters given")]
    WrongLength {
        /// `"SIREN"` or `"SIRET"`.
        number: &'static str,
        /// Its length.
        expected: usize,
        /// The length given, in bytes.
        found: usize,
    },
    /// A character other than an ASCII digit (spaces included: the number is written compact).
    #[error("a registry number is written with the digits 0 to 9 only, without spaces")]
    NotDigits,
    /// The check digit is wrong: the Luhn sum of the whole number is not a multiple of 10 (for
    /// a SIRET of La Poste, nor is the sum of its digits a multiple of 5).
    #[error("the check digit is wrong: the number is mistyped or invented")]
    BadCheckDigit,
    /// The first nine digits of a SIRET are not a valid SIREN.
    #[error("the first nine digits of the SIRET are not a valid SIREN (wrong check digit)")]
    SirenCheckDigit,
}

impl RegistryError {
    /// A stable code naming the refusal, for matching, logs and bindings.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            RegistryError::WrongLength { .. } => "registry/wrong_length",
            RegistryError::NotDigits => "registry/not_digits",
            RegistryError::BadCheckDigit => "registry/bad_check_digit",
            RegistryError::SirenCheckDigit => "registry/siren_check_digit",
        }
    }
}

/// The Luhn sum of ASCII digits: from the right, every second digit doubled, minus 9 when over 9.
fn luhn_sum(digits: &[u8]) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let twice = 2 * d;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum()
}

fn luhn_valid(digits: &[u8]) -> bool {
    luhn_sum(digits) % 10 == 0
}

/// The digits of `text`, checked for length and characters.
fn digits<const N: usize>(text: &str, number: &'static str) -> Result<[u8; N], RegistryError> {
    let bytes: [u8; N] = text
        .as_bytes()
        .try_into()
        .map_err(|_| RegistryError::WrongLength {
            number,
            expected: N,
            found: text.len(),
        })?;
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(RegistryError::NotDigits);
    }
    Ok(bytes)
}

/// A SIREN: the 9-digit number of a legal person in INSEE's SIRENE register, check digit
/// verified.
///
/// Its JSON form is the 9 digits as a string; its CBOR form in the directory, the same text.
///
/// ```
/// use consentry::registry::Siren;
/// let s = Siren::parse("552100554")?;
/// assert_eq!(s.as_str(), "552100554");
/// assert_eq!(s.to_string(), "552100554");
/// assert_eq!(Siren::parse("55210055").unwrap_err().code(), "registry/wrong_length");
/// assert_eq!(Siren::parse("552 100 554").unwrap_err().code(), "registry/wrong_length");
/// assert_eq!(Siren::parse("55210055a").unwrap_err().code(), "registry/not_digits");
/// # Ok::<(), consentry::registry::RegistryError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siren([u8; 9]);

impl Siren {
    /// La Poste's SIREN, whose SIRETs follow their own check rule (see the module's
    /// documentation).
    pub const LA_POSTE: Siren = Siren(*b"356000000");

    /// Reads a SIREN written as 9 digits, without spaces.
    ///
    /// # Errors
    ///
    /// [`RegistryError::WrongLength`] if `text` is not 9 bytes long, [`RegistryError::NotDigits`]
    /// if a character is not a digit, [`RegistryError::BadCheckDigit`] if the Luhn sum of the
    /// digits is not a multiple of 10.
    pub fn parse(text: &str) -> Result<Siren, RegistryError> {
        let d = digits::<9>(text, "SIREN")?;
        if !luhn_valid(&d) {
            return Err(RegistryError::BadCheckDigit);
        }
        Ok(Siren(d))
    }

    /// The 9 digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A SIRET: the 14-digit number of an establishment, its SIREN followed by its internal number
/// (NIC), check digits verified, La Poste's exception included.
///
/// ```
/// use consentry::registry::{Siren, Siret};
/// let s = Siret::parse("55210055400013")?;
/// assert_eq!(s.siren(), Siren::parse("552100554")?);
/// // Its SIREN part must be valid on its own.
/// assert_eq!(Siret::parse("55210055500012").unwrap_err().code(), "registry/siren_check_digit");
/// // La Poste's head office passes the Luhn rule; its other establishments the sum of digits.
/// assert!(Siret::parse("35600000000048").is_ok());
/// assert!(Siret::parse("35600000049837").is_ok());
/// assert_eq!(Siret::parse("35600000049838").unwrap_err().code(), "registry/bad_check_digit");
/// # Ok::<(), consentry::registry::RegistryError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siret([u8; 14]);

impl Siret {
    /// Reads a SIRET written as 14 digits, without spaces.
    ///
    /// # Errors
    ///
    /// [`RegistryError::WrongLength`] if `text` is not 14 bytes long,
    /// [`RegistryError::NotDigits`] if a character is not a digit,
    /// [`RegistryError::SirenCheckDigit`] if its first 9 digits are not a valid SIREN,
    /// [`RegistryError::BadCheckDigit`] if the Luhn sum of the 14 digits is not a multiple of 10
    /// and, for a SIRET of La Poste, the sum of its digits is not a multiple of 5 either.
    pub fn parse(text: &str) -> Result<Siret, RegistryError> {
        let d = digits::<14>(text, "SIRET")?;
        if !luhn_valid(&d[..9]) {
            return Err(RegistryError::SirenCheckDigit);
        }
        let la_poste = d[..9] == Siren::LA_POSTE.0
            && d.iter().map(|b| u32::from(b - b'0')).sum::<u32>() % 5 == 0;
        if !luhn_valid(&d) && !la_poste {
            return Err(RegistryError::BadCheckDigit);
        }
        Ok(Siret(d))
    }

    /// The SIREN of the legal person the establishment belongs to: the first 9 digits.
    #[must_use]
    pub fn siren(&self) -> Siren {
        let mut s = [0; 9];
        s.copy_from_slice(&self.0[..9]);
        Siren(s)
    }

    /// The establishment's internal number (NIC): the last 5 digits.
    #[must_use]
    pub fn nic(&self) -> &str {
        &self.as_str()[9..]
    }

    /// The 14 digits.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

macro_rules! text_forms {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self.as_str())
            }
        }

        impl std::str::FromStr for $t {
            type Err = RegistryError;
            fn from_str(s: &str) -> Result<Self, RegistryError> {
                <$t>::parse(s)
            }
        }

        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$t>::parse(&text).map_err(|e| crate::json::refuse(e.code(), e))
            }
        }
    };
}

text_forms!(Siren);
text_forms!(Siret);

#[cfg(test)]
mod tests {
    use super::{RegistryError, Siren, Siret};

    #[test]
    fn published_numbers_are_accepted() {
        // Numbers printed in INSEE's and others' documentation.
        for s in ["732829320", "552100554", "356000000", "200034528"] {
            assert!(Siren::parse(s).is_ok(), "{s}");
        }
        for s in [
            "73282932000074",
            "20003452800014",
            "35600000000048",
            "35600000009075",
        ] {
            assert!(Siret::parse(s).is_ok(), "{s}");
        }
        assert_eq!(Siren::parse("200034582"), Err(RegistryError::BadCheckDigit));
        assert_eq!(
            Siret::parse("20003452800041"),
            Err(RegistryError::BadCheckDigit)
        );
    }

    #[test]
    fn the_la_poste_rule_is_for_la_poste_alone() {
        // 35600000009075: digit sum 3+5+6+9+7+5 = 35, Luhn sum not a multiple of 10.
        // The same NIC under another SIREN whose digit sum also makes a multiple of 5 is refused.
        // 732829320 has digit sum 36; NIC 00004 makes 40.
        assert_eq!(
            Siret::parse("73282932000004"),
            Err(RegistryError::BadCheckDigit)
        );
        // A La Poste SIRET with neither rule.
        assert_eq!(
            Siret::parse("35600000009076"),
            Err(RegistryError::BadCheckDigit)
        );
    }

    #[test]
    fn length_counts_bytes_and_non_ascii_is_refused() {
        assert_eq!(
            Siren::parse("७३२८२९३२०").unwrap_err().code(),
            "registry/wrong_length"
        );
        assert_eq!(
            Siren::parse("73282932é").unwrap_err(),
            RegistryError::WrongLength {
                number: "SIREN",
                expected: 9,
                found: 10
            }
        );
        assert_eq!(
            Siret::parse("").unwrap_err().code(),
            "registry/wrong_length"
        );
        assert_eq!(
            Siret::parse("7328293200007-").unwrap_err(),
            RegistryError::NotDigits
        );
    }

    #[test]
    fn json_forms_are_strings_and_refuse_with_the_code() {
        let s: Siren = serde_json::from_str("\"732829320\"").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"732829320\"");
        let e = serde_json::from_str::<Siret>("\"73282932000075\"").unwrap_err();
        assert!(e.to_string().contains("registry/bad_check_digit"), "{e}");
        assert!(serde_json::from_str::<Siren>("732829320").is_err());
    }
}
