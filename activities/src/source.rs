//! Block source: reads blocks, state updates and state from a Starknet node over JSON-RPC.
//!
//! Requests are plain JSON-RPC over reqwest, and responses are parsed by
//! [`crate::da::state_update`], which accepts the field sets of RPC 0.6 to 0.10. starknet-rs
//! 0.17's typed provider targets one spec version, and starknet-devnet 0.10 already speaks a
//! newer one, so typed parsing would break on the node the project tests against. For example,
//! the `StateDiff` of starknet-core 0.16 has no `migrated_compiled_classes` (RPC 0.10), so a
//! typed read would drop compiled class hash changes that the DA encoding must carry.
//! Signed transactions (`orchestrator load`) do use starknet-rs.
//! NOTE: reads are sent one request per slot; a batched request would cut round trips.

use crate::da::{self, StateReader, StateUpdate};
use serde::Deserialize;
use serde_json::{Value, json};
use starknet_types_core::felt::Felt;
use std::time::Duration;

/// Errors of the block source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The node could not be reached or returned an HTTP error, so a retry may succeed.
    #[error("Starknet RPC {url} request {method} failed: {message}")]
    Transport {
        /// Node URL without credentials.
        url: String,
        /// JSON-RPC method.
        method: &'static str,
        /// Cause.
        message: String,
    },
    /// The block does not exist yet, or is still pre-confirmed; worth retrying later.
    #[error("block {block} is not available on the node yet (latest final block: {latest:?})")]
    BlockNotFound {
        /// Requested block.
        block: u64,
        /// Latest final block the node reported, if known.
        latest: Option<u64>,
    },
    /// The node returned a JSON-RPC error.
    #[error("Starknet RPC {method} returned error {code}: {message}")]
    Rpc {
        /// JSON-RPC method.
        method: &'static str,
        /// Error code.
        code: i64,
        /// Error message.
        message: String,
    },
    /// The response does not have the expected shape, so the block fails with this message.
    #[error("malformed answer to {method} for block {block}: {message}")]
    Malformed {
        /// JSON-RPC method.
        method: &'static str,
        /// Block concerned.
        block: u64,
        /// Description of the problem.
        message: String,
    },
}

impl SourceError {
    /// Returns whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SourceError::Malformed { .. })
    }
}

/// Header fields of a final block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHeader {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: Felt,
    /// Parent block hash.
    pub parent_hash: Felt,
    /// Global state root after the block.
    pub new_root: Felt,
    /// Starknet version string, for example `0.14.0`.
    pub starknet_version: String,
    /// Block timestamp, Unix seconds.
    pub timestamp: u64,
}

/// JSON-RPC client of one Starknet node.
#[derive(Clone)]
pub struct BlockSource {
    url: url::Url,
    http: reqwest::Client,
}

impl std::fmt::Debug for BlockSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockSource").field("url", &redact_url(&self.url)).finish()
    }
}

/// URL without user info or query, which may carry API keys.
pub fn redact_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}

#[derive(Deserialize)]
struct RpcResponse {
    result: Option<Value>,
    error: Option<RpcErrorBody>,
}

#[derive(Deserialize)]
struct RpcErrorBody {
    code: i64,
    message: String,
}

/// JSON-RPC error code of "block not found" in every Starknet RPC version.
const BLOCK_NOT_FOUND: i64 = 24;

impl BlockSource {
    /// Creates a client for the node at `url`, with a per-request timeout.
    pub fn new(url: url::Url, timeout: Duration) -> Self {
        let http = reqwest::Client::builder().timeout(timeout).build().expect("HTTP client builds");
        Self { url, http }
    }

    async fn call(&self, method: &'static str, params: Value) -> Result<Value, SourceError> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let transport = |message: String| SourceError::Transport {
            url: redact_url(&self.url),
            method,
            message,
        };
        let response = self
            .http
            .post(self.url.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| transport(e.without_url().to_string()))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| transport(e.without_url().to_string()))?;
        if !status.is_success() {
            return Err(transport(format!("HTTP {status}: {}", truncate(&text, 200))));
        }
        let parsed: RpcResponse = serde_json::from_str(&text)
            .map_err(|e| transport(format!("response is not JSON-RPC ({e}): {}", truncate(&text, 200))))?;
        if let Some(error) = parsed.error {
            return Err(SourceError::Rpc { method, code: error.code, message: error.message });
        }
        parsed.result.ok_or_else(|| transport("response has neither result nor error".to_string()))
    }

    /// Number of the latest block the node considers final (not pre-confirmed).
    pub async fn latest_block_number(&self) -> Result<u64, SourceError> {
        let value = self.call("starknet_blockNumber", json!([])).await?;
        value.as_u64().ok_or_else(|| SourceError::Malformed {
            method: "starknet_blockNumber",
            block: 0,
            message: format!("expected an integer, got {value}"),
        })
    }

    /// Reads the header of a final block.
    pub async fn block_header(&self, block: u64) -> Result<BlockHeader, SourceError> {
        const METHOD: &str = "starknet_getBlockWithTxHashes";
        let value = self
            .call(METHOD, json!({ "block_id": { "block_number": block } }))
            .await
            .map_err(|e| self.not_found(e, block))?;
        let malformed = |message: String| SourceError::Malformed { method: METHOD, block, message };
        let status = value.get("status").and_then(Value::as_str).unwrap_or("");
        if matches!(status, "PENDING" | "PRE_CONFIRMED") || value.get("block_hash").is_none() {
            return Err(SourceError::BlockNotFound { block, latest: None });
        }
        let felt = |field: &str| -> Result<Felt, SourceError> {
            let text = value
                .get(field)
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(format!("missing field {field}")))?;
            da::felt::parse_hex(text).map_err(|e| malformed(format!("field {field}: {e}")))
        };
        Ok(BlockHeader {
            number: block,
            hash: felt("block_hash")?,
            parent_hash: felt("parent_hash")?,
            new_root: felt("new_root")?,
            starknet_version: value
                .get("starknet_version")
                .and_then(Value::as_str)
                .unwrap_or("0.13.0")
                .to_string(),
            timestamp: value.get("timestamp").and_then(Value::as_u64).unwrap_or(0),
        })
    }

    /// Reads the state update of a final block.
    pub async fn state_update(&self, block: u64) -> Result<StateUpdate, SourceError> {
        const METHOD: &str = "starknet_getStateUpdate";
        let value = self
            .call(METHOD, json!({ "block_id": { "block_number": block } }))
            .await
            .map_err(|e| self.not_found(e, block))?;
        if value.get("block_hash").is_none() {
            return Err(SourceError::BlockNotFound { block, latest: None });
        }
        da::state_update::parse_state_update(&value.to_string())
            .map_err(|e| SourceError::Malformed { method: METHOD, block, message: e.to_string() })
    }

    /// Reads the nonce of a contract at a block.
    pub async fn nonce_at(&self, block: u64, contract: Felt) -> Result<Felt, SourceError> {
        let value = self
            .call(
                "starknet_getNonce",
                json!({ "block_id": { "block_number": block }, "contract_address": format!("{contract:#x}") }),
            )
            .await?;
        self.parse_felt("starknet_getNonce", block, &value)
    }

    fn parse_felt(&self, method: &'static str, block: u64, value: &Value) -> Result<Felt, SourceError> {
        let text = value.as_str().ok_or_else(|| SourceError::Malformed {
            method,
            block,
            message: format!("expected a felt, got {value}"),
        })?;
        da::felt::parse_hex(text).map_err(|e| SourceError::Malformed { method, block, message: e })
    }

    fn not_found(&self, error: SourceError, block: u64) -> SourceError {
        match error {
            SourceError::Rpc { code: BLOCK_NOT_FOUND, .. } => SourceError::BlockNotFound { block, latest: None },
            other => other,
        }
    }

    /// Returns a [`StateReader`] over the state at `block`.
    pub fn state_at(&self, block: u64) -> StateAt<'_> {
        StateAt { source: self, block }
    }
}

/// State of the node at one block, for squashing and aliasing.
pub struct StateAt<'a> {
    source: &'a BlockSource,
    block: u64,
}

impl StateReader for StateAt<'_> {
    type Error = SourceError;

    async fn storage_at(&self, slots: &[(Felt, Felt)]) -> Result<Vec<Felt>, SourceError> {
        let mut values = Vec::with_capacity(slots.len());
        for (contract, key) in slots {
            let params = json!({
                "contract_address": format!("{contract:#x}"),
                "key": format!("{key:#x}"),
                "block_id": { "block_number": self.block },
            });
            match self.source.call("starknet_getStorageAt", params).await {
                Ok(value) => values.push(self.source.parse_felt("starknet_getStorageAt", self.block, &value)?),
                // Contract not deployed at that block: its storage reads as zero.
                Err(SourceError::Rpc { code: 20, .. }) => values.push(Felt::ZERO),
                Err(error) => return Err(error),
            }
        }
        Ok(values)
    }

    async fn class_hash_at(&self, contracts: &[Felt]) -> Result<Vec<Option<Felt>>, SourceError> {
        let mut hashes = Vec::with_capacity(contracts.len());
        for contract in contracts {
            let params = json!({
                "contract_address": format!("{contract:#x}"),
                "block_id": { "block_number": self.block },
            });
            match self.source.call("starknet_getClassHashAt", params).await {
                Ok(value) => hashes.push(Some(self.source.parse_felt("starknet_getClassHashAt", self.block, &value)?)),
                Err(SourceError::Rpc { code: 20, .. }) => hashes.push(None),
                Err(error) => return Err(error),
            }
        }
        Ok(hashes)
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((index, _)) => &text[..index],
        None => text,
    }
}
