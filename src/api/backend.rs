//! Backend (gateway.envoyproxy.io/v1alpha1): endpoints outside the cluster (IP addresses, DNS
//! names, Unix sockets) that backendRefs of every route kind, and Envoy Gateway's policies,
//! may name. Typed with the v1.9.0 CRD's constraints; the fields gatewayc does not implement
//! are kept as data and refused by name.

use super::meta::{DNS_SUBDOMAIN, LocalObjectReference, SecretObjectReference};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

type Other = Option<serde_json::Value>;

const IP_ADDRESS: &str = r"^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$|^(([0-9a-fA-F]{1,4}:){1,7}[0-9a-fA-F]{1,4}|::|(([0-9a-fA-F]{1,4}:){0,5})?(:[0-9a-fA-F]{1,4}){1,2})$";
const FQDN: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$";
const WELL_KNOWN_CA: &str = r"^(System|([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]))$";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendSpec {
    /// `Endpoints` when not set; `DynamicResolver` is refused by name.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Endpoints", "DynamicResolver"]))]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 256))]
    pub endpoints: Vec<BackendEndpoint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub app_protocols: Vec<AppProtocol>,
    /// A fallback backend takes traffic only when the rule's other backends are unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<BackendTlsSettings>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AppProtocol {
    #[serde(rename = "gateway.envoyproxy.io/h2c")]
    H2c,
    #[serde(rename = "gateway.envoyproxy.io/ws")]
    Ws,
    #[serde(rename = "gateway.envoyproxy.io/wss")]
    Wss,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendEndpoint {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<FqdnEndpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpEndpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unix: Option<UnixSocket>,
    /// The endpoint's name (for SNI from the endpoint's hostname, which gatewayc refuses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DNS_SUBDOMAIN), length(min = 1, max = 253))]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FqdnEndpoint {
    #[schemars(pattern(FQDN), length(min = 1, max = 253))]
    pub hostname: String,
    #[schemars(range(min = 0, max = 65535))]
    pub port: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IpEndpoint {
    #[schemars(pattern(IP_ADDRESS), length(min = 3, max = 45))]
    pub address: String,
    #[schemars(range(min = 0, max = 65535))]
    pub port: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UnixSocket {
    pub path: String,
}

/// TLS to the Backend's endpoints, by the Backend itself (a BackendTLSPolicy may add to it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BackendTlsSettings {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub ca_certificate_refs: Vec<LocalObjectReference>,
    #[serde(rename = "wellKnownCACertificates", default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(WELL_KNOWN_CA), length(min = 1, max = 253))]
    pub well_known_ca_certificates: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DNS_SUBDOMAIN), length(min = 1, max = 253))]
    pub sni: Option<String>,
    /// Not implemented yet (`unsupported::field`), as `fingerprints`.
    #[serde(rename = "autoSNIFromEndpointHostname", default, skip_serializing_if = "Option::is_none")]
    pub auto_sni_from_endpoint_hostname: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_ref: Option<SecretObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpn_protocols: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecdh_curves: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithms: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Auto", "1.0", "1.1", "1.2", "1.3"]))]
    pub min_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Auto", "1.0", "1.1", "1.2", "1.3"]))]
    pub max_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprints: Other,
}

impl BackendTlsSettings {
    /// The fields set that gatewayc does not implement: (pointer under `/spec/tls`, name).
    pub fn unsupported(&self) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        if self.auto_sni_from_endpoint_hostname == Some(true) {
            out.push(("/autoSNIFromEndpointHostname", "Backend tls.autoSNIFromEndpointHostname"));
        }
        if self.fingerprints.is_some() {
            out.push(("/fingerprints", "Backend tls.fingerprints"));
        }
        out
    }
}
