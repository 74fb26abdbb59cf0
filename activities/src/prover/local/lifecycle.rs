//! Background task that walks one query through RECEIVED → IN_PROGRESS → DONE or FAILED.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::B256;
use tracing::{error, info, warn};

use super::Service;
use super::store::StoredQuery;
use crate::prover::api::QueryStatus;
use crate::prover::registry::register_fact;

/// Attempts at `registerFact` before the query is failed.
const REGISTRATION_ATTEMPTS: u32 = 3;
/// Pause between attempts.
const REGISTRATION_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Starts the lifecycle of `stored` from its current status.
pub(super) fn spawn(service: Arc<Service>, stored: StoredQuery) {
    tokio::spawn(run(service, stored));
}

async fn run(service: Arc<Service>, stored: StoredQuery) {
    let id = stored.query.id.clone();

    if stored.query.status == QueryStatus::Received {
        tokio::time::sleep(service.config.received_delay).await;
        set_status(&service, &id, QueryStatus::InProgress, |stored| {
            stored.query.step = Some("PROOF_GENERATION".to_owned());
        });
    }
    tokio::time::sleep(service.config.in_progress_delay).await;

    if let Some(reason) = stored.planned_failure {
        fail(&service, &id, reason);
        return;
    }

    if let Err(reason) = register(&service, &stored.fact).await {
        fail(&service, &id, reason);
        return;
    }

    let fact = stored.fact.clone();
    set_status(&service, &id, QueryStatus::Done, move |stored| {
        stored.query.step = None;
        stored.query.sharp_fact_hash = Some(fact);
    });
}

/// Registers the fact when the service has an L1 configured, retrying RPC failures.
async fn register(service: &Service, fact: &str) -> Result<(), String> {
    let Some(registration) = &service.config.fact_registration else {
        return Ok(());
    };
    let fact: B256 = fact
        .parse()
        .map_err(|_| format!("stored fact {fact} is not 32 bytes of hex"))?;

    let _guard = service.registration_lock.lock().await;
    let mut attempt = 1;
    loop {
        let result = register_fact(
            &registration.rpc_url,
            registration.signer.clone(),
            registration.registry,
            fact,
        )
        .await;
        match result {
            Ok(_) => return Ok(()),
            Err(error) if error.is_retryable() && attempt < REGISTRATION_ATTEMPTS => {
                warn!(%fact, attempt, err = %error, "fact registration failed, retrying");
                attempt += 1;
                tokio::time::sleep(REGISTRATION_RETRY_DELAY).await;
            }
            Err(error) => return Err(format!("fact registration failed: {error}")),
        }
    }
}

fn fail(service: &Service, id: &str, reason: String) {
    warn!(proof_job_id = %id, %reason, "local query failed");
    set_status(service, id, QueryStatus::Failed, move |stored| {
        stored.query.error_reason = Some(reason);
    });
}

fn set_status(
    service: &Service,
    id: &str,
    status: QueryStatus,
    change: impl FnOnce(&mut StoredQuery),
) {
    let result = service.store.update_query(id, |stored| {
        stored.query.status = status;
        change(stored);
    });
    match result {
        Ok(()) => info!(proof_job_id = %id, ?status, "local query status changed"),
        Err(err) => error!(proof_job_id = %id, ?status, %err, "failed to store query status"),
    }
}
