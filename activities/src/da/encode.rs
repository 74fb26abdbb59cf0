//! Encoding of a state diff into the felts that the Starknet OS publishes as data availability.
//!
//! Layout, both encodings: `[n_contracts, (address, da_word, class_hash?, (key, value)*)*,
//! n_classes, (class_hash, compiled_class_hash)*]`. Contracts are sorted by address, storage
//! entries by key and classes by class hash. Every contract that appears anywhere in the diff
//! (storage, deployment, class replacement, nonce) is listed once. Its `class_hash` is present
//! when the contract was deployed or its class replaced. Deprecated (Cairo 0) declarations are
//! not published.

use std::collections::BTreeMap;

use starknet_types_core::felt::Felt;

use super::error::DaError;
use super::nonces::{NoNonces, NonceSource};
use super::state_update::StateDiff;
use super::version::Encoding;

/// Block-hash contract; it has no nonce.
const BLOCK_HASH_CONTRACT: Felt = Felt::ONE;
/// Alias contract of stateful compression; it has no nonce.
const ALIAS_CONTRACT: Felt = Felt::TWO;

/// Everything the encoding publishes about one contract.
#[derive(Debug, Default)]
struct ContractUpdate {
    class_hash: Option<Felt>,
    nonce: Option<Felt>,
    deployed: bool,
    storage: BTreeMap<Felt, Felt>,
}

/// Groups the diff by contract address, in ascending address order.
fn contract_updates(diff: &StateDiff) -> BTreeMap<Felt, ContractUpdate> {
    let mut contracts: BTreeMap<Felt, ContractUpdate> = BTreeMap::new();
    for storage_diff in &diff.storage_diffs {
        let contract = contracts.entry(storage_diff.address).or_default();
        for entry in &storage_diff.storage_entries {
            contract.storage.insert(entry.key, entry.value);
        }
    }
    for deployed in &diff.deployed_contracts {
        let contract = contracts.entry(deployed.address).or_default();
        contract.deployed = true;
        contract.class_hash.get_or_insert(deployed.class_hash);
    }
    // A replacement happens after any deployment in the same diff, so its class is the final one.
    for replaced in &diff.replaced_classes {
        contracts
            .entry(replaced.contract_address)
            .or_default()
            .class_hash = Some(replaced.class_hash);
    }
    for nonce in &diff.nonces {
        contracts.entry(nonce.contract_address).or_default().nonce = Some(nonce.nonce);
    }
    contracts
}

/// Lists the contracts whose nonce the legacy encoding needs from a [`NonceSource`].
///
/// These are the contracts the diff touches without a new nonce, except contracts deployed in
/// the diff (nonce 0) and the system contracts 0x1 and 0x2.
pub fn contracts_needing_nonce(diff: &StateDiff) -> Vec<Felt> {
    contract_updates(diff)
        .into_iter()
        .filter(|(address, contract)| needs_nonce_lookup(address, contract))
        .map(|(address, _)| address)
        .collect()
}

fn needs_nonce_lookup(address: &Felt, contract: &ContractUpdate) -> bool {
    contract.nonce.is_none()
        && !contract.deployed
        && *address != BLOCK_HASH_CONTRACT
        && *address != ALIAS_CONTRACT
}

/// Encodes `diff` with the 0.13.3+ layout; nonces that did not change are published as 0.
pub fn encode_v2(diff: &StateDiff) -> Result<Vec<Felt>, DaError> {
    encode_state_diff(diff, Encoding::V2, &NoNonces)
}

/// Encodes `diff` with the pre-0.13.3 layout, taking unchanged nonces from `nonces`.
pub fn encode_legacy(diff: &StateDiff, nonces: &impl NonceSource) -> Result<Vec<Felt>, DaError> {
    encode_state_diff(diff, Encoding::Legacy, nonces)
}

/// Encodes `diff` into DA felts with `encoding`.
///
/// # Errors
/// [`DaError::MissingNonce`] when the legacy encoding needs a nonce `nonces` does not have, and
/// [`DaError::NonceTooLarge`] for a nonce of 64 bits or more.
pub fn encode_state_diff(
    diff: &StateDiff,
    encoding: Encoding,
    nonces: &impl NonceSource,
) -> Result<Vec<Felt>, DaError> {
    let contracts = contract_updates(diff);
    let mut felts = Vec::with_capacity(2 + 3 * contracts.len());
    felts.push(Felt::from(contracts.len()));

    for (address, contract) in &contracts {
        let nonce = match (encoding, contract.nonce) {
            (_, Some(nonce)) => nonce,
            (Encoding::V2, None) => Felt::ZERO,
            (Encoding::Legacy, None) if !needs_nonce_lookup(address, contract) => Felt::ZERO,
            (Encoding::Legacy, None) => nonces
                .nonce(address)
                .ok_or(DaError::MissingNonce { contract: *address })?,
        };
        let nonce = u64::try_from(nonce).map_err(|_| DaError::NonceTooLarge {
            contract: *address,
            nonce,
        })?;
        let class_flag = contract.class_hash.is_some();
        let n_updates = contract.storage.len() as u64;

        felts.push(*address);
        felts.push(da_word(encoding, class_flag, nonce, n_updates));
        felts.extend(contract.class_hash);
        for (key, value) in &contract.storage {
            felts.push(*key);
            felts.push(*value);
        }
    }

    // Migrated classes publish their new compiled class hash exactly like a declaration.
    let mut classes: BTreeMap<Felt, Felt> = BTreeMap::new();
    for class in &diff.declared_classes {
        classes.insert(class.class_hash, class.compiled_class_hash);
    }
    for class in &diff.migrated_compiled_classes {
        classes.insert(class.class_hash, class.compiled_class_hash);
    }
    felts.push(Felt::from(classes.len()));
    for (class_hash, compiled_class_hash) in classes {
        felts.push(class_hash);
        felts.push(compiled_class_hash);
    }
    Ok(felts)
}

/// Packs the per-contract header word.
///
/// - Legacy: `class_flag << 128 | nonce << 64 | n_updates`.
/// - V2: bit 0 is `class_flag` and bit 1 is set when `n_updates` fits in 8 bits. The word is
///   `nonce << 10 | n_updates << 2 | 0b10 | class_flag` when `n_updates < 256`, otherwise
///   `nonce << 66 | n_updates << 2 | class_flag`.
pub fn da_word(encoding: Encoding, class_flag: bool, nonce: u64, n_updates: u64) -> Felt {
    let flag = u128::from(class_flag);
    let (nonce, n_updates) = (u128::from(nonce), u128::from(n_updates));
    match encoding {
        Encoding::Legacy => {
            Felt::from(flag) * Felt::TWO.pow(128u32) + Felt::from(nonce << 64 | n_updates)
        }
        Encoding::V2 if n_updates < 256 => Felt::from(nonce << 10 | n_updates << 2 | 0b10 | flag),
        Encoding::V2 => {
            Felt::from(nonce) * Felt::TWO.pow(66u32) + Felt::from(n_updates << 2 | flag)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::da::state_update::{
        ContractStorageDiff, DeployedContract, NonceUpdate, ReplacedClass, StorageEntry,
    };

    fn decimal(text: &str) -> Felt {
        Felt::from_dec_str(text).unwrap()
    }

    #[test]
    fn legacy_da_word_matches_reference_vectors() {
        let cases = [
            (false, 1, 1, "18446744073709551617"),
            (false, 1, 0, "18446744073709551616"),
            (false, 0, 6, "6"),
            (true, 1, 0, "340282366920938463481821351505477763072"),
        ];
        for (class_flag, nonce, n_updates, expected) in cases {
            let word = da_word(Encoding::Legacy, class_flag, nonce, n_updates);
            assert_eq!(
                word,
                decimal(expected),
                "({class_flag}, {nonce}, {n_updates})"
            );
        }
    }

    #[test]
    fn v2_da_word_matches_reference_vectors() {
        let cases = [
            (false, 0, 15, "62"),
            (false, 0, 1024, "4096"),
            (false, 10, 0, "10242"),
            (false, 15, 2025, "1106804644422573105060"),
            (true, 0, 10, "43"),
            (true, 0, 1000, "4001"),
            (true, 20, 255, "21503"),
            (true, 1000, 256, "73786976294838206465025"),
        ];
        for (class_flag, nonce, n_updates, expected) in cases {
            let word = da_word(Encoding::V2, class_flag, nonce, n_updates);
            assert_eq!(
                word,
                decimal(expected),
                "({class_flag}, {nonce}, {n_updates})"
            );
        }
    }

    fn felt(value: u64) -> Felt {
        Felt::from(value)
    }

    #[test]
    fn replaced_class_without_storage_is_published() {
        let diff = StateDiff {
            replaced_classes: vec![ReplacedClass {
                contract_address: felt(0x500),
                class_hash: felt(0xc1a55),
            }],
            ..StateDiff::default()
        };
        let nonces = BTreeMap::from([(felt(0x500), felt(7))]);
        let felts = encode_legacy(&diff, &nonces).unwrap();
        let word = da_word(Encoding::Legacy, true, 7, 0);
        assert_eq!(
            felts,
            vec![felt(1), felt(0x500), word, felt(0xc1a55), felt(0)]
        );
    }

    #[test]
    fn contracts_listed_once_in_address_order() {
        let diff = StateDiff {
            storage_diffs: vec![ContractStorageDiff {
                address: felt(0x900),
                storage_entries: vec![
                    StorageEntry {
                        key: felt(9),
                        value: felt(1),
                    },
                    StorageEntry {
                        key: felt(3),
                        value: felt(2),
                    },
                ],
            }],
            deployed_contracts: vec![DeployedContract {
                address: felt(0x900),
                class_hash: felt(0xcc),
            }],
            nonces: vec![NonceUpdate {
                contract_address: felt(0x100),
                nonce: felt(4),
            }],
            ..StateDiff::default()
        };
        let felts = encode_v2(&diff).unwrap();
        let expected = vec![
            felt(2),
            felt(0x100),
            da_word(Encoding::V2, false, 4, 0),
            felt(0x900),
            da_word(Encoding::V2, true, 0, 2),
            felt(0xcc),
            felt(3),
            felt(2),
            felt(9),
            felt(1),
            felt(0),
        ];
        assert_eq!(felts, expected);
    }

    #[test]
    fn legacy_missing_nonce_names_contract() {
        let diff = StateDiff {
            storage_diffs: vec![ContractStorageDiff {
                address: felt(0xabc),
                storage_entries: vec![StorageEntry {
                    key: felt(1),
                    value: felt(1),
                }],
            }],
            ..StateDiff::default()
        };
        assert_eq!(contracts_needing_nonce(&diff), vec![felt(0xabc)]);
        let error = encode_legacy(&diff, &NoNonces).unwrap_err();
        assert!(matches!(error, DaError::MissingNonce { contract } if contract == felt(0xabc)));
        assert!(error.to_string().contains("0xabc"), "{error}");
    }

    #[test]
    fn system_contracts_need_no_nonce() {
        let diff = StateDiff {
            storage_diffs: vec![ContractStorageDiff {
                address: Felt::ONE,
                storage_entries: vec![StorageEntry {
                    key: felt(10),
                    value: felt(11),
                }],
            }],
            ..StateDiff::default()
        };
        assert!(contracts_needing_nonce(&diff).is_empty());
        assert!(encode_legacy(&diff, &NoNonces).is_ok());
    }

    #[test]
    fn nonce_above_64_bits_is_rejected() {
        let diff = StateDiff {
            nonces: vec![NonceUpdate {
                contract_address: felt(0x77),
                nonce: Felt::TWO.pow(64u32),
            }],
            ..StateDiff::default()
        };
        let error = encode_v2(&diff).unwrap_err();
        assert!(matches!(error, DaError::NonceTooLarge { .. }), "{error}");
        assert!(error.to_string().contains("0x77"), "{error}");
    }
}
