//! Core objects that routes point at: Service, EndpointSlice, Namespace, Secret, ConfigMap.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServicePort>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selector: BTreeMap<String, String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]))]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "clusterIP")]
    pub cluster_ip: Option<String>,
    #[serde(default, rename = "clusterIPs")]
    pub cluster_ips: Vec<String>,
    #[serde(default, rename = "externalIPs")]
    pub external_ips: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_traffic_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_node_port: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_families: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_family_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "loadBalancerIP")]
    pub load_balancer_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_source_ranges: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocate_load_balancer_node_ports: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_not_ready_addresses: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity_config: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_distribution: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum IntOrString {
    Int(i64),
    String(String),
}

fn default_tcp() -> String {
    "TCP".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServicePort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[schemars(range(min = 1, max = 65535))]
    pub port: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    #[serde(default = "default_tcp")]
    #[schemars(extend("enum" = ["TCP", "UDP", "SCTP"]))]
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_port: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Endpoint {
    #[schemars(length(min = 1, max = 100))]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub conditions: EndpointConditions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hints: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_topology: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EndpointConditions {
    /// Unset means ready (the EndpointSlice API says consumers should treat nil as true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminating: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EndpointPort {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AddressType {
    IPv4,
    IPv6,
    #[serde(rename = "FQDN")]
    Fqdn,
}

/// A Service as later stages keep it: its name and where its ports lead. Built from
/// [`crate::api::Service`] once it is valid; nothing else of the object is read after
/// validation, and a large input can hold hundreds of thousands of Services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    pub namespace: Arc<str>,
    pub name: Box<str>,
    /// Set for `type: ExternalName`: the DNS name the Service stands for.
    pub external_name: Option<Box<str>>,
    pub ports: Box<[ServicePortInfo]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePortInfo {
    /// Empty when the port is unnamed.
    pub name: Arc<str>,
    pub port: u32,
    pub protocol: PortProtocol,
    /// `targetPort` when it is a number (a named one is looked up in EndpointSlices).
    pub target_port: Option<u32>,
    pub app_protocol: Option<Arc<str>>,
}

/// One shared copy of strings that repeat across many objects (namespaces, port names), for
/// the compact forms below.
#[derive(Debug, Default)]
pub struct Interner(std::collections::HashSet<Arc<str>>);

impl Interner {
    pub fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = s.into();
        self.0.insert(a.clone());
        a
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortProtocol {
    Tcp,
    Udp,
    Sctp,
}

impl ServiceInfo {
    pub fn from_service(s: crate::api::Service, strings: &mut Interner) -> Self {
        let external = s.spec.type_.as_deref() == Some("ExternalName");
        ServiceInfo {
            namespace: strings.get(s.metadata.ns()),
            name: s.metadata.name.into(),
            external_name: if external { Some(s.spec.external_name.unwrap_or_default().into()) } else { None },
            ports: s
                .spec
                .ports
                .into_iter()
                .map(|p| ServicePortInfo {
                    name: strings.get(p.name.as_deref().unwrap_or_default()),
                    port: p.port,
                    protocol: match p.protocol.as_str() {
                        "UDP" => PortProtocol::Udp,
                        "SCTP" => PortProtocol::Sctp,
                        _ => PortProtocol::Tcp,
                    },
                    target_port: match p.target_port {
                        Some(IntOrString::Int(i)) => u32::try_from(i).ok(),
                        _ => None,
                    },
                    app_protocol: p.app_protocol.map(|a| strings.get(&a)),
                })
                .collect(),
        }
    }
    /// Canonical order: Services have no age that matters, so namespace and name.
    pub fn age_key(&self) -> (&str, &str, &str) {
        ("", &self.namespace, &self.name)
    }
}

/// An EndpointSlice as later stages keep it: the Service it belongs to, its ports, and the
/// addresses of its ready endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSliceInfo {
    pub namespace: Arc<str>,
    pub name: Box<str>,
    /// The `kubernetes.io/service-name` label; a slice without it belongs to no Service.
    pub service: Option<Box<str>>,
    pub fqdn: bool,
    /// (name, port); the name is empty for an unnamed port.
    pub ports: Box<[(Arc<str>, Option<u32>)]>,
    /// Addresses of endpoints not marked unready (unset `ready` means ready, as the API says).
    pub ready: Box<[Box<str>]>,
}

impl EndpointSliceInfo {
    pub fn from_slice(s: crate::api::EndpointSlice, strings: &mut Interner) -> Self {
        let namespace = strings.get(s.metadata.ns());
        let mut labels = s.metadata.labels;
        EndpointSliceInfo {
            namespace,
            name: s.metadata.name.into(),
            service: labels.remove("kubernetes.io/service-name").map(Into::into),
            fqdn: s.address_type == AddressType::Fqdn,
            ports: s.ports.into_iter().map(|p| (strings.get(p.name.as_deref().unwrap_or_default()), p.port)).collect(),
            ready: s
                .endpoints
                .into_iter()
                .filter(|e| e.conditions.ready != Some(false))
                .flat_map(|e| e.addresses)
                .map(Into::into)
                .collect(),
        }
    }
    pub fn age_key(&self) -> (&str, &str, &str) {
        ("", &self.namespace, &self.name)
    }
}
