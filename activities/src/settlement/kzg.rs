//! KZG computations that a state update needs: commitments, the opening of each blob at the
//! program output's x0, and the blob transaction sidecar.
//!
//! TODO: switch to `activities::da::kzg` once that module offers point proofs at x0, so that
//! blob parsing and KZG code live in one place.

use alloy::eips::eip4844::{AsAlloy, AsCkzg, BYTES_PER_BLOB, Blob, BlobTransactionSidecar};
use alloy::eips::eip7594::{BlobTransactionSidecarEip7594, BlobTransactionSidecarVariant};
use alloy::primitives::B256;
use c_kzg::KzgSettings;

use super::error::BlobError;

pub use alloy::eips::eip4844::Bytes48;

/// Precomputation level of the mainnet trusted setup, as alloy uses it.
const KZG_PRECOMPUTE: u64 = 8;

/// Kind of blob proofs in the transaction sidecar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SidecarKind {
    /// One EIP-4844 blob proof per blob: the only kind nodes accept before Fusaka (Osaka).
    #[default]
    Eip4844,
    /// EIP-7594 (PeerDAS) cell proofs, 128 per blob: required by nodes from Fusaka (Osaka) on.
    Eip7594,
}

/// Commitment of one blob and its opening at x0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobOpening {
    /// KZG commitment of the blob.
    pub commitment: Bytes48,
    /// KZG proof that the blob polynomial takes the value `evaluation` at x0.
    pub proof: Bytes48,
    /// Value of the blob polynomial at x0.
    pub evaluation: B256,
}

fn settings() -> &'static KzgSettings {
    c_kzg::ethereum_kzg_settings(KZG_PRECOMPUTE)
}

/// Parses a blob given as 262144 hex characters, with or without `0x` and surrounding
/// whitespace. `index` is the 1-based blob position used in errors.
pub fn parse_blob_hex(text: &str, index: usize) -> Result<Blob, BlobError> {
    let text = text.trim();
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let bytes = hex::decode(digits).map_err(|error| BlobError::InvalidBlob {
        index,
        reason: format!("not hex: {error}"),
    })?;
    Blob::try_from(bytes.as_slice()).map_err(|_| BlobError::InvalidBlob {
        index,
        reason: format!("{} bytes instead of {BYTES_PER_BLOB}", bytes.len()),
    })
}

/// Computes the commitment of `blob` and opens it at `x0`. `index` is the 1-based blob
/// position used in errors.
pub fn open_blob(blob: &Blob, x0: B256, index: usize) -> Result<BlobOpening, BlobError> {
    let kzg_error = |error: c_kzg::Error| BlobError::Kzg {
        index,
        message: error.to_string(),
    };
    let blob = blob.as_ckzg();
    let commitment = settings().blob_to_kzg_commitment(blob).map_err(kzg_error)?;
    let z = c_kzg::Bytes32::from(x0.0);
    let (proof, evaluation) = settings().compute_kzg_proof(blob, &z).map_err(kzg_error)?;
    Ok(BlobOpening {
        commitment: Bytes48::from(*commitment.to_bytes()),
        proof: Bytes48::from(*proof.to_bytes()),
        evaluation: B256::from(*evaluation),
    })
}

/// Builds the transaction sidecar for `blobs` with the given commitments (in blob order).
pub fn build_sidecar(
    blobs: Vec<Blob>,
    commitments: Vec<Bytes48>,
    kind: SidecarKind,
) -> Result<BlobTransactionSidecarVariant, BlobError> {
    match kind {
        SidecarKind::Eip4844 => {
            let mut proofs = Vec::with_capacity(blobs.len());
            for (position, (blob, commitment)) in blobs.iter().zip(&commitments).enumerate() {
                let proof = settings()
                    .compute_blob_kzg_proof(blob.as_ckzg(), commitment.as_ckzg())
                    .map_err(|error| BlobError::Kzg {
                        index: position + 1,
                        message: error.to_string(),
                    })?;
                proofs.push(Bytes48::from(*proof.to_bytes()));
            }
            Ok(BlobTransactionSidecar::new(blobs, commitments, proofs).into())
        }
        SidecarKind::Eip7594 => {
            let mut cell_proofs = Vec::new();
            for (position, blob) in blobs.iter().enumerate() {
                let (_cells, proofs) = settings()
                    .compute_cells_and_kzg_proofs(blob.as_ckzg())
                    .map_err(|error| BlobError::Kzg {
                        index: position + 1,
                        message: error.to_string(),
                    })?;
                cell_proofs.extend_from_slice(c_kzg::KzgProof::slice_as_alloy(proofs.as_ref()));
            }
            Ok(BlobTransactionSidecarEip7594::new(blobs, commitments, cell_proofs).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_blob(seed: u8) -> Blob {
        let mut bytes = [0u8; BYTES_PER_BLOB];
        for (index, element) in bytes.chunks_mut(32).enumerate() {
            element[31] = seed;
            element[30] = (index % 251) as u8;
        }
        Blob::from(bytes)
    }

    fn sidecar_of(kind: SidecarKind) -> BlobTransactionSidecarVariant {
        let blobs = vec![test_blob(1), test_blob(2)];
        let commitments = blobs
            .iter()
            .enumerate()
            .map(|(index, blob)| {
                open_blob(blob, B256::ZERO, index + 1)
                    .expect("opening")
                    .commitment
            })
            .collect();
        build_sidecar(blobs, commitments, kind).expect("sidecar")
    }

    #[test]
    fn blob_proof_sidecar_validates() {
        let sidecar = sidecar_of(SidecarKind::Eip4844);
        let hashes: Vec<B256> = sidecar.versioned_hashes().collect();
        assert!(sidecar.is_eip4844());
        sidecar
            .validate(&hashes, settings())
            .expect("blob proofs verify");
    }

    #[test]
    fn cell_proof_sidecar_validates() {
        let sidecar = sidecar_of(SidecarKind::Eip7594);
        let hashes: Vec<B256> = sidecar.versioned_hashes().collect();
        let cell_proofs = sidecar
            .as_eip7594()
            .expect("cell proof sidecar")
            .cell_proofs
            .len();
        assert_eq!(cell_proofs, 2 * 128);
        sidecar
            .validate(&hashes, settings())
            .expect("cell proofs verify");
    }

    #[test]
    fn opening_verifies_at_point() {
        let blob = test_blob(3);
        let x0 = B256::from(alloy::primitives::U256::from(12_345));
        let opening = open_blob(&blob, x0, 1).expect("opening");
        let verified = settings()
            .verify_kzg_proof(
                opening.commitment.as_ckzg(),
                &c_kzg::Bytes32::from(x0.0),
                &c_kzg::Bytes32::from(opening.evaluation.0),
                opening.proof.as_ckzg(),
            )
            .expect("verification runs");
        assert!(verified, "proof at x0 verifies against the commitment");
    }

    #[test]
    fn parse_blob_hex_rejects_short_input() {
        let error = parse_blob_hex("0x00ff", 2).expect_err("short blob");
        assert!(error.to_string().contains("blob 2"), "{error}");
        assert!(
            error.to_string().contains("2 bytes instead of 131072"),
            "{error}"
        );
    }
}
