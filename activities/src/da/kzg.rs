//! KZG commitments and proofs for blobs, with c-kzg and the Ethereum mainnet trusted setup.
//!
//! The setup is the one embedded in c-kzg (`ethereum_kzg_settings`). It is loaded on first use
//! (about 3 s) and kept for the life of the process. The precompute level is 8, the value
//! alloy uses, so this module and alloy share one loaded copy.

use c_kzg::{Bytes32, Bytes48, KzgSettings};
use sha2::{Digest, Sha256};

use super::blob::Blob;
use super::error::DaError;

/// Precompute level of the trusted setup; it speeds up cell proofs at the cost of memory.
pub const KZG_PRECOMPUTE: u64 = 8;

/// Version byte of a KZG versioned hash.
pub const VERSIONED_HASH_VERSION_KZG: u8 = 0x01;

/// Number of cell proofs per blob (EIP-7594).
pub const CELLS_PER_BLOB: usize = c_kzg::CELLS_PER_EXT_BLOB;

/// A 48-byte compressed G1 point: a commitment or a proof.
pub type G1Bytes = [u8; 48];

/// Returns the mainnet trusted setup, loading it on the first call.
pub fn settings() -> &'static KzgSettings {
    c_kzg::ethereum_kzg_settings(KZG_PRECOMPUTE)
}

fn kzg_error(operation: &'static str) -> impl Fn(c_kzg::Error) -> DaError {
    move |error| DaError::Kzg {
        operation,
        message: error.to_string(),
    }
}

/// Computes the KZG commitment of `blob`.
pub fn commitment(blob: &Blob) -> Result<G1Bytes, DaError> {
    let commitment = settings()
        .blob_to_kzg_commitment(blob.as_ckzg())
        .map_err(kzg_error("commitment"))?;
    Ok(commitment.to_bytes().into_inner())
}

/// Computes the EIP-4844 blob proof of `blob` against its `commitment`.
pub fn blob_proof(blob: &Blob, commitment: &G1Bytes) -> Result<G1Bytes, DaError> {
    let proof = settings()
        .compute_blob_kzg_proof(blob.as_ckzg(), &Bytes48::new(*commitment))
        .map_err(kzg_error("blob proof"))?;
    Ok(proof.to_bytes().into_inner())
}

/// Checks an EIP-4844 blob proof.
pub fn verify_blob_proof(
    blob: &Blob,
    commitment: &G1Bytes,
    proof: &G1Bytes,
) -> Result<bool, DaError> {
    settings()
        .verify_blob_kzg_proof(
            blob.as_ckzg(),
            &Bytes48::new(*commitment),
            &Bytes48::new(*proof),
        )
        .map_err(kzg_error("blob proof verification"))
}

/// A proof that the blob's polynomial takes value `y` at a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PointProof {
    /// The KZG proof.
    pub proof: G1Bytes,
    /// The polynomial's value at the point, big-endian.
    pub y: [u8; 32],
}

/// Computes the KZG proof of `blob` at `point` (big-endian, below the scalar modulus), e.g. the
/// x0 of a Starknet program output.
pub fn point_proof(blob: &Blob, point: &[u8; 32]) -> Result<PointProof, DaError> {
    let (proof, y) = settings()
        .compute_kzg_proof(blob.as_ckzg(), &Bytes32::new(*point))
        .map_err(kzg_error("point proof"))?;
    let mut y_bytes = [0u8; 32];
    y_bytes.copy_from_slice(&y[..]);
    Ok(PointProof {
        proof: proof.to_bytes().into_inner(),
        y: y_bytes,
    })
}

/// Checks a KZG proof that the committed polynomial takes value `y` at `point`, the check the
/// point-evaluation precompile runs.
pub fn verify_point_proof(
    commitment: &G1Bytes,
    point: &[u8; 32],
    y: &[u8; 32],
    proof: &G1Bytes,
) -> Result<bool, DaError> {
    settings()
        .verify_kzg_proof(
            &Bytes48::new(*commitment),
            &Bytes32::new(*point),
            &Bytes32::new(*y),
            &Bytes48::new(*proof),
        )
        .map_err(kzg_error("point proof verification"))
}

/// Computes the 128 EIP-7594 cell proofs of `blob`, for PeerDAS sidecars.
pub fn cell_proofs(blob: &Blob) -> Result<Vec<G1Bytes>, DaError> {
    let (_cells, proofs) = settings()
        .compute_cells_and_kzg_proofs(blob.as_ckzg())
        .map_err(kzg_error("cell proofs"))?;
    Ok(proofs
        .iter()
        .map(|proof| proof.to_bytes().into_inner())
        .collect())
}

/// Returns the versioned hash of a commitment: `0x01 ‖ sha256(commitment)[1..32]`.
pub fn versioned_hash(commitment: &G1Bytes) -> [u8; 32] {
    let mut hash: [u8; 32] = Sha256::digest(commitment).into();
    hash[0] = VERSIONED_HASH_VERSION_KZG;
    hash
}
