//! Aggregator DA segment of an L2 batch against the aggregator's program output.

use orchestrator_activities::da::DEFAULT_MAX_BLOBS;
use orchestrator_activities::da::felt::parse_felt_json_array;
use orchestrator_activities::da::field::{felt_to_scalar, scalar_to_be_bytes};
use orchestrator_activities::da::program_output::{OutputLayout, ProgramOutput, check_blobs};
use orchestrator_activities::da::segment::{da_segment_to_blobs, parse_da_segment};

use crate::common::read_fixture;

#[test]
fn segment_blob_evaluates_to_output_y() {
    let segment = parse_da_segment(&read_fixture("da-segment/batch_1/da_segment.json")).unwrap();
    assert_eq!(segment.len(), 186);
    let felts = parse_felt_json_array(
        &read_fixture("da-segment/batch_1/program_output.json"),
        "program output",
    )
    .unwrap();
    let output = ProgramOutput::parse(&felts, OutputLayout::V0_13_2).unwrap();
    let kzg = output.kzg.as_ref().unwrap();

    let blobs = da_segment_to_blobs(&segment, DEFAULT_MAX_BLOBS).unwrap();
    assert_eq!(blobs.len(), kzg.y_values.len());
    let x0 = felt_to_scalar(&kzg.x0);
    for (index, blob) in blobs.iter().enumerate() {
        let y = scalar_to_be_bytes(&blob.evaluate(&x0));
        assert_eq!(
            hex::encode(y),
            hex::encode(kzg.y_values[index]),
            "blob {index}"
        );
    }
    check_blobs(&output, &blobs).unwrap();
}
