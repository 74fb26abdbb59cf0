//! `orchestrator settle` and `orchestrator l1` run as a process, against a recorded Sepolia
//! state update and a local anvil L1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use alloy::node_bindings::Anvil;
use orchestrator_activities::settlement::{ProgramOutput, decode_update_state_calldata};

const DEFAULT_ANVIL_BIN: &str =
    "/root/.cache/orchestrator/npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";
// The first well-known anvil development key; it guards no funds.
const ANVIL_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("ORCHESTRATOR_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    }
}

fn run(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .args(args)
        .env_remove("MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY")
        .env_remove("MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY_FILE")
        .envs(envs.iter().copied())
        .output()
        .expect("failed to start the orchestrator binary")
}

fn stdout_of(args: &[&str], envs: &[(&str, &str)]) -> String {
    let output = run(args, envs);
    assert!(
        output.status.success(),
        "orchestrator {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// A fresh directory under the system temp dir, removed when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("settle-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("temp path is UTF-8")
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn settle_calldata_decodes_to_output() {
    let fixture = fixtures_dir().join("settlement/6806848");
    let blobs = ScratchDir::new("calldata");
    std::fs::copy(fixture.join("blob.hex"), blobs.path().join("1.hex")).expect("copy blob");
    let output_file = fixture.join("program_output.txt");
    let output_arg = output_file.to_str().expect("fixture path is UTF-8");

    let stdout = stdout_of(
        &[
            "settle",
            "calldata",
            "--program-output",
            output_arg,
            "--blobs",
            blobs.arg(),
        ],
        &[],
    );
    let hex_calldata = stdout
        .trim()
        .strip_prefix("0x")
        .expect("calldata starts with 0x");
    let calldata = hex::decode(hex_calldata).expect("calldata is hex");
    let decoded = decode_update_state_calldata(&calldata).expect("calldata decodes");

    let text = std::fs::read_to_string(&output_file).expect("read program output");
    let output = ProgramOutput::parse(&text).expect("fixture output parses");
    assert_eq!(decoded.programOutput, output.words());
    assert_eq!(decoded.kzgProofs.len(), 1);
    assert_eq!(decoded.kzgProofs[0].len(), 48);
}

#[test]
fn settle_calldata_requires_every_blob() {
    let fixture = fixtures_dir().join("settlement/6806848/program_output.txt");
    let empty = ScratchDir::new("no-blobs");
    let output = run(
        &[
            "settle",
            "calldata",
            "--program-output",
            fixture.to_str().expect("fixture path is UTF-8"),
            "--blobs",
            empty.arg(),
        ],
        &[],
    );
    assert!(!output.status.success(), "a missing blob must fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("1.hex"), "{stderr}");
}

#[test]
fn l1_deploy_then_state() {
    let binary = std::env::var_os("ORCHESTRATOR_ANVIL_BIN")
        .map_or_else(|| PathBuf::from(DEFAULT_ANVIL_BIN), PathBuf::from);
    let anvil = Anvil::at(&binary).arg("--hardfork").arg("prague").spawn();
    let rpc_url = anvil.endpoint();
    let keys = ScratchDir::new("deploy");
    let key_file = keys.path().join("l1.key");
    std::fs::write(&key_file, format!("{ANVIL_KEY}\n")).expect("write key file");

    let stdout = stdout_of(
        &[
            "l1",
            "deploy",
            "--rpc-url",
            &rpc_url,
            "--private-key-file",
            key_file.to_str().expect("temp path is UTF-8"),
            "--program-hash",
            "0xabc",
            "--config-hash",
            "0x123",
            "--initial-state",
            "41,0x51,0x52",
        ],
        &[],
    );
    let deployed: serde_json::Value = serde_json::from_str(&stdout).expect("deploy prints JSON");
    let core = deployed["core_contract"]
        .as_str()
        .expect("core_contract address");
    let registry = deployed["fact_registry"]
        .as_str()
        .expect("fact_registry address");

    let stdout = stdout_of(
        &[
            "l1",
            "state",
            "--rpc-url",
            &rpc_url,
            "--core-contract",
            core,
            "--json",
        ],
        &[],
    );
    let state: serde_json::Value = serde_json::from_str(&stdout).expect("state prints JSON");
    assert_eq!(state["state"]["block_number"], 41);
    assert_eq!(state["state"]["state_root"], "0x51");
    assert_eq!(state["state"]["block_hash"], "0x52");
    assert_eq!(state["config"]["program_hash"], "0xabc");
    assert_eq!(state["config"]["config_hash"], "0x123");
    assert_eq!(
        state["config"]["verifier"].as_str().map(str::to_lowercase),
        Some(registry.to_lowercase())
    );

    let text = stdout_of(
        &[
            "l1",
            "state",
            "--rpc-url",
            &rpc_url,
            "--core-contract",
            core,
        ],
        &[],
    );
    assert!(text.contains("block number             41"), "{text}");
}

#[test]
fn l1_deploy_invalid_key_names_variable() {
    let secret = "0x1234";
    let output = run(
        &[
            "l1",
            "deploy",
            "--rpc-url",
            "http://127.0.0.1:9",
            "--program-hash",
            "0x1",
        ],
        &[("MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY", secret)],
    );
    assert!(!output.status.success(), "an invalid key must fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(secret),
        "the key must not be printed: {stderr}"
    );
}
