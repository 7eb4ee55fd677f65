//! ReferenceGrant (gateway.networking.k8s.io v1, v1beta1).

use super::meta::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReferenceGrantSpec {
    #[schemars(length(min = 1, max = 16))]
    pub from: Vec<ReferenceGrantFrom>,
    #[schemars(length(min = 1, max = 16))]
    pub to: Vec<ReferenceGrantTo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReferenceGrantFrom {
    #[schemars(pattern(GROUP), length(max = 253))]
    pub group: String,
    #[schemars(pattern(KIND), length(min = 1, max = 63))]
    pub kind: String,
    #[schemars(pattern(DNS_LABEL), length(min = 1, max = 63))]
    pub namespace: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReferenceGrantTo {
    #[schemars(pattern(GROUP), length(max = 253))]
    pub group: String,
    #[schemars(pattern(KIND), length(min = 1, max = 63))]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub name: Option<String>,
}
