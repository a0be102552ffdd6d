//! Wycheproof Ed25519 verification vectors through every crypto provider of the build (ring,
//! and aws-lc-rs with its feature), each by both verification paths of the crate: a bare
//! `VerifyingKey` (the key decoded for each call) and a directory's `PartyKey` (the key kept as
//! the provider decoded it, reused for every vector of its group).

use crate::{hex, load_json};
use consentry::crypto::{self, CryptoProvider};
use consentry::{PartyKey, Timestamp, VerifyingKey};

#[test]
fn ed25519_vectors() {
    for provider in crypto::providers() {
        ed25519_vectors_with(provider);
    }
}

fn ed25519_vectors_with(provider: &CryptoProvider) {
    let name = provider.name;
    let suite = load_json("wycheproof/ed25519_test.json");
    assert_eq!(suite["algorithm"], "EDDSA");
    let (mut valid, mut invalid, mut acceptable, mut skipped) = (0, 0, 0, 0);
    for group in suite["testGroups"].as_array().unwrap() {
        let tests = group["tests"].as_array().unwrap();
        let public = hex(group["publicKey"]["pk"].as_str().unwrap());
        let Ok(public) = <[u8; 32]>::try_from(public) else {
            // Our keys are 32 bytes by type; a vector with another length cannot be expressed.
            skipped += tests.len();
            continue;
        };
        let key = VerifyingKey::from_bytes(public);
        let record = PartyKey::new(key, Timestamp::from_secs(0));
        for test in tests {
            let id = &test["tcId"];
            let msg = hex(test["msg"].as_str().unwrap());
            let sig = hex(test["sig"].as_str().unwrap());
            let verified = key.verify_with(provider, &msg, &sig).is_ok();
            let through_record = record.verify_with(provider, &msg, &sig).is_ok();
            assert_eq!(verified, through_record, "{name}: tcId {id}");
            match test["result"].as_str().unwrap() {
                "valid" => {
                    assert!(
                        verified,
                        "{name}: tcId {id} must verify: {}",
                        test["comment"]
                    );
                    valid += 1;
                }
                "invalid" => {
                    assert!(
                        !verified,
                        "{name}: tcId {id} must fail: {}",
                        test["comment"]
                    );
                    invalid += 1;
                }
                // None in this file; should one appear, either outcome is allowed by
                // Wycheproof, and the test only counts it.
                "acceptable" => acceptable += 1,
                other => panic!("tcId {id}: unknown result {other}"),
            }
        }
    }
    println!(
        "wycheproof ed25519, {name}: {valid} valid verified, {invalid} invalid refused, \
         {acceptable} acceptable, {skipped} skipped"
    );
    assert_eq!(
        suite["numberOfTests"],
        valid + invalid + acceptable + skipped
    );
    assert_eq!((valid, invalid, acceptable, skipped), (88, 63, 0, 0));
}
