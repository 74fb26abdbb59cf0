//! The `starknet_getStateUpdate` result, as the DA encoder reads it.
//!
//! Accepts RPC 0.6 to 0.10 shapes: `migrated_compiled_classes` (RPC 0.10) may be absent, the
//! header hashes may be absent (pre-confirmed blocks), and unknown fields are ignored. Every felt
//! is checked against the field modulus, and parse errors give the JSON path of the field.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use starknet_types_core::felt::Felt;

use super::error::DaError;
use super::felt::{hex_string, hex_string_vec};

/// One state update: the diff of one block, or of a squashed range of blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateUpdate {
    /// Hash of the (last) block; absent for pre-confirmed blocks.
    #[serde(default, with = "option_hex", skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<Felt>,
    /// Global state root before the (first) block.
    #[serde(default, with = "option_hex", skip_serializing_if = "Option::is_none")]
    pub old_root: Option<Felt>,
    /// Global state root after the (last) block; absent for pre-confirmed blocks.
    #[serde(default, with = "option_hex", skip_serializing_if = "Option::is_none")]
    pub new_root: Option<Felt>,
    /// The state changes.
    pub state_diff: StateDiff,
}

/// State changes of a block or range, as listed by `starknet_getStateUpdate`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDiff {
    /// Storage writes, grouped by contract.
    pub storage_diffs: Vec<ContractStorageDiff>,
    /// Cairo 0 classes declared; the DA encoding does not publish them.
    #[serde(with = "hex_string_vec")]
    pub deprecated_declared_classes: Vec<Felt>,
    /// Sierra classes declared, with their compiled class hashes.
    pub declared_classes: Vec<DeclaredClass>,
    /// Contracts deployed.
    pub deployed_contracts: Vec<DeployedContract>,
    /// Contracts whose class was replaced.
    pub replaced_classes: Vec<ReplacedClass>,
    /// New nonces.
    pub nonces: Vec<NonceUpdate>,
    /// Classes whose compiled class hash was recomputed (RPC 0.10, SNIP-34).
    #[serde(default)]
    pub migrated_compiled_classes: Vec<MigratedCompiledClass>,
}

/// Storage writes of one contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractStorageDiff {
    /// Contract address.
    #[serde(with = "hex_string")]
    pub address: Felt,
    /// Written slots.
    pub storage_entries: Vec<StorageEntry>,
}

/// One storage write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageEntry {
    /// Storage key.
    #[serde(with = "hex_string")]
    pub key: Felt,
    /// Value written.
    #[serde(with = "hex_string")]
    pub value: Felt,
}

/// A declared Sierra class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredClass {
    /// Sierra class hash.
    #[serde(with = "hex_string")]
    pub class_hash: Felt,
    /// Hash of the compiled (CASM) class.
    #[serde(with = "hex_string")]
    pub compiled_class_hash: Felt,
}

/// A class whose compiled class hash changed without a new declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigratedCompiledClass {
    /// Sierra class hash.
    #[serde(with = "hex_string")]
    pub class_hash: Felt,
    /// New compiled class hash.
    #[serde(with = "hex_string")]
    pub compiled_class_hash: Felt,
}

/// A deployed contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedContract {
    /// Contract address.
    #[serde(with = "hex_string")]
    pub address: Felt,
    /// Class of the contract.
    #[serde(with = "hex_string")]
    pub class_hash: Felt,
}

/// A class replacement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplacedClass {
    /// Contract address.
    #[serde(with = "hex_string")]
    pub contract_address: Felt,
    /// New class of the contract.
    #[serde(with = "hex_string")]
    pub class_hash: Felt,
}

/// A new contract nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceUpdate {
    /// Contract address.
    #[serde(with = "hex_string")]
    pub contract_address: Felt,
    /// The nonce after the block.
    #[serde(with = "hex_string")]
    pub nonce: Felt,
}

impl StateDiff {
    /// Sorts every list by address, key or class hash, the order the encoders publish.
    pub fn sort(&mut self) {
        self.storage_diffs.sort_by_key(|diff| diff.address);
        for diff in &mut self.storage_diffs {
            diff.storage_entries.sort_by_key(|entry| entry.key);
        }
        self.deprecated_declared_classes.sort();
        self.declared_classes.sort_by_key(|class| class.class_hash);
        self.deployed_contracts
            .sort_by_key(|contract| contract.address);
        self.replaced_classes
            .sort_by_key(|class| class.contract_address);
        self.nonces.sort_by_key(|nonce| nonce.contract_address);
        self.migrated_compiled_classes
            .sort_by_key(|class| class.class_hash);
    }
}

/// Parses one `starknet_getStateUpdate` result.
pub fn parse_state_update(json: &str) -> Result<StateUpdate, DaError> {
    parse_json("state update", json)
}

/// Parses either one state update or a JSON array of them.
pub fn parse_state_updates(json: &str) -> Result<Vec<StateUpdate>, DaError> {
    if json.trim_start().starts_with('[') {
        parse_json("state update list", json)
    } else {
        parse_state_update(json).map(|update| vec![update])
    }
}

/// Deserializes `json`, reporting the path of the offending field on failure.
pub(crate) fn parse_json<T: DeserializeOwned>(
    document: &'static str,
    json: &str,
) -> Result<T, DaError> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| DaError::InvalidJson {
        document,
        path: error.path().to_string(),
        message: error.into_inner().to_string(),
    })
}

/// Serde adapter for an optional hex felt.
mod option_hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
    use starknet_types_core::felt::Felt;

    pub(super) fn serialize<S: Serializer>(
        felt: &Option<Felt>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match felt {
            Some(felt) => serializer.serialize_str(&format!("{felt:#x}")),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Felt>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else {
            return Ok(None);
        };
        super::super::felt::parse_hex(&text)
            .map(Some)
            .map_err(|reason| D::Error::custom(format!("felt `{text}`: {reason}")))
    }
}
