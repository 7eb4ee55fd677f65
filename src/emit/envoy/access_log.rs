//! Access logs: Envoy Gateway's default JSON to stdout, or an EnvoyProxy's formats and files.

use super::types::*;
use crate::ir;
use std::collections::BTreeMap;

use super::STDOUT_LOG;

/// The JSON access log to stdout that every listener writes (HTTP, TCP and UDP proxies alike;
/// HTTP fields read `-` on a TCP connection), as Envoy Gateway's default.
pub(super) fn stdout_access_log() -> AccessLog {
    AccessLog { name: "envoy.access_loggers.stdout", typed_config: AccessLogConfig::File(FileAccessLog { type_: STDOUT_LOG, path: None, log_format: default_json() }) }
}

fn default_json() -> LogFormat {
    LogFormat { json_format: Some(access_log_format().into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()), text_format_source: None }
}

const FILE_LOG: &str = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";

/// The access logs of a Gateway's listeners, from its EnvoyProxy's `telemetry.accessLog`.
pub(crate) fn access_logs(p: &ir::ProxyIr) -> Vec<AccessLog> {
    use crate::resolve::{AccessLogIr, LogFormatIr, LogSinkIr};
    match &p.access_log {
        AccessLogIr::Default => vec![stdout_access_log()],
        AccessLogIr::Off => Vec::new(),
        AccessLogIr::Sinks(sinks) => sinks
            .iter()
            .map(|(sink, f)| {
                let log_format = match f {
                    LogFormatIr::DefaultJson => default_json(),
                    LogFormatIr::Json(m) => LogFormat { json_format: Some(m.clone().into_iter().collect()), text_format_source: None },
                    LogFormatIr::Text(t) => {
                        let inline_string = if t.ends_with('\n') { t.clone() } else { format!("{t}\n") };
                        LogFormat { json_format: None, text_format_source: Some(TextSource { inline_string }) }
                    }
                };
                match sink {
                    LogSinkIr::File(path) => AccessLog { name: "envoy.access_loggers.file", typed_config: AccessLogConfig::File(FileAccessLog { type_: FILE_LOG, path: Some(path.clone()), log_format }) },
                    LogSinkIr::Otel(o) => AccessLog { name: "envoy.access_loggers.open_telemetry", typed_config: AccessLogConfig::Otel(Box::new(otel(o, &log_format))) },
                }
            })
            .collect(),
    }
}

fn access_log_format() -> BTreeMap<&'static str, &'static str> {
    // Envoy Gateway's default JSON access log, field for field.
    BTreeMap::from([
        ("start_time", "%START_TIME%"),
        ("method", "%REQ(:METHOD)%"),
        ("x-envoy-origin-path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
        ("protocol", "%PROTOCOL%"),
        ("response_code", "%RESPONSE_CODE%"),
        ("response_flags", "%RESPONSE_FLAGS%"),
        ("response_code_details", "%RESPONSE_CODE_DETAILS%"),
        ("connection_termination_details", "%CONNECTION_TERMINATION_DETAILS%"),
        ("upstream_transport_failure_reason", "%UPSTREAM_TRANSPORT_FAILURE_REASON%"),
        ("bytes_received", "%BYTES_RECEIVED%"),
        ("bytes_sent", "%BYTES_SENT%"),
        ("duration", "%DURATION%"),
        ("x-envoy-upstream-service-time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"),
        ("x-forwarded-for", "%REQ(X-FORWARDED-FOR)%"),
        ("user-agent", "%REQ(USER-AGENT)%"),
        ("x-request-id", "%REQ(X-REQUEST-ID)%"),
        (":authority", "%REQ(:AUTHORITY)%"),
        ("upstream_host", "%UPSTREAM_HOST%"),
        ("upstream_cluster", "%UPSTREAM_CLUSTER%"),
        ("upstream_local_address", "%UPSTREAM_LOCAL_ADDRESS%"),
        ("downstream_local_address", "%DOWNSTREAM_LOCAL_ADDRESS%"),
        ("downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%"),
        ("requested_server_name", "%REQUESTED_SERVER_NAME%"),
        ("route_name", "%ROUTE_NAME%"),
    ])
}


const OTEL_LOG: &str = "type.googleapis.com/envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig";

/// An OpenTelemetry access logger, as Envoy Gateway writes one: a text format is the record's
/// body, a JSON format its attributes; the sink's resources are the resource attributes.
fn otel(o: &crate::resolve::OtelSinkIr, f: &LogFormat) -> OtelAccessLog {
    let kv = |m: &BTreeMap<String, String>| KeyValueList { values: m.iter().map(|(k, v)| KeyValue { key: k.clone(), value: AnyValue { string_value: v.clone() } }).collect() };
    OtelAccessLog {
        type_: OTEL_LOG,
        common_config: OtelCommon {
            log_name: "otel_envoy_accesslog",
            transport_api_version: "V3",
            grpc_service: GrpcService { envoy_grpc: EnvoyGrpc { cluster_name: o.cluster.clone(), authority: o.authority.clone() } },
        },
        body: f.text_format_source.as_ref().map(|t| AnyValue { string_value: t.inline_string.trim_end_matches('\n').to_string() }),
        attributes: f.json_format.as_ref().map(kv),
        resource_attributes: (!o.resources.is_empty()).then(|| kv(&o.resources)),
    }
}
