//! Request tracing: the connection manager's `tracing` block (sampling, tags, span names) and
//! its provider (OpenTelemetry over gRPC, Zipkin or Datadog), as Envoy Gateway writes them.

use super::types::EnvoyGrpc;
use crate::resolve::{SamplerIr, TagIr, TracerIr, TracingIr};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize, Clone)]
pub struct HcmTracing {
    client_sampling: Percent,
    random_sampling: Percent,
    overall_sampling: Percent,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    custom_tags: Vec<CustomTag>,
    /// A span of its own for each upstream call, as Envoy Gateway has it.
    spawn_upstream_span: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    operation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_operation: Option<String>,
    provider: Provider,
}

#[derive(Serialize, Clone, Copy)]
struct Percent {
    value: f64,
}

#[derive(Serialize, Clone)]
struct CustomTag {
    tag: String,
    #[serde(flatten)]
    value: TagValue,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "snake_case")]
enum TagValue {
    Literal { value: String },
    Environment { name: String, default_value: String },
    RequestHeader { name: String, default_value: String },
    Value(String),
}

#[derive(Serialize, Clone)]
struct Provider {
    name: &'static str,
    typed_config: TracerConfig,
}

#[derive(Serialize, Clone)]
#[serde(untagged)]
enum TracerConfig {
    Otel(Box<OtelConfig>),
    Zipkin(ZipkinConfig),
    Datadog(DatadogConfig),
}

#[derive(Serialize, Clone)]
struct OtelConfig {
    #[serde(rename = "@type")]
    type_: &'static str,
    grpc_service: GrpcService,
    service_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resource_detectors: Vec<Extension>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sampler: Option<Extension>,
}

#[derive(Serialize, Clone)]
struct GrpcService {
    envoy_grpc: EnvoyGrpc,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    initial_metadata: Vec<KeyValue0>,
}

/// A gRPC metadata entry (core HeaderValue).
#[derive(Serialize, Clone)]
struct KeyValue0 {
    key: String,
    value: String,
}

/// A typed extension (resource detector, sampler) with its config.
#[derive(Serialize, Clone)]
struct Extension {
    name: &'static str,
    typed_config: serde_json::Value,
}

#[derive(Serialize, Clone)]
struct ZipkinConfig {
    #[serde(rename = "@type")]
    type_: &'static str,
    collector_cluster: String,
    collector_endpoint: &'static str,
    collector_endpoint_version: &'static str,
    trace_id_128bit: bool,
    shared_span_context: bool,
}

#[derive(Serialize, Clone)]
struct DatadogConfig {
    #[serde(rename = "@type")]
    type_: &'static str,
    collector_cluster: String,
    service_name: String,
}

const OTEL: &str = "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig";
const ZIPKIN: &str = "type.googleapis.com/envoy.config.trace.v3.ZipkinConfig";
const DATADOG: &str = "type.googleapis.com/envoy.config.trace.v3.DatadogConfig";

/// The `tracing` block every HTTP connection manager of the Gateway carries.
pub(super) fn hcm_tracing(t: &TracingIr) -> HcmTracing {
    let c = &t.collector;
    let (name, typed_config) = match &t.tracer {
        TracerIr::Otel { service_name, headers, sampler } => {
            let grpc_service = GrpcService {
                envoy_grpc: EnvoyGrpc { cluster_name: c.cluster.clone(), authority: c.authority.clone() },
                initial_metadata: headers.iter().map(|(k, v)| KeyValue0 { key: k.to_lowercase(), value: v.clone() }).collect(),
            };
            let resource_detectors = if c.resources.is_empty() {
                Vec::new()
            } else {
                let attributes: BTreeMap<_, _> = c.resources.iter().collect();
                vec![Extension {
                    name: "envoy.tracers.opentelemetry.resource_detectors.static_config",
                    typed_config: serde_json::json!({"@type": "type.googleapis.com/envoy.extensions.tracers.opentelemetry.resource_detectors.v3.StaticConfigResourceDetectorConfig", "attributes": attributes}),
                }]
            };
            let otel = OtelConfig { type_: OTEL, grpc_service, service_name: service_name.clone(), resource_detectors, sampler: sampler.as_ref().map(sampler_extension) };
            ("envoy.tracers.opentelemetry", TracerConfig::Otel(Box::new(otel)))
        }
        TracerIr::Zipkin { trace_id_128bit, shared_span_context } => (
            "envoy.tracers.zipkin",
            TracerConfig::Zipkin(ZipkinConfig {
                type_: ZIPKIN,
                collector_cluster: c.cluster.clone(),
                collector_endpoint: "/api/v2/spans",
                collector_endpoint_version: "HTTP_JSON",
                trace_id_128bit: *trace_id_128bit,
                shared_span_context: *shared_span_context,
            }),
        ),
        TracerIr::Datadog { service_name } => ("envoy.tracers.datadog", TracerConfig::Datadog(DatadogConfig { type_: DATADOG, collector_cluster: c.cluster.clone(), service_name: service_name.clone() })),
    };
    let custom_tags = t
        .tags
        .iter()
        .map(|(tag, v)| {
            let value = match v {
                TagIr::Literal(value) => TagValue::Literal { value: value.clone() },
                TagIr::Environment(name, d) => TagValue::Environment { name: name.clone(), default_value: d.clone() },
                TagIr::RequestHeader(name, d) => TagValue::RequestHeader { name: name.clone(), default_value: d.clone() },
                TagIr::Format(f) => TagValue::Value(f.clone()),
            };
            CustomTag { tag: tag.clone(), value }
        })
        .collect();
    HcmTracing {
        client_sampling: Percent { value: t.client },
        random_sampling: Percent { value: t.random },
        overall_sampling: Percent { value: t.overall },
        custom_tags,
        spawn_upstream_span: true,
        operation: t.span_names.as_ref().map(|s| s.0.clone()),
        upstream_operation: t.span_names.as_ref().map(|s| s.1.clone()),
        provider: Provider { name, typed_config },
    }
}

/// An OpenTelemetry sampler extension.
fn sampler_extension(s: &SamplerIr) -> Extension {
    const SAMPLERS: &str = "type.googleapis.com/envoy.extensions.tracers.opentelemetry.samplers.v3";
    match s {
        SamplerIr::AlwaysOn => Extension { name: "envoy.tracers.opentelemetry.samplers.always_on", typed_config: serde_json::json!({"@type": format!("{SAMPLERS}.AlwaysOnSamplerConfig")}) },
        SamplerIr::Ratio(n, d) => Extension {
            name: "envoy.tracers.opentelemetry.samplers.trace_id_ratio_based",
            typed_config: serde_json::json!({"@type": format!("{SAMPLERS}.TraceIdRatioBasedSamplerConfig"), "sampling_percentage": fractional(*n, *d)}),
        },
        SamplerIr::ParentBased(inner) => Extension {
            name: "envoy.tracers.opentelemetry.samplers.parent_based",
            typed_config: serde_json::json!({"@type": format!("{SAMPLERS}.ParentBasedSamplerConfig"), "wrapped_sampler": sampler_extension(inner)}),
        },
    }
}

/// A fraction as Envoy's FractionalPercent: of a hundred when it is, else of a million.
fn fractional(n: u32, d: u32) -> serde_json::Value {
    if d == 100 {
        return serde_json::json!({"numerator": n, "denominator": "HUNDRED"});
    }
    let per_million = u64::from(n) * 1_000_000 / u64::from(d.max(1));
    serde_json::json!({"numerator": per_million.min(1_000_000), "denominator": "MILLION"})
}
