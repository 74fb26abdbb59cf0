//! HTTP routes of the local prover.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tracing::{debug, error, info, warn};

use super::Service;
use super::faults::FaultPlan;
use super::lifecycle;
use super::store::StoredQuery;
use crate::prover::api::{
    API_KEY_HEADER, API_KEY_QUERY_PARAMETER, ApiErrorBody, AtlanticQuery, CairoVersion, CairoVm,
    DEDUP_ID_EXISTS_MESSAGE, Network, ProofResult, QueryResponse, QueryStatus, SharpProver,
    SubmitResponse,
};
use crate::prover::fact::compute_fact_info_from_zip;

/// Page a load balancer returns for an unknown backend.
const HTML_NOT_FOUND_PAGE: &str = "<html>\n<head><title>404 Not Found</title></head>\n\
     <body><h1>404 Not Found</h1><hr>load balancer</body>\n</html>\n";

type Shared = Arc<Service>;
type QueryParameters = Query<HashMap<String, String>>;

/// Builds the router: API and artifact routes behind the fault layer, control routes without.
pub(super) fn router(service: Shared) -> Router {
    let api = Router::new()
        .route("/atlantic-query", post(submit))
        .route("/atlantic-query/{id}", get(get_query))
        .route("/atlantic-query-by-dedup-id", get(find_by_dedup_id))
        .route("/queries/{id}/proof.json", get(proof))
        .layer(middleware::from_fn_with_state(
            service.clone(),
            inject_faults,
        ))
        .layer(DefaultBodyLimit::max(service.config.max_pie_bytes));
    let control = Router::new().route("/_local/stats", get(stats)).route(
        "/_local/faults",
        get(get_faults).post(set_faults).delete(clear_faults),
    );
    api.merge(control).with_state(service)
}

fn api_error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ApiErrorBody {
            message: message.into(),
        }),
    )
        .into_response()
}

async fn inject_faults(State(service): State<Shared>, request: Request, next: Next) -> Response {
    let delay_ms = service.faults().delay_ms;
    if let Some(delay_ms) = delay_ms {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }

    let (html_not_found, service_unavailable) = {
        let mut plan = service.faults();
        let html_not_found = plan.take_html_not_found();
        (
            html_not_found,
            !html_not_found && plan.take_service_unavailable(),
        )
    };
    let path = request.uri().path().to_owned();
    if html_not_found {
        debug!(%path, "injecting html 404");
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html")],
            HTML_NOT_FOUND_PAGE,
        )
            .into_response();
    }
    if service_unavailable {
        debug!(%path, "injecting 503");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain")],
            "service unavailable",
        )
            .into_response();
    }
    next.run(request).await
}

/// Returns a 401 response unless the request carries the configured key in the `api-key`
/// header or the `apiKey` query parameter. The key is never echoed back.
fn reject_unauthorized(
    service: &Service,
    headers: &HeaderMap,
    parameters: &HashMap<String, String>,
) -> Option<Response> {
    let expected = service.config.api_key.as_ref()?;
    let provided = headers
        .get(API_KEY_HEADER)
        .and_then(|value| value.to_str().ok())
        .or_else(|| parameters.get(API_KEY_QUERY_PARAMETER).map(String::as_str));
    match provided {
        Some(key) if key == expected.expose_secret() => None,
        Some(_) => Some(api_error(StatusCode::UNAUTHORIZED, "invalid API key")),
        None => Some(api_error(
            StatusCode::UNAUTHORIZED,
            format!("missing API key; send it in the {API_KEY_HEADER} header"),
        )),
    }
}

/// Form fields of a submission after validation.
struct Submission {
    dedup_id: Option<String>,
    bucket_id: Option<String>,
    bucket_job_index: Option<u64>,
    result: ProofResult,
}

fn validate_fields(fields: &BTreeMap<String, String>) -> Result<Submission, String> {
    let required = |name: &str| {
        fields
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("missing form field {name}"))
    };
    let check = |name: &str, outcome: Result<(), String>| {
        outcome.map_err(|message| format!("invalid form field {name}: {message}"))
    };

    let job_size = required("declaredJobSize")?;
    check(
        "declaredJobSize",
        match job_size {
            "S" | "M" | "L" => Ok(()),
            other => Err(format!("{other:?}; expected S, M or L")),
        },
    )?;
    let result = ProofResult::from_str(required("result")?)
        .map_err(|message| format!("invalid form field result: {message}"))?;
    check("network", Network::from_str(required("network")?).map(drop))?;
    check("cairoVm", CairoVm::from_str(required("cairoVm")?).map(drop))?;
    check(
        "cairoVersion",
        CairoVersion::from_str(required("cairoVersion")?).map(drop),
    )?;
    if let Some(prover) = fields.get("sharpProver") {
        check("sharpProver", SharpProver::from_str(prover).map(drop))?;
    }
    if let Some(mock) = fields.get("mockFactHash") {
        check(
            "mockFactHash",
            match mock.as_str() {
                "true" | "false" => Ok(()),
                other => Err(format!("{other:?}; expected true or false")),
            },
        )?;
    }
    if fields.get("layout").is_some_and(String::is_empty) {
        return Err("invalid form field layout: empty".to_owned());
    }
    let bucket_job_index = fields
        .get("bucketJobIndex")
        .map(|index| index.parse::<u64>())
        .transpose()
        .map_err(|_| "invalid form field bucketJobIndex: expected a non-negative integer")?;

    Ok(Submission {
        dedup_id: fields.get("dedupId").filter(|id| !id.is_empty()).cloned(),
        bucket_id: fields.get("bucketId").cloned(),
        bucket_job_index,
        result,
    })
}

async fn read_form(
    mut multipart: Multipart,
) -> Result<(BTreeMap<String, String>, Option<Vec<u8>>), Response> {
    let mut fields = BTreeMap::new();
    let mut pie = None;
    let multipart_error = |error: axum::extract::multipart::MultipartError| {
        api_error(error.status(), error.body_text())
    };
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "pieFile" {
            pie = Some(field.bytes().await.map_err(multipart_error)?.to_vec());
        } else {
            fields.insert(name, field.text().await.map_err(multipart_error)?);
        }
    }
    Ok((fields, pie))
}

async fn submit(
    State(service): State<Shared>,
    headers: HeaderMap,
    Query(parameters): QueryParameters,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Some(response) = reject_unauthorized(&service, &headers, &parameters) {
        return response;
    }
    let multipart = match multipart {
        Ok(multipart) => multipart,
        Err(rejection) => return api_error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let (fields, pie) = match read_form(multipart).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    if let Err(err) = service
        .store
        .count_post(fields.get("dedupId").map(String::as_str))
    {
        error!(%err, "failed to count a submission");
    }

    let submission = match validate_fields(&fields) {
        Ok(submission) => submission,
        Err(message) => return api_error(StatusCode::BAD_REQUEST, message),
    };
    let Some(pie) = pie else {
        return api_error(StatusCode::BAD_REQUEST, "missing form file pieFile");
    };
    // NOTE: the hosted API's status code for a duplicate dedup id is not documented, so 409
    // is a guess. Clients match on the message.
    if let Some(dedup_id) = &submission.dedup_id
        && service
            .store
            .find_by_dedup_id(dedup_id)
            .is_some_and(|q| q.query.status != QueryStatus::Failed)
    {
        return api_error(StatusCode::CONFLICT, DEDUP_ID_EXISTS_MESSAGE);
    }

    // Computing the fact hashes the whole program, so it runs off the async threads.
    let fact_info =
        match tokio::task::spawn_blocking(move || compute_fact_info_from_zip(&pie)).await {
            Ok(Ok(fact_info)) => fact_info,
            Ok(Err(error)) => {
                return api_error(StatusCode::BAD_REQUEST, format!("invalid pieFile: {error}"));
            }
            Err(error) => {
                error!(err = %error, "fact computation task failed");
                return api_error(StatusCode::INTERNAL_SERVER_ERROR, "fact computation failed");
            }
        };

    let inserted =
        service
            .store
            .insert_unless_duplicate(submission.dedup_id.as_deref(), |id, sequence| StoredQuery {
                query: AtlanticQuery {
                    id,
                    status: QueryStatus::Received,
                    step: Some(submission.result.as_str().to_owned()),
                    dedup_id: submission.dedup_id.clone(),
                    integrity_fact_hash: None,
                    sharp_fact_hash: None,
                    bucket_id: submission.bucket_id.clone(),
                    bucket_job_index: submission.bucket_job_index,
                    error_reason: None,
                },
                fact: fact_info.fact.to_string(),
                program_hash: fact_info.program_hash.to_hex_string(),
                program_output: fact_info
                    .program_output
                    .iter()
                    .map(|felt| felt.to_hex_string())
                    .collect(),
                planned_failure: service.faults().take_query_failure(),
                sequence,
            });
    let stored = match inserted {
        Ok(Ok(stored)) => stored,
        Ok(Err(_existing)) => return api_error(StatusCode::CONFLICT, DEDUP_ID_EXISTS_MESSAGE),
        Err(err) => {
            error!(%err, "failed to store a query");
            return api_error(StatusCode::INTERNAL_SERVER_ERROR, err.to_string());
        }
    };

    info!(
        proof_job_id = %stored.query.id,
        dedup_id = submission.dedup_id.as_deref().unwrap_or(""),
        fact = %stored.fact,
        "local query received"
    );
    let query_id = stored.query.id.clone();
    lifecycle::spawn(service.clone(), stored);
    (
        StatusCode::CREATED,
        Json(SubmitResponse {
            atlantic_query_id: query_id,
        }),
    )
        .into_response()
}

async fn get_query(
    State(service): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(parameters): QueryParameters,
) -> Response {
    if let Some(response) = reject_unauthorized(&service, &headers, &parameters) {
        return response;
    }
    match service.store.get(&id) {
        Some(stored) => query_response(stored),
        None => api_error(StatusCode::NOT_FOUND, format!("query {id} not found")),
    }
}

async fn find_by_dedup_id(
    State(service): State<Shared>,
    headers: HeaderMap,
    Query(parameters): QueryParameters,
) -> Response {
    if let Some(response) = reject_unauthorized(&service, &headers, &parameters) {
        return response;
    }
    let Some(dedup_id) = parameters.get("dedupId") else {
        return api_error(StatusCode::BAD_REQUEST, "missing query parameter dedupId");
    };
    match service.store.find_by_dedup_id(dedup_id) {
        Some(stored) => query_response(stored),
        None => api_error(
            StatusCode::NOT_FOUND,
            format!("no query with dedup id {dedup_id}"),
        ),
    }
}

fn query_response(stored: StoredQuery) -> Response {
    Json(QueryResponse {
        atlantic_query: stored.query,
        metadata_urls: Vec::new(),
    })
    .into_response()
}

/// Serves a stand-in for `proof.json`: the program hash, output and fact, marked as not
/// being a STARK proof.
async fn proof(State(service): State<Shared>, Path(id): Path<String>) -> Response {
    let Some(stored) = service.store.get(&id) else {
        return api_error(StatusCode::NOT_FOUND, format!("query {id} not found"));
    };
    if stored.query.status != QueryStatus::Done {
        return api_error(
            StatusCode::NOT_FOUND,
            format!("query {id} has no proof while {:?}", stored.query.status),
        );
    }
    Json(serde_json::json!({
        "localProver": true,
        "note": "the local prover does not prove; this document only records the fact",
        "queryId": stored.query.id,
        "programHash": stored.program_hash,
        "programOutput": stored.program_output,
        "fact": stored.fact,
    }))
    .into_response()
}

async fn stats(State(service): State<Shared>) -> Response {
    Json(service.store.stats()).into_response()
}

async fn get_faults(State(service): State<Shared>) -> Response {
    Json(service.faults().clone()).into_response()
}

async fn set_faults(
    State(service): State<Shared>,
    plan: Result<Json<FaultPlan>, JsonRejection>,
) -> Response {
    match plan {
        Ok(Json(plan)) => {
            warn!(?plan, "fault plan set");
            *service.faults() = plan.clone();
            Json(plan).into_response()
        }
        Err(rejection) => api_error(StatusCode::BAD_REQUEST, rejection.body_text()),
    }
}

async fn clear_faults(State(service): State<Shared>) -> Response {
    info!("fault plan cleared");
    *service.faults() = FaultPlan::default();
    StatusCode::NO_CONTENT.into_response()
}
