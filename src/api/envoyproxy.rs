//! EnvoyProxy (gateway.envoyproxy.io/v1alpha1): how Envoy Gateway deploys a proxy. gatewayc
//! reads the Kubernetes provider's Deployment and Service settings that `render` uses; every
//! other field is kept as data and reported as unsupported.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyProxySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<Telemetry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// Envoy's worker threads (`--concurrency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub concurrency: Option<u32>,
    /// More Envoy command-line options, after gatewayc's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_args: Vec<String>,
    /// Routes matched in the order written, not by Gateway API precedence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_route_order: Option<bool>,
    /// Where HTTP filters go in the chain, by type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter_order: Vec<FilterPosition>,
    /// Changes to the bootstrap gatewayc writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<ProxyBootstrap>,
    /// Fields gatewayc does not read (mergeGateways, ...).
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// `bootstrap`: a bootstrap (YAML, in `value`) merged into gatewayc's or replacing it, or
/// JSON patches on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProxyBootstrap {
    #[serde(rename = "type", default = "replace")]
    #[schemars(extend("enum" = ["Merge", "Replace", "JSONPatch"]))]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_patches: Vec<super::epp::JsonPatchOperation>,
}

/// The HTTP filter types `filterOrder` may name (the CRD's enum).
const FILTERS: &[&str] = &[
    "envoy.filters.http.custom_response", "envoy.filters.http.health_check", "envoy.filters.http.fault", "envoy.filters.http.cors", "envoy.filters.http.csrf",
    "envoy.filters.http.header_mutation", "envoy.filters.http.ext_authz", "envoy.filters.http.api_key_auth", "envoy.filters.http.basic_auth", "envoy.filters.http.oauth2",
    "envoy.filters.http.jwt_authn", "envoy.filters.http.stateful_session", "envoy.filters.http.buffer", "envoy.filters.http.lua", "envoy.filters.http.ext_proc",
    "envoy.filters.http.wasm", "envoy.filters.http.dynamic_modules", "envoy.filters.http.geoip", "envoy.filters.http.rbac", "envoy.filters.http.local_ratelimit",
    "envoy.filters.http.ratelimit", "envoy.filters.http.bandwidth_limit", "envoy.filters.http.grpc_web", "envoy.filters.http.grpc_stats", "envoy.filters.http.credential_injector",
    "envoy.filters.http.compressor", "envoy.filters.http.dynamic_forward_proxy",
];

/// `filterOrder[]`: the filters of type `name` before or after those of another type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FilterPosition {
    #[schemars(extend("enum" = FILTERS))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = FILTERS))]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = FILTERS))]
    pub after: Option<String>,
}

fn replace() -> String {
    "Replace".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Provider {
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["Kubernetes", "Host"]))]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<KubernetesProvider>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesProvider {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envoy_deployment: Option<EnvoyDeployment>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "envoyPDB")]
    pub envoy_pdb: Option<EnvoyPdb>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envoy_hpa: Option<EnvoyHpa>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envoy_service: Option<EnvoyService>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyDeployment {
    /// The object's name, instead of gatewayc's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub replicas: Option<u32>,
    /// An apps/v1 DeploymentStrategy, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<EnvoyPod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<EnvoyContainer>,
    /// core/v1 Containers, run before Envoy, as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub init_containers: Vec<serde_json::Value>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// The Envoy pods' metadata and scheduling; the core/v1 parts are copied as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyPod {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerations: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_secrets: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology_spread_constraints: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A PodDisruptionBudget for the Envoy pods: one of minAvailable and maxUnavailable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyPdb {
    /// The object's name, instead of gatewayc's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_available: Option<super::core::IntOrString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<super::core::IntOrString>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A HorizontalPodAutoscaler (autoscaling/v2) for the Envoy Deployment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyHpa {
    /// The object's name, instead of gatewayc's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
    pub max_replicas: i32,
    /// autoscaling/v2 MetricSpecs, as given (Envoy Gateway's CPU at 80 % when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<serde_json::Value>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyContainer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// A core/v1 ResourceRequirements, copied to the Envoy container as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<serde_json::Value>,
    /// core/v1 EnvVars, as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<serde_json::Value>,
    /// core/v1 VolumeMounts, after gatewayc's, as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<serde_json::Value>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvoyService {
    /// The object's name, instead of gatewayc's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["ClusterIP", "LoadBalancer", "NodePort"]))]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_class: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_source_ranges: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocate_load_balancer_node_ports: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "loadBalancerIP")]
    pub load_balancer_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Local", "Cluster"]))]
    pub external_traffic_policy: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// `telemetry`: of it gatewayc reads the Prometheus endpoint's switch and the access logs
/// (formats, file sinks); tracing, metric sinks and the rest are kept as data and reported as
/// unsupported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Telemetry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLog>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<Tracing>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<Prometheus>,
    /// The stats Envoy keeps (all when empty): their names matched exactly, by prefix, suffix
    /// or RE2 expression.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<super::btp::HeaderValueMatch>,
    /// Histograms of request and response header and body sizes per cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_request_response_sizes_stats: Option<bool>,
    /// Stats per endpoint (each backend address), not only per cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_per_endpoint_stats: Option<bool>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// The Prometheus endpoint (on by default, as Envoy Gateway has it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Prometheus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable: Option<bool>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// The proxy's log levels: `default` (warn when unset) and per Envoy component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Logging {
    #[serde(default)]
    pub level: BTreeMap<String, LogLevel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Off,
    Critical,
}

impl LogLevel {
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Off => "off",
            LogLevel::Critical => "critical",
        }
    }
}

/// `telemetry.accessLog`: off, or where each listener's log lines go and how they read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLog {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 50))]
    pub settings: Vec<AccessLogSetting>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<AccessLogFormat>,
    #[schemars(length(min = 1, max = 50))]
    pub sinks: Vec<AccessLogSink>,
    /// CEL expressions: not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub matches: Vec<String>,
    /// Listener, Route or Upstream: not implemented (`unsupported::field`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Listener", "Route", "Upstream"]))]
    pub type_: Option<String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessLogFormat {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Text", "JSON"]))]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub json: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogSink {
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["ALS", "File", "OpenTelemetry"]))]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileSink>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_telemetry: Option<OtelSink>,
    /// `als`: not implemented (`unsupported::field`).
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FileSink {
    #[schemars(length(min = 1))]
    pub path: String,
}

/// An OpenTelemetry collector (OTLP over gRPC): by host and port, or by backendRefs (Services,
/// Backends).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OtelSink {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 65535))]
    pub port: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub backend_refs: Vec<super::sp_auth::ExtBackendRef>,
    /// Resource attributes of every log record.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<String, String>,
    /// `headers`, `backendSettings`, `backendRef`: not implemented (`unsupported::field`).
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// `telemetry.tracing`: a span per request (and one per upstream call) to an OpenTelemetry,
/// Zipkin or Datadog collector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tracing {
    /// Percent of requests traced when no earlier decision was made (100 when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub sampling_rate: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_fraction: Option<super::httproute::Fraction>,
    /// Of requests a client asks to trace (`x-client-trace-id`), the fraction traced (none
    /// when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_sampling_fraction: Option<super::httproute::Fraction>,
    /// Of requests traced after every other decision, the fraction kept (all when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall_sampling_fraction: Option<super::httproute::Fraction>,
    /// Deprecated in Envoy Gateway for `tags`; a tag in both takes the `tags` value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom_tags: BTreeMap<String, CustomTag>,
    /// Tag name to an Envoy format string.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_name: Option<SpanName>,
    pub provider: TracingProvider,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SpanName {
    pub client: String,
    pub server: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomTag {
    #[serde(rename = "type", default = "literal")]
    #[schemars(extend("enum" = ["Literal", "Environment", "RequestHeader"]))]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub literal: Option<LiteralTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<NamedTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header: Option<NamedTag>,
}

fn literal() -> String {
    "Literal".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LiteralTag {
    pub value: String,
}

/// An environment variable or request header, with the value used when it is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamedTag {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TracingProvider {
    #[serde(rename = "type", default = "open_telemetry")]
    #[schemars(extend("enum" = ["OpenTelemetry", "Zipkin", "Datadog"]))]
    pub type_: String,
    /// Deprecated in Envoy Gateway for backendRefs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub port: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub backend_refs: Vec<super::sp_auth::ExtBackendRef>,
    /// The service name spans carry (OpenTelemetry, Datadog); `<gateway>.<namespace>` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zipkin: Option<ZipkinTracing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_telemetry: Option<OtelTracing>,
    /// `backendSettings`, `backendRef`: not implemented (`unsupported::field`) or refused by
    /// the CRD.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

fn open_telemetry() -> String {
    "OpenTelemetry".into()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ZipkinTracing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "enable128BitTraceId")]
    pub enable_128bit_trace_id: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_shared_span_context: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OtelTracing {
    /// Sent with every export (gRPC metadata).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 32))]
    pub headers: Vec<super::httproute::HTTPHeader>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_attributes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampler: Option<OtelSampler>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OtelSampler {
    #[serde(rename = "type", default = "always_on")]
    #[schemars(extend("enum" = ["AlwaysOn", "AlwaysOff", "TraceIdRatio", "ParentBasedAlwaysOn", "ParentBasedAlwaysOff", "ParentBasedTraceIdRatio"]))]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling_percentage: Option<super::httproute::Fraction>,
}

fn always_on() -> String {
    "AlwaysOn".into()
}
