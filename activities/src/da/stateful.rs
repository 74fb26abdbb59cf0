//! Stateful compression (Starknet 0.13.4+): addresses and storage keys replaced by aliases.
//!
//! The OS stores in contract 0x2, under each address or key it has seen, a short alias
//! allocated in order from 0x80. Values below 0x80, and the storage keys of the system contracts
//! below 0x80, are published unchanged. An alias comes from this diff's writes to 0x2 when the
//! range allocated it, otherwise from contract 0x2 before the range.

use std::collections::{BTreeMap, BTreeSet};

use starknet_types_core::felt::Felt;

use super::error::DaError;
use super::reader::StateReader;
use super::squash::check_length;
use super::state_update::{StateDiff, StateUpdate};

/// Contract that stores the aliases.
pub const ALIAS_CONTRACT: Felt = Felt::TWO;

/// Smallest address or key that gets an alias; smaller ones stand for themselves.
pub const MIN_ALIASED: Felt = Felt::from_hex_unwrap("0x80");

/// Lists every address and key that needs an alias, in ascending order.
pub fn aliased_values(diff: &StateDiff) -> BTreeSet<Felt> {
    let mut values = BTreeSet::new();
    for contract in &diff.storage_diffs {
        if contract.address < MIN_ALIASED {
            continue;
        }
        values.insert(contract.address);
        values.extend(contract.storage_entries.iter().map(|entry| entry.key));
    }
    values.extend(diff.deployed_contracts.iter().map(|c| c.address));
    values.extend(diff.replaced_classes.iter().map(|c| c.contract_address));
    values.extend(diff.nonces.iter().map(|n| n.contract_address));
    values.retain(|value| *value >= MIN_ALIASED);
    values
}

/// Returns the aliases this diff allocates: its writes to contract 0x2 at keys from 0x80 up.
///
/// Key 0 of contract 0x2 is the allocation counter, not an alias.
pub fn aliases_in_diff(diff: &StateDiff) -> BTreeMap<Felt, Felt> {
    diff.storage_diffs
        .iter()
        .filter(|contract| contract.address == ALIAS_CONTRACT)
        .flat_map(|contract| &contract.storage_entries)
        .filter(|entry| entry.key >= MIN_ALIASED)
        .map(|entry| (entry.key, entry.value))
        .collect()
}

/// Lists the addresses and keys whose alias must be read from contract 0x2 before the range.
pub fn aliases_to_read(diff: &StateDiff) -> Vec<Felt> {
    let allocated = aliases_in_diff(diff);
    aliased_values(diff)
        .into_iter()
        .filter(|value| !allocated.contains_key(value))
        .collect()
}

/// Replaces addresses and keys by their aliases and sorts the result.
///
/// `aliases` must contain every value from [`aliased_values`] except the ones this diff
/// allocates, which are taken from the diff.
///
/// # Errors
/// [`DaError::MissingAlias`] for a value without alias or with alias zero (the OS never
/// allocates zero, so a zero read means the slot was empty).
pub fn apply_aliases(
    diff: &StateDiff,
    aliases: &BTreeMap<Felt, Felt>,
) -> Result<StateDiff, DaError> {
    let allocated = aliases_in_diff(diff);
    let alias = |value: Felt| -> Result<Felt, DaError> {
        if value < MIN_ALIASED {
            return Ok(value);
        }
        match allocated.get(&value).or_else(|| aliases.get(&value)) {
            Some(alias) if *alias != Felt::ZERO => Ok(*alias),
            _ => Err(DaError::MissingAlias { key: value }),
        }
    };

    let mut compressed = diff.clone();
    for contract in &mut compressed.storage_diffs {
        if contract.address < MIN_ALIASED {
            continue;
        }
        contract.address = alias(contract.address)?;
        for entry in &mut contract.storage_entries {
            entry.key = alias(entry.key)?;
        }
    }
    for contract in &mut compressed.deployed_contracts {
        contract.address = alias(contract.address)?;
    }
    for class in &mut compressed.replaced_classes {
        class.contract_address = alias(class.contract_address)?;
    }
    for nonce in &mut compressed.nonces {
        nonce.contract_address = alias(nonce.contract_address)?;
    }
    compressed.sort();
    Ok(compressed)
}

/// Applies stateful compression to a (squashed) update, reading the aliases this range did not
/// allocate from contract 0x2 through `reader`, in one batch.
pub async fn compress_stateful<R: StateReader>(
    update: &StateUpdate,
    reader: &R,
) -> Result<StateUpdate, DaError> {
    const OPERATION: &str = "reading aliases from contract 0x2 before the range";
    let to_read = aliases_to_read(&update.state_diff);
    let mut aliases = BTreeMap::new();
    if !to_read.is_empty() {
        let slots: Vec<(Felt, Felt)> = to_read.iter().map(|key| (ALIAS_CONTRACT, *key)).collect();
        let values = reader
            .storage_at(&slots)
            .await
            .map_err(|error| DaError::StateRead {
                operation: OPERATION,
                source: Box::new(error),
            })?;
        check_length(OPERATION, slots.len(), values.len())?;
        aliases.extend(to_read.into_iter().zip(values));
    }
    Ok(StateUpdate {
        state_diff: apply_aliases(&update.state_diff, &aliases)?,
        ..update.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::da::state_update::{ContractStorageDiff, NonceUpdate, StorageEntry};

    fn felt(value: u64) -> Felt {
        Felt::from(value)
    }

    fn entry(key: u64, value: u64) -> StorageEntry {
        StorageEntry {
            key: felt(key),
            value: felt(value),
        }
    }

    fn sample_diff() -> StateDiff {
        StateDiff {
            storage_diffs: vec![
                ContractStorageDiff {
                    address: ALIAS_CONTRACT,
                    storage_entries: vec![entry(0, 0x90), entry(0x1000, 0x8f)],
                },
                ContractStorageDiff {
                    address: felt(0x1000),
                    storage_entries: vec![entry(0x5, 7), entry(0x2000, 8)],
                },
            ],
            nonces: vec![NonceUpdate {
                contract_address: felt(0x3000),
                nonce: felt(1),
            }],
            ..StateDiff::default()
        }
    }

    #[test]
    fn aliases_come_from_diff_and_reads() {
        let diff = sample_diff();
        assert_eq!(aliases_to_read(&diff), vec![felt(0x2000), felt(0x3000)]);
        let read = BTreeMap::from([(felt(0x2000), felt(0x81)), (felt(0x3000), felt(0x82))]);
        let compressed = apply_aliases(&diff, &read).unwrap();
        let contract = &compressed.storage_diffs[1];
        assert_eq!(contract.address, felt(0x8f));
        assert_eq!(
            contract.storage_entries,
            vec![entry(0x5, 7), entry(0x81, 8)]
        );
        assert_eq!(
            compressed.storage_diffs[0].storage_entries,
            diff.storage_diffs[0].storage_entries
        );
        assert_eq!(compressed.nonces[0].contract_address, felt(0x82));
    }

    #[test]
    fn missing_alias_is_an_error() {
        let diff = sample_diff();
        let read = BTreeMap::from([(felt(0x2000), felt(0x81))]);
        let error = apply_aliases(&diff, &read).unwrap_err();
        assert!(matches!(error, DaError::MissingAlias { key } if key == felt(0x3000)));
    }

    #[test]
    fn zero_alias_is_an_error() {
        let diff = sample_diff();
        let read = BTreeMap::from([(felt(0x2000), felt(0x81)), (felt(0x3000), Felt::ZERO)]);
        let error = apply_aliases(&diff, &read).unwrap_err();
        assert!(error.to_string().contains("0x3000"), "{error}");
    }
}
