//! ListenerSet (gateway.networking.k8s.io/v1): listeners a team attaches to a shared Gateway
//! whose `spec.allowedListeners` admits its namespace. Its listeners have the Gateway
//! listener's fields and rules ([`super::gateway::Listener`]).

use super::gateway::Listener;
use super::meta::{DNS_LABEL, GROUP, KIND};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListenerSetSpec {
    pub parent_ref: ParentGatewayReference,
    #[schemars(length(min = 1, max = 64))]
    pub listeners: Vec<Listener>,
}

/// The Gateway a ListenerSet attaches to (the ListenerSet's namespace when not set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ParentGatewayReference {
    #[serde(default = "gateway_group")]
    #[schemars(pattern(GROUP), length(max = 253))]
    pub group: String,
    #[serde(default = "gateway_kind")]
    #[schemars(pattern(KIND), length(min = 1, max = 63))]
    pub kind: String,
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DNS_LABEL), length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

fn gateway_group() -> String {
    super::GATEWAY_GROUP.to_string()
}

fn gateway_kind() -> String {
    "Gateway".to_string()
}
