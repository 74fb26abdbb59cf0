//! In-memory query store of the local prover, optionally mirrored to a JSON state file so a
//! restart keeps the queries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::LocalProverError;
use crate::prover::api::{AtlanticQuery, QueryStatus};

/// A query and what the local prover computed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredQuery {
    /// The public view.
    pub(crate) query: AtlanticQuery,
    /// Fact of the submitted PIE, 0x hex.
    pub(crate) fact: String,
    /// Program hash of the submitted PIE, 0x hex.
    pub(crate) program_hash: String,
    /// Program output of the submitted PIE, 0x hex felts.
    pub(crate) program_output: Vec<String>,
    /// Reason to end FAILED with, decided at submission by the fault plan.
    pub(crate) planned_failure: Option<String>,
    /// Submission number, which orders queries sharing a dedup id.
    pub(crate) sequence: u64,
}

/// Counters returned by `GET /_local/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalProverStats {
    /// Number of `POST /atlantic-query` requests that reached the handler, by dedup id.
    /// Requests without a dedup id are counted under the empty string.
    pub posts_by_dedup_id: BTreeMap<String, u64>,
    /// Number of queries by status.
    pub queries_by_status: BTreeMap<String, u64>,
    /// Number of stored queries by dedup id. A POST rejected as a duplicate stores none, so
    /// this is the number of proving jobs each dedup id started.
    #[serde(default)]
    pub queries_by_dedup_id: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct State {
    next_sequence: u64,
    queries: BTreeMap<String, StoredQuery>,
    posts_by_dedup_id: BTreeMap<String, u64>,
}

/// The store. Every change is written to the state file, when there is one, before the call
/// returns.
#[derive(Debug)]
pub(crate) struct QueryStore {
    state: Mutex<State>,
    state_file: Option<PathBuf>,
}

impl QueryStore {
    /// Opens the store, loading the state file when it exists.
    pub(crate) fn open(state_file: Option<PathBuf>) -> Result<Self, LocalProverError> {
        let state = match &state_file {
            Some(path) if path.exists() => load_state(path)?,
            _ => State::default(),
        };
        Ok(Self {
            state: Mutex::new(state),
            state_file,
        })
    }

    /// Counts one POST for `dedup_id`.
    pub(crate) fn count_post(&self, dedup_id: Option<&str>) -> Result<(), LocalProverError> {
        self.update(|state| {
            *state
                .posts_by_dedup_id
                .entry(dedup_id.unwrap_or_default().to_owned())
                .or_default() += 1;
        })
    }

    /// Returns the latest query with `dedup_id`.
    pub(crate) fn find_by_dedup_id(&self, dedup_id: &str) -> Option<StoredQuery> {
        let state = self.lock();
        state
            .queries
            .values()
            .filter(|stored| stored.query.dedup_id.as_deref() == Some(dedup_id))
            .max_by_key(|stored| stored.sequence)
            .cloned()
    }

    /// Returns the query with `id`.
    pub(crate) fn get(&self, id: &str) -> Option<StoredQuery> {
        self.lock().queries.get(id).cloned()
    }

    /// Inserts a query built by `build` from its new id, unless a query with the same dedup id
    /// exists and has not FAILED, in which case that query is returned as the error.
    ///
    /// NOTE: whether the hosted API accepts a new query under the dedup id of a FAILED one is
    /// not documented. The upstream orchestrator resubmits in that case, so this store accepts it.
    pub(crate) fn insert_unless_duplicate(
        &self,
        dedup_id: Option<&str>,
        build: impl FnOnce(String, u64) -> StoredQuery,
    ) -> Result<Result<StoredQuery, StoredQuery>, LocalProverError> {
        let mut state = self.lock();
        if let Some(dedup_id) = dedup_id {
            let existing = state.queries.values().find(|stored| {
                stored.query.dedup_id.as_deref() == Some(dedup_id)
                    && stored.query.status != QueryStatus::Failed
            });
            if let Some(existing) = existing {
                return Ok(Err(existing.clone()));
            }
        }
        state.next_sequence += 1;
        let sequence = state.next_sequence;
        let stored = build(format!("local-{sequence:06}"), sequence);
        state
            .queries
            .insert(stored.query.id.clone(), stored.clone());
        self.persist(&state)?;
        Ok(Ok(stored))
    }

    /// Applies `change` to the query with `id` and stores the result.
    pub(crate) fn update_query(
        &self,
        id: &str,
        change: impl FnOnce(&mut StoredQuery),
    ) -> Result<(), LocalProverError> {
        self.update(|state| {
            if let Some(stored) = state.queries.get_mut(id) {
                change(stored);
            }
        })
    }

    /// Returns the queries that are not DONE or FAILED yet, for resuming after a restart.
    pub(crate) fn unfinished(&self) -> Vec<StoredQuery> {
        self.lock()
            .queries
            .values()
            .filter(|stored| !stored.query.status.is_final())
            .cloned()
            .collect()
    }

    /// Returns the counters.
    pub(crate) fn stats(&self) -> LocalProverStats {
        let state = self.lock();
        let mut queries_by_status = BTreeMap::new();
        let mut queries_by_dedup_id = BTreeMap::new();
        for stored in state.queries.values() {
            if let Some(dedup_id) = &stored.query.dedup_id {
                *queries_by_dedup_id.entry(dedup_id.clone()).or_default() += 1;
            }
            let status = serde_json::to_value(stored.query.status)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            *queries_by_status.entry(status).or_default() += 1;
        }
        LocalProverStats {
            posts_by_dedup_id: state.posts_by_dedup_id.clone(),
            queries_by_status,
            queries_by_dedup_id,
        }
    }

    fn update(&self, change: impl FnOnce(&mut State)) -> Result<(), LocalProverError> {
        let mut state = self.lock();
        change(&mut state);
        self.persist(&state)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (each change is one
        // insert or field update), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn persist(&self, state: &State) -> Result<(), LocalProverError> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let state_file_error = |message: String| LocalProverError::StateFile {
            path: path.clone(),
            message,
        };
        let json = serde_json::to_vec_pretty(state)
            .map_err(|error| state_file_error(error.to_string()))?;

        // Write a sibling file and rename it over the old one, so a crash leaves either the
        // old or the new state.
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, json).map_err(|error| state_file_error(error.to_string()))?;
        std::fs::rename(&temporary, path).map_err(|error| state_file_error(error.to_string()))
    }
}

fn load_state(path: &Path) -> Result<State, LocalProverError> {
    let state_file_error = |message: String| LocalProverError::StateFile {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|error| state_file_error(error.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|error| {
        state_file_error(format!("{error}; delete the file to start with no queries"))
    })
}
