//! Program output of a Sepolia state update against the blob it settled with.

use orchestrator_activities::da::DaError;
use orchestrator_activities::da::felt::parse_felt_lines;
use orchestrator_activities::da::program_output::{OutputLayout, ProgramOutput, check_blobs};
use starknet_types_core::felt::Felt;

use crate::common::{read_blob, read_fixture};

fn output_felts() -> Vec<Felt> {
    let text = read_fixture("settlement/6806848/program_output.txt");
    parse_felt_lines(&text, "program output").unwrap()
}

#[test]
fn output_6806848_fields() {
    let felts = output_felts();
    let output = ProgramOutput::parse(&felts, OutputLayout::V0_13_2).unwrap();
    assert_eq!(output.new_block_number_u64().unwrap(), 218402);
    assert_eq!(output.prev_block_number, Some(Felt::from(218378u32)));
    let kzg = output.kzg.as_ref().unwrap();
    assert_eq!(kzg.x0, felts[10]);
    assert_eq!(kzg.commitments.len(), 1);
    assert_eq!(kzg.commitments[0][..24], felts[13].to_bytes_be()[8..]);
    assert_eq!(kzg.commitments[0][24..], felts[12].to_bytes_be()[8..]);
    assert_eq!(kzg.y_values[0][..16], felts[15].to_bytes_be()[16..]);
    assert_eq!(kzg.y_values[0][16..], felts[14].to_bytes_be()[16..]);
    assert_eq!(output.messages_to_l1.len(), 5);
    assert!(output.messages_to_l2.is_empty());
}

#[test]
fn blob_6806848_matches_output() {
    let output = ProgramOutput::parse(&output_felts(), OutputLayout::V0_13_2).unwrap();
    let blob = read_blob("settlement/6806848/blob.hex");
    check_blobs(&output, &[blob]).unwrap();
}

#[test]
fn wrong_y_names_blob_and_values() {
    let mut output = ProgramOutput::parse(&output_felts(), OutputLayout::V0_13_2).unwrap();
    let kzg = output.kzg.as_mut().unwrap();
    kzg.y_values[0][31] ^= 1;
    let expected = format!("0x{}", hex::encode(kzg.y_values[0]));
    let blob = read_blob("settlement/6806848/blob.hex");
    let error = check_blobs(&output, &[blob]).unwrap_err();
    assert!(
        matches!(error, DaError::EvaluationMismatch { blob_index: 0, .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("blob 0"), "{message}");
    assert!(message.contains(&expected), "{message}");
}

#[test]
fn wrong_commitment_names_blob() {
    let mut output = ProgramOutput::parse(&output_felts(), OutputLayout::V0_13_2).unwrap();
    output.kzg.as_mut().unwrap().commitments[0][47] ^= 1;
    let blob = read_blob("settlement/6806848/blob.hex");
    let error = check_blobs(&output, &[blob]).unwrap_err();
    assert!(
        matches!(error, DaError::CommitmentMismatch { blob_index: 0, .. }),
        "{error}"
    );
}

#[test]
fn blob_count_mismatch_is_reported() {
    let output = ProgramOutput::parse(&output_felts(), OutputLayout::V0_13_2).unwrap();
    let blob = read_blob("settlement/6806848/blob.hex");
    let error = check_blobs(&output, &[blob.clone(), blob]).unwrap_err();
    assert!(
        matches!(
            error,
            DaError::BlobCountMismatch {
                expected: 1,
                actual: 2
            }
        ),
        "{error}"
    );
}

#[test]
fn v0_13_1_layout_kzg_segment() {
    // Header of six words, then commitment limbs, x0, y limbs, and two empty message sections.
    let words: Vec<Felt> = [1u64, 2, 3, 4, 5, 1, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0]
        .map(Felt::from)
        .to_vec();
    let output = ProgramOutput::parse(&words, OutputLayout::V0_13_1).unwrap();
    assert_eq!(output.new_block_number_u64().unwrap(), 3);
    let kzg = output.kzg.unwrap();
    assert_eq!(kzg.x0, Felt::from(0x33u8));
    assert_eq!(kzg.commitments[0][23], 0x22);
    assert_eq!(kzg.commitments[0][47], 0x11);
    assert_eq!(kzg.y_values[0][15], 0x55);
    assert_eq!(kzg.y_values[0][31], 0x44);
}

#[test]
fn truncated_output_is_rejected() {
    let felts = output_felts();
    let error = ProgramOutput::parse(&felts[..14], OutputLayout::V0_13_2).unwrap_err();
    assert!(
        matches!(error, DaError::ProgramOutputTooShort { .. }),
        "{error}"
    );
}

#[test]
fn oversized_limb_is_rejected() {
    let mut felts = output_felts();
    felts[14] = Felt::TWO.pow(128u32);
    let error = ProgramOutput::parse(&felts, OutputLayout::V0_13_2)
        .unwrap_err()
        .to_string();
    assert!(error.contains("word 14"), "{error}");
    assert!(error.contains("128 bits"), "{error}");
}
