//! Pre-0.13.3 encoding of single mainnet and devnet blocks.

use orchestrator_activities::da::blob::{blob_to_felts, felts_to_blobs};
use orchestrator_activities::da::encode::{contracts_needing_nonce, encode_legacy};
use orchestrator_activities::da::nonces::parse_nonce_answers;
use orchestrator_activities::da::state_update::parse_state_update;
use orchestrator_activities::da::{DEFAULT_MAX_BLOBS, ntt::FIELD_ELEMENTS_PER_BLOB};
use starknet_types_core::felt::Felt;

use crate::common::{read_blob, read_fixture};

fn check_block(block: u64, expected_len: usize) {
    let update = parse_state_update(&read_fixture(&format!(
        "da-legacy/{block}/state_update.json"
    )))
    .unwrap_or_else(|error| panic!("block {block}: {error}"));
    let nonces = parse_nonce_answers(&read_fixture(&format!("da-legacy/{block}/nonces.json")))
        .unwrap_or_else(|error| panic!("block {block}: {error}"));

    for contract in contracts_needing_nonce(&update.state_diff) {
        assert!(
            nonces.contains_key(&contract),
            "block {block}: no recorded nonce for {contract:#x}"
        );
    }

    let felts = encode_legacy(&update.state_diff, &nonces).unwrap();
    assert_eq!(felts.len(), expected_len, "block {block}: encoded length");

    let blobs = felts_to_blobs(&felts, DEFAULT_MAX_BLOBS).unwrap();
    assert_eq!(blobs.len(), 1, "block {block}: blob count");
    let posted = read_blob(&format!("da-legacy/{block}/blob.hex"));
    assert!(
        blobs[0] == posted,
        "block {block}: blob differs from the posted one"
    );

    let decoded = blob_to_felts(&posted).unwrap();
    assert_eq!(
        decoded[..felts.len()],
        felts[..],
        "block {block}: decoded felts"
    );
    assert!(
        decoded[felts.len()..]
            .iter()
            .all(|felt| *felt == Felt::ZERO),
        "block {block}: padding"
    );
    assert_eq!(decoded.len(), FIELD_ELEMENTS_PER_BLOB);
}

#[test]
fn devnet_block_178_matches_blob() {
    check_block(178, 27);
}

#[test]
fn mainnet_block_631861_matches_blob() {
    check_block(631861, 3935);
}

#[test]
fn mainnet_block_638353_matches_blob() {
    check_block(638353, 3983);
}

#[test]
fn mainnet_block_671070_matches_blob() {
    check_block(671070, 1993);
}

#[test]
fn blob_639404_round_trips() {
    let blob = read_blob("da-legacy/blobs-only/639404.hex");
    let felts = blob_to_felts(&blob).unwrap();
    assert_eq!(
        felts[0],
        Felt::from(429u32),
        "first coefficient is the contract count"
    );
    let rebuilt = felts_to_blobs(&felts, 1).unwrap();
    assert_eq!(rebuilt.len(), 1);
    assert!(rebuilt[0] == blob, "FFT(IFFT(blob)) differs from the blob");
}
