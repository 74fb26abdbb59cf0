//! Exactly-once primitives for settling a program output on the Starknet core contract: read
//! the stored state, sign the blob transaction at a known nonce, broadcast it, replace it,
//! follow it to confirmation, and verify the result.
//!
//! Each primitive is one step a durable workflow can record. The nonce is the idempotency key,
//! because only one transaction per nonce can be mined. Signing ([`SettlementClient::sign_update`])
//! is separate from broadcasting ([`SettlementClient::broadcast`]) so that a caller can record
//! the hash and nonce before the transaction can reach the network. A retry that finds such a
//! record calls [`SettlementClient::resume`], which reports the recorded transaction if the node
//! has it and otherwise signs again at the recorded nonce.
//!
//! Signing is deterministic (RFC 6979), so a retried signature at the same nonce with the same
//! fees yields the same hash. While the first transaction is pending, a retry with other fees
//! replaces it or is rejected as underpriced, depending on the node's replacement rule. Once a
//! transaction with that nonce is mined, a broadcast fails with
//! [`SettlementError::NonceConsumed`].

use alloy::consensus::{
    SignableTransaction, TxEip4844, TxEip4844Variant, TxEip4844WithSidecar, TxEnvelope,
};
use alloy::eips::{BlockId, BlockNumberOrTag, Encodable2718};
use alloy::network::{TransactionBuilder, TxSignerSync};
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::TransactionRequest;
use alloy::transports::{RpcError, TransportError};
use serde::{Deserialize, Serialize};
use tracing::{debug, info, instrument, warn};
use url::Url;

use super::calldata::StateUpdate;
use super::contracts::{
    CoreState, StarknetCoreLocal, block_number_from_contract, contract_error, read_core_state,
};
use super::error::{SettlementError, revert_reason_of};
use super::fees::{FeeCapExceeded, FeePolicy, TxFees, check_fee_cap};
use super::key::L1PrivateKey;
use super::kzg::SidecarKind;
use super::program_output::ProgramOutput;

/// Environment variable with the Ethereum JSON-RPC URL.
pub const RPC_URL_ENV: &str = "MADARA_ORCHESTRATOR_ETHEREUM_SETTLEMENT_RPC_URL";
/// Environment variable with the core contract address.
pub const CORE_CONTRACT_ENV: &str = "MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS";
/// Environment variable that selects EIP-4844 blob proofs (`true`) over EIP-7594 cell proofs.
pub const DISABLE_PEERDAS_ENV: &str = "MADARA_ORCHESTRATOR_ETHEREUM_DISABLE_PEERDAS";

/// Settlement client settings.
///
/// `Debug` shows the RPC URL without credentials or query, which may carry API keys.
#[derive(Clone)]
pub struct SettlementConfig {
    /// Ethereum JSON-RPC endpoint.
    pub rpc_url: Url,
    /// Starknet core contract.
    pub core_contract: Address,
    /// Kind of blob proofs in the sidecar that [`StateUpdate::prepare`] should build.
    pub sidecar_kind: SidecarKind,
    /// Fee caps and budget.
    pub fees: FeePolicy,
}

impl std::fmt::Debug for SettlementConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettlementConfig")
            .field("rpc_url", &crate::source::redact_url(&self.rpc_url))
            .field("core_contract", &self.core_contract)
            .field("sidecar_kind", &self.sidecar_kind)
            .field("fees", &self.fees)
            .finish()
    }
}

/// A state update transaction accepted by the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentTx {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Nonce it was signed with.
    pub nonce: u64,
    /// Gas limit and fee caps it was signed with.
    pub fees: TxFees,
}

/// Result of [`SettlementClient::send_update`] and [`SettlementClient::replace`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SendOutcome {
    /// The node accepted the transaction.
    Sent(SentTx),
    /// The contract already stores this block or a later one; nothing was sent.
    AlreadySettled {
        /// Block number stored in the contract.
        settled_block_number: u64,
    },
    /// The fee caps exceed the budget; nothing was signed. Retry when fees fall or raise the
    /// budget.
    FeeCapExceeded(FeeCapExceeded),
}

/// A signed state update transaction that has not necessarily been broadcast.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedUpdate {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Nonce it was signed with.
    pub nonce: u64,
    /// Gas limit and fee caps it was signed with.
    pub fees: TxFees,
    /// EIP-2718 encoding in the network form, with the blob sidecar (128 KiB of blob data per blob plus commitments and proofs),
    /// as `eth_sendRawTransaction` takes it.
    pub raw: Bytes,
}

impl SignedUpdate {
    /// Returns the hash, nonce and fees, which identify the transaction without its bytes.
    pub fn sent(&self) -> SentTx {
        SentTx {
            tx_hash: self.tx_hash,
            nonce: self.nonce,
            fees: self.fees,
        }
    }
}

impl std::fmt::Debug for SignedUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedUpdate")
            .field("tx_hash", &self.tx_hash)
            .field("nonce", &self.nonce)
            .field("fees", &self.fees)
            .field("raw_len", &self.raw.len())
            .finish()
    }
}

/// Result of [`SettlementClient::sign_update`] and the other signing methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignOutcome {
    /// The transaction is signed and ready for [`SettlementClient::broadcast`].
    Signed(SignedUpdate),
    /// The contract already stores this block or a later one, so nothing was signed.
    AlreadySettled {
        /// Block number stored in the contract.
        settled_block_number: u64,
    },
    /// The fee caps exceed the budget, so nothing was signed.
    FeeCapExceeded(FeeCapExceeded),
}

/// Next step of a retried send, from what the node returns about the transaction that an
/// earlier attempt signed and recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResumeStep {
    /// The node has the recorded transaction, pending or mined: report it and sign nothing.
    KeepRecorded,
    /// The node does not have the recorded transaction and no transaction is mined at its
    /// nonce: sign the update again at that nonce, so that at most one of the two is mined.
    ResignAtRecordedNonce,
    /// Another transaction was mined at the recorded nonce: unless the block is settled, sign
    /// a new transaction at the pending nonce.
    SignAtPendingNonce,
}

impl ResumeStep {
    /// Chooses the step. `latest_nonce` is the sender's transaction count at the latest block,
    /// so a transaction is mined at `recorded_nonce` exactly when `latest_nonce > recorded_nonce`.
    pub fn decide(recorded_known: bool, recorded_nonce: u64, latest_nonce: u64) -> Self {
        if recorded_known {
            Self::KeepRecorded
        } else if latest_nonce > recorded_nonce {
            Self::SignAtPendingNonce
        } else {
            Self::ResignAtRecordedNonce
        }
    }
}

/// Result of [`SettlementClient::resume`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResumeOutcome {
    /// The node has the recorded transaction, pending or mined. Nothing was signed.
    Recorded(SentTx),
    /// Result of signing again, at the recorded nonce or at the pending nonce.
    Signed(SignOutcome),
}

/// Ethereum settlement client bound to one core contract and one signing key.
#[derive(Clone, Debug)]
pub struct SettlementClient {
    pub(super) provider: RootProvider,
    pub(super) config: SettlementConfig,
    key: L1PrivateKey,
}

impl SettlementClient {
    /// Creates a client. No request is made until a method is called.
    pub fn new(config: SettlementConfig, key: L1PrivateKey) -> Self {
        let provider = RootProvider::new_http(config.rpc_url.clone());
        Self {
            provider,
            config,
            key,
        }
    }

    /// Returns a client for the same node and account whose total-fee cap is `max_total_fee_wei`.
    pub fn with_fee_cap(&self, max_total_fee_wei: u128) -> Self {
        let mut config = self.config.clone();
        config.fees.max_total_fee_wei = max_total_fee_wei;
        Self {
            provider: self.provider.clone(),
            config,
            key: self.key.clone(),
        }
    }

    /// Returns the settings.
    pub fn config(&self) -> &SettlementConfig {
        &self.config
    }

    /// Returns the address that signs state updates.
    pub fn sender(&self) -> Address {
        self.key.address()
    }

    /// Returns the underlying JSON-RPC provider.
    pub fn provider(&self) -> &RootProvider {
        &self.provider
    }

    /// Returns the sender's next nonce, counting transactions still in the pool.
    pub async fn pending_nonce(&self) -> Result<u64, SettlementError> {
        self.provider
            .get_transaction_count(self.sender())
            .pending()
            .await
            .map_err(SettlementError::rpc("eth_getTransactionCount"))
    }

    /// Reads the block number, state root and block hash stored in the core contract, all at
    /// the same L1 block.
    pub async fn read_state(&self) -> Result<CoreState, SettlementError> {
        read_core_state(&self.provider, self.config.core_contract).await
    }

    /// Returns true if the contract stores `block_number` or a later block.
    pub async fn is_settled(&self, block_number: u64) -> Result<bool, SettlementError> {
        Ok(self
            .settled_block_number()
            .await?
            .is_some_and(|settled| settled >= block_number))
    }

    /// Signs and sends the state update at `nonce`, or at the sender's pending nonce when
    /// `None`: [`Self::sign_update`] followed by [`Self::broadcast`].
    ///
    /// # Errors
    /// Those of both steps.
    #[instrument(skip_all, fields(block_number = update.program_output().new_block_number()))]
    pub async fn send_update(
        &self,
        update: &StateUpdate,
        nonce: Option<u64>,
    ) -> Result<SendOutcome, SettlementError> {
        let outcome = self.sign_update(update, nonce).await?;
        self.broadcast_outcome(outcome).await
    }

    /// Sends the state update again at `previous.nonce` with every fee cap at least doubled:
    /// [`Self::sign_replacement`] followed by [`Self::broadcast`].
    #[instrument(skip_all, fields(block_number = update.program_output().new_block_number(), tx_hash = %previous.tx_hash))]
    pub async fn replace(
        &self,
        update: &StateUpdate,
        previous: &SentTx,
    ) -> Result<SendOutcome, SettlementError> {
        let outcome = self.sign_replacement(update, previous).await?;
        self.broadcast_outcome(outcome).await
    }

    /// Signs the state update at `nonce`, or at the sender's pending nonce when `None`, without
    /// sending it.
    ///
    /// Signs nothing if the contract already stores the output's new block or a later one, or
    /// if the fee caps exceed [`FeePolicy::max_total_fee_wei`]. With no fixed gas limit, gas
    /// estimation runs the update against the latest state first and returns
    /// [`SettlementError::WouldRevert`] with the contract's reason if it would fail.
    pub async fn sign_update(
        &self,
        update: &StateUpdate,
        nonce: Option<u64>,
    ) -> Result<SignOutcome, SettlementError> {
        if let Some(outcome) = self.already_settled(update.program_output()).await? {
            return Ok(outcome);
        }
        let fees = self.estimate_fees(update).await?;
        if let Some(outcome) = fee_cap_outcome(&fees, &self.config.fees) {
            return Ok(outcome);
        }
        let nonce = match nonce {
            Some(nonce) => nonce,
            None => self.pending_nonce().await?,
        };
        self.sign(update, nonce, fees)
            .await
            .map(SignOutcome::Signed)
    }

    /// Signs the state update at `previous.nonce`, with each of the three fee caps at least
    /// twice the previous one (more if current fees call for it), so that nodes replace the
    /// pending transaction.
    ///
    /// Like [`Self::sign_update`], it signs nothing when the block is already settled or the
    /// fees exceed the budget.
    pub async fn sign_replacement(
        &self,
        update: &StateUpdate,
        previous: &SentTx,
    ) -> Result<SignOutcome, SettlementError> {
        if let Some(outcome) = self.already_settled(update.program_output()).await? {
            return Ok(outcome);
        }
        let fresh = self.estimate_fees(update).await?;
        let fees = previous.fees.replacement(&fresh);
        if let Some(outcome) = fee_cap_outcome(&fees, &self.config.fees) {
            return Ok(outcome);
        }
        self.sign(update, previous.nonce, fees)
            .await
            .map(SignOutcome::Signed)
    }

    /// Signs the state update again at `recorded.nonce`, with each fee cap the larger of the
    /// recorded one and the current estimate.
    ///
    /// When fees have not risen, the result is the recorded transaction itself (same bytes,
    /// same hash), because signing is deterministic. Like [`Self::sign_update`], it signs
    /// nothing when the block is already settled or the fees exceed the budget.
    pub async fn resign(
        &self,
        update: &StateUpdate,
        recorded: &SentTx,
    ) -> Result<SignOutcome, SettlementError> {
        if let Some(outcome) = self.already_settled(update.program_output()).await? {
            return Ok(outcome);
        }
        let fresh = self.estimate_fees(update).await?;
        let fees = fees_at_least(&recorded.fees, &fresh);
        if let Some(outcome) = fee_cap_outcome(&fees, &self.config.fees) {
            return Ok(outcome);
        }
        self.sign(update, recorded.nonce, fees)
            .await
            .map(SignOutcome::Signed)
    }

    /// Continues a send that an earlier attempt signed and recorded as `recorded`, possibly
    /// without broadcasting it, and never signs a second transaction for the update at another
    /// nonce while `recorded` may still be mined.
    ///
    /// The step follows [`ResumeStep::decide`]: the recorded transaction when the node has it,
    /// else a signature at the recorded nonce while that nonce is not mined, else (another
    /// transaction used the nonce) [`SignOutcome::AlreadySettled`] or a new signature at the
    /// pending nonce. The caller broadcasts a [`SignOutcome::Signed`] result.
    #[instrument(skip_all, fields(block_number = update.program_output().new_block_number(), tx_hash = %recorded.tx_hash, nonce = recorded.nonce))]
    pub async fn resume(
        &self,
        update: &StateUpdate,
        recorded: &SentTx,
    ) -> Result<ResumeOutcome, SettlementError> {
        let known = self.is_transaction_known(recorded.tx_hash).await?;
        let latest_nonce = self.latest_nonce().await?;
        let step = ResumeStep::decide(known, recorded.nonce, latest_nonce);
        info!(
            ?step,
            known, latest_nonce, "resuming a recorded state update send"
        );
        match step {
            ResumeStep::KeepRecorded => Ok(ResumeOutcome::Recorded(*recorded)),
            ResumeStep::ResignAtRecordedNonce => self
                .resign(update, recorded)
                .await
                .map(ResumeOutcome::Signed),
            ResumeStep::SignAtPendingNonce => self
                .sign_update(update, None)
                .await
                .map(ResumeOutcome::Signed),
        }
    }

    /// Sends a signed transaction with `eth_sendRawTransaction`. A node that already has this
    /// exact transaction ("already known") counts as success with the same hash.
    ///
    /// # Errors
    /// [`SettlementError::NonceConsumed`] when a mined transaction already uses the nonce: the
    /// caller should check whether the block is settled, because that transaction may be an
    /// earlier one of this update. [`SettlementError::ReplacementUnderpriced`] when another
    /// transaction with this nonce is pending.
    #[instrument(skip_all, fields(tx_hash = %signed.tx_hash, nonce = signed.nonce))]
    pub async fn broadcast(&self, signed: &SignedUpdate) -> Result<SentTx, SettlementError> {
        if let Err(error) = self.provider.send_raw_transaction(&signed.raw).await {
            self.classify_send_error(error, signed.nonce)?;
        }
        info!(
            max_total_fee_wei = signed.fees.max_total_fee(),
            "state update sent"
        );
        Ok(signed.sent())
    }

    /// Returns true if the node has the transaction, pending in its pool or mined.
    pub async fn is_transaction_known(&self, tx_hash: B256) -> Result<bool, SettlementError> {
        let transaction = self
            .provider
            .get_transaction_by_hash(tx_hash)
            .await
            .map_err(SettlementError::rpc("eth_getTransactionByHash"))?;
        Ok(transaction.is_some())
    }

    /// Returns the sender's transaction count at the latest block: the nonce of its next
    /// transaction to be mined.
    pub async fn latest_nonce(&self) -> Result<u64, SettlementError> {
        self.provider
            .get_transaction_count(self.sender())
            .latest()
            .await
            .map_err(SettlementError::rpc("eth_getTransactionCount"))
    }

    async fn broadcast_outcome(
        &self,
        outcome: SignOutcome,
    ) -> Result<SendOutcome, SettlementError> {
        match outcome {
            SignOutcome::Signed(signed) => self.broadcast(&signed).await.map(SendOutcome::Sent),
            SignOutcome::AlreadySettled {
                settled_block_number,
            } => Ok(SendOutcome::AlreadySettled {
                settled_block_number,
            }),
            SignOutcome::FeeCapExceeded(exceeded) => Ok(SendOutcome::FeeCapExceeded(exceeded)),
        }
    }

    async fn settled_block_number(&self) -> Result<Option<u64>, SettlementError> {
        let core = StarknetCoreLocal::new(self.config.core_contract, &self.provider);
        let block_number = core
            .stateBlockNumber()
            .call()
            .await
            .map_err(contract_error)?;
        block_number_from_contract(self.config.core_contract, block_number)
    }

    async fn already_settled(
        &self,
        output: &ProgramOutput,
    ) -> Result<Option<SignOutcome>, SettlementError> {
        let Some(settled) = self.settled_block_number().await? else {
            return Ok(None);
        };
        if settled < output.new_block_number() {
            return Ok(None);
        }
        info!(
            settled_block_number = settled,
            "block already settled, not sending"
        );
        Ok(Some(SignOutcome::AlreadySettled {
            settled_block_number: settled,
        }))
    }

    /// Reads the next block's base fees and, unless the policy fixes it, estimates the gas
    /// limit with a 20 % margin.
    async fn estimate_fees(&self, update: &StateUpdate) -> Result<TxFees, SettlementError> {
        let history = self
            .provider
            .get_fee_history(1, BlockNumberOrTag::Latest, &[])
            .await
            .map_err(SettlementError::rpc("eth_feeHistory"))?;
        let base_fee = history
            .next_block_base_fee()
            .ok_or(SettlementError::MissingFeeData {
                field: "baseFeePerGas",
            })?;
        let blob_base_fee = history
            .next_block_blob_base_fee()
            .filter(|fee| *fee > 0)
            .ok_or(SettlementError::MissingFeeData {
                field: "baseFeePerBlobGas",
            })?;

        let policy = &self.config.fees;
        let n_blobs = update.program_output().n_blobs();
        let mut fees = TxFees::from_base_fees(
            base_fee,
            blob_base_fee,
            policy.max_priority_fee_per_gas,
            policy.gas_limit.unwrap_or_default(),
            n_blobs,
        );
        if policy.gas_limit.is_none() {
            let request = self.call_request(update, fees.max_fee_per_blob_gas);
            // Estimate on the latest block: a pending transaction of this sender (the one
            // being replaced) would make the estimate on the pending block revert.
            let estimate = self
                .provider
                .estimate_gas(request)
                .block(BlockId::latest())
                .await
                .map_err(|error| match revert_reason_of(&error) {
                    Some(reason) => SettlementError::WouldRevert {
                        block_number: update.program_output().new_block_number(),
                        reason,
                    },
                    None => SettlementError::Rpc {
                        method: "eth_estimateGas",
                        source: error,
                    },
                })?;
            fees.gas_limit = estimate.saturating_add(estimate / 5);
        }
        debug!(?fees, base_fee, blob_base_fee, "state update fees");
        Ok(fees)
    }

    fn call_request(&self, update: &StateUpdate, max_fee_per_blob_gas: u128) -> TransactionRequest {
        let mut request = TransactionRequest::default()
            .with_from(self.sender())
            .with_to(self.config.core_contract)
            .with_input(update.calldata().clone());
        request.blob_versioned_hashes = Some(update.blob_versioned_hashes().to_vec());
        request.max_fee_per_blob_gas = Some(max_fee_per_blob_gas);
        request
    }

    async fn sign(
        &self,
        update: &StateUpdate,
        nonce: u64,
        fees: TxFees,
    ) -> Result<SignedUpdate, SettlementError> {
        let chain_id = self
            .provider
            .get_chain_id()
            .await
            .map_err(SettlementError::rpc("eth_chainId"))?;
        let tx = TxEip4844 {
            chain_id,
            nonce,
            gas_limit: fees.gas_limit,
            max_fee_per_gas: fees.max_fee_per_gas,
            max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
            to: self.config.core_contract,
            value: U256::ZERO,
            access_list: Default::default(),
            blob_versioned_hashes: update.blob_versioned_hashes().to_vec(),
            max_fee_per_blob_gas: fees.max_fee_per_blob_gas,
            input: update.calldata().clone(),
        };
        let mut tx = TxEip4844Variant::TxEip4844WithSidecar(
            TxEip4844WithSidecar::from_tx_and_sidecar(tx, update.sidecar().clone()),
        );
        let signature = self.key.signer().sign_transaction_sync(&mut tx)?;
        let signed = tx.into_signed(signature);
        let tx_hash = *signed.hash();
        let raw = TxEnvelope::Eip4844(signed).encoded_2718();
        debug!(%tx_hash, nonce, ?fees, "state update signed");
        Ok(SignedUpdate {
            tx_hash,
            nonce,
            fees,
            raw: raw.into(),
        })
    }

    /// Maps a rejected `eth_sendRawTransaction` to an error, or to `Ok` when the node already
    /// has this exact transaction.
    fn classify_send_error(
        &self,
        error: TransportError,
        nonce: u64,
    ) -> Result<(), SettlementError> {
        let RpcError::ErrorResp(payload) = &error else {
            return Err(SettlementError::Rpc {
                method: "eth_sendRawTransaction",
                source: error,
            });
        };
        let message = payload.message.to_string();
        let lowercase = message.to_ascii_lowercase();
        if lowercase.contains("already known") || lowercase.contains("already imported") {
            debug!(nonce, "node already has this transaction");
            return Ok(());
        }
        if lowercase.contains("nonce too low") {
            return Err(SettlementError::NonceConsumed {
                sender: self.sender(),
                nonce,
            });
        }
        if lowercase.contains("underpriced") {
            return Err(SettlementError::ReplacementUnderpriced { nonce, message });
        }
        if lowercase.contains("insufficient funds") {
            return Err(SettlementError::InsufficientFunds {
                sender: self.sender(),
                message,
            });
        }
        Err(SettlementError::TransactionRejected { nonce, message })
    }
}

/// Returns [`SignOutcome::FeeCapExceeded`] when `fees` exceed the policy's budget.
fn fee_cap_outcome(fees: &TxFees, policy: &FeePolicy) -> Option<SignOutcome> {
    let exceeded = check_fee_cap(fees, policy.max_total_fee_wei).err()?;
    warn!(
        max_total_fee_wei = exceeded.max_total_fee_wei,
        cap_wei = exceeded.cap_wei,
        "state update fee cap exceeded, not signing"
    );
    Some(SignOutcome::FeeCapExceeded(exceeded))
}

/// Returns each gas limit and fee cap as the larger of `recorded` and `fresh`, so that a
/// re-signed transaction equals the recorded one unless the market has risen.
fn fees_at_least(recorded: &TxFees, fresh: &TxFees) -> TxFees {
    TxFees {
        gas_limit: recorded.gas_limit.max(fresh.gas_limit),
        max_fee_per_gas: recorded.max_fee_per_gas.max(fresh.max_fee_per_gas),
        max_priority_fee_per_gas: recorded
            .max_priority_fee_per_gas
            .max(fresh.max_priority_fee_per_gas),
        max_fee_per_blob_gas: recorded
            .max_fee_per_blob_gas
            .max(fresh.max_fee_per_blob_gas),
        blob_gas: fresh.blob_gas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_keeps_known_transaction() {
        assert_eq!(ResumeStep::decide(true, 5, 9), ResumeStep::KeepRecorded);
        assert_eq!(ResumeStep::decide(true, 5, 5), ResumeStep::KeepRecorded);
    }

    #[test]
    fn resume_resigns_while_nonce_unmined() {
        assert_eq!(
            ResumeStep::decide(false, 5, 5),
            ResumeStep::ResignAtRecordedNonce
        );
        // A gap below the recorded nonce (earlier transactions dropped) keeps the nonce too.
        assert_eq!(
            ResumeStep::decide(false, 5, 3),
            ResumeStep::ResignAtRecordedNonce
        );
    }

    #[test]
    fn resume_signs_anew_after_nonce_mined() {
        assert_eq!(
            ResumeStep::decide(false, 5, 6),
            ResumeStep::SignAtPendingNonce
        );
    }

    #[test]
    fn fees_at_least_keeps_recorded_when_market_falls() {
        let recorded = TxFees::from_base_fees(10, 4, 2, 100_000, 1);
        let fresh = TxFees::from_base_fees(8, 3, 2, 90_000, 1);
        assert_eq!(fees_at_least(&recorded, &fresh), recorded);
    }

    #[test]
    fn fees_at_least_follows_rising_market() {
        let recorded = TxFees::from_base_fees(10, 4, 2, 100_000, 1);
        let fresh = TxFees::from_base_fees(20, 3, 3, 120_000, 1);
        let fees = fees_at_least(&recorded, &fresh);
        assert_eq!(fees.max_fee_per_gas, fresh.max_fee_per_gas);
        assert_eq!(fees.max_priority_fee_per_gas, 3);
        assert_eq!(fees.max_fee_per_blob_gas, recorded.max_fee_per_blob_gas);
        assert_eq!(fees.gas_limit, 120_000);
        assert_eq!(fees.blob_gas, fresh.blob_gas);
    }
}
