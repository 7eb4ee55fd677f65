//! EnvoyExtensionPolicy (gateway.envoyproxy.io/v1alpha1): external processors and Lua scripts
//! in the HTTP filter chain of the Gateways, listeners, routes or rules it targets. Fields
//! gatewayc does not implement are kept as data and refused by name (`unsupported::field`).

use super::meta::{DURATION, LocalObjectReference};
use super::policy::{LocalPolicyTargetReference, MergeType, PolicyTargets, TargetSelector};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

type Other = Option<serde_json::Value>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvoyExtensionPolicySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<LocalPolicyTargetReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_refs: Vec<LocalPolicyTargetReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_selectors: Vec<TargetSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_type: Option<MergeType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub ext_proc: Vec<ExtProc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub lua: Vec<Lua>,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasm: Other,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_module: Other,
}

impl EnvoyExtensionPolicySpec {
    pub fn targets(&self) -> PolicyTargets<'_> {
        PolicyTargets { target_ref: self.target_ref.as_ref(), target_refs: &self.target_refs, target_selectors: &self.target_selectors }
    }

    /// The parts gatewayc does not implement, each with its JSON pointer.
    pub fn unsupported_parts(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |at: String, what: &str| out.push((at, what.to_string()));
        for (field, set) in [("wasm", self.wasm.is_some()), ("dynamicModule", self.dynamic_module.is_some())] {
            if set {
                add(format!("/spec/{field}"), &format!("EnvoyExtensionPolicy {field}"));
            }
        }
        for (i, e) in self.ext_proc.iter().enumerate() {
            let at = format!("/spec/extProc/{i}");
            for (j, r) in e.backend_refs.iter().enumerate() {
                super::sp::ref_unsupported(r, &format!("{at}/backendRefs/{j}"), "An extProc backendRef", &mut add);
            }
            for (field, set) in [("backendSettings", e.backend_settings.is_some()), ("metadata", e.metadata.is_some())] {
                if set {
                    add(format!("{at}/{field}"), &format!("EnvoyExtensionPolicy extProc.{field}"));
                }
            }
        }
        for (i, l) in self.lua.iter().enumerate() {
            if l.filter_context.is_some() {
                add(format!("/spec/lua/{i}/filterContext"), "EnvoyExtensionPolicy lua.filterContext");
            }
        }
        out
    }
}

/// An external processor: a gRPC service (envoy.service.ext_proc.v3) that sees the request's
/// and response's headers (and bodies, as asked) and may change them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtProc {
    /// Refused by the CRD: backendRefs must be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Other,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub backend_refs: Vec<super::sp_auth::ExtBackendRef>,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_settings: Other,
    /// How long Envoy waits for each answer (200ms by default, Envoy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DURATION))]
    pub message_timeout: Option<String>,
    /// Let requests through when the processor cannot be asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_open: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_mode: Option<ProcessingMode>,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Other,
    /// Send and go: the processor's answers are not applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow_mode: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = [400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 423, 424, 426, 428, 429, 431, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511]))]
    pub status_on_error: Option<u16>,
}

/// What the processor is sent: nothing by default; a side (`request`, `response`) given sends
/// its headers, and its body in the mode asked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProcessingMode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<ProcessingSide>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<ProcessingSide>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_mode_override: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProcessingSide {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Streamed", "Buffered", "BufferedPartial", "FullDuplexStreamed"]))]
    pub body: Option<String>,
    /// Envoy attributes sent with the headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^(connection\.|source\.|destination\.|request\.|response\.|upstream\.|xds\.route_)[a-z_1-9]*$")))]
    pub attributes: Vec<String>,
}

/// A Lua script, inline or from a ConfigMap of the policy's namespace (its key `lua`, else its
/// first value).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Lua {
    #[serde(rename = "type", default = "inline")]
    #[schemars(extend("enum" = ["Inline", "ValueRef"]))]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_ref: Option<LocalObjectReference>,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_context: Other,
}

fn inline() -> String {
    "Inline".into()
}
