//! Whole-stack harness for the reliability tests: a restartable Temporal dev server on a SQLite
//! file, anvil with the contracts, starknet-devnet, the local prover and the real
//! `orchestrator-worker` binary as a child process that a test can kill with SIGKILL.
//!
//! The worker reaches anvil and devnet through [`TcpProxy`] instances, so a test can make
//! either node unreachable, respond with 503 or stall without touching the node itself.

use crate::chains::{ChildGuard, Devnet, json_rpc, spawn_anvil};
use alloy::consensus::Transaction as _;
use alloy::network::TransactionResponse as _;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};
use orchestrator_activities::prover::ApiKey;
use orchestrator_activities::prover::local::{
    FactRegistrationConfig, FaultPlan, LocalProverConfig, LocalProverStats, serve_with_shutdown,
};
use orchestrator_activities::settlement::contracts::{
    CoreContractParams, DeployedContracts, InitialState, deploy_contracts,
};
use orchestrator_activities::settlement::{
    L1PrivateKey, ProgramOutput, decode_update_state_calldata,
};
use orchestrator_activities::snos::{InProcessConfig, InProcessRunner};
use orchestrator_activities::source::BlockSource;
use orchestrator_starter::ops;
use orchestrator_workflows::types::{BlockStatus, PipelineSettings, Stage};
use serde_json::json;
use starknet_types_core::felt::Felt;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use url::Url;

/// Maximum time the Temporal dev server may take to accept connections after a start.
const TEMPORAL_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// SplitMix64 pseudo-random numbers, so a chaos run is replayed exactly from its printed seed.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Creates a generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a duration between `low_ms` and `high_ms` milliseconds, both included.
    pub fn duration_ms(&mut self, low_ms: u64, high_ms: u64) -> Duration {
        let span = high_ms.saturating_sub(low_ms) + 1;
        Duration::from_millis(low_ms + self.next_u64() % span)
    }
}

/// Returns the seed in `RELIABILITY_SEED`, or one taken from the clock when it is unset.
///
/// # Panics
/// When `RELIABILITY_SEED` is set but not a decimal integer.
pub fn seed_from_env() -> u64 {
    match std::env::var("RELIABILITY_SEED") {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            panic!("invalid RELIABILITY_SEED {text:?}; expected a decimal integer")
        }),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() as u64)
            .unwrap_or(1),
    }
}

/// Returns a port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("listener address").port()
}

/// Temporal dev server as a child process on a SQLite file, so a restart keeps every workflow.
#[derive(Debug)]
pub struct TemporalServer {
    port: u16,
    http_port: u16,
    metrics_port: u16,
    db_path: PathBuf,
    log_path: PathBuf,
    process: Option<ChildGuard>,
    /// Number of restarts so far.
    pub restarts: u32,
}

impl TemporalServer {
    /// Starts the dev server on free ports with its state in `db_path`, output appended to
    /// `log_path`, and creates the orchestrator's search attributes.
    pub async fn start(db_path: &Path, log_path: &Path) -> anyhow::Result<Self> {
        let mut server = Self {
            port: free_port(),
            http_port: free_port(),
            metrics_port: free_port(),
            db_path: db_path.to_path_buf(),
            log_path: log_path.to_path_buf(),
            process: None,
            restarts: 0,
        };
        server.spawn().await?;
        let client = server.client().await?;
        ops::setup_search_attributes(&client)
            .await
            .context("create search attributes")?;
        Ok(server)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .with_context(|| format!("failed to open {}", self.log_path.display()))?;
        let stderr = log
            .try_clone()
            .context("failed to share the Temporal log file")?;
        let binary = crate::temporal_bin();
        let child = Command::new(&binary)
            .args(["server", "start-dev", "--headless", "--ip", "127.0.0.1"])
            .args(["--port", &self.port.to_string()])
            .args(["--http-port", &self.http_port.to_string()])
            .args(["--metrics-port", &self.metrics_port.to_string()])
            .arg("--db-filename")
            .arg(&self.db_path)
            .args(["--log-level", "warn"])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr))
            .spawn()
            .with_context(|| format!("failed to start {}", binary.display()))?;
        self.process = Some(ChildGuard::new("temporal dev server", child));
        let deadline = Instant::now() + TEMPORAL_STARTUP_TIMEOUT;
        loop {
            match self.client().await {
                Ok(_) => return Ok(()),
                Err(error) => {
                    if let Some(status) = self.process.as_mut().and_then(ChildGuard::exit_status) {
                        bail!(
                            "Temporal dev server exited with {status}; see {}",
                            self.log_path.display()
                        );
                    }
                    if Instant::now() > deadline {
                        bail!(
                            "Temporal dev server on port {} did not accept connections within \
                             {TEMPORAL_STARTUP_TIMEOUT:?}: {error:#}; see {}",
                            self.port,
                            self.log_path.display()
                        );
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Returns `127.0.0.1:<port>`, the form `TEMPORAL_ADDRESS` takes.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Connects a new client to the `default` namespace.
    pub async fn client(&self) -> anyhow::Result<Client> {
        let url: Url = format!("http://{}", self.address()).parse()?;
        let options = ConnectionOptions::new(url)
            .connect_timeout(Duration::from_secs(5))
            .build();
        let connection = Connection::connect(options)
            .await
            .with_context(|| format!("failed to connect to Temporal at {}", self.address()))?;
        Ok(Client::new(
            connection,
            ClientOptions::new("default").build(),
        )?)
    }

    /// Kills the server with SIGKILL and starts it again on the same port and SQLite file.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        drop(self.process.take());
        self.restarts += 1;
        self.spawn().await
    }
}

/// Fault a [`TcpProxy`] injects on new connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyFault {
    /// Close the connection at once, so the client sees a reset.
    Refuse,
    /// Respond to the first request with `503 Service Unavailable` and close.
    ServiceUnavailable,
    /// Read the request and never respond until the fault is cleared.
    Stall,
}

#[derive(Debug, Default)]
struct ProxyPlan {
    fault: Option<ProxyFault>,
    /// Connections left to fault; `None` faults every connection until cleared.
    remaining: Option<u64>,
}

struct ProxyShared {
    upstream: SocketAddr,
    plan: Mutex<ProxyPlan>,
    /// Changed on every plan change, which closes forwarded connections and stalled ones.
    generation: watch::Sender<u64>,
    injected: AtomicU64,
    forwarded: AtomicU64,
    rewrite: Mutex<Option<(String, ResponseRewrite)>>,
}

impl std::fmt::Debug for ProxyShared {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProxyShared")
            .field("upstream", &self.upstream)
            .field("injected", &self.injected)
            .field("forwarded", &self.forwarded)
            .finish_non_exhaustive()
    }
}

/// Function that changes the JSON-RPC response of one method; see [`TcpProxy::set_rewrite`].
pub type ResponseRewrite = Arc<dyn Fn(serde_json::Value) -> serde_json::Value + Send + Sync>;

/// TCP proxy on 127.0.0.1 in front of one server, with injectable faults.
///
/// Faults apply per connection. Setting a fault also closes every connection already being
/// forwarded, so pooled keep-alive connections cannot bypass it.
#[derive(Debug)]
pub struct TcpProxy {
    address: SocketAddr,
    shared: Arc<ProxyShared>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Starts forwarding a free loopback port to `upstream`.
    pub async fn start(upstream: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the proxy port")?;
        let address = listener.local_addr()?;
        let shared = Arc::new(ProxyShared {
            upstream,
            plan: Mutex::new(ProxyPlan::default()),
            generation: watch::channel(0).0,
            injected: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
            rewrite: Mutex::new(None),
        });
        let accept_shared = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = accept_shared.clone();
                tokio::spawn(async move { handle_connection(stream, shared).await });
            }
        });
        Ok(Self {
            address,
            shared,
            task,
        })
    }

    /// Returns `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> Url {
        format!("http://{}{path}", self.address)
            .parse()
            .expect("proxy URL is valid")
    }

    /// Injects `fault` on the next `connections` connections, or on all of them until
    /// [`TcpProxy::clear`] when `None`.
    pub fn set_fault(&self, fault: ProxyFault, connections: Option<u64>) {
        {
            let mut plan = self.shared.plan.lock().expect("proxy plan lock");
            plan.fault = Some(fault);
            plan.remaining = connections;
        }
        self.shared
            .generation
            .send_modify(|generation| *generation += 1);
    }

    /// Removes the fault; later connections are forwarded.
    pub fn clear(&self) {
        *self.shared.plan.lock().expect("proxy plan lock") = ProxyPlan::default();
        self.shared
            .generation
            .send_modify(|generation| *generation += 1);
    }

    /// Passes every response to JSON-RPC `method` through `rewrite` until
    /// [`TcpProxy::clear_rewrite`]. Meanwhile each connection carries one request, and the
    /// proxy asks the server to close it after the response.
    pub fn set_rewrite(&self, method: &str, rewrite: ResponseRewrite) {
        *self.shared.rewrite.lock().expect("proxy rewrite lock") =
            Some((method.to_string(), rewrite));
        self.shared
            .generation
            .send_modify(|generation| *generation += 1);
    }

    /// Stops rewriting responses.
    pub fn clear_rewrite(&self) {
        *self.shared.rewrite.lock().expect("proxy rewrite lock") = None;
        self.shared
            .generation
            .send_modify(|generation| *generation += 1);
    }

    /// Returns the number of connections that got a fault.
    pub fn injected(&self) -> u64 {
        self.shared.injected.load(Ordering::Relaxed)
    }

    /// Returns the number of connections forwarded to the server.
    pub fn forwarded(&self) -> u64 {
        self.shared.forwarded.load(Ordering::Relaxed)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn take_fault(shared: &ProxyShared) -> Option<ProxyFault> {
    let mut plan = shared.plan.lock().expect("proxy plan lock");
    let fault = plan.fault?;
    match plan.remaining {
        Some(0) => {
            *plan = ProxyPlan::default();
            None
        }
        Some(left) => {
            plan.remaining = Some(left - 1);
            Some(fault)
        }
        None => Some(fault),
    }
}

async fn handle_connection(mut client: TcpStream, shared: Arc<ProxyShared>) {
    let mut generation = shared.generation.subscribe();
    generation.borrow_and_update();
    let rewrite = shared.rewrite.lock().expect("proxy rewrite lock").clone();
    if let Some((method, rewrite)) = rewrite {
        shared.forwarded.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = forward_one_request(client, &shared, &method, &rewrite).await {
            eprintln!(
                "test proxy failed to forward a request to {}: {error:#}",
                shared.upstream
            );
        }
        return;
    }
    let Some(fault) = take_fault(&shared) else {
        shared.forwarded.fetch_add(1, Ordering::Relaxed);
        let Ok(mut upstream) = TcpStream::connect(shared.upstream).await else {
            return;
        };
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
            _ = generation.changed() => {}
        }
        return;
    };
    shared.injected.fetch_add(1, Ordering::Relaxed);
    match fault {
        ProxyFault::Refuse => {}
        ProxyFault::ServiceUnavailable => {
            let mut buffer = [0_u8; 8192];
            let _ = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buffer)).await;
            let body = "service unavailable (fault injected by the test proxy)";
            let response = format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = client.write_all(response.as_bytes()).await;
            let _ = client.shutdown().await;
        }
        ProxyFault::Stall => {
            let mut buffer = [0_u8; 8192];
            let stall = async {
                // Keep reading so the client's writes never block, and send nothing back.
                while let Ok(read) = client.read(&mut buffer).await {
                    if read == 0 {
                        break;
                    }
                }
            };
            tokio::select! {
                _ = stall => {}
                _ = generation.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(120)) => {}
            }
        }
    }
}

/// Reads one HTTP/1.1 message with a `content-length` body (or none) and returns its head,
/// without the blank line, and its body.
async fn read_request(stream: &mut TcpStream) -> anyhow::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buffer = [0_u8; 8192];
    let head_end = loop {
        if let Some(position) = data.windows(4).position(|window| window == b"\r\n\r\n") {
            break position;
        }
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            bail!("connection closed before the end of the request head");
        }
        data.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length = header_value(&head, "content-length")
        .map(|value| value.parse::<usize>())
        .transpose()?
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            bail!("connection closed before the end of the request body");
        }
        body.extend_from_slice(&buffer[..read]);
    }
    Ok((head, body))
}

fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Decodes a `transfer-encoding: chunked` body.
fn decode_chunked(mut data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|window| window == b"\r\n")
            .context("chunk size line without CRLF")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .with_context(|| format!("invalid chunk size {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if data.len() < size + 2 {
            bail!("chunk of {size} bytes is truncated");
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Forwards one request with `connection: close`, rewrites the response when the request
/// calls `method`, and sends the response back with `connection: close`.
async fn forward_one_request(
    mut client: TcpStream,
    shared: &ProxyShared,
    method: &str,
    rewrite: &ResponseRewrite,
) -> anyhow::Result<()> {
    let (head, body) = read_request(&mut client).await?;
    let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut upstream_head: String = head
        .lines()
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .map(|line| format!("{line}\r\n"))
        .collect();
    upstream_head.push_str("connection: close\r\n\r\n");
    let mut upstream = TcpStream::connect(shared.upstream).await?;
    upstream.write_all(upstream_head.as_bytes()).await?;
    upstream.write_all(&body).await?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response).await?;

    let head_end = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .context("response without a head")?;
    let response_head = String::from_utf8_lossy(&response[..head_end]).into_owned();
    let raw_body = &response[head_end + 4..];
    let mut response_body = match header_value(&response_head, "transfer-encoding") {
        Some(encoding) if encoding.eq_ignore_ascii_case("chunked") => decode_chunked(raw_body)?,
        _ => raw_body.to_vec(),
    };
    if request.get("method").and_then(|value| value.as_str()) == Some(method) {
        let value: serde_json::Value = serde_json::from_slice(&response_body)
            .with_context(|| format!("{method} response is not JSON"))?;
        response_body = serde_json::to_vec(&rewrite(value))?;
        shared.injected.fetch_add(1, Ordering::Relaxed);
    }
    let status_line = response_head.lines().next().unwrap_or("HTTP/1.1 200 OK");
    let content_type = header_value(&response_head, "content-type").unwrap_or("application/json");
    let out_head = format!(
        "{status_line}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        response_body.len()
    );
    client.write_all(out_head.as_bytes()).await?;
    client.write_all(&response_body).await?;
    client.shutdown().await?;
    Ok(())
}

/// Returns the `orchestrator-worker` binary next to this test binary, building it first.
///
/// Cargo builds a package's binaries only for that package's own integration tests, so the
/// tests package runs `cargo build --workspace --locked --bin orchestrator-worker` once per
/// process, which does nothing when the binary is up to date. `ORCHESTRATOR_WORKER_BIN`
/// overrides the path and skips the build.
pub fn worker_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("ORCHESTRATOR_WORKER_BIN") {
                return PathBuf::from(path);
            }
            // The test binary is `<target>/<profile>/deps/<name>-<hash>`.
            let exe = std::env::current_exe().expect("path of the test binary");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("test binary lies in <target>/<profile>/deps")
                .to_path_buf();
            let target_dir = profile_dir.parent().expect("profile folder has a parent");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut command = Command::new(cargo);
            command
                .args([
                    "build",
                    "--workspace",
                    "--locked",
                    "--bin",
                    "orchestrator-worker",
                ])
                .env("CARGO_TARGET_DIR", target_dir)
                .current_dir(crate::workspace_root());
            if profile_dir
                .file_name()
                .is_some_and(|name| name == "release")
            {
                command.arg("--release");
            }
            let status = command
                .status()
                .expect("run cargo build for orchestrator-worker");
            assert!(
                status.success(),
                "cargo build of orchestrator-worker failed with {status}"
            );
            let binary = profile_dir.join("orchestrator-worker");
            assert!(
                binary.exists(),
                "{} not found after cargo build",
                binary.display()
            );
            binary
        })
        .clone()
}

/// The `orchestrator-worker` binary as a child process with a fixed environment.
#[derive(Debug)]
pub struct WorkerProcess {
    binary: PathBuf,
    env: BTreeMap<String, String>,
    log_path: PathBuf,
    process: Option<ChildGuard>,
    /// Number of starts, the first one included.
    pub starts: u32,
    /// Number of SIGKILLs sent by [`WorkerProcess::kill`].
    pub kills: u32,
    /// Exits the test did not cause, with their status.
    pub unexpected_exits: Vec<ExitStatus>,
}

impl WorkerProcess {
    /// Starts `binary` with only `env` (plus `PATH`) in its environment, output appended to
    /// `log_path`.
    pub fn spawn(
        binary: PathBuf,
        env: BTreeMap<String, String>,
        log_path: &Path,
    ) -> anyhow::Result<Self> {
        let mut worker = Self {
            binary,
            env,
            log_path: log_path.to_path_buf(),
            process: None,
            starts: 0,
            kills: 0,
            unexpected_exits: Vec::new(),
        };
        worker.start()?;
        Ok(worker)
    }

    /// Runs the binary once to completion with `env` and returns its exit status and output.
    pub fn run_to_exit(
        binary: &Path,
        env: &BTreeMap<String, String>,
        timeout: Duration,
    ) -> anyhow::Result<(ExitStatus, String)> {
        let mut child = Command::new(binary)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("failed to start {}", binary.display()))?;
        let deadline = Instant::now() + timeout;
        while child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let output = child.wait_with_output()?;
                bail!(
                    "{} still running after {timeout:?}; output: {}{}",
                    binary.display(),
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let output = child.wait_with_output()?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Ok((output.status, text))
    }

    fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .with_context(|| format!("failed to open {}", self.log_path.display()))?;
        let stderr = log
            .try_clone()
            .context("failed to share the worker log file")?;
        let child = Command::new(&self.binary)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(&self.env)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr))
            .spawn()
            .with_context(|| format!("failed to start {}", self.binary.display()))?;
        self.process = Some(ChildGuard::new("orchestrator-worker", child));
        self.starts += 1;
        Ok(())
    }

    /// Kills the worker with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            if let Some(status) = process.exit_status() {
                self.unexpected_exits.push(status);
            } else {
                self.kills += 1;
            }
        }
    }

    /// Starts the worker again, after [`WorkerProcess::kill`] or an exit.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        self.start()
    }

    /// Restarts the worker when it exited by itself, recording the exit status.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        let exited = match self.process.as_mut() {
            Some(process) => process.exit_status(),
            None => return self.start(),
        };
        if let Some(status) = exited {
            eprintln!("orchestrator-worker exited by itself with {status}; restarting it");
            self.unexpected_exits.push(status);
            self.process = None;
            self.start()?;
        }
        Ok(())
    }

    /// Sets one environment variable for the next start.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.insert(key.to_string(), value.to_string());
    }

    /// Returns the path of the log file.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
}

/// The local prover served in the test process.
pub struct LocalProver {
    /// Base URL of the Atlantic-compatible API.
    pub url: Url,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl LocalProver {
    /// Serves the prover on a free port, checking `api_key` and registering every fact in
    /// `registry` with `signer`.
    pub async fn start(
        api_key: &str,
        l1_url: Url,
        signer: PrivateKeySigner,
        registry: Address,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the prover port")?;
        let address = listener.local_addr()?;
        let config = LocalProverConfig {
            received_delay: Duration::from_millis(100),
            in_progress_delay: Duration::from_millis(300),
            api_key: Some(ApiKey::new(api_key, "test")?),
            fact_registration: Some(FactRegistrationConfig {
                rpc_url: l1_url,
                signer,
                registry,
            }),
            ..LocalProverConfig::default()
        };
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async move {
                let _ = stopped.await;
            };
            if let Err(error) = serve_with_shutdown(listener, config, stopped).await {
                eprintln!("local prover failed: {error}");
            }
        });
        Ok(Self {
            url: format!("http://{address}").parse()?,
            shutdown: Some(shutdown),
            task,
        })
    }

    /// Returns the POST counters and query statuses.
    pub async fn stats(&self) -> anyhow::Result<LocalProverStats> {
        let url = self.url.join("/_local/stats")?;
        Ok(reqwest::get(url).await?.error_for_status()?.json().await?)
    }

    /// Replaces the fault plan; [`FaultPlan::default`] clears it.
    pub async fn set_faults(&self, plan: &FaultPlan) -> anyhow::Result<()> {
        let url = self.url.join("/_local/faults")?;
        reqwest::Client::new()
            .post(url)
            .json(plan)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

impl Drop for LocalProver {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.abort();
    }
}

/// Settings of a [`Stack`].
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Chain id of the workflows and of the worker.
    pub chain: String,
    /// Hex private key of the settlement account, which also deploys the contracts. `None`
    /// uses anvil's first development account; another key is funded with `anvil_setBalance`.
    pub l1_key: Option<String>,
    /// API key the prover checks and the worker sends.
    pub prover_api_key: String,
    /// L1 confirmations before a settlement counts.
    pub confirmations: u64,
    /// Timeout of one Starknet RPC request of the worker, in seconds.
    pub rpc_timeout_secs: u64,
    /// Cap on the fee of one settlement, in wei; `None` keeps the worker's default.
    pub max_fee_wei: Option<u128>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            chain: "reliability".to_string(),
            l1_key: None,
            prover_api_key: "local-reliability-key".to_string(),
            confirmations: 2,
            rpc_timeout_secs: 5,
            max_fee_wei: None,
        }
    }
}

/// Every server of the pipeline, the deployed contracts and a worker child process.
pub struct Stack {
    /// Settings the stack was built with.
    pub options: StackOptions,
    /// Temporal dev server.
    pub temporal: TemporalServer,
    /// Client of the dev server used by the test.
    pub client: Client,
    /// Anvil, the L1.
    pub anvil: AnvilInstance,
    /// Provider on anvil directly, never through the proxy.
    pub l1: RootProvider,
    /// Proxy in front of anvil that the worker uses.
    pub l1_proxy: TcpProxy,
    /// Starknet devnet, the L2.
    pub devnet: Devnet,
    /// Proxy in front of devnet that the worker uses.
    pub devnet_proxy: TcpProxy,
    /// Block source on devnet directly.
    pub source: BlockSource,
    /// The local prover.
    pub prover: LocalProver,
    /// Fact registry and core contract.
    pub contracts: DeployedContracts,
    /// Settlement account.
    pub settlement_account: Address,
    /// The worker child process.
    pub worker: WorkerProcess,
    /// Artifact store URL of the worker.
    pub artifact_store: String,
    /// Folder of the logs, the SQLite file and the artifacts.
    pub work_dir: tempfile::TempDir,
}

impl Stack {
    /// Starts every server, deploys the contracts bound to the embedded SNOS stand-in and
    /// starts one worker.
    pub async fn start(options: StackOptions) -> anyhow::Result<Self> {
        crate::chains::devnet_bin();
        let binary = worker_binary();
        let work_dir = tempfile::tempdir()?;
        let dir = work_dir.path();
        let temporal =
            TemporalServer::start(&dir.join("temporal.sqlite"), &dir.join("temporal.log")).await?;
        let client = temporal.client().await?;

        let anvil = spawn_anvil();
        let l1 = RootProvider::new_http(anvil.endpoint_url());
        let devnet = Devnet::spawn(42, 0, &dir.join("devnet.log")).await?;
        let source = BlockSource::new(devnet.url.clone(), Duration::from_secs(10));

        let keys = anvil.keys();
        let key_hex = match &options.l1_key {
            Some(hex_key) => hex_key.clone(),
            None => hex::encode(keys[0].to_bytes()),
        };
        let settlement_key = match &options.l1_key {
            Some(hex_key) => {
                let key = L1PrivateKey::parse(hex_key, "StackOptions::l1_key")?;
                let balance = U256::from(10_u128.pow(21));
                let _: serde_json::Value = l1
                    .raw_request("anvil_setBalance".into(), (key.address(), balance))
                    .await
                    .context("anvil_setBalance for the settlement account")?;
                key
            }
            None => L1PrivateKey::parse(&hex::encode(keys[0].to_bytes()), "anvil account 0")?,
        };
        let prover_signer = PrivateKeySigner::from_signing_key(keys[1].clone().into());
        let contracts = deploy(&anvil.endpoint_url(), &settlement_key, &source).await?;
        let prover = LocalProver::start(
            &options.prover_api_key,
            anvil.endpoint_url(),
            prover_signer,
            contracts.fact_registry,
        )
        .await?;

        let l1_proxy = TcpProxy::start(SocketAddr::from(([127, 0, 0, 1], anvil.port()))).await?;
        let devnet_proxy = TcpProxy::start(SocketAddr::from(([127, 0, 0, 1], devnet.port))).await?;
        let artifact_store = format!("file://{}", dir.join("artifacts").display());

        let mut env = BTreeMap::new();
        let mut set = |key: &str, value: String| {
            env.insert(key.to_string(), value);
        };
        set("HOME", dir.display().to_string());
        set("RUST_LOG", "info".to_string());
        set("TEMPORAL_ADDRESS", temporal.address());
        set("TEMPORAL_NAMESPACE", "default".to_string());
        set("ORCHESTRATOR_CHAIN_ID", options.chain.clone());
        set(
            "MADARA_ORCHESTRATOR_MADARA_RPC_URL",
            devnet_proxy.url("/rpc").to_string(),
        );
        set(
            "ORCHESTRATOR_RPC_TIMEOUT_SECS",
            options.rpc_timeout_secs.to_string(),
        );
        set("ORCHESTRATOR_ARTIFACT_STORE", artifact_store.clone());
        set(
            "MADARA_ORCHESTRATOR_ATLANTIC_SERVICE_URL",
            prover.url.to_string(),
        );
        set(
            "MADARA_ORCHESTRATOR_ATLANTIC_API_KEY",
            options.prover_api_key.clone(),
        );
        set(
            "MADARA_ORCHESTRATOR_ETHEREUM_SETTLEMENT_RPC_URL",
            l1_proxy.url("").to_string(),
        );
        set(
            "MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS",
            contracts.core_contract.to_string(),
        );
        set(
            "ORCHESTRATOR_FACT_REGISTRY_ADDRESS",
            contracts.fact_registry.to_string(),
        );
        set("MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY", key_hex);
        set(
            "ORCHESTRATOR_L1_CONFIRMATIONS",
            options.confirmations.to_string(),
        );
        if let Some(cap) = options.max_fee_wei {
            set(
                "MADARA_ORCHESTRATOR_ETHEREUM_L2_STATE_UPDATE_MAX_FEE_WEI",
                cap.to_string(),
            );
        }
        let worker = WorkerProcess::spawn(binary, env, &dir.join("worker.log"))?;

        Ok(Self {
            options,
            temporal,
            client,
            anvil,
            l1,
            l1_proxy,
            devnet,
            devnet_proxy,
            source,
            prover,
            contracts,
            settlement_account: settlement_key.address(),
            worker,
            artifact_store,
            work_dir,
        })
    }

    /// Creates `count` devnet blocks, one `devnet_mint` each, and returns the new block numbers.
    pub async fn mint_blocks(&self, count: u64) -> anyhow::Result<std::ops::RangeInclusive<u64>> {
        let first = self.devnet.block_number().await? + 1;
        for block in first..first + count {
            let address = format!("0x{:064x}", 0x1000 + block);
            self.devnet
                .mint(&address, u128::from(block) * 1_000)
                .await
                .with_context(|| format!("devnet_mint to {address}"))?;
        }
        let last = self.devnet.block_number().await?;
        if last != first + count - 1 {
            bail!(
                "devnet is at block {last} after {count} mints from block {first}; expected one block per mint"
            );
        }
        Ok(first..=last)
    }

    /// Starts the settlement sequencer (one transaction in flight) and one workflow per block.
    pub async fn start_blocks(
        &self,
        blocks: std::ops::RangeInclusive<u64>,
        settings: &PipelineSettings,
    ) -> anyhow::Result<()> {
        ops::ensure_sequencer(&self.client, &self.options.chain, 1).await?;
        for block in blocks {
            ops::start_block(
                &self.client,
                &self.options.chain,
                block,
                settings,
                Default::default(),
            )
            .await?;
        }
        Ok(())
    }

    /// Returns the status of `block`, or `None` while no worker handles the query.
    pub async fn status(&self, block: u64) -> Option<BlockStatus> {
        ops::block_status(&self.client, &self.options.chain, block)
            .await
            .ok()
    }

    /// Polls block statuses until `done` holds for every block in `blocks`, printing stage
    /// changes. Fails after `timeout`, or at once when a block fails and `failure_allowed` is
    /// false for it.
    pub async fn wait_for(
        &self,
        blocks: std::ops::RangeInclusive<u64>,
        timeout: Duration,
        done: impl Fn(&BlockStatus) -> bool,
        failure_allowed: impl Fn(u64) -> bool,
    ) -> anyhow::Result<BTreeMap<u64, BlockStatus>> {
        let started = Instant::now();
        let mut seen: BTreeMap<u64, (Stage, Option<String>)> = BTreeMap::new();
        let mut latest = BTreeMap::new();
        loop {
            for block in blocks.clone() {
                let Some(status) = self.status(block).await else {
                    continue;
                };
                let current = (status.stage, status.last_error.clone());
                if seen.get(&block) != Some(&current) {
                    println!(
                        "{:>6.1} s  block {block}: {:?}{}",
                        started.elapsed().as_secs_f64(),
                        status.stage,
                        status
                            .last_error
                            .as_deref()
                            .map(|error| format!(" (last error: {error})"))
                            .unwrap_or_default()
                    );
                    seen.insert(block, current);
                }
                if status.stage == Stage::Failed && !failure_allowed(block) {
                    bail!("block {block} failed: {status:#?}");
                }
                latest.insert(block, status);
            }
            let finished = blocks
                .clone()
                .all(|block| latest.get(&block).is_some_and(&done));
            if finished {
                return Ok(latest);
            }
            if started.elapsed() > timeout {
                bail!(
                    "blocks {blocks:?} did not reach the expected state within {timeout:?}; last stages: {seen:#?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Waits until every block in `blocks` is settled; any failed block fails the wait.
    pub async fn wait_until_settled(
        &self,
        blocks: std::ops::RangeInclusive<u64>,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        self.wait_for(
            blocks,
            timeout,
            |status| status.stage == Stage::Settled,
            |_| false,
        )
        .await?;
        Ok(())
    }

    /// Scans every L1 block for transactions to the core contract and decodes them, in L1 order.
    pub async fn core_transactions(&self) -> anyhow::Result<Vec<CoreTransaction>> {
        core_transactions(&self.l1, self.contracts.core_contract).await
    }

    /// Checks the L1 history against `blocks`: one successful update per block, in block
    /// order, no reverted update, and one prover query per block.
    pub async fn audit(&self, blocks: std::ops::RangeInclusive<u64>) -> anyhow::Result<Audit> {
        let transactions = self.core_transactions().await?;
        let mut per_block: BTreeMap<u64, u64> = BTreeMap::new();
        for tx in &transactions {
            *per_block.entry(tx.l2_block).or_default() += 1;
        }
        let stats = self.prover.stats().await?;
        let chain = &self.options.chain;
        let posts: BTreeMap<u64, u64> = blocks
            .clone()
            .map(|block| {
                let id = orchestrator_workflows::types::block_workflow_id(chain, block);
                (
                    block,
                    stats.queries_by_dedup_id.get(&id).copied().unwrap_or(0),
                )
            })
            .collect();
        Ok(Audit {
            transactions,
            per_block,
            posts,
        })
    }
}

/// L1 and prover history of a run, for exactly-once and order checks.
#[derive(Debug)]
pub struct Audit {
    /// Every transaction to the core contract, in L1 order.
    pub transactions: Vec<CoreTransaction>,
    /// Number of transactions to the core contract per L2 block, reverted ones included.
    pub per_block: BTreeMap<u64, u64>,
    /// Number of prover queries stored per L2 block. A worker killed while its submission
    /// was in flight may POST again; the prover then rejects the dedup id and stores nothing.
    pub posts: BTreeMap<u64, u64>,
}

impl Audit {
    /// Returns the L2 blocks of the successful updates, in L1 order.
    pub fn settled_order(&self) -> Vec<u64> {
        self.transactions
            .iter()
            .filter(|tx| tx.succeeded)
            .map(|tx| tx.l2_block)
            .collect()
    }

    /// Returns the number of blocks with more than one update or more than one prover query.
    pub fn duplicates(&self) -> u64 {
        let updates = self.per_block.values().filter(|count| **count > 1).count();
        let posts = self.posts.values().filter(|count| **count > 1).count();
        (updates + posts) as u64
    }

    /// Asserts one successful update per block of `blocks`, in order, nothing reverted and one
    /// prover query per block.
    pub fn assert_exactly_once_in_order(&self, blocks: std::ops::RangeInclusive<u64>) {
        self.assert_l1_exactly_once_in_order(blocks.clone());
        for block in blocks {
            assert_eq!(self.posts[&block], 1, "prover queries of L2 block {block}");
        }
    }

    /// Asserts one successful update per block of `blocks`, in order, and nothing reverted.
    pub fn assert_l1_exactly_once_in_order(&self, blocks: std::ops::RangeInclusive<u64>) {
        for tx in &self.transactions {
            println!(
                "  L1 block {:>4}  {}  L2 block {:>3}  {}",
                tx.l1_block,
                tx.tx_hash,
                tx.l2_block,
                if tx.succeeded { "ok" } else { "reverted" }
            );
        }
        let reverted: Vec<&CoreTransaction> = self
            .transactions
            .iter()
            .filter(|tx| !tx.succeeded)
            .collect();
        assert!(
            reverted.is_empty(),
            "reverted updates to the core contract: {reverted:#?}"
        );
        for block in blocks.clone() {
            assert_eq!(
                self.per_block.get(&block).copied().unwrap_or(0),
                1,
                "updateStateKzgDA transactions of L2 block {block}"
            );
        }
        assert_eq!(
            self.settled_order(),
            blocks.collect::<Vec<_>>(),
            "L2 blocks of the successful updates, in L1 order"
        );
    }
}

/// A transaction to the core contract, decoded.
#[derive(Debug)]
pub struct CoreTransaction {
    /// L1 block that includes it.
    pub l1_block: u64,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Whether the receipt reports success.
    pub succeeded: bool,
    /// L2 block it settles, from the program output in its calldata.
    pub l2_block: u64,
}

/// Scans every L1 block for transactions to `core` and decodes their `updateStateKzgDA`
/// calldata, in L1 order.
pub async fn core_transactions(
    l1: &RootProvider,
    core: Address,
) -> anyhow::Result<Vec<CoreTransaction>> {
    let latest = l1.get_block_number().await?;
    let mut found = Vec::new();
    for number in 0..=latest {
        let block = l1
            .get_block_by_number(number.into())
            .full()
            .await?
            .with_context(|| format!("L1 block {number} not found"))?;
        for tx in block.transactions.txns() {
            if tx.to() != Some(core) {
                continue;
            }
            let tx_hash = tx.tx_hash();
            let receipt = l1
                .get_transaction_receipt(tx_hash)
                .await?
                .with_context(|| format!("no receipt for mined transaction {tx_hash}"))?;
            let call = decode_update_state_calldata(tx.input()).with_context(|| {
                format!("transaction {tx_hash} to the core contract is not updateStateKzgDA")
            })?;
            let output = ProgramOutput::from_words(call.programOutput).with_context(|| {
                format!("transaction {tx_hash} carries an invalid program output")
            })?;
            found.push(CoreTransaction {
                l1_block: number,
                tx_hash,
                succeeded: receipt.status(),
                l2_block: output.new_block_number(),
            });
        }
    }
    Ok(found)
}

/// Pipeline settings for tests: short retry delays, one-second polls, and attempt timeouts
/// short enough that an activity lost with a killed worker is retried within 20 s.
pub fn fast_settings() -> PipelineSettings {
    let mut settings = PipelineSettings::default();
    for stage in [
        &mut settings.data_availability,
        &mut settings.snos,
        &mut settings.proving.activity,
        &mut settings.settlement.activity,
    ] {
        stage.initial_retry_interval_ms = 200;
        stage.max_retry_interval_secs = 2;
        stage.attempt_timeout_secs = 20;
    }
    settings.snos.attempt_timeout_secs = 60;
    settings.proving.poll_interval_secs = 1;
    settings.proving.deadline_secs = 600;
    settings.settlement.confirm_poll_interval_secs = 1;
    settings.settlement.fee_cap_poll_interval_secs = 2;
    settings.settlement.stuck_timeout_secs = 60;
    settings
}

fn felt_to_u256(felt: Felt) -> U256 {
    U256::from_be_bytes(felt.to_bytes_be())
}

/// Deploys the fact registry and the core contract, bound to the stand-in's program hash and
/// starting from devnet's block 0.
async fn deploy(
    l1_url: &Url,
    key: &L1PrivateKey,
    source: &BlockSource,
) -> anyhow::Result<DeployedContracts> {
    let genesis = source.block_header(0).await.context("devnet block 0")?;
    let runner = InProcessRunner::new(InProcessConfig::default())?;
    let params = CoreContractParams {
        program_hash: felt_to_u256(runner.program_hash().await?),
        aggregator_program_hash: U256::ZERO,
        config_hash: U256::ZERO,
        initial_state: InitialState {
            block_number: Some(0),
            state_root: felt_to_u256(genesis.new_root),
            block_hash: felt_to_u256(genesis.hash),
        },
    };
    Ok(deploy_contracts(l1_url.clone(), key, &params).await?)
}

/// Sends a raw JSON-RPC request to anvil; a thin wrapper for the `anvil_*` and `evm_*` methods.
pub async fn anvil_rpc(
    anvil: &AnvilInstance,
    method: &str,
    params: serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    json_rpc(&anvil.endpoint_url(), method, params).await
}

/// Returns `json!([])`, the params of a method without arguments.
pub fn no_params() -> serde_json::Value {
    json!([])
}
