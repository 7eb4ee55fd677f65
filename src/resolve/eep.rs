//! EnvoyExtensionPolicy: its targets and precedence (the shared machinery in
//! [`super::precedence`], as for the other policy kinds) and its translation: Lua scripts and
//! external processors in the HTTP filter chain of the routes it covers, free of Envoy's
//! types. The effect is an [`ExtensionTable`] per Gateway that the IR reads.

use super::ResolvedGateway;
use super::backend::{BackendTarget, Index};
use super::policy::{self, RouteIndex};
use super::precedence::{self, Effect, Entry, Kinded, Words};
use super::status::Recorder;
use crate::api::eep::{self as e, EnvoyExtensionPolicySpec};
use crate::api::{Kind, Resources};
use crate::id::ObjectKey;
use std::sync::Arc;

/// The EnvoyExtensionPolicies in effect in one Gateway.
pub type ExtensionTable = precedence::Table<Extension>;

/// What one EnvoyExtensionPolicy adds to the routes it covers, in its order: its Lua scripts,
/// then its external processors.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extension {
    pub lua: Vec<LuaIr>,
    pub ext_procs: Vec<ExtProcIr>,
}

/// A Lua script: a filter of its own (off in the chain, on for the routes it covers).
#[derive(Debug, Clone, PartialEq)]
pub struct LuaIr {
    pub filter: String,
    pub code: String,
}

/// An external processor: a gRPC service asked at each step of the request it is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtProcIr {
    pub filter: String,
    pub cluster: String,
    pub backends: Vec<(Arc<BackendTarget>, u32)>,
    /// `:authority` of the gRPC stream: the first backendRef's `name.namespace[:port]`.
    pub authority: String,
    pub message_timeout_ms: Option<u64>,
    pub fail_open: bool,
    /// What of the request and the response is sent (None: nothing of that side).
    pub request: Option<Side>,
    pub response: Option<Side>,
    pub allow_mode_override: bool,
    /// Observability mode: the processor's answers are not waited for, nor applied.
    pub shadow: bool,
    pub status_on_error: Option<u16>,
}

/// One side of the exchange: its headers are sent, its body in `body`'s mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    pub body: Option<BodyMode>,
    pub attributes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    Streamed,
    Buffered,
    BufferedPartial,
    FullDuplexStreamed,
}

/// Resolve every EnvoyExtensionPolicy (in canonical order) against the Gateways and their
/// attached routes, filling each Gateway's `extensions`.
pub fn resolve_all(res: &Resources, gateways: &mut [ResolvedGateway], index: &Index, controller: &str, rec: &mut Recorder) {
    if res.envoy_extension_policies.is_empty() {
        return;
    }
    let idx = RouteIndex::new(res, gateways);
    let entries: Vec<Entry<Extension>> = res
        .envoy_extension_policies
        .iter()
        .map(|item| {
            let key = ObjectKey::of(Kind::EnvoyExtensionPolicy, &item.obj.metadata);
            let st = rec.status.policies.entry(key.clone()).or_default();
            (st.generation, st.controller_name) = (item.obj.metadata.generation, controller.to_string());
            let targets: Vec<_> = policy::targets(item.obj.spec.targets(), item.obj.metadata.ns(), res);
            let (effect, degraded) = match build(&item.obj.spec, &key, index) {
                Ok((x, degraded)) => (Ok(Arc::new(x)), degraded),
                Err(e) => (Err(e), None),
            };
            Entry { key, loc: &item.loc, targets, merge: item.obj.spec.merge_type, effect, degraded }
        })
        .collect();
    let merged = |parent: usize, child: usize, json_merge: bool| {
        let (p, c) = (&res.envoy_extension_policies[parent].obj, &res.envoy_extension_policies[child].obj);
        let key = ObjectKey::of(Kind::EnvoyExtensionPolicy, &c.metadata);
        match precedence::merged_spec(&p.spec, &c.spec, json_merge).and_then(|s| build(&s, &key, index)) {
            Ok((x, _)) => Effect::Apply(Arc::new(x)),
            Err(_) => Effect::Invalid,
        }
    };
    let kinded = Kinded {
        words: Words { kind: "EnvoyExtensionPolicy", singular: "envoyExtensionPolicy", plural: "envoyExtensionPolicies" },
        entries: &entries,
        merged: &merged,
        table: |g| &mut g.extensions,
    };
    precedence::resolve(&kinded, &idx, gateways, rec);
}

/// A policy's translation, or Envoy Gateway's message for why there is none. An external
/// processor that cannot be reached but fails open is left out: the policy still applies
/// (and is reported Invalid, `degraded`); a Lua script in error fails the policy.
pub fn build(spec: &EnvoyExtensionPolicySpec, key: &ObjectKey, index: &Index) -> Result<(Extension, Option<String>), String> {
    if let Some((_, what)) = spec.unsupported_parts().first() {
        return Err(format!("{what} is not supported by gatewayc"));
    }
    let mut out = Extension::default();
    let mut errs = Vec::new();
    for (i, l) in spec.lua.iter().enumerate() {
        match lua(l, i, key, index) {
            Ok(x) => out.lua.push(x),
            Err(e) => errs.push(format!("Lua: {e}")),
        }
    }
    let (mut proc_errs, mut fail_closed) = (Vec::new(), false);
    for (i, p) in spec.ext_proc.iter().enumerate() {
        match ext_proc(p, i, key, index) {
            Ok(x) => out.ext_procs.push(x),
            Err(e) => {
                proc_errs.push(e);
                fail_closed |= p.fail_open != Some(true);
            }
        }
    }
    let degraded = (!proc_errs.is_empty()).then(|| format!("ExtProc: {}", proc_errs.join(", ")));
    if fail_closed {
        errs.extend(degraded.clone());
    }
    if !errs.is_empty() {
        return Err(errs.join("\n"));
    }
    Ok((out, degraded))
}

fn lua(l: &e::Lua, i: usize, key: &ObjectKey, index: &Index) -> Result<LuaIr, String> {
    let filter = crate::names::lua_filter(key, i);
    let code = match (&l.inline, &l.value_ref) {
        (Some(code), _) => code.clone(),
        (None, Some(r)) => {
            let Some(cm) = index.config_map(&key.namespace, &r.name) else {
                return Err(format!("can't find the referenced configmap {} in namespace {}", r.name, key.namespace));
            };
            // The key `lua`, else the first (in key order: deterministic, where Envoy
            // Gateway takes whichever its map yields first).
            match cm.data.get("lua").or_else(|| cm.data.values().next()) {
                Some(code) => code.clone(),
                None => return Err(format!("can't find the key lua in the referenced configmap {}", r.name)),
            }
        }
        (None, None) => return Err("one of inline or valueRef must be set".into()),
    };
    // Envoy Gateway's strict validation runs the script; gatewayc checks that it defines an
    // entry point (Envoy compiles it when the bootstrap is validated).
    if !code.contains("envoy_on_request") && !code.contains("envoy_on_response") {
        return Err(format!("validation failed for lua body in policy with name {}: expected one of envoy_on_request() or envoy_on_response() to be defined", filter.trim_start_matches("envoy.filters.http.lua/")));
    }
    Ok(LuaIr { filter, code })
}

fn ext_proc(p: &e::ExtProc, i: usize, key: &ObjectKey, index: &Index) -> Result<ExtProcIr, String> {
    use super::backend::BackendRef;
    use crate::api::core::PortProtocol;
    let Some(first) = p.backend_refs.first() else { return Err("backendRefs must be specified".into()) };
    let mut backends = Vec::new();
    for r in &p.backend_refs {
        let to = BackendRef { group: &r.group, kind: &r.kind, name: &r.name, namespace: r.namespace.as_deref(), port: r.port };
        let t = index.target((Kind::EnvoyExtensionPolicy, &key.namespace), to, PortProtocol::Tcp).map_err(|u| u.message)?;
        if let Some(super::backendtls::BackendTls::Refused(p)) = &t.tls {
            return Err(format!("the BackendTLSPolicy {}/{} of {} {}/{} has no valid CA", p.namespace, p.name, t.kind.name(), t.namespace, t.service));
        }
        backends.push((t, r.weight.unwrap_or(1)));
    }
    let ns = first.namespace.as_deref().unwrap_or(&key.namespace);
    let authority = match first.port {
        Some(port) => format!("{}.{ns}:{port}", first.name),
        None => format!("{}.{ns}", first.name),
    };
    let mode = p.processing_mode.clone().unwrap_or_default();
    let side = |s: &Option<e::ProcessingSide>| {
        s.as_ref().map(|s| Side {
            body: s.body.as_deref().map(|b| match b {
                "Buffered" => BodyMode::Buffered,
                "BufferedPartial" => BodyMode::BufferedPartial,
                "FullDuplexStreamed" => BodyMode::FullDuplexStreamed,
                _ => BodyMode::Streamed,
            }),
            attributes: s.attributes.clone(),
        })
    };
    Ok(ExtProcIr {
        filter: crate::names::ext_proc_filter(key, i),
        cluster: crate::names::ext_proc_cluster(key, i, &first.name),
        backends,
        authority,
        message_timeout_ms: p.message_timeout.as_deref().and_then(crate::api::httproute::duration_ms),
        fail_open: p.fail_open.unwrap_or(false),
        request: side(&mode.request),
        response: side(&mode.response),
        allow_mode_override: mode.allow_mode_override.unwrap_or(false),
        shadow: p.shadow_mode.unwrap_or(false),
        status_on_error: p.status_on_error,
    })
}
