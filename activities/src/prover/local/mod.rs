//! A local stand-in for the Atlantic proving service, speaking the same HTTP API.
//!
//! It does not prove anything. It accepts PIEs, computes their real facts, moves each query
//! RECEIVED → IN_PROGRESS → DONE after configurable delays and, when given an L1 RPC, a key
//! and a fact registry, registers each fact with `registerFact(bytes32)` before reporting
//! DONE. Extra routes under `/_local/` expose POST counters and let tests inject faults.
//!
//! Routes:
//! - `POST /atlantic-query`, `GET /atlantic-query/{id}`,
//!   `GET /atlantic-query-by-dedup-id?dedupId=` (API key in the `api-key` header or the
//!   `apiKey` query parameter, checked when configured);
//! - `GET /queries/{id}/proof.json`: a JSON stand-in for the proof of a DONE query;
//! - `GET /_local/stats`, `GET|POST|DELETE /_local/faults`.

mod faults;
mod lifecycle;
mod routes;
mod store;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use tokio::net::TcpListener;
use tracing::info;
use url::Url;

pub use faults::{DEFAULT_FAILURE_REASON, FaultCount, FaultPlan};
pub use store::LocalProverStats;

use super::api_key::ApiKey;
use store::QueryStore;

/// Default time a query stays RECEIVED.
pub const DEFAULT_RECEIVED_DELAY: Duration = Duration::from_millis(500);
/// Default time a query stays IN_PROGRESS.
pub const DEFAULT_IN_PROGRESS_DELAY: Duration = Duration::from_secs(2);
/// Default maximum size of a submitted PIE zip.
pub const DEFAULT_MAX_PIE_BYTES: usize = 512 * 1024 * 1024;

/// L1 settings for registering facts.
#[derive(Debug, Clone)]
pub struct FactRegistrationConfig {
    /// L1 JSON-RPC URL.
    pub rpc_url: Url,
    /// Account that sends `registerFact`.
    pub signer: PrivateKeySigner,
    /// Fact registry contract.
    pub registry: Address,
}

/// Settings of the local prover.
#[derive(Debug, Clone)]
pub struct LocalProverConfig {
    /// Time a query stays RECEIVED.
    pub received_delay: Duration,
    /// Time a query stays IN_PROGRESS before the fact is registered and it turns DONE.
    pub in_progress_delay: Duration,
    /// JSON file that keeps queries across restarts. Queries live in memory only when `None`.
    pub state_file: Option<PathBuf>,
    /// Key that API requests must carry. Any request is accepted when `None`.
    pub api_key: Option<ApiKey>,
    /// L1 fact registration settings. Facts are only computed when `None`.
    pub fact_registration: Option<FactRegistrationConfig>,
    /// Maximum accepted PIE zip size in bytes.
    pub max_pie_bytes: usize,
}

impl Default for LocalProverConfig {
    fn default() -> Self {
        Self {
            received_delay: DEFAULT_RECEIVED_DELAY,
            in_progress_delay: DEFAULT_IN_PROGRESS_DELAY,
            state_file: None,
            api_key: None,
            fact_registration: None,
            max_pie_bytes: DEFAULT_MAX_PIE_BYTES,
        }
    }
}

/// Failure to start or run the local prover.
#[derive(Debug, thiserror::Error)]
pub enum LocalProverError {
    /// The HTTP server failed.
    #[error("local prover server on {address} failed")]
    Server {
        /// Listening address.
        address: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The state file could not be read or written.
    #[error("local prover state file {path} failed: {message}")]
    StateFile {
        /// Path of the file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// State shared by the handlers and the query lifecycle tasks.
#[derive(Debug)]
struct Service {
    config: LocalProverConfig,
    store: QueryStore,
    faults: Mutex<FaultPlan>,
    /// Serialises `registerFact` transactions so they do not race for the signer's nonce.
    registration_lock: tokio::sync::Mutex<()>,
}

impl Service {
    fn faults(&self) -> std::sync::MutexGuard<'_, FaultPlan> {
        // The plan is plain data, so a poisoned lock still holds a usable value.
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Serves the local prover on `listener` until the process ends.
///
/// # Errors
/// [`LocalProverError::StateFile`] when the state file cannot be loaded, and
/// [`LocalProverError::Server`] when serving fails.
pub async fn serve(
    listener: TcpListener,
    config: LocalProverConfig,
) -> Result<(), LocalProverError> {
    serve_with_shutdown(listener, config, std::future::pending()).await
}

/// Serves the local prover on `listener` until `shutdown` completes.
///
/// Queries that were RECEIVED or IN_PROGRESS in the state file resume their lifecycle.
///
/// # Errors
/// As [`serve`].
pub async fn serve_with_shutdown(
    listener: TcpListener,
    config: LocalProverConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LocalProverError> {
    let address = listener.local_addr().map_or_else(
        |_| "an unknown address".to_owned(),
        |address: SocketAddr| address.to_string(),
    );
    let service = Arc::new(Service {
        store: QueryStore::open(config.state_file.clone())?,
        config,
        faults: Mutex::new(FaultPlan::default()),
        registration_lock: tokio::sync::Mutex::new(()),
    });

    for stored in service.store.unfinished() {
        lifecycle::spawn(service.clone(), stored);
    }

    info!(
        %address,
        registers_facts = service.config.fact_registration.is_some(),
        "local prover listening"
    );
    let router = routes::router(service);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| LocalProverError::Server {
            address: address.clone(),
            source,
        })?;
    info!(%address, "local prover stopped");
    Ok(())
}
