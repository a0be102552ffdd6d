//! cose-wg/Examples: the EdDSA COSE_Sign1 examples reproduced byte for byte through our COSE
//! layer, and the ES256 `sign1-tests` all refused by our strict parser. Those are ES256, so most
//! are refused for their algorithm before their own defect is reached; each is therefore also
//! re-signed with Ed25519 in this format, keeping its defect, and refused for that defect.

use crate::{hex, load_json};
use consentry::cose::{Envelope, EnvelopeError, ObjectKind, protected_header, sig_structure};
use consentry::crypto::{self, CryptoProvider};
use consentry::danger::cbor::{Encoder, Value};
use consentry::danger::{self, assemble};
use consentry::{DecodeError, Limits, Major};
use consentry::{SignatureError, SigningKey, VerifyingKey};

/// The four parts of a tagged COSE_Sign1, as decoded by our generic reader.
struct Parts {
    protected: Vec<u8>,
    unprotected: Vec<u8>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn split(bytes: &[u8]) -> Parts {
    let Ok(Value::Tag(18, inner)) = Value::decode(bytes, Limits::OBJECT) else {
        panic!("not a tagged COSE_Sign1");
    };
    let Value::Array(items) = *inner else {
        panic!("not an array");
    };
    let [
        Value::Bytes(protected),
        unprotected @ Value::Map(_),
        Value::Bytes(payload),
        Value::Bytes(signature),
    ] = <[Value; 4]>::try_from(items).expect("four items")
    else {
        panic!("unexpected item types");
    };
    Parts {
        protected,
        unprotected: unprotected.encode(),
        payload,
        signature,
    }
}

/// Through every crypto provider of the build: each signs and verifies the examples.
#[test]
fn eddsa_examples_reproduce_byte_for_byte() {
    for provider in crypto::providers() {
        eddsa_examples_with(provider);
    }
}

fn eddsa_examples_with(provider: &'static CryptoProvider) {
    let mut reproduced = 0;
    let mut ed448_signing_skipped = 0;
    for name in ["eddsa-sig-01.json", "eddsa-sig-02.json"] {
        let example = load_json(&format!("cose/eddsa-examples/{name}"));
        let sign0 = &example["input"]["sign0"];
        let key = &sign0["key"];
        let output = hex(example["output"]["cbor"].as_str().unwrap());
        let to_be_signed = hex(example["intermediates"]["ToBeSign_hex"].as_str().unwrap());
        let plaintext = example["input"]["plaintext"].as_str().unwrap().as_bytes();
        let parts = split(&output);
        assert_eq!(parts.payload, plaintext, "{name}");

        // Our Sig_structure and our assembly are byte-exact whatever the curve.
        assert_eq!(
            sig_structure(&parts.protected, &parts.payload),
            to_be_signed,
            "{name}"
        );
        assert_eq!(
            assemble(
                &parts.protected,
                &parts.unprotected,
                &parts.payload,
                &parts.signature
            ),
            output,
            "{name}"
        );

        match key["crv"].as_str().unwrap() {
            "Ed25519" => {
                let seed: [u8; 32] = hex(key["d_hex"].as_str().unwrap()).try_into().unwrap();
                let signer = SigningKey::from_seed_with(provider, &seed).unwrap();
                let public = signer.verifying_key();
                assert_eq!(
                    public.as_bytes().to_vec(),
                    hex(key["x_hex"].as_str().unwrap())
                );
                // Ed25519 is deterministic: signing the ToBeSign gives their signature.
                let signature = danger::sign_raw(&signer, &to_be_signed);
                assert_eq!(signature.to_vec(), parts.signature, "{name}");
                assert_eq!(
                    assemble(
                        &parts.protected,
                        &parts.unprotected,
                        &parts.payload,
                        &signature
                    ),
                    output
                );
                assert_eq!(
                    public.verify_with(provider, &to_be_signed, &parts.signature),
                    Ok(())
                );

                // Interpretation: the example is a valid COSE_Sign1, but not one of our
                // format's. Its protected header is {1: -8, 3: 0}: content type 0 names no
                // object kind, the kid sits in the unprotected header, and our format wants
                // the kid protected and the unprotected header empty. The parser reports the
                // first rule broken, in header order.
                assert_eq!(
                    Envelope::parse(&output),
                    Err(EnvelopeError::UnknownContentType { found: 0 })
                );
                // With one of our content types but still no protected kid:
                let protected = Encoder::new()
                    .map(2)
                    .int(1)
                    .int(-8)
                    .int(3)
                    .uint(ObjectKind::Grant.content_type())
                    .as_bytes()
                    .to_vec();
                let signature = danger::sign_raw(&signer, &sig_structure(&protected, plaintext));
                let ours = assemble(&protected, &parts.unprotected, plaintext, &signature);
                assert_eq!(
                    Envelope::parse(&ours),
                    Err(EnvelopeError::MissingParameter("kid"))
                );
                reproduced += 1;
            }
            "Ed448" => {
                // ring implements Ed25519 only, so the signature cannot be reproduced or
                // checked: signing is skipped. The header names the generic EdDSA algorithm
                // (-8), the same identifier as ours, so the curve cannot be refused from the
                // header: the envelope is refused for its header ({1: -8}, no content type)
                // and, given our header, for its 114-byte signature.
                assert_eq!(parts.signature.len(), 114);
                assert_eq!(
                    Envelope::parse(&output),
                    Err(EnvelopeError::MissingParameter("content type"))
                );
                let kid = SigningKey::from_seed(&[1; 32]).key_id();
                let protected = consentry::cose::protected_header(ObjectKind::Grant, &kid);
                let ours = assemble(&protected, &[0xa0], plaintext, &parts.signature);
                assert_eq!(
                    Envelope::parse(&ours),
                    Err(EnvelopeError::SignatureLength { found: 114 })
                );
                ed448_signing_skipped += 1;
            }
            other => panic!("unexpected curve {other} in {name}"),
        }
    }
    println!(
        "cose eddsa, {}: {reproduced} reproduced, {ed448_signing_skipped} Ed448 signing skipped",
        provider.name
    );
    assert_eq!((reproduced, ed448_signing_skipped), (1, 1));
}

#[test]
fn sign1_tests_are_all_refused() {
    let dir = crate::data_path("cose/sign1-tests");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    // The upstream folder has no sign-fail-05: nine files.
    assert_eq!(names.len(), 9, "{names:?}");
    for name in &names {
        let case = load_json(&format!("cose/sign1-tests/{name}"));
        assert_eq!(case["input"]["sign0"]["alg"], "ES256", "{name}");
        let bytes = hex(case["output"]["cbor"].as_str().unwrap());
        let got = Envelope::parse(&bytes);
        let expected_ok = match name.as_str() {
            // Tag 998 instead of 18.
            "sign-fail-01.json" => got == Err(EnvelopeError::WrongTag { found: Some(998) }),
            // Payload changed; the header is ES256.
            "sign-fail-02.json" => got == Err(EnvelopeError::UnsupportedAlgorithm { found: -7 }),
            // Algorithm changed to -999.
            "sign-fail-03.json" => got == Err(EnvelopeError::UnsupportedAlgorithm { found: -999 }),
            // Algorithm changed to the text "unknown": not an integer label value.
            "sign-fail-04.json" => {
                got == Err(EnvelopeError::Malformed(DecodeError::WrongType {
                    offset: 2,
                    expected: "integer",
                    found: Major::Text,
                }))
            }
            // Content type 0 added to the ES256 header: the algorithm is checked first.
            "sign-fail-06.json" => got == Err(EnvelopeError::UnsupportedAlgorithm { found: -7 }),
            // Content type removed from the signed header.
            "sign-fail-07.json" => got == Err(EnvelopeError::UnsupportedAlgorithm { found: -7 }),
            // Empty protected header, algorithm in the unprotected one.
            "sign-pass-01.json" => got == Err(EnvelopeError::MissingParameter("alg")),
            // External AAD: invisible in the bytes; ES256 all the same.
            "sign-pass-02.json" => got == Err(EnvelopeError::UnsupportedAlgorithm { found: -7 }),
            // Untagged.
            "sign-pass-03.json" => got == Err(EnvelopeError::WrongTag { found: None }),
            other => panic!("unexpected file {other}"),
        };
        assert!(expected_ok, "{name}: {got:?}");
    }
    println!("cose sign1-tests: {} refused", names.len());
}

/// Why a re-signed case is refused: by the parser, with its error, or by the signature check.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Parse(EnvelopeError),
    Signature(SignatureError),
}

/// Parses `bytes` and verifies them with `public`, as a verifier does.
fn check(provider: &CryptoProvider, bytes: &[u8], public: &VerifyingKey) -> Result<(), Refusal> {
    let env = Envelope::parse(bytes).map_err(Refusal::Parse)?;
    env.verify_with(provider, public)
        .map(|_| ())
        .map_err(Refusal::Signature)
}

/// The protected header `{1: alg, 3: content type, 4: kid}` with `alg` written as given (an
/// encoded item), in the order this implementation writes.
fn header_with_alg(alg: &[u8], kind: ObjectKind, kid: &[u8; 16]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.map(3)
        .uint(1)
        .raw(alg)
        .uint(3)
        .uint(kind.content_type())
        .uint(4)
        .bytes(kid);
    e.into_bytes()
}

/// The `sign1-tests` defects, each re-signed with Ed25519 (alg -8, the RFC 8032 TEST 1 key of
/// `eddsa-sig-01.json`) in this format: our protected header, an empty unprotected header, the
/// cases' payload. Everything but the defect is right (the same message without it verifies),
/// so each is refused for its own defect, and the exact refusal is checked.
/// Through every crypto provider of the build: each signs the cases and checks them.
#[test]
fn sign1_defects_re_signed_with_eddsa_are_refused_for_their_defect() {
    for provider in crypto::providers() {
        sign1_defects_with(provider);
    }
}

fn sign1_defects_with(provider: &'static CryptoProvider) {
    let example = load_json("cose/eddsa-examples/eddsa-sig-01.json");
    let seed: [u8; 32] = hex(example["input"]["sign0"]["key"]["d_hex"].as_str().unwrap())
        .try_into()
        .unwrap();
    let key = SigningKey::from_seed_with(provider, &seed).unwrap();
    let public = key.verifying_key();
    let kid = key.key_id();
    let kind = ObjectKind::Grant;
    let protected = protected_header(kind, &kid);
    let sign = |protected: &[u8], payload: &[u8]| {
        danger::sign_raw(&key, &sig_structure(protected, payload))
    };

    let dir = crate::data_path("cose/sign1-tests");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 9, "{names:?}");
    for name in &names {
        let case = load_json(&format!("cose/sign1-tests/{name}"));
        let payload = case["input"]["plaintext"].as_str().unwrap().as_bytes();
        assert_eq!(payload, b"This is the content.", "{name}");
        // The control: the same message in this format, without the defect, verifies.
        let good = danger::sign(kind, &key, payload);
        assert_eq!(check(provider, &good, &public), Ok(()), "{name}");
        let signature = sign(&protected, payload);
        assert_eq!(assemble(&protected, &[0xa0], payload, &signature), good);

        let (bytes, expected) = match name.as_str() {
            // ChangeCBORTag: tag 998 instead of 18.
            "sign-fail-01.json" => {
                let mut bytes = vec![0xd9, 0x03, 0xe6];
                bytes.extend_from_slice(&good[1..]);
                let found = Some(998);
                (bytes, Refusal::Parse(EnvelopeError::WrongTag { found }))
            }
            // The payload changed after signing (its last byte, as in the case): the envelope
            // is well formed, the signature does not cover these bytes.
            "sign-fail-02.json" => {
                let changed = b"This is the content/";
                assert_eq!(
                    hex(case["output"]["cbor"].as_str().unwrap())
                        .windows(changed.len())
                        .filter(|w| w == changed)
                        .count(),
                    1,
                    "the case's payload is changed so"
                );
                let bytes = assemble(&protected, &[0xa0], changed, &signature);
                (bytes, Refusal::Signature(SignatureError))
            }
            // The algorithm changed to -999 after signing.
            "sign-fail-03.json" => {
                let bytes = assemble(
                    &header_with_alg(&[0x39, 0x03, 0xe6], kind, kid.as_bytes()),
                    &[0xa0],
                    payload,
                    &signature,
                );
                let found = -999;
                (
                    bytes,
                    Refusal::Parse(EnvelopeError::UnsupportedAlgorithm { found }),
                )
            }
            // The algorithm changed to the text "unknown": not an integer, refused at the
            // value's offset in the protected header.
            "sign-fail-04.json" => {
                let mut alg = vec![0x67];
                alg.extend_from_slice(b"unknown");
                let bytes = assemble(
                    &header_with_alg(&alg, kind, kid.as_bytes()),
                    &[0xa0],
                    payload,
                    &signature,
                );
                let wrong = DecodeError::WrongType {
                    offset: 2,
                    expected: "integer",
                    found: Major::Text,
                };
                (bytes, Refusal::Parse(EnvelopeError::Malformed(wrong)))
            }
            // A protected attribute added after signing: the signer signed {1: -8, 4: kid},
            // the content type was added. A header of this format, a signature over another.
            "sign-fail-06.json" => {
                let signed = Encoder::new()
                    .map(2)
                    .uint(1)
                    .int(-8)
                    .uint(4)
                    .bytes(kid.as_bytes())
                    .as_bytes()
                    .to_vec();
                let sig = sign(&signed, payload);
                assert_eq!(
                    public.verify_with(provider, &sig_structure(&signed, payload), &sig),
                    Ok(())
                );
                let bytes = assemble(&protected, &[0xa0], payload, &sig);
                (bytes, Refusal::Signature(SignatureError))
            }
            // A protected attribute removed after signing: the signer also marked the content
            // type critical ({2: [3]}), which was stripped.
            "sign-fail-07.json" => {
                let signed = Encoder::new()
                    .map(4)
                    .uint(1)
                    .int(-8)
                    .uint(2)
                    .array(1)
                    .uint(3)
                    .uint(3)
                    .uint(kind.content_type())
                    .uint(4)
                    .bytes(kid.as_bytes())
                    .as_bytes()
                    .to_vec();
                let sig = sign(&signed, payload);
                assert_eq!(
                    public.verify_with(provider, &sig_structure(&signed, payload), &sig),
                    Ok(())
                );
                // As signed, the header is not one of this format's.
                assert_eq!(
                    check(
                        provider,
                        &assemble(&signed, &[0xa0], payload, &sig),
                        &public
                    ),
                    Err(Refusal::Parse(EnvelopeError::UnexpectedParameter {
                        label: 2
                    }))
                );
                let bytes = assemble(&protected, &[0xa0], payload, &sig);
                (bytes, Refusal::Signature(SignatureError))
            }
            // The algorithm in the unprotected header only (the case's protected header is the
            // empty map): validly signed, but alg is not protected.
            "sign-pass-01.json" => {
                let unprotected_alg = [0xa1, 0x01, 0x27];
                let header = Encoder::new()
                    .map(2)
                    .uint(3)
                    .uint(kind.content_type())
                    .uint(4)
                    .bytes(kid.as_bytes())
                    .as_bytes()
                    .to_vec();
                let sig = sign(&header, payload);
                // With alg in both headers, the unprotected one is still refused.
                assert_eq!(
                    check(
                        provider,
                        &assemble(&protected, &unprotected_alg, payload, &signature),
                        &public
                    ),
                    Err(Refusal::Parse(EnvelopeError::UnprotectedHeaderNotEmpty))
                );
                let bytes = assemble(&header, &unprotected_alg, payload, &sig);
                (
                    bytes,
                    Refusal::Parse(EnvelopeError::MissingParameter("alg")),
                )
            }
            // Signed with the case's external AAD: this format's AAD is empty, so the signature
            // does not verify; over the Sig_structure with that AAD it does.
            "sign-pass-02.json" => {
                let aad = hex(case["input"]["sign0"]["external"].as_str().unwrap());
                assert_eq!(aad, hex("11aa22bb33cc44dd55006699"));
                let with_aad = Encoder::new()
                    .array(4)
                    .text("Signature1")
                    .bytes(&protected)
                    .bytes(&aad)
                    .bytes(payload)
                    .as_bytes()
                    .to_vec();
                let sig = danger::sign_raw(&key, &with_aad);
                assert_eq!(public.verify_with(provider, &with_aad, &sig), Ok(()));
                let bytes = assemble(&protected, &[0xa0], payload, &sig);
                (bytes, Refusal::Signature(SignatureError))
            }
            // RemoveCBORTag: the array without tag 18.
            "sign-pass-03.json" => {
                let bytes = good[1..].to_vec();
                (
                    bytes,
                    Refusal::Parse(EnvelopeError::WrongTag { found: None }),
                )
            }
            other => panic!("unexpected file {other}"),
        };
        assert_eq!(check(provider, &bytes, &public), Err(expected), "{name}");
    }
    println!(
        "cose sign1-tests re-signed with Ed25519: {} refused for their defect",
        names.len()
    );
}
