//! The Atlantic client against the in-process local prover, with and without faults.

use std::time::Duration;

use serde_json::json;

use super::{LocalProver, TEST_API_KEY, fast_config, read_pie};
use crate::prover::api::{DEDUP_ID_EXISTS_MESSAGE, QueryStatus};
use crate::prover::atlantic::{ApiKeyPlacement, QueryKey};
use crate::prover::error::AtlanticError;
use crate::prover::fact::compute_fact_info_from_zip;
use crate::prover::local::{FaultPlan, LocalProverConfig, LocalProverStats};

const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Upper bound for a query to finish; the local prover's delays add up to 70 ms.
const MAX_WAIT: Duration = Duration::from_secs(30);

async fn stats(prover: &LocalProver) -> LocalProverStats {
    reqwest::get(prover.url("_local/stats"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn set_faults(prover: &LocalProver, plan: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(prover.url("_local/faults"))
        .json(&plan)
        .send()
        .await
        .unwrap()
}

fn assert_key_hidden(error: &AtlanticError) {
    let message = error.to_string();
    let debug = format!("{error:?}");
    assert!(
        !message.contains(TEST_API_KEY),
        "API key in error message: {message}"
    );
    assert!(
        !debug.contains(TEST_API_KEY),
        "API key in error debug output: {debug}"
    );
}

#[tokio::test]
async fn submitted_pie_reaches_done_with_fact() {
    let prover = LocalProver::start(fast_config()).await;
    let client = prover.client();
    let pie = read_pie("sepolia_924016.zip");
    let expected_fact = compute_fact_info_from_zip(&pie).unwrap().fact;

    let submitted = client
        .submit_pie(pie, &QueryKey::new("block-924016"))
        .await
        .unwrap();
    assert!(!submitted.reused);
    let query = client
        .wait_for_final_status(&submitted.query_id, POLL_INTERVAL, MAX_WAIT)
        .await
        .unwrap();

    assert_eq!(query.status, QueryStatus::Done);
    assert_eq!(query.dedup_id.as_deref(), Some("block-924016"));
    assert_eq!(query.sharp_fact_hash, Some(expected_fact.to_string()));

    let proof = client.download_proof(&submitted.query_id).await.unwrap();
    let proof: serde_json::Value = serde_json::from_slice(&proof).unwrap();
    assert_eq!(proof["fact"], json!(expected_fact.to_string()));
    assert_eq!(proof["programOutput"].as_array().map(Vec::len), Some(23));
    prover.stop().await;
}

#[tokio::test]
async fn resubmit_after_lost_id_reuses_query() {
    let prover = LocalProver::start(fast_config()).await;
    let key = QueryKey::new("wf-block-7");

    // The first worker posts and dies before recording the query id.
    let first = prover
        .client()
        .submit_pie(read_pie("fibonacci.zip"), &key)
        .await
        .unwrap();
    // The retried activity runs on a fresh client and must find the same query.
    let second = prover
        .client()
        .submit_pie(read_pie("fibonacci.zip"), &key)
        .await
        .unwrap();

    assert_eq!(second.query_id, first.query_id);
    assert!(second.reused);
    let stats = stats(&prover).await;
    assert_eq!(stats.posts_by_dedup_id.get("wf-block-7"), Some(&1));
    assert_eq!(stats.queries_by_status.values().sum::<u64>(), 1);
    prover.stop().await;
}

#[tokio::test]
async fn duplicate_post_is_rejected_with_dedup_message() {
    let prover = LocalProver::start(fast_config()).await;
    let http = reqwest::Client::new();
    let post = || {
        let form = reqwest::multipart::Form::new()
            .part(
                "pieFile",
                reqwest::multipart::Part::bytes(read_pie("fibonacci.zip")),
            )
            .text("declaredJobSize", "S")
            .text("result", "PROOF_GENERATION")
            .text("network", "TESTNET")
            .text("cairoVm", "rust")
            .text("cairoVersion", "cairo0")
            .text("dedupId", "raw-dup");
        http.post(prover.url("atlantic-query"))
            .header("api-key", TEST_API_KEY)
            .multipart(form)
            .send()
    };

    let first = post().await.unwrap();
    assert_eq!(first.status(), reqwest::StatusCode::CREATED);
    let second = post().await.unwrap();
    assert_eq!(second.status(), reqwest::StatusCode::CONFLICT);
    let body: serde_json::Value = second.json().await.unwrap();
    assert_eq!(body["message"], json!(DEDUP_ID_EXISTS_MESSAGE));

    let stats = stats(&prover).await;
    assert_eq!(stats.posts_by_dedup_id.get("raw-dup"), Some(&2));
    assert_eq!(stats.queries_by_status.values().sum::<u64>(), 1);
    prover.stop().await;
}

#[tokio::test]
async fn failed_query_reports_reason_and_is_resubmitted() {
    let prover = LocalProver::start(fast_config()).await;
    let client = prover.client();
    let response = set_faults(
        &prover,
        json!({"failQueries": 1, "failureReason": "trace too large"}),
    )
    .await;
    assert!(response.status().is_success());
    let key = QueryKey::new("wf-failing");

    let first = client
        .submit_pie(read_pie("fibonacci.zip"), &key)
        .await
        .unwrap();
    let failed = client
        .wait_for_final_status(&first.query_id, POLL_INTERVAL, MAX_WAIT)
        .await
        .unwrap();
    assert_eq!(failed.status, QueryStatus::Failed);
    assert_eq!(failed.error_reason.as_deref(), Some("trace too large"));

    // A FAILED query is not reused: the same dedup id gets a new query, which succeeds.
    let second = client
        .submit_pie(read_pie("fibonacci.zip"), &key)
        .await
        .unwrap();
    assert_ne!(second.query_id, first.query_id);
    assert!(!second.reused);
    let done = client
        .wait_for_final_status(&second.query_id, POLL_INTERVAL, MAX_WAIT)
        .await
        .unwrap();
    assert_eq!(done.status, QueryStatus::Done);
    assert_eq!(
        stats(&prover).await.posts_by_dedup_id.get("wf-failing"),
        Some(&2)
    );
    prover.stop().await;
}

#[tokio::test]
async fn html_not_found_is_transient() {
    let prover = LocalProver::start(fast_config()).await;
    set_faults(&prover, json!({"htmlNotFound": 1})).await;

    let error = prover.client().get_query("local-000001").await.unwrap_err();
    assert!(
        matches!(error, AtlanticError::HtmlResponse { status: 404, .. }),
        "got {error}"
    );
    assert!(error.is_retryable());
    assert_key_hidden(&error);

    // The fault fired once, so the next request reaches the API, which has no such query.
    let error = prover.client().get_query("local-000001").await.unwrap_err();
    assert!(
        matches!(error, AtlanticError::Rejected { status: 404, .. }),
        "got {error}"
    );
    prover.stop().await;
}

#[tokio::test]
async fn service_unavailable_is_transient() {
    let prover = LocalProver::start(fast_config()).await;
    set_faults(&prover, json!({"serviceUnavailable": "always"})).await;

    let error = prover
        .client()
        .submit_pie(read_pie("fibonacci.zip"), &QueryKey::new("wf-503"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, AtlanticError::ServerError { status: 503, .. }),
        "got {error}"
    );
    assert!(error.is_retryable());
    assert_key_hidden(&error);
    assert_eq!(stats(&prover).await.posts_by_dedup_id.get("wf-503"), None);
    prover.stop().await;
}

#[tokio::test]
async fn slow_answer_times_out_as_transient() {
    let prover = LocalProver::start(fast_config()).await;
    set_faults(&prover, json!({"delayMs": 1_500})).await;
    let client = prover.client_with(|config| config.request_timeout = Duration::from_millis(200));

    let error = client.get_query("local-000001").await.unwrap_err();
    assert!(
        matches!(error, AtlanticError::Timeout { .. }),
        "got {error}"
    );
    assert!(error.is_retryable());
    assert_key_hidden(&error);
    prover.stop().await;
}

#[tokio::test]
async fn wrong_api_key_is_permanent_rejection() {
    let prover = LocalProver::start(fast_config()).await;
    let client = prover.client_with(|config| {
        config.api_key = crate::prover::ApiKey::new("wrong-key", "test").unwrap();
    });

    let error = client.get_query("local-000001").await.unwrap_err();
    assert!(
        matches!(error, AtlanticError::Rejected { status: 401, .. }),
        "got {error}"
    );
    assert!(!error.is_retryable());
    assert!(
        error.to_string().contains("invalid API key"),
        "message: {error}"
    );
    prover.stop().await;
}

#[tokio::test]
async fn invalid_pie_is_permanent_rejection_naming_entry() {
    let prover = LocalProver::start(fast_config()).await;
    // A zip with only execution_resources.json passes the client's step count read, so the
    // server's full check is what rejects it.
    let mut bytes = Vec::new();
    {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
        writer
            .start_file(
                "execution_resources.json",
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
        std::io::Write::write_all(&mut writer, br#"{"n_steps": 10}"#).unwrap();
        writer.finish().unwrap();
    }

    let error = prover
        .client()
        .submit_pie(bytes, &QueryKey::new("wf-bad-pie"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, AtlanticError::Rejected { status: 400, .. }),
        "got {error}"
    );
    assert!(!error.is_retryable());
    assert!(
        error.to_string().contains("metadata.json"),
        "message: {error}"
    );
    prover.stop().await;
}

#[tokio::test]
async fn non_zip_pie_fails_before_any_request() {
    let prover = LocalProver::start(fast_config()).await;
    let error = prover
        .client()
        .submit_pie(b"plain text".to_vec(), &QueryKey::new("wf-text"))
        .await
        .unwrap_err();
    assert!(matches!(error, AtlanticError::Pie(_)), "got {error}");
    assert!(!error.is_retryable());
    assert_eq!(stats(&prover).await.posts_by_dedup_id.get("wf-text"), None);
    prover.stop().await;
}

#[tokio::test]
async fn unknown_query_is_permanent_not_found() {
    let prover = LocalProver::start(fast_config()).await;
    let error = prover
        .client()
        .get_query("no-such-query")
        .await
        .unwrap_err();
    assert!(
        matches!(error, AtlanticError::Rejected { status: 404, .. }),
        "got {error}"
    );
    assert!(
        error.to_string().contains("no-such-query"),
        "message: {error}"
    );
    assert!(!error.is_retryable());
    prover.stop().await;
}

#[tokio::test]
async fn unfinished_query_has_no_proof() {
    let prover = LocalProver::start(LocalProverConfig {
        received_delay: Duration::from_secs(3600),
        ..fast_config()
    })
    .await;
    let client = prover.client();
    let submitted = client
        .submit_pie(read_pie("fibonacci.zip"), &QueryKey::new("wf-slow"))
        .await
        .unwrap();

    let query = client.get_query(&submitted.query_id).await.unwrap();
    assert_eq!(query.status, QueryStatus::Received);
    let error = client
        .download_proof(&submitted.query_id)
        .await
        .unwrap_err();
    assert!(
        matches!(error, AtlanticError::Rejected { status: 404, .. }),
        "got {error}"
    );
    prover.stop().await;
}

#[tokio::test]
async fn api_key_in_query_parameter_never_leaks() {
    let prover = LocalProver::start(fast_config()).await;
    let client = prover.client_with(|config| {
        config.api_key_placement = ApiKeyPlacement::QueryParameter;
        config.request_timeout = Duration::from_millis(200);
    });

    // The server accepts the key as a query parameter.
    let submitted = client
        .submit_pie(read_pie("fibonacci.zip"), &QueryKey::new("wf-query-key"))
        .await
        .unwrap();
    assert!(!submitted.reused);

    let mut errors = Vec::new();
    set_faults(&prover, json!({"htmlNotFound": 1})).await;
    errors.push(client.get_query(&submitted.query_id).await.unwrap_err());
    set_faults(&prover, json!({"serviceUnavailable": 1})).await;
    errors.push(client.get_query(&submitted.query_id).await.unwrap_err());
    set_faults(&prover, json!({"delayMs": 1_500})).await;
    errors.push(client.get_query(&submitted.query_id).await.unwrap_err());
    set_faults(&prover, json!({})).await;
    errors.push(client.get_query("missing").await.unwrap_err());

    // A refused connection: reqwest puts the full URL, key included, into this error.
    let stopped_url = prover.base_url.clone();
    prover.stop().await;
    let mut config = crate::prover::AtlanticConfig::new(stopped_url, super::test_api_key());
    config.api_key_placement = ApiKeyPlacement::QueryParameter;
    let offline = crate::prover::AtlanticClient::new(config).unwrap();
    let refused = offline.get_query("any").await.unwrap_err();
    assert!(
        matches!(refused, AtlanticError::Connection { .. }),
        "got {refused}"
    );
    assert!(refused.is_retryable());
    errors.push(refused);

    for error in &errors {
        assert_key_hidden(error);
    }
}

#[tokio::test]
async fn state_file_keeps_queries_across_restart() {
    let directory = tempfile::tempdir().unwrap();
    let state_file = directory.path().join("local-prover.json");
    let config = LocalProverConfig {
        received_delay: Duration::from_secs(3600),
        state_file: Some(state_file.clone()),
        ..fast_config()
    };

    let prover = LocalProver::start(config).await;
    let submitted = prover
        .client()
        .submit_pie(read_pie("fibonacci.zip"), &QueryKey::new("wf-restart"))
        .await
        .unwrap();
    prover.stop().await;

    // The restarted service still has the query and finishes it with the short delays.
    let prover = LocalProver::start(LocalProverConfig {
        state_file: Some(state_file),
        ..fast_config()
    })
    .await;
    let client = prover.client();
    let again = client
        .submit_pie(read_pie("fibonacci.zip"), &QueryKey::new("wf-restart"))
        .await
        .unwrap();
    assert_eq!(again.query_id, submitted.query_id);
    assert!(again.reused);
    let query = client
        .wait_for_final_status(&again.query_id, POLL_INTERVAL, MAX_WAIT)
        .await
        .unwrap();
    assert_eq!(query.status, QueryStatus::Done);
    assert_eq!(
        stats(&prover).await.posts_by_dedup_id.get("wf-restart"),
        Some(&1)
    );
    prover.stop().await;
}

#[tokio::test]
async fn fault_plan_rejects_unknown_field() {
    let prover = LocalProver::start(fast_config()).await;
    let response = set_faults(&prover, json!({"htmlNotFond": 1})).await;
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);

    let plan: FaultPlan = reqwest::get(prover.url("_local/faults"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(plan, FaultPlan::default());
    prover.stop().await;
}
