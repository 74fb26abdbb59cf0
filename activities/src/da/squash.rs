//! Merging the state updates of consecutive blocks into one diff for the whole range.

use std::collections::{BTreeMap, BTreeSet};

use starknet_types_core::felt::Felt;

use super::error::DaError;
use super::reader::StateReader;
use super::state_update::{
    ContractStorageDiff, DeclaredClass, DeployedContract, MigratedCompiledClass, NonceUpdate,
    ReplacedClass, StateDiff, StateUpdate, StorageEntry,
};

/// Merges per-block updates, oldest first, with last write wins and no state reads.
///
/// A class replaced after its deployment in the range is folded into the deployment. Writes
/// that restore the value from before the range are kept, and [`squash`] removes them. The header
/// takes `old_root` from the first update and `block_hash`, `new_root` from the last. The
/// result is sorted.
pub fn merge(updates: &[StateUpdate]) -> Result<StateUpdate, DaError> {
    let (Some(first), Some(last)) = (updates.first(), updates.last()) else {
        return Err(DaError::NoStateUpdates);
    };

    let mut storage: BTreeMap<Felt, BTreeMap<Felt, Felt>> = BTreeMap::new();
    let mut deployed: BTreeMap<Felt, Felt> = BTreeMap::new();
    let mut replaced: BTreeMap<Felt, Felt> = BTreeMap::new();
    let mut nonces: BTreeMap<Felt, Felt> = BTreeMap::new();
    let mut declared: BTreeMap<Felt, Felt> = BTreeMap::new();
    let mut migrated: BTreeMap<Felt, Felt> = BTreeMap::new();
    let mut deprecated: BTreeSet<Felt> = BTreeSet::new();

    for update in updates {
        let diff = &update.state_diff;
        for contract in &diff.storage_diffs {
            let slots = storage.entry(contract.address).or_default();
            for entry in &contract.storage_entries {
                slots.insert(entry.key, entry.value);
            }
        }
        for contract in &diff.deployed_contracts {
            deployed.insert(contract.address, contract.class_hash);
        }
        for class in &diff.replaced_classes {
            // A contract deployed earlier in the range simply gets its final class.
            match deployed.get_mut(&class.contract_address) {
                Some(class_hash) => *class_hash = class.class_hash,
                None => {
                    replaced.insert(class.contract_address, class.class_hash);
                }
            }
        }
        for nonce in &diff.nonces {
            nonces.insert(nonce.contract_address, nonce.nonce);
        }
        for class in &diff.declared_classes {
            declared.insert(class.class_hash, class.compiled_class_hash);
        }
        for class in &diff.migrated_compiled_classes {
            migrated.insert(class.class_hash, class.compiled_class_hash);
        }
        deprecated.extend(diff.deprecated_declared_classes.iter().copied());
    }

    let state_diff = StateDiff {
        storage_diffs: storage
            .into_iter()
            .filter(|(_, slots)| !slots.is_empty())
            .map(|(address, slots)| ContractStorageDiff {
                address,
                storage_entries: slots
                    .into_iter()
                    .map(|(key, value)| StorageEntry { key, value })
                    .collect(),
            })
            .collect(),
        deprecated_declared_classes: deprecated.into_iter().collect(),
        declared_classes: declared
            .into_iter()
            .map(|(class_hash, compiled_class_hash)| DeclaredClass {
                class_hash,
                compiled_class_hash,
            })
            .collect(),
        deployed_contracts: deployed
            .into_iter()
            .map(|(address, class_hash)| DeployedContract {
                address,
                class_hash,
            })
            .collect(),
        replaced_classes: replaced
            .into_iter()
            .map(|(contract_address, class_hash)| ReplacedClass {
                contract_address,
                class_hash,
            })
            .collect(),
        nonces: nonces
            .into_iter()
            .map(|(contract_address, nonce)| NonceUpdate {
                contract_address,
                nonce,
            })
            .collect(),
        migrated_compiled_classes: migrated
            .into_iter()
            .map(|(class_hash, compiled_class_hash)| MigratedCompiledClass {
                class_hash,
                compiled_class_hash,
            })
            .collect(),
    };
    Ok(StateUpdate {
        block_hash: last.block_hash,
        old_root: first.old_root,
        new_root: last.new_root,
        state_diff,
    })
}

/// Squashes per-block updates, oldest first, into the diff of the whole range.
///
/// On top of [`merge`], drops what did not change over the range, reading the state at the
/// block before the range through `reader` in two batches:
/// - storage writes whose final value equals the value before the range. Contracts deployed in
///   the range start from zero, so they need no read; every other written slot is read;
/// - class replacements back to the class the contract had before the range.
///
/// A contract left without storage writes disappears from `storage_diffs` (it still appears
/// through its nonce or class change, if any).
pub async fn squash<R: StateReader>(
    updates: &[StateUpdate],
    reader: &R,
) -> Result<StateUpdate, DaError> {
    let mut merged = merge(updates)?;
    let diff = &mut merged.state_diff;

    let deployed: BTreeSet<Felt> = diff.deployed_contracts.iter().map(|c| c.address).collect();
    let slots_to_read: Vec<(Felt, Felt)> = diff
        .storage_diffs
        .iter()
        .filter(|contract| !deployed.contains(&contract.address))
        .flat_map(|contract| {
            contract
                .storage_entries
                .iter()
                .map(|entry| (contract.address, entry.key))
        })
        .collect();
    let previous_values = read_storage(reader, &slots_to_read).await?;
    let previous: BTreeMap<(Felt, Felt), Felt> =
        slots_to_read.into_iter().zip(previous_values).collect();

    for contract in &mut diff.storage_diffs {
        let address = contract.address;
        contract.storage_entries.retain(|entry| {
            let before = previous
                .get(&(address, entry.key))
                .copied()
                .unwrap_or(Felt::ZERO);
            entry.value != before
        });
    }
    diff.storage_diffs
        .retain(|contract| !contract.storage_entries.is_empty());

    let replaced: Vec<Felt> = diff
        .replaced_classes
        .iter()
        .map(|c| c.contract_address)
        .collect();
    let previous_classes = read_class_hashes(reader, &replaced).await?;
    let mut unchanged = previous_classes.into_iter();
    diff.replaced_classes
        .retain(|class| unchanged.next().flatten() != Some(class.class_hash));

    Ok(merged)
}

async fn read_storage<R: StateReader>(
    reader: &R,
    slots: &[(Felt, Felt)],
) -> Result<Vec<Felt>, DaError> {
    const OPERATION: &str = "reading storage before the range";
    if slots.is_empty() {
        return Ok(Vec::new());
    }
    let values = reader
        .storage_at(slots)
        .await
        .map_err(|error| DaError::StateRead {
            operation: OPERATION,
            source: Box::new(error),
        })?;
    check_length(OPERATION, slots.len(), values.len())?;
    Ok(values)
}

async fn read_class_hashes<R: StateReader>(
    reader: &R,
    contracts: &[Felt],
) -> Result<Vec<Option<Felt>>, DaError> {
    const OPERATION: &str = "reading class hashes before the range";
    if contracts.is_empty() {
        return Ok(Vec::new());
    }
    let values = reader
        .class_hash_at(contracts)
        .await
        .map_err(|error| DaError::StateRead {
            operation: OPERATION,
            source: Box::new(error),
        })?;
    check_length(OPERATION, contracts.len(), values.len())?;
    Ok(values)
}

pub(super) fn check_length(
    operation: &'static str,
    expected: usize,
    actual: usize,
) -> Result<(), DaError> {
    if expected == actual {
        Ok(())
    } else {
        Err(DaError::ReaderLengthMismatch {
            operation,
            expected,
            actual,
        })
    }
}
