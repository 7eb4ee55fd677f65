//! Envoy structs for a BackendTrafficPolicy's health checking: active checks (HTTP, TCP,
//! gRPC) and outlier detection.

use super::policy::duration;
use crate::resolve::traffic::{self as t, ClusterPolicy};
use serde::Serialize;

#[derive(Serialize)]
pub struct HealthCheck {
    pub timeout: String,
    pub interval: String,
    /// The interval also before the cluster has had traffic (Envoy's default there is 60 s).
    pub no_traffic_interval: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_jitter: Option<String>,
    pub unhealthy_threshold: u32,
    pub healthy_threshold: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_health_check: Option<HttpHealthCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_health_check: Option<TcpHealthCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grpc_health_check: Option<GrpcHealthCheck>,
}

#[derive(Serialize)]
pub struct HttpHealthCheck {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expected_statuses: Vec<StatusRange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retriable_statuses: Vec<StatusRange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send: Option<Payload>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub receive: Vec<Payload>,
}

/// `[start, end)`.
#[derive(Serialize)]
pub struct StatusRange {
    pub start: u16,
    pub end: u16,
}

#[derive(Serialize)]
pub struct TcpHealthCheck {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send: Option<Payload>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub receive: Vec<Payload>,
}

#[derive(Serialize)]
pub struct GrpcHealthCheck {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
}

#[derive(Serialize)]
pub struct Payload {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
}

fn payload(p: &t::Payload) -> Payload {
    match p {
        t::Payload::Hex(h) => Payload { text: Some(h.clone()), binary: None },
        t::Payload::Base64(b) => Payload { text: None, binary: Some(b.clone()) },
    }
}

/// Each status as a range of one, as Envoy Gateway writes them.
fn ranges(codes: &[u16]) -> Vec<StatusRange> {
    codes.iter().map(|c| StatusRange { start: *c, end: c + 1 }).collect()
}

pub fn health_checks(p: Option<&ClusterPolicy>) -> Vec<HealthCheck> {
    let Some(a) = p.and_then(|p| p.health_check.as_ref()) else { return Vec::new() };
    let mut hc = HealthCheck {
        timeout: duration(a.timeout_ms),
        interval: duration(a.interval_ms),
        no_traffic_interval: duration(a.interval_ms),
        initial_jitter: a.initial_jitter_ms.map(duration),
        unhealthy_threshold: a.unhealthy_threshold,
        healthy_threshold: a.healthy_threshold,
        http_health_check: None,
        tcp_health_check: None,
        grpc_health_check: None,
    };
    match &a.checker {
        t::Checker::Http { path, method, host, expected_statuses, retriable_statuses, send, receive } => {
            hc.http_health_check = Some(HttpHealthCheck {
                host: host.clone(),
                path: path.clone(),
                method: method.clone(),
                expected_statuses: ranges(expected_statuses),
                retriable_statuses: ranges(retriable_statuses),
                send: send.as_ref().map(payload),
                receive: receive.iter().map(payload).collect(),
            })
        }
        t::Checker::Tcp { send, receive } => hc.tcp_health_check = Some(TcpHealthCheck { send: send.as_ref().map(payload), receive: receive.iter().map(payload).collect() }),
        t::Checker::Grpc { service } => hc.grpc_health_check = Some(GrpcHealthCheck { service_name: service.clone() }),
    }
    vec![hc]
}

#[derive(Serialize)]
pub struct OutlierDetection {
    pub interval: String,
    pub base_ejection_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ejection_percent: Option<u32>,
    #[serde(rename = "consecutive_5xx")]
    pub consecutive_5xx: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consecutive_gateway_failure: Option<u32>,
    pub consecutive_local_origin_failure: u32,
    pub split_external_local_origin_errors: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_percentage_threshold: Option<u32>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub always_eject_one_host: bool,
}

pub fn outlier_detection(p: Option<&ClusterPolicy>) -> Option<OutlierDetection> {
    let o = p.and_then(|p| p.outlier_detection.as_ref())?;
    Some(OutlierDetection {
        interval: duration(o.interval_ms),
        base_ejection_time: duration(o.base_ejection_time_ms),
        // Envoy Gateway leaves 0 to Envoy's default.
        max_ejection_percent: (o.max_ejection_percent > 0).then_some(o.max_ejection_percent),
        consecutive_5xx: o.consecutive_5xx,
        consecutive_gateway_failure: o.consecutive_gateway_failure,
        consecutive_local_origin_failure: o.consecutive_local_origin_failure,
        split_external_local_origin_errors: o.split_external_local_origin_errors,
        failure_percentage_threshold: o.failure_percentage_threshold,
        always_eject_one_host: o.always_eject_one_host,
    })
}

