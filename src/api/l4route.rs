//! TCPRoute, UDPRoute and TLSRoute (gateway.networking.k8s.io v1; the experimental channel
//! also serves v1alpha2, and v1alpha3 for TLSRoute). One schema per kind covers every served
//! version: the loosest bounds here, the v1 ones (one rule; TLSRoute hostnames required) as
//! rules in `validate::l4route`.

use super::httproute::ParentReference;
use super::meta::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TCPRouteSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub parent_refs: Vec<ParentReference>,
    #[schemars(length(min = 1, max = 16))]
    pub rules: Vec<L4Rule>,
}

/// UDPRoute's spec has TCPRoute's shape.
pub type UDPRouteSpec = TCPRouteSpec;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TLSRouteSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub parent_refs: Vec<ParentReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 1024),
        inner(pattern(HOSTNAME), length(min = 1, max = 253))
    )]
    pub hostnames: Vec<String>,
    #[schemars(length(min = 1, max = 16))]
    pub rules: Vec<L4Rule>,
}

/// A rule of a TCPRoute, UDPRoute or TLSRoute: weighted backends, nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct L4Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DNS_SUBDOMAIN), length(min = 1, max = 253))]
    pub name: Option<String>,
    #[schemars(length(min = 1, max = 16))]
    pub backend_refs: Vec<L4BackendRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct L4BackendRef {
    #[serde(default)]
    #[schemars(pattern(GROUP), length(max = 253))]
    pub group: String,
    #[serde(default = "default_backend_kind")]
    #[schemars(pattern(KIND), length(min = 1, max = 63))]
    pub kind: String,
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DNS_LABEL), length(min = 1, max = 63))]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u32>,
    #[serde(default = "default_weight")]
    #[schemars(range(min = 0, max = 1000000))]
    pub weight: u32,
}

fn default_backend_kind() -> String {
    "Service".into()
}
fn default_weight() -> u32 {
    1
}
