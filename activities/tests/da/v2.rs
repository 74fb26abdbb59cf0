//! 0.13.3+ pipeline on 1000 consecutive Sepolia blocks: squash, aliases, encoding, stateless
//! compression and blobs.

use std::collections::BTreeMap;

use orchestrator_activities::da::blob::felts_to_blobs;
use orchestrator_activities::da::encode::encode_v2;
use orchestrator_activities::da::felt::{parse_felt_json_array, parse_hex};
use orchestrator_activities::da::reader::RecordedState;
use orchestrator_activities::da::squash::{merge, squash};
use orchestrator_activities::da::state_update::{
    StateUpdate, parse_state_update, parse_state_updates,
};
use orchestrator_activities::da::state_updates_to_blobs;
use orchestrator_activities::da::stateful::{ALIAS_CONTRACT, aliases_to_read, compress_stateful};
use orchestrator_activities::da::{DEFAULT_MAX_BLOBS, DaLayout, NoNonces, stateless};
use starknet_types_core::felt::Felt;

use crate::common::{read_blob, read_fixture};

const DIR: &str = "da-v2/9662264";

fn fixture_update(name: &str) -> StateUpdate {
    parse_state_update(&read_fixture(&format!("{DIR}/{name}"))).unwrap()
}

fn block_updates() -> Vec<StateUpdate> {
    parse_state_updates(&read_fixture(&format!("{DIR}/state_updates.json"))).unwrap()
}

/// Storage values before the range for every slot the squash reads.
///
/// The squashed fixture keeps every write, so each value before the range differs from the
/// final one. None of the kept final values is zero, so zero is used for the unrecorded
/// values. For the block-hash contract 0x1 and new aliases in 0x2 zero is the real value.
fn squash_reads(updates: &[StateUpdate]) -> BTreeMap<(Felt, Felt), Felt> {
    let merged = merge(updates).unwrap().state_diff;
    let deployed: Vec<Felt> = merged
        .deployed_contracts
        .iter()
        .map(|c| c.address)
        .collect();
    let mut reads = BTreeMap::new();
    for contract in merged
        .storage_diffs
        .iter()
        .filter(|c| !deployed.contains(&c.address))
    {
        for entry in &contract.storage_entries {
            assert_ne!(
                entry.value,
                Felt::ZERO,
                "zero stands in for a value that must differ"
            );
            reads.insert((contract.address, entry.key), Felt::ZERO);
        }
    }
    reads
}

/// Returns the 154 aliases recorded from contract 0x2 before the range.
fn alias_reads() -> BTreeMap<(Felt, Felt), Felt> {
    let json = include_str!("../data/da_v2_9662264_alias_reads.json");
    let recorded: BTreeMap<String, String> = serde_json::from_str(json).unwrap();
    recorded
        .iter()
        .map(|(key, alias)| {
            (
                (ALIAS_CONTRACT, parse_hex(key).unwrap()),
                parse_hex(alias).unwrap(),
            )
        })
        .collect()
}

#[test]
fn encode_and_stateless_match_fixture() {
    let stateful = fixture_update("stateful_compressed_state_update.json");
    let encoded = encode_v2(&stateful.state_diff).unwrap();
    assert_eq!(encoded.len(), 6401, "encoded length");

    let compressed = stateless::compress(&encoded).unwrap();
    let expected = parse_felt_json_array(
        &read_fixture(&format!("{DIR}/stateless_compressed_state_update.json")),
        "stateless fixture",
    )
    .unwrap();
    assert_eq!(compressed.len(), 5120, "compressed length");
    assert_eq!(compressed, expected);
    assert_eq!(
        stateless::decompress(&expected).unwrap(),
        encoded,
        "decompression"
    );
}

#[test]
fn chunk_and_fft_match_blobs() {
    let compressed = parse_felt_json_array(
        &read_fixture(&format!("{DIR}/stateless_compressed_state_update.json")),
        "stateless fixture",
    )
    .unwrap();
    let blobs = felts_to_blobs(&compressed, DEFAULT_MAX_BLOBS).unwrap();
    assert_eq!(blobs.len(), 2);
    for (index, blob) in blobs.iter().enumerate() {
        let expected = read_blob(&format!("{DIR}/blobs/{}.txt", index + 1));
        assert!(*blob == expected, "blob {} differs", index + 1);
    }
}

#[tokio::test]
async fn squash_matches_fixture() {
    let updates = block_updates();
    assert_eq!(updates.len(), 1000);
    let reader = RecordedState {
        storage: squash_reads(&updates),
        ..RecordedState::default()
    };
    let squashed = squash(&updates, &reader).await.unwrap();
    assert_eq!(squashed, fixture_update("squashed_state_update.json"));
}

#[tokio::test]
async fn squash_drops_writes_equal_to_previous_value() {
    let updates = block_updates();
    let mut storage = squash_reads(&updates);
    let expected = fixture_update("squashed_state_update.json");

    // Report the final value of one slot of the ETH token as its value before the range.
    let eth =
        parse_hex("0x49d36570d4e46f48e99674bd3fcc84644ddd6b96f7c741b1562b82f9e004dc7").unwrap();
    let token = expected
        .state_diff
        .storage_diffs
        .iter()
        .find(|c| c.address == eth)
        .unwrap();
    let unchanged = token.storage_entries[0];
    storage.insert((token.address, unchanged.key), unchanged.value);

    let reader = RecordedState {
        storage,
        ..RecordedState::default()
    };
    let squashed = squash(&updates, &reader).await.unwrap();
    let contract = squashed
        .state_diff
        .storage_diffs
        .iter()
        .find(|contract| contract.address == token.address)
        .unwrap();
    assert_eq!(
        contract.storage_entries.len(),
        token.storage_entries.len() - 1
    );
    assert!(
        !contract.storage_entries.contains(&unchanged),
        "unchanged write kept"
    );
}

#[tokio::test]
async fn stateful_compression_matches_fixture() {
    let squashed = fixture_update("squashed_state_update.json");
    assert_eq!(
        aliases_to_read(&squashed.state_diff).len(),
        154,
        "aliases to read"
    );
    let reader = RecordedState {
        storage: alias_reads(),
        ..RecordedState::default()
    };
    let compressed = compress_stateful(&squashed, &reader).await.unwrap();
    assert_eq!(
        compressed,
        fixture_update("stateful_compressed_state_update.json")
    );
}

#[tokio::test]
async fn stateful_compression_without_aliases_fails() {
    let squashed = fixture_update("squashed_state_update.json");
    let mut storage = alias_reads();
    let (slot, _) = storage.pop_first().unwrap();
    storage.insert(slot, Felt::ZERO);
    let reader = RecordedState {
        storage,
        ..RecordedState::default()
    };
    let error = compress_stateful(&squashed, &reader)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains(&format!("{:#x}", slot.1)), "{error}");
}

#[tokio::test]
async fn full_pipeline_matches_blobs() {
    let updates = block_updates();
    let mut storage = squash_reads(&updates);
    storage.extend(alias_reads());
    let reader = RecordedState {
        storage,
        ..RecordedState::default()
    };
    let layout = DaLayout::for_starknet_version("0.14.0").unwrap();

    let payload = state_updates_to_blobs(&updates, layout, &reader, &NoNonces, DEFAULT_MAX_BLOBS)
        .await
        .unwrap();
    assert_eq!(payload.felts.len(), 5120);
    assert_eq!(payload.blobs.len(), 2);
    for (index, blob) in payload.blobs.iter().enumerate() {
        let expected = read_blob(&format!("{DIR}/blobs/{}.txt", index + 1));
        assert!(*blob == expected, "blob {} differs", index + 1);
    }
}
