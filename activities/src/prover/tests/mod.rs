//! Tests of the prover module against the recorded PIE fixtures, the in-process local prover
//! and an anvil L1.

mod anvil;
mod goldens;
mod local_prover;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

use super::api_key::ApiKey;
use super::atlantic::{AtlanticClient, AtlanticConfig};
use super::local::{LocalProverConfig, LocalProverError, serve_with_shutdown};

/// API key the test clients and servers share. Tests assert that it never shows in errors.
const TEST_API_KEY: &str = "test-atlantic-key-7Gq2vX";

/// Returns the golden fixture directory: `ORCHESTRATOR_FIXTURES`, or `shared/fixtures` next
/// to the workspace.
fn fixtures_dir() -> PathBuf {
    std::env::var_os("ORCHESTRATOR_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("..")
                .join("shared")
                .join("fixtures")
        })
}

fn pie_path(name: &str) -> PathBuf {
    fixtures_dir().join("pie").join(name)
}

fn read_pie(name: &str) -> Vec<u8> {
    let path = pie_path(name);
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read fixture {}: {error}; set ORCHESTRATOR_FIXTURES",
            path.display()
        )
    })
}

fn test_api_key() -> ApiKey {
    ApiKey::new(TEST_API_KEY, "test").expect("test key is not blank")
}

/// Configuration with short lifecycle delays and the test API key required.
fn fast_config() -> LocalProverConfig {
    LocalProverConfig {
        received_delay: Duration::from_millis(20),
        in_progress_delay: Duration::from_millis(50),
        api_key: Some(test_api_key()),
        ..LocalProverConfig::default()
    }
}

/// A local prover served in-process on a free 127.0.0.1 port.
struct LocalProver {
    base_url: Url,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<Result<(), LocalProverError>>,
}

impl LocalProver {
    async fn start(config: LocalProverConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let address = listener.local_addr().expect("listener has an address");
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_with_shutdown(listener, config, async move {
            let _ = stopped.await;
        }));
        let base_url = format!("http://{address}").parse().expect("valid URL");
        Self {
            base_url,
            shutdown,
            task,
        }
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        self.task
            .await
            .expect("server task panicked")
            .expect("server failed");
    }

    fn client(&self) -> AtlanticClient {
        self.client_with(|_| {})
    }

    fn client_with(&self, change: impl FnOnce(&mut AtlanticConfig)) -> AtlanticClient {
        let mut config = AtlanticConfig::new(self.base_url.clone(), test_api_key());
        config.request_timeout = Duration::from_secs(30);
        change(&mut config);
        AtlanticClient::new(config).expect("client builds")
    }

    fn url(&self, path: &str) -> Url {
        self.base_url.join(path).expect("valid path")
    }
}
