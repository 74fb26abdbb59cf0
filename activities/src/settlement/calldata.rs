//! The `updateStateKzgDA(uint256[] programOutput, bytes[] kzgProofs)` call: KZG proofs at the
//! output's x0, byte-exact calldata, and the blob sidecar that goes with it.

use alloy::eips::eip4844::Blob;
use alloy::eips::eip7594::BlobTransactionSidecarVariant;
use alloy::primitives::{B256, Bytes};
use alloy::sol_types::SolCall;

use super::contracts::StarknetCoreLocal::updateStateKzgDACall;
use super::error::BlobError;
use super::kzg::{self, Bytes48, SidecarKind};
use super::program_output::ProgramOutput;

/// Selector of `updateStateKzgDA(uint256[],bytes[])`.
pub const UPDATE_STATE_KZG_DA_SELECTOR: [u8; 4] = updateStateKzgDACall::SELECTOR;

/// Opens every blob at the output's x0 and checks that the blob's commitment and evaluation
/// are the ones the output states. Returns one 48-byte KZG proof per blob, in order.
pub fn compute_kzg_proofs(
    output: &ProgramOutput,
    blobs: &[Blob],
) -> Result<Vec<Bytes48>, BlobError> {
    if blobs.len() != output.n_blobs() {
        return Err(BlobError::CountMismatch {
            expected: output.n_blobs(),
            found: blobs.len(),
        });
    }
    let mut proofs = Vec::with_capacity(blobs.len());
    for (position, blob) in blobs.iter().enumerate() {
        let index = position + 1;
        let opening = kzg::open_blob(blob, output.x0(), index)?;
        let expected_commitment = output.commitment(position);
        if opening.commitment != expected_commitment {
            return Err(BlobError::CommitmentMismatch {
                index,
                expected: expected_commitment.to_string(),
                computed: opening.commitment.to_string(),
            });
        }
        let expected_evaluation = output.evaluation(position);
        if opening.evaluation != expected_evaluation {
            return Err(BlobError::EvaluationMismatch {
                index,
                expected: expected_evaluation,
                computed: opening.evaluation,
            });
        }
        proofs.push(opening.proof);
    }
    Ok(proofs)
}

/// Encodes the call: the selector, then the standard ABI encoding of the two dynamic arrays.
pub fn encode_update_state_calldata(output: &ProgramOutput, kzg_proofs: &[Bytes48]) -> Bytes {
    let call = updateStateKzgDACall {
        programOutput: output.words().to_vec(),
        kzgProofs: kzg_proofs
            .iter()
            .map(|proof| Bytes::copy_from_slice(proof.as_slice()))
            .collect(),
    };
    Bytes::from(call.abi_encode())
}

/// Decodes calldata of `updateStateKzgDA`, checking the selector.
pub fn decode_update_state_calldata(
    calldata: &[u8],
) -> Result<updateStateKzgDACall, alloy::sol_types::Error> {
    updateStateKzgDACall::abi_decode(calldata)
}

/// Everything a state update transaction carries besides its fees and nonce.
#[derive(Clone, Debug)]
pub struct StateUpdate {
    output: ProgramOutput,
    calldata: Bytes,
    sidecar: BlobTransactionSidecarVariant,
    blob_versioned_hashes: Vec<B256>,
}

impl StateUpdate {
    /// Computes the KZG proofs and the sidecar for `output` and its blobs (in blob order).
    /// Fails if a blob does not match the commitment or evaluation the output states.
    pub fn prepare(
        output: ProgramOutput,
        blobs: Vec<Blob>,
        sidecar_kind: SidecarKind,
    ) -> Result<Self, BlobError> {
        let proofs = compute_kzg_proofs(&output, &blobs)?;
        let calldata = encode_update_state_calldata(&output, &proofs);
        let commitments = (0..output.n_blobs())
            .map(|index| output.commitment(index))
            .collect();
        let sidecar = kzg::build_sidecar(blobs, commitments, sidecar_kind)?;
        let blob_versioned_hashes = sidecar.versioned_hashes().collect();
        Ok(Self {
            output,
            calldata,
            sidecar,
            blob_versioned_hashes,
        })
    }

    /// Returns the program output being settled.
    pub fn program_output(&self) -> &ProgramOutput {
        &self.output
    }

    /// Returns the calldata of `updateStateKzgDA`.
    pub fn calldata(&self) -> &Bytes {
        &self.calldata
    }

    /// Returns the blob sidecar.
    pub fn sidecar(&self) -> &BlobTransactionSidecarVariant {
        &self.sidecar
    }

    /// Returns the versioned hashes of the blobs, in blob order.
    pub fn blob_versioned_hashes(&self) -> &[B256] {
        &self.blob_versioned_hashes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::U256;

    #[test]
    fn selector_matches_starknet_core_contract() {
        assert_eq!(UPDATE_STATE_KZG_DA_SELECTOR, [0x50, 0x7e, 0xe5, 0x28]);
    }

    #[test]
    fn calldata_layout_is_standard_abi() {
        let mut words: Vec<U256> = vec![U256::ZERO; 18];
        words[8] = U256::from(1);
        words[11] = U256::from(1);
        let output = ProgramOutput::from_words(words).expect("valid output");
        let proof = Bytes48::repeat_byte(0xab);
        let calldata = encode_update_state_calldata(&output, &[proof]);

        let word =
            |index: usize| U256::from_be_slice(&calldata[4 + 32 * index..4 + 32 * (index + 1)]);
        let n = output.words().len();
        assert_eq!(calldata[..4], UPDATE_STATE_KZG_DA_SELECTOR);
        assert_eq!(word(0), U256::from(0x40));
        assert_eq!(word(1), U256::from(0x60 + 32 * n));
        assert_eq!(word(2), U256::from(n));
        let proofs_at = 3 + n;
        assert_eq!(word(proofs_at), U256::from(1), "proof count");
        assert_eq!(
            word(proofs_at + 1),
            U256::from(32),
            "offset of the first proof"
        );
        assert_eq!(
            word(proofs_at + 2),
            U256::from(48),
            "length of the first proof"
        );
        let proof_start = 4 + 32 * (proofs_at + 3);
        assert_eq!(&calldata[proof_start..proof_start + 48], proof.as_slice());
        assert_eq!(
            &calldata[proof_start + 48..],
            &[0u8; 16],
            "proof padded to 64 bytes"
        );
    }
}
