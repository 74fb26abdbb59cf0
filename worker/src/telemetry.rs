//! Telemetry set-up of the worker: OTLP export of traces and metrics, a Prometheus scrape
//! endpoint, and the log output.
//!
//! The pipeline records its metrics on the OpenTelemetry global meter provider
//! (`orchestrator_activities::telemetry`) and its spans through `tracing`. This module installs
//! the providers those calls reach, exports the Temporal SDK's own metrics to the same
//! collector, and flushes everything on shutdown.

use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use temporalio_common::telemetry::metrics::CoreMeter;
use temporalio_common::telemetry::{
    OtelCollectorOptions, OtlpProtocol, TelemetryOptions, build_otlp_metric_exporter,
};
use tokio::task::JoinHandle;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;
use url::Url;

/// Default `service.name` resource attribute of the exported telemetry.
pub const DEFAULT_SERVICE_NAME: &str = "orchestrator-worker";

/// OTLP transport to the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OtlpTransport {
    /// OTLP over gRPC, usually on port 4317.
    #[default]
    #[value(name = "grpc")]
    Grpc,
    /// OTLP over HTTP with protobuf bodies, usually on port 4318.
    #[value(name = "http/protobuf")]
    HttpProtobuf,
}

/// Telemetry flags of the worker.
#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryArgs {
    /// `service.name` of the exported traces and metrics.
    #[arg(long, env = "OTEL_SERVICE_NAME", default_value = DEFAULT_SERVICE_NAME)]
    pub otel_service_name: String,
    /// OpenTelemetry collector to export traces and metrics to, for example
    /// http://127.0.0.1:4317. Without it nothing is exported over OTLP.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otel_collector_endpoint: Option<Url>,
    /// OTLP transport of the collector endpoint.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_PROTOCOL", value_enum, default_value_t = OtlpTransport::Grpc)]
    pub otel_protocol: OtlpTransport,
    /// Address to serve the orchestrator's metrics on, in Prometheus text format at
    /// `/metrics`, for example 127.0.0.1:9464. Without it no endpoint is served.
    #[arg(long, env = "ORCHESTRATOR_PROMETHEUS_LISTEN")]
    pub prometheus_listen: Option<SocketAddr>,
}

impl Default for TelemetryArgs {
    fn default() -> Self {
        Self {
            otel_service_name: DEFAULT_SERVICE_NAME.to_string(),
            otel_collector_endpoint: None,
            otel_protocol: OtlpTransport::Grpc,
            prometheus_listen: None,
        }
    }
}

/// Error of the telemetry set-up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The collector endpoint is not an http or https URL.
    #[error(
        "invalid collector endpoint {0}: expected an http:// or https:// URL such as \
         http://127.0.0.1:4317 in --otel-collector-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT"
    )]
    InvalidEndpoint(Url),
    /// An OTLP exporter could not be built.
    #[error(
        "building the OTLP {signal} exporter for {endpoint} failed: {source}; check --otel-collector-endpoint"
    )]
    Exporter {
        /// `traces` or `metrics`.
        signal: &'static str,
        /// Collector endpoint.
        endpoint: Url,
        /// Cause.
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// The Temporal SDK's metric exporter could not be built.
    #[error(
        "building the Temporal SDK metric exporter for {endpoint} failed: {message}; check --otel-collector-endpoint"
    )]
    TemporalExporter {
        /// Collector endpoint.
        endpoint: Url,
        /// Cause, as the SDK reports it.
        message: String,
    },
    /// The Prometheus exporter could not be registered.
    #[error("setting up the Prometheus exporter failed: {0}")]
    Prometheus(#[from] opentelemetry_sdk::error::OTelSdkError),
    /// The Prometheus listen address could not be bound (in use, or not an address of this host).
    #[error(
        "listening on {address} for Prometheus scrapes failed: {source}; pick a free address with --prometheus-listen"
    )]
    Listen {
        /// Requested address.
        address: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The global tracing subscriber was already installed.
    #[error("installing the log and trace subscriber failed: {0}")]
    Subscriber(#[from] tracing_subscriber::util::TryInitError),
    /// Flushing or shutting down a provider failed.
    #[error("flushing {signal} at shutdown failed: {message}")]
    Shutdown {
        /// `traces` or `metrics`.
        signal: &'static str,
        /// Cause.
        message: String,
    },
}

/// Running telemetry pipeline. Call [`Telemetry::shutdown`] before exit, or the data of the
/// last export interval is lost.
pub struct Telemetry {
    service_name: String,
    collector: Option<(Url, OtlpTransport)>,
    tracer_provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
    prometheus: Option<PrometheusServer>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("service_name", &self.service_name)
            .field("collector", &self.collector)
            .field("prometheus", &self.prometheus_address())
            .finish_non_exhaustive()
    }
}

struct PrometheusServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

/// Appends an OTLP/HTTP signal path (`v1/traces`) to the collector's base URL.
fn http_signal_url(endpoint: &Url, path: &str) -> String {
    format!("{}/{path}", endpoint.as_str().trim_end_matches('/'))
}

fn span_exporter(
    endpoint: &Url,
    transport: OtlpTransport,
) -> Result<opentelemetry_otlp::SpanExporter, opentelemetry_otlp::ExporterBuildError> {
    let builder = opentelemetry_otlp::SpanExporter::builder();
    match transport {
        OtlpTransport::Grpc => builder
            .with_tonic()
            .with_endpoint(endpoint.as_str())
            .build(),
        OtlpTransport::HttpProtobuf => builder
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(http_signal_url(endpoint, "v1/traces"))
            .with_headers(HashMap::new())
            .build(),
    }
}

fn metric_exporter(
    endpoint: &Url,
    transport: OtlpTransport,
) -> Result<opentelemetry_otlp::MetricExporter, opentelemetry_otlp::ExporterBuildError> {
    let builder = opentelemetry_otlp::MetricExporter::builder();
    match transport {
        OtlpTransport::Grpc => builder
            .with_tonic()
            .with_endpoint(endpoint.as_str())
            .build(),
        OtlpTransport::HttpProtobuf => builder
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(http_signal_url(endpoint, "v1/metrics"))
            .build(),
    }
}

async fn serve_prometheus(
    address: SocketAddr,
    registry: prometheus::Registry,
) -> Result<PrometheusServer, TelemetryError> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| TelemetryError::Listen { address, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| TelemetryError::Listen { address, source })?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let registry = registry.clone();
            async move { render_prometheus(&registry) }
        }),
    );
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(address = %bound, %error, "Prometheus endpoint stopped");
        }
    });
    Ok(PrometheusServer {
        address: bound,
        task,
    })
}

fn render_prometheus(registry: &prometheus::Registry) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use prometheus::Encoder as _;

    let encoder = prometheus::TextEncoder::new();
    let mut body = Vec::new();
    match encoder.encode(&registry.gather(), &mut body) {
        Ok(()) => (
            [(header::CONTENT_TYPE, encoder.format_type().to_string())],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "encoding the Prometheus metrics failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("encoding the metrics failed: {error}\n"),
            )
                .into_response()
        }
    }
}

impl Telemetry {
    /// Builds the exporters the flags ask for and installs the global tracer and meter
    /// providers. With neither a collector nor a Prometheus address it installs nothing, and
    /// the metric calls of the pipeline stay no-ops.
    ///
    /// Must run inside a multi-threaded Tokio runtime: the gRPC exporter and the Prometheus
    /// endpoint run on it.
    pub async fn init(args: &TelemetryArgs) -> Result<Self, TelemetryError> {
        let resource = Resource::builder()
            .with_service_name(args.otel_service_name.clone())
            .build();
        let mut tracer_provider = None;
        let mut meter_builder = SdkMeterProvider::builder().with_resource(resource.clone());
        let mut has_metric_reader = false;

        if let Some(endpoint) = &args.otel_collector_endpoint {
            // `localhost:4317` parses as a URL with the scheme `localhost`, so check it here.
            if !matches!(endpoint.scheme(), "http" | "https") {
                return Err(TelemetryError::InvalidEndpoint(endpoint.clone()));
            }
            let spans = span_exporter(endpoint, args.otel_protocol).map_err(|source| {
                TelemetryError::Exporter {
                    signal: "traces",
                    endpoint: endpoint.clone(),
                    source,
                }
            })?;
            let provider = SdkTracerProvider::builder()
                .with_resource(resource.clone())
                .with_batch_exporter(spans)
                .build();
            global::set_tracer_provider(provider.clone());
            tracer_provider = Some(provider);

            let metrics = metric_exporter(endpoint, args.otel_protocol).map_err(|source| {
                TelemetryError::Exporter {
                    signal: "metrics",
                    endpoint: endpoint.clone(),
                    source,
                }
            })?;
            // The interval defaults to 60 s; OTEL_METRIC_EXPORT_INTERVAL (milliseconds) sets it.
            meter_builder = meter_builder.with_reader(PeriodicReader::builder(metrics).build());
            has_metric_reader = true;
        }

        let mut prometheus = None;
        if let Some(address) = args.prometheus_listen {
            let registry = prometheus::Registry::new();
            // Instrument names already end in their unit, so the exporter must not add it again.
            let reader = opentelemetry_prometheus::exporter()
                .with_registry(registry.clone())
                .without_units()
                .build()?;
            meter_builder = meter_builder.with_reader(reader);
            has_metric_reader = true;
            prometheus = Some(serve_prometheus(address, registry).await?);
        }

        let meter_provider = has_metric_reader.then(|| meter_builder.build());
        if let Some(provider) = &meter_provider {
            global::set_meter_provider(provider.clone());
        }
        Ok(Self {
            service_name: args.otel_service_name.clone(),
            collector: args
                .otel_collector_endpoint
                .clone()
                .map(|endpoint| (endpoint, args.otel_protocol)),
            tracer_provider,
            meter_provider,
            prometheus,
        })
    }

    /// Returns the address the Prometheus endpoint listens on, with the port the system picked
    /// when the flag gave port 0.
    pub fn prometheus_address(&self) -> Option<SocketAddr> {
        self.prometheus.as_ref().map(|server| server.address)
    }

    /// Returns a `tracing` layer that exports the orchestrator's spans to the collector, or
    /// `None` without a collector. Spans of other crates (the Temporal SDK's internals) are
    /// left out, because they would multiply the exported volume.
    pub fn trace_layer<S>(&self) -> Option<impl Layer<S> + Send + Sync + 'static>
    where
        S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        let tracer = self
            .tracer_provider
            .as_ref()?
            .tracer(orchestrator_activities::telemetry::METER_NAME);
        let only_orchestrator = tracing_subscriber::filter::filter_fn(|metadata| {
            metadata.target().starts_with("orchestrator")
        });
        Some(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(only_orchestrator),
        )
    }

    /// Installs the process's log and trace subscriber: logs to stderr, filtered by `RUST_LOG`
    /// (default `info`), and the orchestrator's spans to the collector when one is set.
    pub fn install_subscriber(&self) -> Result<(), TelemetryError> {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        tracing_subscriber::registry()
            .with(filter)
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .with(self.trace_layer())
            .try_init()?;
        Ok(())
    }

    /// Returns the Temporal SDK runtime's telemetry options: its metrics (`temporal_*`) go to
    /// the same collector as the orchestrator's, and nowhere without a collector.
    ///
    /// NOTE: the Prometheus endpoint serves only the orchestrator's metrics. The SDK's
    /// Prometheus exporter needs a listener of its own, which the worker does not open.
    pub fn temporal_options(&self) -> Result<TelemetryOptions, TelemetryError> {
        let Some((endpoint, transport)) = &self.collector else {
            return Ok(TelemetryOptions::default());
        };
        let (url, protocol) = match transport {
            OtlpTransport::Grpc => (endpoint.clone(), OtlpProtocol::Grpc),
            OtlpTransport::HttpProtobuf => {
                let url =
                    Url::parse(&http_signal_url(endpoint, "v1/metrics")).map_err(|error| {
                        TelemetryError::TemporalExporter {
                            endpoint: endpoint.clone(),
                            message: error.to_string(),
                        }
                    })?;
                (url, OtlpProtocol::Http)
            }
        };
        let options = OtelCollectorOptions::builder()
            .url(url)
            .protocol(protocol)
            .global_tags(HashMap::from([(
                "service_name".to_string(),
                self.service_name.clone(),
            )]))
            .build();
        let meter = build_otlp_metric_exporter(options).map_err(|error| {
            TelemetryError::TemporalExporter {
                endpoint: endpoint.clone(),
                message: format!("{error:#}"),
            }
        })?;
        let meter: Arc<dyn CoreMeter> = Arc::new(meter);
        Ok(TelemetryOptions::builder().metrics(meter).build())
    }

    /// Exports what is still buffered and stops the exporters and the Prometheus endpoint.
    /// Both providers are shut down even when the first fails; the first error is returned.
    pub async fn shutdown(self) -> Result<(), TelemetryError> {
        if let Some(server) = &self.prometheus {
            server.task.abort();
        }
        let tracer_provider = self.tracer_provider;
        let meter_provider = self.meter_provider;
        // The providers block until their export threads finish, and those exports may need
        // this runtime (gRPC), so the wait runs on a blocking thread.
        let joined = tokio::task::spawn_blocking(move || {
            let traces = tracer_provider
                .map(|provider| provider.shutdown())
                .transpose();
            let metrics = meter_provider
                .map(|provider| provider.shutdown())
                .transpose();
            (traces, metrics)
        })
        .await;
        let (traces, metrics) = joined.map_err(|error| TelemetryError::Shutdown {
            signal: "traces and metrics",
            message: error.to_string(),
        })?;
        traces.map_err(|error| TelemetryError::Shutdown {
            signal: "traces",
            message: error.to_string(),
        })?;
        metrics.map_err(|error| TelemetryError::Shutdown {
            signal: "metrics",
            message: error.to_string(),
        })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_signal_url_appends_path() {
        let endpoint = Url::parse("http://127.0.0.1:4318").expect("valid URL");
        assert_eq!(
            http_signal_url(&endpoint, "v1/traces"),
            "http://127.0.0.1:4318/v1/traces"
        );
        let with_prefix = Url::parse("http://collector:4318/otlp/").expect("valid URL");
        assert_eq!(
            http_signal_url(&with_prefix, "v1/metrics"),
            "http://collector:4318/otlp/v1/metrics"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn endpoint_without_scheme_rejected() {
        let args = TelemetryArgs {
            otel_collector_endpoint: Some(Url::parse("localhost:4317").expect("parses as a URL")),
            ..TelemetryArgs::default()
        };
        let error = Telemetry::init(&args).await.expect_err("no http scheme");
        assert!(
            matches!(error, TelemetryError::InvalidEndpoint(_)),
            "{error}"
        );
        assert!(error.to_string().contains("localhost:4317"), "{error}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn init_without_flags_installs_nothing() {
        let telemetry = Telemetry::init(&TelemetryArgs::default())
            .await
            .expect("telemetry set-up");
        assert!(telemetry.prometheus_address().is_none());
        assert!(telemetry.tracer_provider.is_none());
        assert!(telemetry.meter_provider.is_none());
        telemetry.shutdown().await.expect("shutdown");
    }
}
