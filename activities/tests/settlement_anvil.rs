//! Settlement against the local core contract on an anvil L1 (Prague), with real blobs.
//!
//! Every test starts its own anvil from `ORCHESTRATOR_ANVIL_BIN` (default: the npm
//! `@foundry-rs/anvil-linux-amd64` binary in the orchestrator cache), deploys the contracts and
//! builds program outputs whose commitments and evaluations match random blobs.

use std::path::PathBuf;

use alloy::eips::eip4844::{BYTES_PER_BLOB, Blob};
use alloy::network::EthereumWallet;
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{B256, U256, keccak256};
use alloy::providers::Provider;
use alloy::providers::ProviderBuilder;
use alloy::signers::local::PrivateKeySigner;
use orchestrator_activities::settlement::contracts::{
    CoreContractParams, DeployedContracts, FactRegistry, InitialState, deploy_contracts,
    fact_program_hash, state_transition_fact,
};
use orchestrator_activities::settlement::{
    Confirmation, CoreState, FeePolicy, GENESIS_PREV_BLOCK_NUMBER, L1PrivateKey, ProgramOutput,
    SendOutcome, SentTx, SettlementClient, SettlementConfig, SettlementError, SidecarKind,
    StateUpdate, Verification, open_blob,
};
use url::Url;

const DEFAULT_ANVIL_BIN: &str =
    "/root/.cache/orchestrator/npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";
const PROGRAM_HASH: U256 = U256::from_limbs([0x05, 0, 0, 0x0100]);
const AGGREGATOR_PROGRAM_HASH: U256 = U256::from_limbs([0x07, 0, 0, 0x0200]);
const CONFIG_HASH: U256 = U256::from_limbs([0x0c, 0, 0, 0x0300]);

fn start_anvil(hardfork: &str, extra_args: &[&str]) -> AnvilInstance {
    let binary = std::env::var_os("ORCHESTRATOR_ANVIL_BIN")
        .map_or_else(|| PathBuf::from(DEFAULT_ANVIL_BIN), PathBuf::from);
    Anvil::at(&binary)
        .arg("--hardfork")
        .arg(hardfork)
        .args(extra_args)
        .try_spawn()
        .unwrap_or_else(|error| panic!("cannot start anvil at {}: {error}", binary.display()))
}

fn anvil_key(anvil: &AnvilInstance) -> L1PrivateKey {
    let secret = hex::encode(anvil.first_key().to_bytes());
    L1PrivateKey::parse(&secret, "anvil first key").expect("anvil key is valid")
}

/// A deployed local L1 with a client for it.
struct Chain {
    anvil: AnvilInstance,
    params: CoreContractParams,
    contracts: DeployedContracts,
    client: SettlementClient,
}

impl Chain {
    async fn start(hardfork: &str, fees: FeePolicy, sidecar_kind: SidecarKind) -> Self {
        let params = CoreContractParams {
            program_hash: PROGRAM_HASH,
            aggregator_program_hash: AGGREGATOR_PROGRAM_HASH,
            config_hash: CONFIG_HASH,
            initial_state: InitialState::default(),
        };
        Self::start_with(hardfork, fees, sidecar_kind, params).await
    }

    async fn start_with(
        hardfork: &str,
        fees: FeePolicy,
        sidecar_kind: SidecarKind,
        params: CoreContractParams,
    ) -> Self {
        let anvil = start_anvil(hardfork, &[]);
        let key = anvil_key(&anvil);
        let contracts = deploy_contracts(anvil.endpoint_url(), &key, &params)
            .await
            .expect("deploy contracts");
        let config = SettlementConfig {
            rpc_url: anvil.endpoint_url(),
            core_contract: contracts.core_contract,
            sidecar_kind,
            fees,
        };
        let client = SettlementClient::new(config, key);
        let chain = Self {
            anvil,
            params,
            contracts,
            client,
        };
        // Blocks are mined only on request from here on, so that the transaction pool and the
        // chain are in a known state at every step of a test.
        chain.set_automine(false).await;
        chain
    }

    fn rpc_url(&self) -> Url {
        self.anvil.endpoint_url()
    }

    /// Registers the fact of `output` and mines the registration.
    async fn register(&self, output: &ProgramOutput) {
        let program_hash = fact_program_hash(
            self.params.program_hash,
            self.params.aggregator_program_hash,
            output,
        );
        let fact = state_transition_fact(program_hash, output);
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(self.anvil_signer()))
            .connect_http(self.rpc_url());
        let pending = FactRegistry::new(self.contracts.fact_registry, &provider)
            .registerFact(fact)
            .send()
            .await
            .expect("send registerFact");
        self.mine(1).await;
        let receipt = pending.get_receipt().await.expect("registerFact receipt");
        assert!(receipt.status(), "registerFact reverted");
    }

    fn anvil_signer(&self) -> PrivateKeySigner {
        PrivateKeySigner::from(self.anvil.first_key().clone())
    }

    async fn mine(&self, blocks: u64) {
        let provider = self.client.provider();
        let () = provider
            .raw_request("anvil_mine".into(), (U256::from(blocks),))
            .await
            .expect("anvil_mine");
    }

    async fn set_automine(&self, enabled: bool) {
        let provider = self.client.provider();
        let () = provider
            .raw_request("evm_setAutomine".into(), (enabled,))
            .await
            .expect("evm_setAutomine");
    }
}

/// Deterministic pseudo-random 32-byte words: keccak256(tag ‖ index).
fn random_word(tag: &str, index: u64) -> [u8; 32] {
    let mut preimage = tag.as_bytes().to_vec();
    preimage.extend_from_slice(&index.to_be_bytes());
    keccak256(preimage).0
}

/// Returns a felt below 2^248, which is below the Starknet prime.
fn random_felt(tag: &str, index: u64) -> U256 {
    let mut word = random_word(tag, index);
    word[0] = 0;
    U256::from_be_bytes(word)
}

/// Returns a blob of 4096 field elements below 2^254, which is below the BLS12-381 modulus.
fn random_blob(tag: &str) -> Blob {
    let mut bytes = vec![0u8; BYTES_PER_BLOB];
    for (index, element) in bytes.chunks_mut(32).enumerate() {
        let mut word = random_word(tag, index as u64);
        word[0] &= 0x3f;
        element.copy_from_slice(&word);
    }
    Blob::try_from(bytes.as_slice()).expect("blob size")
}

/// Starknet state after a block in the tests: root and hash derived from the block number.
fn state_after(block_number: Option<u64>) -> CoreState {
    match block_number {
        None => CoreState {
            block_number: None,
            state_root: U256::ZERO,
            block_hash: U256::ZERO,
        },
        Some(number) => CoreState {
            block_number: Some(number),
            state_root: random_felt("root", number),
            block_hash: random_felt("hash", number),
        },
    }
}

/// Builds a program output from `prev` to `new_block_number` whose KZG words match `blobs`.
fn build_output(
    prev: CoreState,
    new_block_number: u64,
    blobs: &[Blob],
    os_program_hash: U256,
) -> ProgramOutput {
    let new = state_after(Some(new_block_number));
    let x0 = random_felt("x0", new_block_number);
    let prev_block_number = prev
        .block_number
        .map_or(GENESIS_PREV_BLOCK_NUMBER, U256::from);
    let mut words = vec![
        prev.state_root,
        new.state_root,
        prev_block_number,
        U256::from(new_block_number),
        prev.block_hash,
        new.block_hash,
        os_program_hash,
        CONFIG_HASH,
        U256::from(1),
        U256::ZERO,
        x0,
        U256::from(blobs.len()),
    ];
    let openings: Vec<_> = blobs
        .iter()
        .enumerate()
        .map(|(index, blob)| open_blob(blob, B256::from(x0), index + 1).expect("kzg opening"))
        .collect();
    for opening in &openings {
        words.push(U256::from_be_slice(&opening.commitment[24..]));
        words.push(U256::from_be_slice(&opening.commitment[..24]));
    }
    for opening in &openings {
        let y = U256::from_be_bytes(opening.evaluation.0);
        words.push(y & U256::from(u128::MAX));
        words.push(y >> 128);
    }
    // One L2->L1 message (from, to, payload size 2, payload), then no L1->L2 messages.
    words.extend([
        U256::from(5),
        U256::from(0xabc),
        U256::from(0xdef),
        U256::from(2),
    ]);
    words.extend([U256::from(1), U256::from(2), U256::ZERO]);
    ProgramOutput::from_words(words).expect("test output is valid")
}

fn blobs_for(tag: &str, count: usize) -> Vec<Blob> {
    (0..count)
        .map(|index| random_blob(&format!("{tag}-{index}")))
        .collect()
}

fn prepare(output: &ProgramOutput, blobs: Vec<Blob>, kind: SidecarKind) -> StateUpdate {
    StateUpdate::prepare(output.clone(), blobs, kind).expect("blobs match the output")
}

fn expect_sent(outcome: SendOutcome) -> SentTx {
    match outcome {
        SendOutcome::Sent(sent) => sent,
        other => panic!("expected a sent transaction, got {other:?}"),
    }
}

#[tokio::test]
async fn settles_consecutive_blocks() {
    let chain = Chain::start("prague", FeePolicy::default(), SidecarKind::Eip4844).await;
    let client = &chain.client;
    assert_eq!(
        client.read_state().await.expect("read state"),
        state_after(None)
    );

    // Block 0 starts from genesis; block 4 comes from an aggregator run, so its fact is bound
    // to the aggregator program hash.
    let steps = [
        (None, 0, 1, U256::ZERO),
        (Some(0), 3, 2, U256::ZERO),
        (Some(3), 4, 3, PROGRAM_HASH),
    ];
    for (prev, new_block_number, n_blobs, os_program_hash) in steps {
        let blobs = blobs_for(&format!("block-{new_block_number}"), n_blobs);
        let output = build_output(state_after(prev), new_block_number, &blobs, os_program_hash);
        chain.register(&output).await;
        let update = prepare(&output, blobs, SidecarKind::Eip4844);

        assert_eq!(
            client.verify(&output).await.expect("verify"),
            Verification::Pending
        );
        assert!(
            !client
                .is_settled(new_block_number)
                .await
                .expect("is_settled")
        );

        let sent = expect_sent(
            client
                .send_update(&update, None)
                .await
                .expect("send update"),
        );
        assert_eq!(
            client
                .check_confirmation(sent.tx_hash, 2)
                .await
                .expect("check confirmation"),
            Confirmation::Pending {
                included_in_block: None,
                confirmations: 0
            },
            "block {new_block_number}: transaction waits in the pool"
        );
        chain.mine(1).await;
        match client
            .check_confirmation(sent.tx_hash, 2)
            .await
            .expect("check confirmation")
        {
            Confirmation::Pending {
                included_in_block: Some(_),
                confirmations: 0,
            } => {}
            other => panic!("block {new_block_number}: expected pending inclusion, got {other:?}"),
        }
        chain.mine(2).await;
        let confirmed = match client
            .check_confirmation(sent.tx_hash, 2)
            .await
            .expect("check")
        {
            Confirmation::Confirmed(confirmed) => confirmed,
            other => panic!("block {new_block_number}: expected confirmed, got {other:?}"),
        };
        assert_eq!(confirmed.confirmations, 2);
        assert_eq!(confirmed.blob_gas_used, 131_072 * n_blobs as u64);
        assert!(
            confirmed.gas_used > 21_000,
            "gas used {}",
            confirmed.gas_used
        );
        assert!(
            confirmed.gas_used <= sent.fees.gas_limit,
            "gas used {}",
            confirmed.gas_used
        );
        assert_eq!(
            confirmed.total_fee_wei,
            u128::from(confirmed.gas_used) * confirmed.effective_gas_price
                + u128::from(confirmed.blob_gas_used) * confirmed.blob_gas_price
        );

        assert_eq!(
            client.verify(&output).await.expect("verify"),
            Verification::Settled
        );
        assert!(
            client
                .is_settled(new_block_number)
                .await
                .expect("is_settled")
        );
        assert_eq!(
            client.read_state().await.expect("read state"),
            state_after(Some(new_block_number))
        );
    }
}

#[tokio::test]
async fn settled_block_sends_nothing() {
    let chain = Chain::start("prague", FeePolicy::default(), SidecarKind::Eip4844).await;
    let client = &chain.client;
    let blobs = blobs_for("settled", 1);
    let output = build_output(state_after(None), 0, &blobs, U256::ZERO);
    chain.register(&output).await;
    let update = prepare(&output, blobs, SidecarKind::Eip4844);
    expect_sent(client.send_update(&update, None).await.expect("first send"));
    chain.mine(1).await;

    let nonce_before = client.pending_nonce().await.expect("nonce");
    let outcome = client
        .send_update(&update, None)
        .await
        .expect("second send");
    assert_eq!(
        outcome,
        SendOutcome::AlreadySettled {
            settled_block_number: 0
        }
    );
    assert_eq!(
        client.pending_nonce().await.expect("nonce"),
        nonce_before,
        "nothing was sent"
    );

    let previous = SentTx {
        tx_hash: B256::ZERO,
        nonce: nonce_before,
        fees: orchestrator_activities::settlement::TxFees::from_base_fees(1, 1, 1, 1, 1),
    };
    let outcome = client.replace(&update, &previous).await.expect("replace");
    assert_eq!(
        outcome,
        SendOutcome::AlreadySettled {
            settled_block_number: 0
        }
    );
    assert_eq!(
        client.pending_nonce().await.expect("nonce"),
        nonce_before,
        "nothing was sent"
    );

    // A later output whose previous state is the settled block is still pending.
    let next = build_output(
        state_after(Some(0)),
        1,
        &blobs_for("settled-next", 1),
        U256::ZERO,
    );
    assert_eq!(
        client.verify(&next).await.expect("verify"),
        Verification::Pending
    );
    assert_eq!(
        client.verify(&output).await.expect("verify"),
        Verification::Settled
    );
}

#[tokio::test]
async fn stuck_tx_is_replaced_and_settles() {
    let chain = Chain::start("prague", FeePolicy::default(), SidecarKind::Eip4844).await;
    let client = &chain.client;
    let blobs = blobs_for("stuck", 2);
    let output = build_output(state_after(None), 0, &blobs, U256::ZERO);
    chain.register(&output).await;
    let update = prepare(&output, blobs, SidecarKind::Eip4844);

    let first = expect_sent(client.send_update(&update, None).await.expect("send"));
    assert_eq!(
        client
            .check_confirmation(first.tx_hash, 0)
            .await
            .expect("check"),
        Confirmation::Pending {
            included_in_block: None,
            confirmations: 0
        }
    );

    let second = expect_sent(client.replace(&update, &first).await.expect("replace"));
    assert_eq!(second.nonce, first.nonce);
    assert_ne!(second.tx_hash, first.tx_hash);
    assert!(second.fees.max_fee_per_gas >= 2 * first.fees.max_fee_per_gas);
    assert!(second.fees.max_priority_fee_per_gas >= 2 * first.fees.max_priority_fee_per_gas);
    assert!(second.fees.max_fee_per_blob_gas >= 2 * first.fees.max_fee_per_blob_gas);

    chain.mine(1).await;
    assert_eq!(
        client
            .check_confirmation(first.tx_hash, 0)
            .await
            .expect("check"),
        Confirmation::Dropped
    );
    match client
        .check_confirmation(second.tx_hash, 0)
        .await
        .expect("check")
    {
        Confirmation::Confirmed(confirmed) => assert_eq!(confirmed.blob_gas_used, 2 * 131_072),
        other => panic!("expected the replacement to be confirmed, got {other:?}"),
    }
    assert_eq!(
        client.verify(&output).await.expect("verify"),
        Verification::Settled
    );
}

#[tokio::test]
async fn identical_resend_returns_same_hash() {
    let chain = Chain::start("prague", FeePolicy::default(), SidecarKind::Eip4844).await;
    let client = &chain.client;
    let blobs = blobs_for("resend", 1);
    let output = build_output(state_after(None), 0, &blobs, U256::ZERO);
    chain.register(&output).await;
    let update = prepare(&output, blobs, SidecarKind::Eip4844);

    let first = expect_sent(client.send_update(&update, None).await.expect("send"));
    // No block was mined, so the fees and therefore the signed transaction are the same.
    let again = expect_sent(
        client
            .send_update(&update, Some(first.nonce))
            .await
            .expect("resend"),
    );
    assert_eq!(again, first);
}

#[tokio::test]
async fn cheaper_replacement_is_underpriced() {
    let chain = Chain::start("prague", FeePolicy::default(), SidecarKind::Eip4844).await;
    let client = &chain.client;
    let blobs = blobs_for("underpriced", 1);
    let output = build_output(state_after(None), 0, &blobs, U256::ZERO);
    chain.register(&output).await;
    let update = prepare(&output, blobs, SidecarKind::Eip4844);
    let first = expect_sent(client.send_update(&update, None).await.expect("send"));

    // After the base fee falls, a fresh send at the same nonce offers lower caps than the
    // pending transaction. (Anvil 1.7.1 accepts any replacement with a higher max fee per
    // gas, so only a cheaper one shows the rejection.)
    let lower_base_fee = U256::from(first.fees.max_fee_per_gas / 8);
    let () = client
        .provider()
        .raw_request("anvil_setNextBlockBaseFeePerGas".into(), (lower_base_fee,))
        .await
        .expect("anvil_setNextBlockBaseFeePerGas");
    match client.send_update(&update, Some(first.nonce)).await {
        Err(SettlementError::ReplacementUnderpriced { nonce, .. }) => {
            assert_eq!(nonce, first.nonce)
        }
        other => panic!("expected ReplacementUnderpriced, got {other:?}"),
    }
}

#[tokio::test]
async fn used_nonce_is_nonce_consumed() {
    let chain = Chain::start("prague", FeePolicy::default(), SidecarKind::Eip4844).await;
    let client = &chain.client;
    let blobs = blobs_for("nonce-0", 1);
    let output = build_output(state_after(None), 0, &blobs, U256::ZERO);
    chain.register(&output).await;
    let first = expect_sent(
        client
            .send_update(&prepare(&output, blobs, SidecarKind::Eip4844), None)
            .await
            .expect("send"),
    );

    let blobs = blobs_for("nonce-1", 1);
    let next = build_output(state_after(Some(0)), 1, &blobs, U256::ZERO);
    chain.register(&next).await;
    let update = prepare(&next, blobs, SidecarKind::Eip4844);
    match client.send_update(&update, Some(first.nonce)).await {
        Err(SettlementError::NonceConsumed { nonce, sender }) => {
            assert_eq!(nonce, first.nonce);
            assert_eq!(sender, client.sender());
        }
        other => panic!("expected NonceConsumed, got {other:?}"),
    }
}

#[tokio::test]
async fn reverted_update_reports_reason() {
    let fixed_gas = FeePolicy {
        gas_limit: Some(1_500_000),
        ..FeePolicy::default()
    };
    let chain = Chain::start("prague", fixed_gas, SidecarKind::Eip4844).await;
    let client = &chain.client;
    let blobs = blobs_for("revert", 1);
    let mut wrong_prev = state_after(None);
    wrong_prev.state_root = U256::from(0x1234);
    let output = build_output(wrong_prev, 0, &blobs, U256::ZERO);
    chain.register(&output).await;
    let update = prepare(&output, blobs, SidecarKind::Eip4844);

    let sent = expect_sent(client.send_update(&update, None).await.expect("send"));
    chain.mine(1).await;
    match client
        .check_confirmation(sent.tx_hash, 0)
        .await
        .expect("check")
    {
        Confirmation::Reverted { reason, .. } => assert_eq!(reason, "INVALID_PREVIOUS_ROOT"),
        other => panic!("expected a revert, got {other:?}"),
    }
    assert_eq!(
        client.read_state().await.expect("read state"),
        state_after(None)
    );
}

#[tokio::test]
async fn estimation_rejects_reverting_update() {
    let chain = Chain::start("prague", FeePolicy::default(), SidecarKind::Eip4844).await;
    let client = &chain.client;
    let blobs = blobs_for("estimate-revert", 1);
    let output = build_output(state_after(None), 0, &blobs, U256::ZERO);
    let update = prepare(&output, blobs, SidecarKind::Eip4844);
    let nonce_before = client.pending_nonce().await.expect("nonce");

    // No fact is registered for this output.
    match client.send_update(&update, None).await {
        Err(SettlementError::WouldRevert {
            block_number,
            reason,
        }) => {
            assert_eq!(block_number, 0);
            assert_eq!(reason, "NO_STATE_TRANSITION_PROOF");
        }
        other => panic!("expected WouldRevert, got {other:?}"),
    }
    assert_eq!(
        client.pending_nonce().await.expect("nonce"),
        nonce_before,
        "nothing was sent"
    );
}

#[tokio::test]
async fn fee_above_cap_is_not_signed() {
    let tiny_budget = FeePolicy {
        max_total_fee_wei: 1_000,
        ..FeePolicy::default()
    };
    let chain = Chain::start("prague", tiny_budget, SidecarKind::Eip4844).await;
    let client = &chain.client;
    let blobs = blobs_for("cap", 1);
    let output = build_output(state_after(None), 0, &blobs, U256::ZERO);
    chain.register(&output).await;
    let update = prepare(&output, blobs, SidecarKind::Eip4844);
    let nonce_before = client.pending_nonce().await.expect("nonce");

    let exceeded = match client.send_update(&update, None).await.expect("send") {
        SendOutcome::FeeCapExceeded(exceeded) => exceeded,
        other => panic!("expected FeeCapExceeded, got {other:?}"),
    };
    assert_eq!(exceeded.cap_wei, 1_000);
    assert_eq!(exceeded.max_total_fee_wei, exceeded.fees.max_total_fee());
    assert!(exceeded.max_total_fee_wei > 1_000);
    assert_eq!(
        client.pending_nonce().await.expect("nonce"),
        nonce_before,
        "nothing was sent"
    );
    assert_eq!(
        client.verify(&output).await.expect("verify"),
        Verification::Pending
    );
}

#[tokio::test]
async fn cell_proof_sidecar_settles() {
    // Osaka is the fork that requires EIP-7594 cell proofs. Anvil 1.7.1 accepts either
    // sidecar kind on Prague and Osaka alike, so this shows the encoding is accepted, not
    // that the node enforces the fork rule.
    let chain = Chain::start("osaka", FeePolicy::default(), SidecarKind::Eip7594).await;
    let client = &chain.client;
    let blobs = blobs_for("peerdas", 2);
    let output = build_output(state_after(None), 0, &blobs, U256::ZERO);
    chain.register(&output).await;
    let update = prepare(&output, blobs, SidecarKind::Eip7594);
    assert!(update.sidecar().is_eip7594());

    let sent = expect_sent(client.send_update(&update, None).await.expect("send"));
    chain.mine(1).await;
    match client
        .check_confirmation(sent.tx_hash, 0)
        .await
        .expect("check")
    {
        Confirmation::Confirmed(confirmed) => assert_eq!(confirmed.blob_gas_used, 2 * 131_072),
        other => panic!("expected confirmed, got {other:?}"),
    }
    assert_eq!(
        client.verify(&output).await.expect("verify"),
        Verification::Settled
    );
}

/// Returns the golden fixture directory: `ORCHESTRATOR_FIXTURES`, or `shared/fixtures` next to
/// the workspace.
fn fixtures_dir() -> PathBuf {
    std::env::var_os("ORCHESTRATOR_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"))
}

#[tokio::test]
async fn recorded_sepolia_update_settles() {
    // The Sepolia output of blocks 218379 to 218402 came from an aggregator run: its OS
    // program hash word must equal the contract's program hash, and its fact is bound to the
    // aggregator program hash.
    let dir = fixtures_dir().join("settlement/6806848");
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name)).unwrap_or_else(|error| {
            panic!("cannot read fixture {name} in {}: {error}", dir.display())
        })
    };
    let output = ProgramOutput::parse(&read("program_output.txt")).expect("fixture output");
    let blob = orchestrator_activities::settlement::parse_blob_hex(&read("blob.hex"), 1)
        .expect("fixture blob");
    let params = CoreContractParams {
        program_hash: output.os_program_hash(),
        aggregator_program_hash: U256::from(0xa99u64),
        config_hash: output.config_hash(),
        initial_state: InitialState {
            block_number: output.prev_block_number(),
            state_root: output.prev_state_root(),
            block_hash: output.prev_block_hash(),
        },
    };
    let chain =
        Chain::start_with("prague", FeePolicy::default(), SidecarKind::Eip4844, params).await;
    let client = &chain.client;
    chain.register(&output).await;
    let update = prepare(&output, vec![blob], SidecarKind::Eip4844);
    assert_eq!(
        client.verify(&output).await.expect("verify"),
        Verification::Pending
    );

    let sent = expect_sent(client.send_update(&update, None).await.expect("send"));
    chain.mine(1).await;
    match client
        .check_confirmation(sent.tx_hash, 0)
        .await
        .expect("check")
    {
        Confirmation::Confirmed(confirmed) => assert_eq!(confirmed.blob_gas_used, 131_072),
        other => panic!("expected confirmed, got {other:?}"),
    }
    assert_eq!(
        client.verify(&output).await.expect("verify"),
        Verification::Settled
    );
    assert_eq!(
        client.read_state().await.expect("state").block_number,
        Some(218_402)
    );
}

#[tokio::test]
async fn reorged_out_tx_is_dropped() {
    let chain = Chain::start("prague", FeePolicy::default(), SidecarKind::Eip4844).await;
    let client = &chain.client;
    let blobs = blobs_for("reorg", 1);
    let output = build_output(state_after(None), 0, &blobs, U256::ZERO);
    chain.register(&output).await;
    let update = prepare(&output, blobs, SidecarKind::Eip4844);

    let snapshot: U256 = client
        .provider()
        .raw_request("evm_snapshot".into(), ())
        .await
        .expect("evm_snapshot");
    let sent = expect_sent(client.send_update(&update, None).await.expect("send"));
    chain.mine(1).await;
    match client
        .check_confirmation(sent.tx_hash, 0)
        .await
        .expect("check")
    {
        Confirmation::Confirmed(_) => {}
        other => panic!("expected confirmed before the reorg, got {other:?}"),
    }

    // Reverting to the snapshot removes the block and its receipt. Anvil 1.7.1 does not put
    // the transaction back into the pool, so the node returns neither receipt nor transaction.
    let reverted: bool = client
        .provider()
        .raw_request("evm_revert".into(), (snapshot,))
        .await
        .expect("evm_revert");
    assert!(reverted, "evm_revert found the snapshot");
    assert_eq!(
        client
            .check_confirmation(sent.tx_hash, 0)
            .await
            .expect("check"),
        Confirmation::Dropped
    );
    assert_eq!(
        client.verify(&output).await.expect("verify"),
        Verification::Pending
    );
}
