//! Fact registration on an anvil L1 through the local prover.

use std::path::{Path, PathBuf};
use std::time::Duration;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use url::Url;

use super::{LocalProver, fast_config, read_pie};
use crate::prover::api::QueryStatus;
use crate::prover::atlantic::QueryKey;
use crate::prover::error::FactRegistryError;
use crate::prover::fact::compute_fact_info_from_zip;
use crate::prover::local::{FactRegistrationConfig, LocalProverConfig};
use crate::prover::registry::{is_fact_registered, read_private_key_file, register_fact};

const DEFAULT_ANVIL_BIN: &str =
    "/root/.cache/orchestrator/npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

/// Creation code of a minimal registry, used when the project's compiled `FactRegistry` is
/// absent. Source, compiled with solc-js 0.8.37 (optimizer on, 200 runs, EVM cancun):
///
/// ```solidity
/// contract TestFactRegistry {
///     mapping(bytes32 => bool) private facts;
///     function registerFact(bytes32 fact) external { facts[fact] = true; }
///     function isValid(bytes32 fact) external view returns (bool) { return facts[fact]; }
/// }
/// ```
const FALLBACK_REGISTRY_BYTECODE: &str = "0x6080604052348015600e575f5ffd5b5060da80601a5f395ff3fe\
6080604052348015600e575f5ffd5b50600436106030575f3560e01c80636a9385671460345780636d5d6eb71460675\
75b5f5ffd5b6053603f366004608e565b5f9081526020819052604090205460ff1690565b60405190151581526020\
0160405180910390f35b608c6072366004608e565b5f908152602081905260409020805460ff191660011790555\
65b005b5f60208284031215609d575f5ffd5b503591905056fea26469706673582212206ab4ba01e2556ed46968de\
16687e908d851ec901bc12f718e10affced8e3af7d64736f6c63430008250033";

fn start_anvil() -> AnvilInstance {
    let binary = std::env::var_os("ORCHESTRATOR_ANVIL_BIN")
        .map_or_else(|| PathBuf::from(DEFAULT_ANVIL_BIN), PathBuf::from);
    Anvil::at(&binary)
        .arg("--hardfork")
        .arg("prague")
        .try_spawn()
        .unwrap_or_else(|error| panic!("cannot start anvil at {}: {error}", binary.display()))
}

/// Returns the creation code of `contracts/out/FactRegistry.json` when it exists, else the
/// fallback registry.
fn registry_bytecode() -> Bytes {
    let artifact = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("contracts/out/FactRegistry.json");
    let bytecode = std::fs::read(&artifact)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|json| json["bytecode"].as_str().map(str::to_owned))
        .unwrap_or_else(|| FALLBACK_REGISTRY_BYTECODE.to_owned());
    bytecode.parse().expect("registry bytecode is hex")
}

async fn deploy_registry(rpc_url: &Url, signer: PrivateKeySigner) -> Address {
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(rpc_url.clone());
    let request = TransactionRequest::default().with_deploy_code(registry_bytecode());
    let receipt = provider
        .send_transaction(request)
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "registry deployment reverted");
    receipt
        .contract_address
        .expect("deployment receipt has a contract address")
}

fn anvil_signer(anvil: &AnvilInstance) -> PrivateKeySigner {
    PrivateKeySigner::from(anvil.first_key().clone())
}

#[tokio::test]
async fn registered_fact_equals_pie_fact() {
    let anvil = start_anvil();
    let rpc_url = anvil.endpoint_url();
    let registry = deploy_registry(&rpc_url, anvil_signer(&anvil)).await;

    // The local prover reads its key from a file, as `orchestrator prover serve` does.
    let key_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        key_file.path(),
        format!("0x{}\n", hex::encode(anvil.first_key().to_bytes())),
    )
    .unwrap();
    let signer = read_private_key_file(key_file.path()).unwrap();

    let prover = LocalProver::start(LocalProverConfig {
        fact_registration: Some(FactRegistrationConfig {
            rpc_url: rpc_url.clone(),
            signer,
            registry,
        }),
        ..fast_config()
    })
    .await;
    let client = prover.client();
    let pie = read_pie("sepolia_924016.zip");
    let fact = compute_fact_info_from_zip(&pie).unwrap().fact;
    assert!(!is_fact_registered(&rpc_url, registry, fact).await.unwrap());

    let submitted = client
        .submit_pie(pie, &QueryKey::new("block-924016"))
        .await
        .unwrap();
    let query = client
        .wait_for_final_status(
            &submitted.query_id,
            Duration::from_millis(50),
            Duration::from_secs(60),
        )
        .await
        .unwrap();

    assert_eq!(query.status, QueryStatus::Done, "query: {query:?}");
    assert_eq!(query.sharp_fact_hash, Some(fact.to_string()));
    assert!(is_fact_registered(&rpc_url, registry, fact).await.unwrap());
    assert!(
        !is_fact_registered(&rpc_url, registry, B256::repeat_byte(0x11))
            .await
            .unwrap()
    );
    prover.stop().await;
}

#[tokio::test]
async fn registering_twice_sends_one_transaction() {
    let anvil = start_anvil();
    let rpc_url = anvil.endpoint_url();
    let registry = deploy_registry(&rpc_url, anvil_signer(&anvil)).await;
    let fact = B256::repeat_byte(0x42);

    let first = register_fact(&rpc_url, anvil_signer(&anvil), registry, fact)
        .await
        .unwrap();
    let second = register_fact(&rpc_url, anvil_signer(&anvil), registry, fact)
        .await
        .unwrap();

    assert!(first.is_some());
    assert_eq!(second, None);
    assert!(is_fact_registered(&rpc_url, registry, fact).await.unwrap());
}

#[tokio::test]
async fn registry_without_code_is_reported() {
    let anvil = start_anvil();
    let error = is_fact_registered(
        &anvil.endpoint_url(),
        Address::repeat_byte(0x05),
        B256::ZERO,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, FactRegistryError::NoContract { .. }),
        "got {error}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn unreachable_rpc_is_retryable() {
    // Bind and drop a listener to get a port that nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rpc_url: Url = format!("http://127.0.0.1:{port}").parse().unwrap();
    let error = is_fact_registered(&rpc_url, Address::ZERO, B256::ZERO)
        .await
        .unwrap_err();
    assert!(
        matches!(error, FactRegistryError::Rpc { .. }),
        "got {error}"
    );
    assert!(error.is_retryable());
}

#[test]
fn invalid_key_file_is_rejected_without_contents() {
    let key_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(key_file.path(), "not-a-private-key").unwrap();
    let error = read_private_key_file(key_file.path()).unwrap_err();
    assert!(
        matches!(error, FactRegistryError::InvalidPrivateKey { .. }),
        "got {error}"
    );
    assert!(
        !error.to_string().contains("not-a-private-key"),
        "message: {error}"
    );
}
