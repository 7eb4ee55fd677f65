//! BackendTLSPolicy (gateway.networking.k8s.io v1; the experimental channel also serves
//! v1alpha3): TLS from the Gateway to a Service's port, verified against a CA bundle or the
//! system trust store, with the name the backend's certificate must carry.

use super::meta::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendTLSPolicySpec {
    #[schemars(length(min = 1, max = 16))]
    pub target_refs: Vec<PolicyTargetReference>,
    pub validation: BackendTLSValidation,
    /// Implementation-specific TLS options; none is implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 16))]
    pub options: BTreeMap<String, String>,
}

/// A policy's target: a Service, and optionally one of its ports by name (the shape every
/// policy's local target reference has).
pub use super::policy::LocalPolicyTargetReference as PolicyTargetReference;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendTLSValidation {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub ca_certificate_refs: Vec<LocalObjectReference>,
    #[serde(rename = "wellKnownCACertificates", default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        pattern(r"^(System|([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]))$"),
        length(min = 1, max = 253)
    )]
    pub well_known_ca_certificates: Option<String>,
    #[schemars(pattern(DNS_SUBDOMAIN), length(min = 1, max = 253))]
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub subject_alt_names: Vec<SubjectAltName>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SubjectAltNameType {
    Hostname,
    URI,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SubjectAltName {
    #[serde(rename = "type")]
    pub type_: SubjectAltNameType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(HOSTNAME), length(min = 1, max = 253))]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^(([^:/?#]+):)(//([^/?#]*))([^?#]*)(\?([^#]*))?(#(.*))?"), length(min = 1, max = 253))]
    pub uri: Option<String>,
}
