//! Following a sent state update to confirmation, and verifying the state it leaves in the
//! core contract.

use alloy::eips::BlockId;
use alloy::network::TransactionBuilder;
use alloy::primitives::B256;
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use serde::{Deserialize, Serialize};
use tracing::{instrument, warn};

use super::client::SettlementClient;
use super::contracts::CoreState;
use super::error::{SettlementError, decode_revert_reason, revert_reason_of};
use super::program_output::ProgramOutput;

/// Receipt details of a successful state update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmedTx {
    /// L1 block that includes the transaction.
    pub block_number: u64,
    /// Hash of that block.
    pub block_hash: B256,
    /// Blocks mined on top of that block.
    pub confirmations: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Blob gas used.
    pub blob_gas_used: u64,
    /// Price paid per gas, in wei.
    pub effective_gas_price: u128,
    /// Price paid per blob gas, in wei.
    pub blob_gas_price: u128,
    /// Total fee paid, `gas_used · effective_gas_price + blob_gas_used · blob_gas_price`, in wei.
    pub total_fee_wei: u128,
}

/// State of a sent transaction, from [`SettlementClient::check_confirmation`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Confirmation {
    /// Not yet included, or included with fewer confirmations than requested.
    Pending {
        /// Including block, if any.
        included_in_block: Option<u64>,
        /// Blocks mined on top of the including block (0 when not included).
        confirmations: u64,
    },
    /// Included, successful, and buried under the requested number of blocks.
    Confirmed(ConfirmedTx),
    /// Included but reverted. The nonce is used up.
    Reverted {
        /// Including block.
        block_number: u64,
        /// Decoded revert reason.
        reason: String,
    },
    /// The node has neither a receipt nor the transaction: it was replaced, evicted from the
    /// pool, or removed by a reorganization. The nonce may be free again.
    Dropped,
}

/// Result of [`SettlementClient::verify`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verification {
    /// The contract stores exactly the output's new block number, state root and block hash.
    Settled,
    /// The contract still stores the output's previous state: the update is not applied yet.
    Pending,
    /// The contract stores a later block, so the update was applied and built upon.
    Superseded {
        /// Block number stored in the contract.
        block_number: u64,
    },
    /// The contract stores a state that is neither the output's previous nor its new state.
    Mismatch {
        /// The output's new state.
        expected: CoreState,
        /// The state stored in the contract.
        found: CoreState,
    },
}

impl SettlementClient {
    /// Reports whether `tx_hash` is pending, confirmed under at least `confirmations` blocks,
    /// reverted, or dropped. A revert is reported as soon as the receipt exists.
    #[instrument(skip_all, fields(tx_hash = %tx_hash))]
    pub async fn check_confirmation(
        &self,
        tx_hash: B256,
        confirmations: u64,
    ) -> Result<Confirmation, SettlementError> {
        let receipt = self
            .provider
            .get_transaction_receipt(tx_hash)
            .await
            .map_err(SettlementError::rpc("eth_getTransactionReceipt"))?;
        let Some(receipt) = receipt else {
            let transaction = self
                .provider
                .get_transaction_by_hash(tx_hash)
                .await
                .map_err(SettlementError::rpc("eth_getTransactionByHash"))?;
            return Ok(match transaction {
                Some(_) => Confirmation::Pending {
                    included_in_block: None,
                    confirmations: 0,
                },
                None => Confirmation::Dropped,
            });
        };

        let block_number = receipt
            .block_number
            .ok_or(SettlementError::IncompleteResponse {
                tx_hash,
                field: "blockNumber",
            })?;
        if !receipt.status() {
            let reason = self.replay_revert_reason(tx_hash, block_number).await;
            warn!(block_number, %reason, "state update reverted");
            return Ok(Confirmation::Reverted {
                block_number,
                reason,
            });
        }

        let latest = self
            .provider
            .get_block_number()
            .await
            .map_err(SettlementError::rpc("eth_blockNumber"))?;
        let buried = latest.saturating_sub(block_number);
        if buried < confirmations {
            return Ok(Confirmation::Pending {
                included_in_block: Some(block_number),
                confirmations: buried,
            });
        }

        let blob_gas_used = receipt.blob_gas_used.unwrap_or_default();
        let blob_gas_price = receipt.blob_gas_price.unwrap_or_default();
        let total_fee_wei = u128::from(receipt.gas_used)
            .saturating_mul(receipt.effective_gas_price)
            .saturating_add(u128::from(blob_gas_used).saturating_mul(blob_gas_price));
        Ok(Confirmation::Confirmed(ConfirmedTx {
            block_number,
            block_hash: receipt
                .block_hash
                .ok_or(SettlementError::IncompleteResponse {
                    tx_hash,
                    field: "blockHash",
                })?,
            confirmations: buried,
            gas_used: receipt.gas_used,
            blob_gas_used,
            effective_gas_price: receipt.effective_gas_price,
            blob_gas_price,
            total_fee_wei,
        }))
    }

    /// Compares the contract's state with the output's new and previous state.
    pub async fn verify(&self, output: &ProgramOutput) -> Result<Verification, SettlementError> {
        let found = self.read_state().await?;
        let expected = CoreState {
            block_number: Some(output.new_block_number()),
            state_root: output.new_state_root(),
            block_hash: output.new_block_hash(),
        };
        if found == expected {
            return Ok(Verification::Settled);
        }
        let previous = CoreState {
            block_number: output.prev_block_number(),
            state_root: output.prev_state_root(),
            block_hash: output.prev_block_hash(),
        };
        if found == previous {
            return Ok(Verification::Pending);
        }
        if let Some(block_number) = found.block_number
            && block_number > output.new_block_number()
        {
            return Ok(Verification::Superseded { block_number });
        }
        Ok(Verification::Mismatch { expected, found })
    }

    /// Replays a reverted transaction with `eth_call` on the state before its block to recover
    /// the revert reason.
    async fn replay_revert_reason(&self, tx_hash: B256, block_number: u64) -> String {
        use alloy::consensus::Transaction as _;

        let transaction = match self.provider.get_transaction_by_hash(tx_hash).await {
            Ok(Some(transaction)) => transaction,
            Ok(None) => return "reason unknown: the node no longer returns the transaction".into(),
            Err(error) => {
                return format!("reason unknown: eth_getTransactionByHash failed: {error}");
            }
        };
        let mut request = TransactionRequest::default()
            .with_from(transaction.inner.signer())
            .with_input(transaction.input().clone())
            .with_gas_limit(transaction.gas_limit());
        if let Some(to) = transaction.to() {
            request = request.with_to(to);
        }
        request.blob_versioned_hashes = transaction.blob_versioned_hashes().map(<[B256]>::to_vec);
        request.max_fee_per_blob_gas = transaction.max_fee_per_blob_gas();

        // NOTE: the replay runs on the parent block's state, so a transaction earlier in the
        // same block that changed the contract can make it succeed or fail differently.
        let parent = BlockId::number(block_number.saturating_sub(1));
        match self.provider.call(request).block(parent).await {
            Ok(_) => "reason unknown: replaying the transaction on the parent block succeeded, \
                      so an earlier transaction in its block changed the outcome"
                .into(),
            Err(error) => match error
                .as_error_resp()
                .and_then(|payload| payload.as_revert_data())
            {
                Some(data) => decode_revert_reason(&data),
                None => revert_reason_of(&error)
                    .unwrap_or_else(|| format!("reason unknown: replay failed: {error}")),
            },
        }
    }
}
