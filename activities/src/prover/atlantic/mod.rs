//! Client of the Atlantic proving API: submit a PIE once per dedup id, poll the query and
//! download its proof.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde::de::DeserializeOwned;
use tracing::{debug, info};
use url::Url;

use super::api::{
    API_KEY_HEADER, API_KEY_QUERY_PARAMETER, AtlanticQuery, CairoVersion, CairoVm,
    DEDUP_ID_EXISTS_MESSAGE, DEDUP_LOOKUP_PATH, JobSize, Network, ProofResult, QueryResponse,
    QueryStatus, SUBMIT_PATH, SharpProver, SubmitResponse,
};
use super::api_key::ApiKey;
use super::error::AtlanticError;
use super::pie::read_execution_resources;
use response::{describe_transport_error, join_url, parse_json, read_body};

mod response;

/// Default timeout of one HTTP request. PIE uploads of real blocks run to tens of megabytes.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// Public artifacts store of the hosted Atlantic service.
pub const DEFAULT_ARTIFACTS_BASE_URL: &str = "https://storage.googleapis.com/hero-atlantic-bucket";

/// Location of the API key in requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiKeyPlacement {
    /// The `api-key` header, which the current API reads.
    #[default]
    Header,
    /// The `apiKey` query parameter, which older API versions read.
    QueryParameter,
}

/// Fixed fields of every proving request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofRequest {
    /// Requested artifact.
    pub result: ProofResult,
    /// Network of the verifier.
    pub network: Network,
    /// VM that produced the PIEs.
    pub cairo_vm: CairoVm,
    /// Cairo version of the program.
    pub cairo_version: CairoVersion,
    /// Prover layout, such as `dynamic` or `all_cairo`, omitted when `None`.
    pub layout: Option<String>,
    /// Prover backend, omitted when `None`.
    pub sharp_prover: Option<SharpProver>,
    /// Asks Atlantic to register a mock fact instead of proving (`mockFactHash`).
    pub mock_fact_hash: bool,
}

impl Default for ProofRequest {
    fn default() -> Self {
        Self {
            result: ProofResult::ProofGeneration,
            network: Network::Testnet,
            cairo_vm: CairoVm::Rust,
            cairo_version: CairoVersion::Cairo0,
            layout: None,
            sharp_prover: None,
            mock_fact_hash: false,
        }
    }
}

/// Settings of an [`AtlanticClient`].
#[derive(Debug, Clone)]
pub struct AtlanticConfig {
    /// API base URL, such as `https://atlantic.api.herodotus.cloud`.
    pub base_url: Url,
    /// Base URL of the public artifacts store that serves `queries/{id}/proof.json`.
    pub artifacts_base_url: Url,
    /// API key.
    pub api_key: ApiKey,
    /// Location of the key in requests.
    pub api_key_placement: ApiKeyPlacement,
    /// Timeout of each HTTP request.
    pub request_timeout: Duration,
    /// Fixed request fields.
    pub proof_request: ProofRequest,
}

impl AtlanticConfig {
    /// Builds a configuration with default request fields, the key in the `api-key` header
    /// and the artifacts store at the API URL, which is where the local prover serves it. For
    /// the hosted service set `artifacts_base_url` to [`DEFAULT_ARTIFACTS_BASE_URL`].
    pub fn new(base_url: Url, api_key: ApiKey) -> Self {
        Self {
            artifacts_base_url: base_url.clone(),
            base_url,
            api_key,
            api_key_placement: ApiKeyPlacement::default(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            proof_request: ProofRequest::default(),
        }
    }
}

/// Identity of one proving job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryKey {
    /// Caller-chosen id that makes submission idempotent, such as the block workflow id.
    pub dedup_id: String,
    /// Aggregation bucket, when the job belongs to one.
    pub bucket_id: Option<String>,
    /// Position of the job inside the bucket.
    pub bucket_job_index: Option<u64>,
}

impl QueryKey {
    /// Builds a key without a bucket.
    pub fn new(dedup_id: impl Into<String>) -> Self {
        Self {
            dedup_id: dedup_id.into(),
            bucket_id: None,
            bucket_job_index: None,
        }
    }
}

/// Outcome of [`AtlanticClient::submit_pie`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedQuery {
    /// Query id.
    pub query_id: String,
    /// Whether an existing query with the same dedup id was reused instead of posting.
    pub reused: bool,
}

/// Client of one Atlantic API.
#[derive(Debug, Clone)]
pub struct AtlanticClient {
    http: reqwest::Client,
    config: AtlanticConfig,
}

impl AtlanticClient {
    /// Builds a client.
    ///
    /// # Errors
    /// [`AtlanticError::Connection`] when the HTTP client cannot be initialised.
    pub fn new(config: AtlanticConfig) -> Result<Self, AtlanticError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|error| AtlanticError::Connection {
                operation: "build HTTP client",
                message: describe_transport_error(error, &config.api_key),
            })?;
        Ok(Self { http, config })
    }

    /// Returns the configuration.
    pub fn config(&self) -> &AtlanticConfig {
        &self.config
    }

    /// Submits a PIE zip unless a query with the same dedup id exists and has not FAILED.
    ///
    /// The declared job size comes from the PIE's step count. When the POST races with an
    /// earlier one and Atlantic responds that the dedup id exists, the existing query is used.
    ///
    /// # Errors
    /// [`AtlanticError::Pie`] for an unreadable PIE, [`AtlanticError::DedupConflict`] when the
    /// existing query belongs to another bucket slot, and request errors as classified by
    /// [`AtlanticError::is_retryable`].
    ///
    /// # Idempotency
    /// Calling this again with the same key, for example after a worker died between the POST
    /// and recording the query id, returns the first query instead of creating another.
    pub async fn submit_pie(
        &self,
        pie_zip: Vec<u8>,
        key: &QueryKey,
    ) -> Result<SubmittedQuery, AtlanticError> {
        let n_steps = read_execution_resources(&pie_zip)?.n_steps;

        if let Some(existing) = self.reusable_query(key).await? {
            info!(dedup_id = %key.dedup_id, proof_job_id = %existing.id, "reusing atlantic query");
            return Ok(SubmittedQuery {
                query_id: existing.id,
                reused: true,
            });
        }

        let operation = "submit query";
        let form = self.submit_form(pie_zip, n_steps, key)?;
        let request = self.http.post(self.api_url(&[SUBMIT_PATH])).multipart(form);
        match self
            .send_json::<SubmitResponse>(operation, self.authorize(request))
            .await
        {
            Ok(response) => {
                info!(
                    dedup_id = %key.dedup_id,
                    proof_job_id = %response.atlantic_query_id,
                    n_steps,
                    "submitted atlantic query"
                );
                Ok(SubmittedQuery {
                    query_id: response.atlantic_query_id,
                    reused: false,
                })
            }
            Err(AtlanticError::Rejected { message, .. })
                if message.contains(DEDUP_ID_EXISTS_MESSAGE) =>
            {
                // Another submission won the race, so use its query.
                let existing =
                    self.reusable_query(key)
                        .await?
                        .ok_or_else(|| AtlanticError::Rejected {
                            operation,
                            status: StatusCode::CONFLICT.as_u16(),
                            message: format!(
                                "{message}, but no reusable query with dedup id {} was found",
                                key.dedup_id
                            ),
                        })?;
                Ok(SubmittedQuery {
                    query_id: existing.id,
                    reused: true,
                })
            }
            Err(error) => Err(error),
        }
    }

    /// Looks up the latest query submitted with `dedup_id`, or `None` when there is none.
    ///
    /// NOTE: the sources this client was written from do not document the real API's response
    /// for an unknown dedup id. A 404 with a JSON message is taken as "none".
    ///
    /// # Errors
    /// Request errors as classified by [`AtlanticError::is_retryable`].
    pub async fn find_query_by_dedup_id(
        &self,
        dedup_id: &str,
    ) -> Result<Option<AtlanticQuery>, AtlanticError> {
        let mut url = self.api_url(&[DEDUP_LOOKUP_PATH]);
        url.query_pairs_mut().append_pair("dedupId", dedup_id);
        let request = self.authorize(self.http.get(url));
        match self
            .send_json::<QueryResponse>("find query by dedup id", request)
            .await
        {
            Ok(response) => Ok(Some(response.atlantic_query)),
            Err(AtlanticError::Rejected { status: 404, .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Fetches a query's status.
    ///
    /// # Errors
    /// [`AtlanticError::Rejected`] with status 404 for an unknown id, and request errors as
    /// classified by [`AtlanticError::is_retryable`].
    pub async fn get_query(&self, query_id: &str) -> Result<AtlanticQuery, AtlanticError> {
        let request = self.authorize(self.http.get(self.api_url(&[SUBMIT_PATH, query_id])));
        let response: QueryResponse = self.send_json("get query", request).await?;
        debug!(
            proof_job_id = %query_id,
            status = ?response.atlantic_query.status,
            "polled atlantic query"
        );
        Ok(response.atlantic_query)
    }

    /// Polls a query every `poll_interval` until it is DONE or FAILED or `max_wait` has
    /// passed, and returns the last status seen.
    ///
    /// # Errors
    /// The first error of [`AtlanticClient::get_query`].
    pub async fn wait_for_final_status(
        &self,
        query_id: &str,
        poll_interval: Duration,
        max_wait: Duration,
    ) -> Result<AtlanticQuery, AtlanticError> {
        let deadline = tokio::time::Instant::now() + max_wait;
        loop {
            let query = self.get_query(query_id).await?;
            if query.status.is_final() || tokio::time::Instant::now() + poll_interval > deadline {
                return Ok(query);
            }
            tokio::time::sleep(poll_interval).await;
        }
    }

    /// Downloads `queries/{id}/proof.json` from the artifacts store, which needs no API key.
    ///
    /// # Errors
    /// [`AtlanticError::ProofUnavailable`] when the store returns a `{"code": …}` document
    /// such as `NO_OFFCHAIN_PROOF_FOR_JOB`, and request errors as classified by
    /// [`AtlanticError::is_retryable`].
    pub async fn download_proof(&self, query_id: &str) -> Result<Vec<u8>, AtlanticError> {
        let operation = "download proof";
        let url = join_url(
            &self.config.artifacts_base_url,
            &["queries", query_id, "proof.json"],
        );
        let response = self.http.get(url).send().await;
        let (status, body) = read_body(operation, response, &self.config).await?;
        let document: serde_json::Value = parse_json(operation, status, &body)?;

        let code = document
            .as_object()
            .filter(|object| object.len() == 1)
            .and_then(|object| object.get("code").and_then(serde_json::Value::as_str));
        if let Some(code) = code {
            return Err(AtlanticError::ProofUnavailable {
                query_id: query_id.to_owned(),
                code: code.to_owned(),
            });
        }
        info!(proof_job_id = %query_id, bytes = body.len(), "downloaded proof");
        Ok(body.into_bytes())
    }

    async fn reusable_query(&self, key: &QueryKey) -> Result<Option<AtlanticQuery>, AtlanticError> {
        let Some(existing) = self.find_query_by_dedup_id(&key.dedup_id).await? else {
            return Ok(None);
        };
        if existing.status == QueryStatus::Failed {
            info!(
                dedup_id = %key.dedup_id,
                proof_job_id = %existing.id,
                reason = existing.error_reason.as_deref().unwrap_or(""),
                "previous atlantic query failed, submitting again"
            );
            return Ok(None);
        }
        let found = (existing.bucket_id.as_deref(), existing.bucket_job_index);
        let expected = (key.bucket_id.as_deref(), key.bucket_job_index);
        if key.bucket_id.is_some() && found != expected {
            return Err(AtlanticError::DedupConflict {
                dedup_id: key.dedup_id.clone(),
                query_id: existing.id.clone(),
                found: describe_bucket_slot(found),
                expected: describe_bucket_slot(expected),
            });
        }
        Ok(Some(existing))
    }

    fn submit_form(
        &self,
        pie_zip: Vec<u8>,
        n_steps: u64,
        key: &QueryKey,
    ) -> Result<Form, AtlanticError> {
        let request = &self.config.proof_request;
        let pie = Part::bytes(pie_zip)
            .file_name("pie.zip")
            .mime_str("application/zip")
            .map_err(|error| AtlanticError::Connection {
                operation: "submit query",
                message: describe_transport_error(error, &self.config.api_key),
            })?;
        let mut form = Form::new()
            .part("pieFile", pie)
            .text(
                "declaredJobSize",
                format!("{:?}", JobSize::from_steps(n_steps)),
            )
            .text("result", request.result.as_str())
            .text("network", request.network.as_str())
            .text("cairoVm", request.cairo_vm.as_str())
            .text("cairoVersion", request.cairo_version.as_str())
            .text("mockFactHash", request.mock_fact_hash.to_string())
            .text("dedupId", key.dedup_id.clone());
        if let Some(layout) = &request.layout {
            form = form.text("layout", layout.clone());
        }
        if let Some(prover) = request.sharp_prover {
            form = form.text("sharpProver", prover.as_str());
        }
        if let Some(bucket_id) = &key.bucket_id {
            form = form.text("bucketId", bucket_id.clone());
        }
        if let Some(index) = key.bucket_job_index {
            form = form.text("bucketJobIndex", index.to_string());
        }
        Ok(form)
    }

    fn api_url(&self, segments: &[&str]) -> Url {
        let mut url = join_url(&self.config.base_url, segments);
        if self.config.api_key_placement == ApiKeyPlacement::QueryParameter {
            url.query_pairs_mut()
                .append_pair(API_KEY_QUERY_PARAMETER, self.config.api_key.expose_secret());
        }
        url
    }

    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.config.api_key_placement {
            ApiKeyPlacement::Header => {
                request.header(API_KEY_HEADER, self.config.api_key.expose_secret())
            }
            ApiKeyPlacement::QueryParameter => request,
        }
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<T, AtlanticError> {
        let response = request.send().await;
        let (status, body) = read_body(operation, response, &self.config).await?;
        parse_json(operation, status, &body)
    }
}

fn describe_bucket_slot((bucket_id, index): (Option<&str>, Option<u64>)) -> String {
    let index = index.map_or_else(|| "none".to_owned(), |index| index.to_string());
    format!("bucket {} job index {index}", bucket_id.unwrap_or("none"))
}
