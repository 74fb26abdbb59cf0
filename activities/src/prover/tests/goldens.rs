//! Facts and program outputs of the recorded PIEs.

use std::io::{Cursor, Read, Write};

use alloy::primitives::B256;
use starknet_types_core::felt::Felt;

use super::{pie_path, read_pie};
use crate::prover::error::{FactError, PieError};
use crate::prover::fact::compute_fact_info;
use crate::prover::pie::{CairoPie, PIE_ENTRIES, read_execution_resources};

const FIBONACCI_FACT: &str = "0xca15503f02f8406b599cb220879e842394f5cf2cef753f3ee430647b5981b782";
const SEPOLIA_924016_FACT: &str =
    "0x033144ad6b132b1012f15e50aa53de1ed91b3b1af729014c3f1c00b702f972ea";

fn fact_of(name: &str) -> B256 {
    let pie = CairoPie::read(&pie_path(name)).expect("fixture PIE reads");
    compute_fact_info(&pie).expect("fact computes").fact
}

#[test]
fn fibonacci_fact_matches_golden() {
    assert_eq!(
        fact_of("fibonacci.zip"),
        FIBONACCI_FACT.parse::<B256>().unwrap()
    );
}

#[test]
fn sepolia_924016_fact_matches_golden() {
    assert_eq!(
        fact_of("sepolia_924016.zip"),
        SEPOLIA_924016_FACT.parse::<B256>().unwrap()
    );
}

#[test]
fn sepolia_924016_output_is_os_output() {
    let pie = CairoPie::read(&pie_path("sepolia_924016.zip")).unwrap();
    let output = pie.program_output().unwrap();

    assert_eq!(output.len(), 23);
    // The OS output starts with the old and new state roots, then the previous and new block
    // numbers.
    assert_eq!(
        output[0],
        Felt::from_hex("0x20efa82154be618e8cbc035a2f473055e470e6de3c2a911d01ef6275bc1f6b7")
            .unwrap()
    );
    assert_eq!(output[2], Felt::from(924_015u64));
    assert_eq!(output[3], Felt::from(924_016u64));
    assert_eq!(
        output[21],
        Felt::from_hex("0x7ff9f9b0936ce9f618ffcf0391ac30da54119de73a01b07af0548fdbd360ad8")
            .unwrap()
    );
}

#[test]
fn sepolia_924016_topology_has_two_pages() {
    let pie = CairoPie::read(&pie_path("sepolia_924016.zip")).unwrap();
    let info = compute_fact_info(&pie).unwrap();
    assert_eq!(info.fact_topology.tree_structure, vec![2, 1, 0, 2]);
    assert_eq!(info.fact_topology.page_sizes, vec![12, 11]);
}

#[test]
fn fibonacci_output_is_one_felt() {
    let pie = CairoPie::read(&pie_path("fibonacci.zip")).unwrap();
    let output = pie.program_output().unwrap();
    assert_eq!(output.len(), 1);
    assert_eq!(pie.program.builtins, vec!["output".to_owned()]);
}

#[test]
fn step_counts_match_execution_resources() {
    assert_eq!(
        read_execution_resources(&read_pie("fibonacci.zip"))
            .unwrap()
            .n_steps,
        72
    );
    assert_eq!(
        read_execution_resources(&read_pie("sepolia_924016.zip"))
            .unwrap()
            .n_steps,
        15_135
    );
}

/// Rewrites the fibonacci PIE without `entry`.
fn fibonacci_without(entry: &str) -> Vec<u8> {
    let original = read_pie("fibonacci.zip");
    let mut archive = zip::ZipArchive::new(Cursor::new(original)).unwrap();
    let mut rewritten = Vec::new();
    {
        let mut writer = zip::ZipWriter::new(Cursor::new(&mut rewritten));
        for index in 0..archive.len() {
            let mut file = archive.by_index(index).unwrap();
            if file.name() == entry {
                continue;
            }
            let name = file.name().to_owned();
            let mut contents = Vec::new();
            file.read_to_end(&mut contents).unwrap();
            writer
                .start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            writer.write_all(&contents).unwrap();
        }
        writer.finish().unwrap();
    }
    rewritten
}

#[test]
fn each_missing_entry_is_named() {
    for entry in PIE_ENTRIES {
        let error = CairoPie::from_zip_bytes(&fibonacci_without(entry)).unwrap_err();
        assert!(
            matches!(error, PieError::MissingEntry { entry: missing } if missing == entry),
            "removing {entry} gave: {error}"
        );
        assert!(
            error.to_string().contains(entry),
            "message for {entry}: {error}"
        );
    }
}

#[test]
fn non_zip_file_is_rejected() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(b"{\"not\": \"a zip\"}").unwrap();
    let error = CairoPie::read(file.path()).unwrap_err();
    assert!(
        matches!(error, PieError::NotAZip { .. }),
        "unexpected error: {error}"
    );
    assert!(error.to_string().contains("not a zip"), "message: {error}");
}

#[test]
fn missing_file_names_path() {
    let error = CairoPie::read(&pie_path("absent.zip")).unwrap_err();
    assert!(error.to_string().contains("absent.zip"), "message: {error}");
}

#[test]
fn fact_error_wraps_pie_error() {
    let error: FactError = PieError::NoOutputSegment.into();
    assert!(
        error.to_string().contains("output builtin"),
        "message: {error}"
    );
}
