//! Telemetry of the worker against real receivers: an OpenTelemetry collector (`rotel-agent`)
//! over OTLP gRPC and HTTP, and a Prometheus scrape of the worker's endpoint. A last test
//! checks that the Grafana dashboard and the Prometheus alert rules use only metrics that the
//! pipeline defines.

use orchestrator_activities::telemetry::{
    self as metrics, METRIC_NAMES, MetricKind, SettlementCost,
};
use orchestrator_tests::chains::ChildGuard;
use orchestrator_tests::{rotel_agent_bin, workspace_root};
use orchestrator_worker::telemetry::{OtlpTransport, Telemetry, TelemetryArgs};
use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use temporalio_common::error::ApplicationFailure;
use temporalio_sdk::activities::ActivityError;
use tracing_subscriber::layer::SubscriberExt as _;

/// Serializes the tests that install the process-wide meter and tracer providers.
static GLOBAL_PROVIDERS: Mutex<()> = Mutex::new(());

/// Maximum wait for the collector to start or to print what it received.
const COLLECTOR_TIMEOUT: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address").port()
}

/// A `rotel-agent` that prints every span and metric it receives to `output`.
struct Collector {
    _process: ChildGuard,
    output: PathBuf,
    grpc: SocketAddr,
    http: SocketAddr,
}

impl Collector {
    fn start(dir: &Path) -> Self {
        let grpc = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let http = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let output = dir.join("rotel-output.log");
        let stdout = std::fs::File::create(&output).expect("create the collector output file");
        let stderr = stdout.try_clone().expect("clone the output file handle");
        let child = Command::new(rotel_agent_bin())
            .arg("start")
            .args(["--exporter", "blackhole"])
            .args(["--debug-log", "traces", "--debug-log", "metrics"])
            .args(["--debug-log-verbosity", "detailed"])
            .args(["--otlp-grpc-endpoint", &grpc.to_string()])
            .args(["--otlp-http-endpoint", &http.to_string()])
            .arg("--pid-file")
            .arg(dir.join("rotel.pid"))
            .arg("--log-file")
            .arg(dir.join("rotel.log"))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start rotel-agent");
        let mut process = ChildGuard::new("rotel-agent", child);
        let deadline = Instant::now() + COLLECTOR_TIMEOUT;
        while std::net::TcpStream::connect(grpc).is_err()
            || std::net::TcpStream::connect(http).is_err()
        {
            assert!(
                process.exit_status().is_none(),
                "rotel-agent exited: {}",
                read(&output)
            );
            assert!(
                Instant::now() < deadline,
                "rotel-agent did not listen on {grpc} and {http}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            _process: process,
            output,
            grpc,
            http,
        }
    }

    fn endpoint(&self, transport: OtlpTransport) -> url::Url {
        let address = match transport {
            OtlpTransport::Grpc => self.grpc,
            OtlpTransport::HttpProtobuf => self.http,
        };
        url::Url::parse(&format!("http://{address}")).expect("valid collector URL")
    }

    /// Waits until the collector has printed every one of `expected`, and returns its output.
    fn wait_for(&self, expected: &[String]) -> String {
        let deadline = Instant::now() + COLLECTOR_TIMEOUT;
        loop {
            let output = read(&self.output);
            if expected.iter().all(|text| output.contains(text.as_str())) {
                return output;
            }
            if Instant::now() > deadline {
                return output;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn application_failure(message: &str, failure_type: &str, retryable: bool) -> ActivityError {
    let failure = ApplicationFailure::builder(message.to_string())
        .type_name(failure_type.to_string())
        .non_retryable(!retryable)
        .build();
    ActivityError::application(failure)
}

/// Records one value on every instrument of the pipeline, for `chain_id`.
fn record_every_metric(chain_id: &str) {
    metrics::record_l2_block_seen(chain_id, 12);
    metrics::record_l1_settled_block(chain_id, 9);
    metrics::record_block_settled(
        chain_id,
        10,
        Some(SettlementCost {
            gas_used: 180_000,
            blob_gas_used: 131_072,
            fee_paid_wei: 3_000_000_000_000_000,
        }),
    );
    metrics::record_prover_submitted("query-telemetry-test");
    metrics::record_prover_done(chain_id, "query-telemetry-test");
    metrics::record_fee_cap_pause(chain_id, 11, "9000000000000000000", "1000000000000000000");
    metrics::proving_deadline_exceeded(chain_id, 11);
    metrics::record_activity_result::<()>("da_encode", chain_id, 0.25, &Ok(()));
    metrics::record_activity_result::<()>(
        "settle_confirm",
        chain_id,
        1.5,
        &Err(application_failure(
            "core contract holds another state",
            "StateMismatch",
            false,
        )),
    );
}

/// Creates one activity span with every field set, as the pipeline does for `settle_send`.
fn record_settle_send_span(chain_id: &str, tx_hash: &str) {
    let workflow_id = format!("block-{chain_id}-10");
    let span = metrics::activity_span("settle_send", chain_id, Some(10), Some(&workflow_id));
    span.in_scope(|| metrics::record_tx_hash(&tx_hash));
}

async fn export_to_collector(
    collector: &Collector,
    transport: OtlpTransport,
    chain_id: &str,
    tx_hash: &str,
) {
    let args = TelemetryArgs {
        otel_service_name: format!("telemetry-test-{chain_id}"),
        otel_collector_endpoint: Some(collector.endpoint(transport)),
        otel_protocol: transport,
        prometheus_listen: None,
    };
    let telemetry = Telemetry::init(&args).await.expect("telemetry set-up");
    let layer = telemetry
        .trace_layer()
        .expect("a collector endpoint gives a trace layer");
    let subscriber = tracing_subscriber::registry().with(layer);
    {
        let _default = tracing::subscriber::set_default(subscriber);
        record_settle_send_span(chain_id, tx_hash);
    }
    record_every_metric(chain_id);
    // The Temporal SDK's meter builds against the same endpoint.
    telemetry
        .temporal_options()
        .expect("Temporal SDK telemetry options");
    telemetry
        .shutdown()
        .await
        .expect("flush traces and metrics to the collector");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_export_reaches_collector() {
    let _lock = GLOBAL_PROVIDERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().expect("temporary directory");
    let collector = Collector::start(dir.path());

    for (transport, chain_id) in [
        (OtlpTransport::Grpc, "otlp-grpc"),
        (OtlpTransport::HttpProtobuf, "otlp-http"),
    ] {
        let tx_hash = format!("0x{}", "ab".repeat(32));
        export_to_collector(&collector, transport, chain_id, &tx_hash).await;

        let mut expected: Vec<String> = METRIC_NAMES.iter().map(|name| name.to_string()).collect();
        let span_fields = [
            format!("service.name: Str(telemetry-test-{chain_id})"),
            format!("chain_id: Str({chain_id})"),
            "block_number: Int(10)".to_string(),
            format!("workflow_id: Str(block-{chain_id}-10)"),
            format!("tx_hash: Str({tx_hash})"),
            "Name           : settle_send".to_string(),
        ];
        expected.extend(span_fields.iter().cloned());
        let output = collector.wait_for(&expected);
        for name in METRIC_NAMES {
            assert!(
                output.contains(name),
                "{transport:?}: metric {name} did not reach the collector:\n{output}"
            );
        }
        for field in &span_fields {
            assert!(
                output.contains(field.as_str()),
                "{transport:?}: span field {field:?} did not reach the collector:\n{output}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_endpoint_serves_metrics() {
    let _lock = GLOBAL_PROVIDERS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let args = TelemetryArgs {
        prometheus_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..TelemetryArgs::default()
    };
    let telemetry = Telemetry::init(&args).await.expect("telemetry set-up");
    let address = telemetry
        .prometheus_address()
        .expect("the endpoint listens");
    assert!(
        telemetry
            .trace_layer::<tracing_subscriber::Registry>()
            .is_none(),
        "no collector, so no trace export"
    );
    record_every_metric("prometheus-test");

    let response = reqwest::get(format!("http://{address}/metrics"))
        .await
        .expect("scrape /metrics");
    assert!(
        response.status().is_success(),
        "scrape returned {}",
        response.status()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/plain"),
        "content type {content_type:?}"
    );
    let body = response.text().await.expect("read the scrape body");
    telemetry.shutdown().await.expect("shutdown");

    for name in METRIC_NAMES {
        for series in metrics::prometheus_series(name) {
            let sample = format!("\n{series}{{");
            assert!(
                body.contains(&sample),
                "series {series} missing from the scrape:\n{body}"
            );
        }
    }
    assert!(
        body.contains("chain_id=\"prometheus-test\""),
        "chain_id label missing:\n{body}"
    );
    assert!(
        body.contains("orchestrator_settlement_lag_blocks{chain_id=\"prometheus-test\""),
        "lag gauge missing:\n{body}"
    );
    let lag_line = body
        .lines()
        .find(|line| {
            line.starts_with("orchestrator_settlement_lag_blocks{")
                && line.contains("prometheus-test")
        })
        .expect("lag sample");
    assert!(
        lag_line.ends_with(" 2"),
        "lag of block 12 over settled block 10 should be 2: {lag_line}"
    );
    assert!(
        body.lines().any(
            |line| line.starts_with("orchestrator_activity_failures_total{")
                && line.contains("activity=\"settle_confirm\"")
                && line.contains("error_class=\"non_retryable\"")
                && line.contains("error_type=\"StateMismatch\"")
        ),
        "failure counter labels missing:\n{body}"
    );
}

/// Returns the metric names in a PromQL expression: identifiers starting with `orchestrator_`
/// outside label matchers' quoted values.
fn promql_metric_names(expression: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut in_string = None;
    let mut word = String::new();
    for character in expression.chars().chain(std::iter::once(' ')) {
        if let Some(quote) = in_string {
            if character == quote {
                in_string = None;
            }
            continue;
        }
        if character == '"' || character == '\'' || character == '`' {
            in_string = Some(character);
            word.clear();
            continue;
        }
        if character.is_ascii_alphanumeric() || character == '_' || character == ':' {
            word.push(character);
            continue;
        }
        if word.starts_with("orchestrator_") {
            names.insert(word.clone());
        }
        word.clear();
    }
    names
}

/// Collects every `expr` string of a JSON value (Grafana panel targets).
fn json_expressions(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("expr", serde_json::Value::String(expression)) => {
                        found.push(expression.clone())
                    }
                    _ => json_expressions(child, found),
                }
            }
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|item| json_expressions(item, found))
        }
        _ => {}
    }
}

fn known_series() -> BTreeSet<String> {
    METRIC_NAMES
        .iter()
        .flat_map(|name| metrics::prometheus_series(name))
        .collect()
}

#[test]
fn dashboard_uses_defined_metrics() {
    let path = workspace_root().join("ops/grafana/orchestrator-dashboard.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    let dashboard: serde_json::Value =
        serde_json::from_str(&text).expect("dashboard is valid JSON");
    assert!(dashboard["title"].is_string(), "dashboard has no title");
    let mut expressions = Vec::new();
    json_expressions(&dashboard, &mut expressions);
    assert!(
        expressions.len() >= 8,
        "expected a query per panel, found {}",
        expressions.len()
    );

    let known = known_series();
    let mut used = BTreeSet::new();
    for expression in &expressions {
        let names = promql_metric_names(expression);
        assert!(
            !names.is_empty(),
            "query uses no orchestrator metric: {expression}"
        );
        for name in names {
            assert!(
                known.contains(&name),
                "dashboard query uses {name}, which the pipeline does not export: {expression}"
            );
            used.insert(name);
        }
    }
    for required in [
        "orchestrator_blocks_settled_total",
        "orchestrator_activity_duration_seconds_bucket",
        "orchestrator_activity_failures_total",
        "orchestrator_prover_latency_seconds_bucket",
        "orchestrator_l1_gas_used_sum",
        "orchestrator_l1_blob_gas_used_sum",
        "orchestrator_l1_fee_paid_wei_sum",
        "orchestrator_settlement_lag_blocks",
    ] {
        assert!(
            used.contains(required),
            "dashboard has no panel on {required}"
        );
    }
}

#[test]
fn alert_rules_use_defined_metrics() {
    let path = workspace_root().join("ops/prometheus/alerts.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    let rules: serde_json::Value =
        serde_norway::from_str(&text).expect("alert rules are valid YAML");
    let groups = rules["groups"].as_array().expect("a `groups` list");
    assert!(!groups.is_empty(), "no rule group");

    let known = known_series();
    let mut alerts = BTreeSet::new();
    for group in groups {
        assert!(
            group["name"].is_string(),
            "rule group without a name: {group}"
        );
        for rule in group["rules"]
            .as_array()
            .expect("a `rules` list in every group")
        {
            let alert = rule["alert"]
                .as_str()
                .expect("every rule is an alert with a name");
            let expression = rule["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("alert {alert} has no expr"));
            assert!(
                rule["labels"]["severity"].is_string(),
                "alert {alert} has no severity label"
            );
            assert!(
                rule["annotations"]["summary"].is_string(),
                "alert {alert} has no summary"
            );
            let names = promql_metric_names(expression);
            assert!(
                !names.is_empty(),
                "alert {alert} uses no orchestrator metric"
            );
            for name in names {
                assert!(
                    known.contains(&name),
                    "alert {alert} uses {name}, which the pipeline does not export"
                );
            }
            alerts.insert(alert.to_string());
        }
    }
    for required in [
        "OrchestratorStageStuck",
        "OrchestratorBlockFailed",
        "OrchestratorFeeCapPause",
        "OrchestratorSettlementLagHigh",
    ] {
        assert!(alerts.contains(required), "alert {required} missing");
    }
}

#[test]
fn promql_names_skip_label_values() {
    let names = promql_metric_names(
        r#"sum by (error_type) (rate(orchestrator_activity_failures_total{activity="orchestrator_fake"}[5m]))"#,
    );
    assert_eq!(
        names,
        BTreeSet::from(["orchestrator_activity_failures_total".to_string()])
    );
}

#[test]
fn counters_export_total_series() {
    assert_eq!(
        metrics::metric_kind(metrics::BLOCKS_SETTLED),
        Some(MetricKind::Counter)
    );
    assert!(known_series().contains("orchestrator_blocks_settled_total"));
    assert!(!known_series().contains("orchestrator_blocks_settled"));
}
