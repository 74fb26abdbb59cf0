//! KZG commitments and proofs of mainnet blobs with the mainnet trusted setup.

use orchestrator_activities::da::felt::parse_hex;
use orchestrator_activities::da::field::{
    felt_to_scalar, scalar_from_be_bytes, scalar_to_be_bytes,
};
use orchestrator_activities::da::kzg;

use crate::common::{read_blob, read_fixture};

fn hex_bytes<const N: usize>(text: &str) -> [u8; N] {
    let trimmed = text.trim();
    let bytes = hex::decode(trimmed.strip_prefix("0x").unwrap_or(trimmed)).unwrap();
    bytes
        .try_into()
        .unwrap_or_else(|bytes: Vec<u8>| panic!("expected {N} bytes, got {}", bytes.len()))
}

#[test]
fn blob_20462788_commitment_and_proof() {
    let blob = read_blob("kzg/20462788/blob.hex");
    let expected_commitment: [u8; 48] = hex_bytes(&read_fixture("kzg/20462788/commitment.hex"));
    let expected_proof: [u8; 48] = hex_bytes(&read_fixture("kzg/20462788/blob_proof.hex"));

    let commitment = kzg::commitment(&blob).unwrap();
    assert_eq!(
        hex::encode(commitment),
        hex::encode(expected_commitment),
        "commitment"
    );

    let proof = kzg::blob_proof(&blob, &commitment).unwrap();
    assert_eq!(
        hex::encode(proof),
        hex::encode(expected_proof),
        "blob proof"
    );
    assert!(kzg::verify_blob_proof(&blob, &commitment, &proof).unwrap());

    let versioned_hash = kzg::versioned_hash(&commitment);
    assert_eq!(
        hex::encode(versioned_hash),
        "0115122ec8a4d044d4ace9c4bc2d36364d4c8d0ed5da8c49d5f2ec104f855eee"
    );
}

#[test]
fn blob_630872_point_proof_verifies() {
    let blob = read_blob("kzg/630872/blob.hex");
    let x0: [u8; 32] = hex_bytes(&read_fixture("kzg/630872/x0.hex"));
    let expected_y = "6566495cc11710abda13aa0f6571d7d92955d75df7ec82c002d5235ed3f199c1";

    let point = kzg::point_proof(&blob, &x0).unwrap();
    assert_eq!(hex::encode(point.y), expected_y, "y from c-kzg");

    let commitment = kzg::commitment(&blob).unwrap();
    assert!(kzg::verify_point_proof(&commitment, &x0, &point.y, &point.proof).unwrap());

    let mut wrong_y = point.y;
    wrong_y[31] ^= 1;
    assert!(!kzg::verify_point_proof(&commitment, &x0, &wrong_y, &point.proof).unwrap());

    // The FFT-based evaluation agrees with c-kzg.
    let scalar = scalar_from_be_bytes(&x0).unwrap();
    assert_eq!(
        hex::encode(scalar_to_be_bytes(&blob.evaluate(&scalar))),
        expected_y,
        "y from FFT"
    );
    let x0_felt = parse_hex(read_fixture("kzg/630872/x0.hex").trim()).unwrap();
    assert_eq!(felt_to_scalar(&x0_felt), scalar);
}

#[test]
fn cell_proofs_verify() {
    let blob = read_blob("kzg/20462788/blob.hex");
    let proofs = kzg::cell_proofs(&blob).unwrap();
    assert_eq!(proofs.len(), kzg::CELLS_PER_BLOB);

    let settings = kzg::settings();
    let ckzg_blob = c_kzg::Blob::from_bytes(blob.as_bytes()).unwrap();
    let cells = settings.compute_cells(&ckzg_blob).unwrap();
    let commitment = c_kzg::Bytes48::new(kzg::commitment(&blob).unwrap());
    let commitments = vec![commitment; proofs.len()];
    let indices: Vec<u64> = (0..proofs.len() as u64).collect();
    let proof_bytes: Vec<c_kzg::Bytes48> = proofs.iter().map(|p| c_kzg::Bytes48::new(*p)).collect();
    let valid = settings
        .verify_cell_kzg_proof_batch(&commitments, &indices, &cells[..], &proof_bytes)
        .unwrap();
    assert!(valid, "cell proofs do not verify");
}
