//! An EnvoyExtensionPolicy in Envoy's terms, as Envoy Gateway writes it: a Lua filter per
//! script and an ext_proc filter per external processor, each off in the chain and turned on
//! by the routes the policy covers; a processor's service is a gRPC cluster of its own.

use super::ext_auth::{EnvoyGrpc, GrpcService, HttpStatus};
use super::types::*;
use crate::ir;
use crate::resolve::eep::{self as x, BodyMode};
use serde::Serialize;

const LUA: &str = "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua";
const EXT_PROC: &str = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor";

#[derive(Serialize)]
pub struct Lua {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub default_source_code: DataSource,
}

#[derive(Serialize)]
pub struct ExternalProcessor {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub grpc_service: GrpcService,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub failure_mode_allow: bool,
    pub processing_mode: ProcessingMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_timeout: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_mode_override: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_attributes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_attributes: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub observability_mode: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_on_error: Option<HttpStatus>,
}

#[derive(Serialize)]
pub struct ProcessingMode {
    pub request_header_mode: &'static str,
    pub response_header_mode: &'static str,
    pub request_body_mode: &'static str,
    pub response_body_mode: &'static str,
    pub request_trailer_mode: &'static str,
    pub response_trailer_mode: &'static str,
}

/// The timeout of the processor's gRPC stream, Envoy Gateway's for external services.
const STREAM_TIMEOUT: &str = "10s";

fn body_mode(b: Option<BodyMode>) -> &'static str {
    match b {
        None => "NONE",
        Some(BodyMode::Streamed) => "STREAMED",
        Some(BodyMode::Buffered) => "BUFFERED",
        Some(BodyMode::BufferedPartial) => "BUFFERED_PARTIAL",
        Some(BodyMode::FullDuplexStreamed) => "FULL_DUPLEX_STREAMED",
    }
}

/// A side's headers, body and trailers modes: headers are sent when the side is; trailers
/// only with a full-duplex body, which Envoy requires them for.
fn side_modes(s: Option<&x::Side>) -> (&'static str, &'static str, &'static str) {
    let body = s.and_then(|s| s.body);
    let headers = if s.is_some() { "SEND" } else { "SKIP" };
    let trailers = if body == Some(BodyMode::FullDuplexStreamed) { "SEND" } else { "SKIP" };
    (headers, body_mode(body), trailers)
}

pub fn ext_proc(p: &x::ExtProcIr) -> ExternalProcessor {
    let (request_header_mode, request_body_mode, request_trailer_mode) = side_modes(p.request.as_ref());
    let (response_header_mode, response_body_mode, response_trailer_mode) = side_modes(p.response.as_ref());
    let attributes = |s: &Option<x::Side>| s.as_ref().map(|s| s.attributes.clone()).unwrap_or_default();
    ExternalProcessor {
        type_: EXT_PROC,
        grpc_service: GrpcService { envoy_grpc: EnvoyGrpc { cluster_name: p.cluster.clone(), authority: p.authority.clone() }, timeout: STREAM_TIMEOUT.into() },
        failure_mode_allow: p.fail_open,
        processing_mode: ProcessingMode { request_header_mode, response_header_mode, request_body_mode, response_body_mode, request_trailer_mode, response_trailer_mode },
        message_timeout: p.message_timeout_ms.map(super::policy::duration),
        allow_mode_override: p.allow_mode_override,
        request_attributes: attributes(&p.request),
        response_attributes: attributes(&p.response),
        observability_mode: p.shadow,
        status_on_error: p.status_on_error.map(|code| HttpStatus { code }),
    }
}

pub fn lua(l: &x::LuaIr) -> Lua {
    Lua { type_: LUA, default_source_code: DataSource { inline_string: Some(l.code.clone()), filename: None } }
}

/// A filter's place among its kind: by its index in its policy, then by name (Envoy Gateway
/// orders by the index alone, the rest as it met them).
fn order(filter: &str) -> (usize, &str) {
    (filter.rsplit('/').next().and_then(|i| i.parse().ok()).unwrap_or(0), filter)
}

/// The extension filters of a route table, off in the chain: the Lua scripts, then the
/// external processors, each by its index in its policy, as Envoy Gateway orders them.
pub fn filters(vhosts: &[ir::VirtualHostIr]) -> Vec<HttpFilter> {
    let used: Vec<&x::Extension> = vhosts.iter().flat_map(|v| &v.routes).filter_map(|r| r.extension.as_deref()).collect();
    let mut luas: Vec<&x::LuaIr> = used.iter().flat_map(|e| &e.lua).collect();
    luas.sort_by(|a, b| order(&a.filter).cmp(&order(&b.filter)));
    luas.dedup_by(|a, b| a.filter == b.filter);
    let mut procs: Vec<&x::ExtProcIr> = used.iter().flat_map(|e| &e.ext_procs).collect();
    procs.sort_by(|a, b| order(&a.filter).cmp(&order(&b.filter)));
    procs.dedup_by(|a, b| a.filter == b.filter);
    let lua_filters = luas.into_iter().map(|l| HttpFilter { name: l.filter.clone().into(), typed_config: FilterConfig::Lua(Box::new(lua(l))), disabled: true });
    let proc_filters = procs.into_iter().map(|p| HttpFilter { name: p.filter.clone().into(), typed_config: FilterConfig::ExtProc(Box::new(ext_proc(p))), disabled: true });
    lua_filters.chain(proc_filters).collect()
}

/// The filters a route's policy turns on for it.
pub fn enabled(e: &x::Extension) -> impl Iterator<Item = &String> {
    e.lua.iter().map(|l| &l.filter).chain(e.ext_procs.iter().map(|p| &p.filter))
}
