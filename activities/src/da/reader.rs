//! Read access to Starknet state at the block before a range, for squashing and aliasing.

use std::collections::BTreeMap;
use std::future::Future;

use starknet_types_core::felt::Felt;

/// State at one fixed block: the last block before the range being published.
///
/// Both methods take a whole batch so an implementation can send one batched JSON-RPC request
/// (`starknet_getStorageAt`, `starknet_getClassHashAt`). They return futures that are `Send`, so
/// the library's async functions can run inside multi-threaded executors; an implementation may
/// still be written with `async fn`.
pub trait StateReader: Sync {
    /// Error of a failed read; the library wraps it in [`DaError::StateRead`](super::DaError).
    type Error: std::error::Error + Send + Sync + 'static;

    /// Returns the value of each `(contract, key)` slot, in request order. A slot that was never
    /// written, or that belongs to a contract not deployed yet, reads as zero.
    fn storage_at(
        &self,
        slots: &[(Felt, Felt)],
    ) -> impl Future<Output = Result<Vec<Felt>, Self::Error>> + Send;

    /// Returns the class hash of each contract, in request order, or `None` for a contract that
    /// is not deployed at that block.
    fn class_hash_at(
        &self,
        contracts: &[Felt],
    ) -> impl Future<Output = Result<Vec<Option<Felt>>, Self::Error>> + Send;
}

/// State before the first block of a chain: every slot is zero and no contract exists.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenesisState;

impl StateReader for GenesisState {
    type Error = std::convert::Infallible;

    async fn storage_at(&self, slots: &[(Felt, Felt)]) -> Result<Vec<Felt>, Self::Error> {
        Ok(vec![Felt::ZERO; slots.len()])
    }

    async fn class_hash_at(&self, contracts: &[Felt]) -> Result<Vec<Option<Felt>>, Self::Error> {
        Ok(vec![None; contracts.len()])
    }
}

/// Recorded state values, for tests and for callers that fetched the state beforehand.
///
/// A read of anything not recorded fails instead of defaulting to zero, so a test notices
/// when the code requests a value that was never recorded.
#[derive(Clone, Debug, Default)]
pub struct RecordedState {
    /// Storage values by `(contract, key)`.
    pub storage: BTreeMap<(Felt, Felt), Felt>,
    /// Class hash by contract; `None` records a contract that is not deployed.
    pub class_hashes: BTreeMap<Felt, Option<Felt>>,
}

/// A read that [`RecordedState`] has no recorded value for.
#[derive(Debug, thiserror::Error)]
pub enum NotRecorded {
    /// No recorded storage value.
    #[error("no recorded storage value for contract {contract:#x}, key {key:#x}")]
    Storage {
        /// Contract address.
        contract: Felt,
        /// Storage key.
        key: Felt,
    },
    /// No recorded class hash.
    #[error("no recorded class hash for contract {contract:#x}")]
    ClassHash {
        /// Contract address.
        contract: Felt,
    },
}

impl StateReader for RecordedState {
    type Error = NotRecorded;

    async fn storage_at(&self, slots: &[(Felt, Felt)]) -> Result<Vec<Felt>, Self::Error> {
        slots
            .iter()
            .map(|&(contract, key)| {
                self.storage
                    .get(&(contract, key))
                    .copied()
                    .ok_or(NotRecorded::Storage { contract, key })
            })
            .collect()
    }

    async fn class_hash_at(&self, contracts: &[Felt]) -> Result<Vec<Option<Felt>>, Self::Error> {
        contracts
            .iter()
            .map(|&contract| {
                self.class_hashes
                    .get(&contract)
                    .copied()
                    .ok_or(NotRecorded::ClassHash { contract })
            })
            .collect()
    }
}
