//! Settlement calldata against a real Starknet Sepolia state update (from block 218378 to 218402,
//! settled in Sepolia L1 block 6806848).

use std::path::PathBuf;

use alloy::primitives::U256;
use orchestrator_activities::settlement::{
    ProgramOutput, UPDATE_STATE_KZG_DA_SELECTOR, compute_kzg_proofs, decode_update_state_calldata,
    encode_update_state_calldata, open_blob, parse_blob_hex,
};

/// Returns the golden fixture directory: `ORCHESTRATOR_FIXTURES`, or `shared/fixtures` next to
/// the workspace.
fn fixtures_dir() -> PathBuf {
    std::env::var_os("ORCHESTRATOR_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"))
}

fn read_fixture(relative: &str) -> String {
    let path = fixtures_dir().join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read fixture {}: {error}", path.display()))
}

fn fixture_output() -> ProgramOutput {
    ProgramOutput::parse(&read_fixture("settlement/6806848/program_output.txt"))
        .expect("fixture program output is valid")
}

#[test]
fn fixture_output_header_fields() {
    let output = fixture_output();
    assert_eq!(output.words().len(), 23);
    assert_eq!(output.prev_block_number(), Some(218_378));
    assert_eq!(output.new_block_number(), 218_402);
    assert_eq!(output.n_blobs(), 1);
}

#[test]
fn fixture_blob_matches_output() {
    let output = fixture_output();
    let blob = parse_blob_hex(&read_fixture("settlement/6806848/blob.hex"), 1).expect("blob hex");
    let opening = open_blob(&blob, output.x0(), 1).expect("kzg opening");

    assert_eq!(
        opening.commitment,
        output.commitment(0),
        "commitment = high limb ‖ low limb"
    );
    let y_low = output.words()[14];
    let y_high = output.words()[15];
    assert_eq!(
        U256::from_be_bytes(opening.evaluation.0),
        (y_high << 128) | y_low
    );
}

#[test]
fn fixture_calldata_decodes_to_output() {
    let output = fixture_output();
    let blob = parse_blob_hex(&read_fixture("settlement/6806848/blob.hex"), 1).expect("blob hex");
    let proofs = compute_kzg_proofs(&output, &[blob]).expect("blob matches the output");
    let calldata = encode_update_state_calldata(&output, &proofs);

    assert_eq!(calldata[..4], UPDATE_STATE_KZG_DA_SELECTOR);
    // Selector, two offsets, the output array (length + 23 words), the proof array (length,
    // one offset, proof length, 48 bytes padded to 64).
    assert_eq!(calldata.len(), 4 + 32 * (2 + 1 + 23 + 1 + 1 + 1) + 64);

    let decoded = decode_update_state_calldata(&calldata).expect("calldata decodes");
    assert_eq!(decoded.programOutput, output.words());
    assert_eq!(decoded.kzgProofs.len(), 1);
    assert_eq!(decoded.kzgProofs[0].as_ref(), proofs[0].as_slice());
}

#[test]
fn fixture_wrong_blob_is_rejected() {
    let output = fixture_output();
    let mut bytes = hex::decode(read_fixture("settlement/6806848/blob.hex").trim()).expect("hex");
    bytes[31] ^= 1;
    let blob = parse_blob_hex(&hex::encode(bytes), 1).expect("blob hex");
    let error = compute_kzg_proofs(&output, &[blob]).expect_err("altered blob must not match");
    assert!(
        error.to_string().contains("blob 1: KZG commitment"),
        "{error}"
    );
}
