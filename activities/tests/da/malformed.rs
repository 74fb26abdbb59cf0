//! Malformed inputs are rejected with errors that name the field and the value.

use orchestrator_activities::da::DaError;
use orchestrator_activities::da::blob::{Blob, blob_to_felts, felts_to_blobs};
use orchestrator_activities::da::segment::parse_da_segment;
use orchestrator_activities::da::state_update::{parse_state_update, parse_state_updates};
use orchestrator_activities::da::stateless;
use starknet_types_core::felt::Felt;

const VALID: &str = r#"{
    "block_hash": "0x1", "old_root": "0x2", "new_root": "0x3",
    "state_diff": {
        "storage_diffs": [{"address": "0x10", "storage_entries": [{"key": "0x1", "value": "0x2"}]}],
        "deprecated_declared_classes": [],
        "declared_classes": [],
        "deployed_contracts": [],
        "replaced_classes": [],
        "nonces": [{"contract_address": "0x10", "nonce": "0x5"}]
    }
}"#;

fn error_for(json: &str) -> String {
    parse_state_update(json).unwrap_err().to_string()
}

#[test]
fn valid_update_parses() {
    let update = parse_state_update(VALID).unwrap();
    assert_eq!(update.state_diff.nonces[0].nonce, Felt::from(5u8));
    assert!(update.state_diff.migrated_compiled_classes.is_empty());
    assert_eq!(
        parse_state_updates(&format!("[{VALID}, {VALID}]"))
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn pre_confirmed_update_without_hashes_parses() {
    let json = VALID.replace(
        r#""block_hash": "0x1", "old_root": "0x2", "new_root": "0x3","#,
        "",
    );
    let update = parse_state_update(&json).unwrap();
    assert_eq!(update.block_hash, None);
}

#[test]
fn missing_field_is_named() {
    let error = error_for(&VALID.replace(r#", "nonce": "0x5""#, ""));
    assert!(error.contains("state_diff.nonces[0]"), "{error}");
    assert!(error.contains("missing field `nonce`"), "{error}");
}

#[test]
fn non_hex_felt_is_named() {
    let error = error_for(&VALID.replace(r#""value": "0x2""#, r#""value": "0xq2""#));
    assert!(
        error.contains("state_diff.storage_diffs[0].storage_entries[0].value"),
        "{error}"
    );
    assert!(error.contains("0xq2"), "{error}");
}

#[test]
fn felt_at_modulus_is_rejected() {
    let modulus = "0x800000000000011000000000000000000000000000000000000000000000001";
    let error = error_for(&VALID.replace(r#""nonce": "0x5""#, &format!(r#""nonce": "{modulus}""#)));
    assert!(error.contains("state_diff.nonces[0].nonce"), "{error}");
    assert!(error.contains(modulus), "{error}");
    assert!(error.contains("modulus"), "{error}");
}

#[test]
fn bad_segment_element_is_named() {
    let error = parse_da_segment(r#"["0x1", "0x2", "nope"]"#)
        .unwrap_err()
        .to_string();
    assert!(error.contains("element 2"), "{error}");
    assert!(error.contains("nope"), "{error}");
}

#[test]
fn too_many_blobs_names_both_numbers() {
    let felts = vec![Felt::ONE; 4096 * 2 + 1];
    let error = felts_to_blobs(&felts, 2).unwrap_err();
    assert!(
        matches!(
            error,
            DaError::TooManyBlobs {
                blobs: 3,
                max: 2,
                ..
            }
        ),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains("3 blobs") && message.contains("maximum of 2"),
        "{message}"
    );
}

#[test]
fn empty_felts_give_no_blobs() {
    assert!(felts_to_blobs(&[], 6).unwrap().is_empty());
}

#[test]
fn short_blob_is_rejected() {
    let error = Blob::from_hex("00ff").unwrap_err().to_string();
    assert!(error.contains("262144"), "{error}");
}

#[test]
fn blob_element_above_bls_modulus_is_named() {
    let mut bytes = vec![0u8; 131072];
    bytes[32..64].fill(0xff);
    let error = Blob::from_bytes(&bytes).unwrap_err();
    assert!(
        matches!(error, DaError::BlobElementOutOfRange { index: 1, .. }),
        "{error}"
    );
}

#[test]
fn blob_not_made_of_felts_is_rejected() {
    // Evaluations 1, 2, 3, … interpolate to coefficients far above the Starknet modulus.
    let mut bytes = vec![0u8; 131072];
    for (index, chunk) in bytes.chunks_exact_mut(32).enumerate() {
        chunk[24..].copy_from_slice(&(index as u64 + 1).to_be_bytes());
    }
    let blob = Blob::from_bytes(&bytes).unwrap();
    let error = blob_to_felts(&blob).unwrap_err();
    assert!(
        matches!(error, DaError::CoefficientNotFelt { .. }),
        "{error}"
    );
}

#[test]
fn truncated_compressed_data_is_rejected() {
    let felts: Vec<Felt> = (0u64..500).map(Felt::from).collect();
    let compressed = stateless::compress(&felts).unwrap();
    let error = stateless::decompress(&compressed[..compressed.len() - 1]).unwrap_err();
    assert!(
        matches!(error, DaError::InvalidCompressedData { .. }),
        "{error}"
    );
}

#[test]
fn compression_rejects_long_input() {
    let felts = vec![Felt::ZERO; 1 << 20];
    let error = stateless::compress(&felts).unwrap_err();
    assert!(
        matches!(error, DaError::CompressionInputTooLong { .. }),
        "{error}"
    );
}
