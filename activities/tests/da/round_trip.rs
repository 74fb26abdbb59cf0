//! Property tests: felts survive encoding, compression and the blob transform.

use orchestrator_activities::da::blob::{blobs_to_felts, felts_to_blobs};
use orchestrator_activities::da::encode::encode_v2;
use orchestrator_activities::da::state_update::{
    ContractStorageDiff, DeclaredClass, NonceUpdate, StateDiff, StorageEntry,
};
use orchestrator_activities::da::stateless;
use proptest::prelude::*;
use starknet_types_core::felt::Felt;

/// Felts of every bucket width, with repeats, so stateless compression uses all its paths.
fn felt_strategy() -> impl Strategy<Value = Felt> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(|bytes| Felt::from_bytes_be(&bytes)),
        any::<u128>().prop_map(|value| Felt::from(value >> 3)),
        any::<u64>().prop_map(Felt::from),
        (0u64..64).prop_map(Felt::from),
    ]
}

fn felts_strategy() -> impl Strategy<Value = Vec<Felt>> {
    prop_oneof![
        prop::collection::vec(felt_strategy(), 1..200),
        prop::collection::vec(felt_strategy(), 1..=20_000),
    ]
}

fn diff_strategy() -> impl Strategy<Value = StateDiff> {
    let contract = (
        felt_strategy(),
        prop::collection::vec((felt_strategy(), felt_strategy()), 0..300),
    );
    (
        prop::collection::vec(contract, 0..20),
        prop::collection::vec((felt_strategy(), any::<u32>()), 0..20),
        prop::collection::vec((felt_strategy(), felt_strategy()), 0..10),
    )
        .prop_map(|(contracts, nonces, classes)| StateDiff {
            storage_diffs: contracts
                .into_iter()
                .map(|(address, entries)| ContractStorageDiff {
                    address,
                    storage_entries: entries
                        .into_iter()
                        .map(|(key, value)| StorageEntry { key, value })
                        .collect(),
                })
                .collect(),
            nonces: nonces
                .into_iter()
                .map(|(contract_address, nonce)| NonceUpdate {
                    contract_address,
                    nonce: nonce.into(),
                })
                .collect(),
            declared_classes: classes
                .into_iter()
                .map(|(class_hash, compiled_class_hash)| DeclaredClass {
                    class_hash,
                    compiled_class_hash,
                })
                .collect(),
            ..StateDiff::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn blobs_decode_to_felts(felts in felts_strategy()) {
        let blobs = felts_to_blobs(&felts, 6).unwrap();
        prop_assert_eq!(blobs.len(), felts.len().div_ceil(4096));
        let decoded = blobs_to_felts(&blobs).unwrap();
        prop_assert_eq!(&decoded[..felts.len()], &felts[..]);
        prop_assert!(decoded[felts.len()..].iter().all(|felt| *felt == Felt::ZERO));
    }

    #[test]
    fn stateless_compression_round_trips(felts in felts_strategy()) {
        let compressed = stateless::compress(&felts).unwrap();
        prop_assert_eq!(stateless::decompress(&compressed).unwrap(), felts);
    }

    #[test]
    fn encoded_diff_survives_blobs(diff in diff_strategy()) {
        let encoded = encode_v2(&diff).unwrap();
        let compressed = stateless::compress(&encoded).unwrap();
        let blobs = felts_to_blobs(&compressed, 6).unwrap();
        let decoded = blobs_to_felts(&blobs).unwrap();
        let recovered = stateless::decompress(&decoded[..compressed.len()]).unwrap();
        prop_assert_eq!(recovered, encoded);
    }
}
