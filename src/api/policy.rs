//! What every Envoy Gateway policy kind (gateway.envoyproxy.io/v1alpha1) shares: how it names
//! its targets (`targetRef`, `targetRefs`, `targetSelectors`) and how a route-level policy
//! merges with the Gateway's (`mergeType`).

use super::meta::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A target in the policy's namespace, optionally one section of it by `sectionName` (a
/// Gateway's listener, a route's rule, a Service's port).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LocalPolicyTargetReference {
    #[schemars(pattern(GROUP), length(max = 253))]
    pub group: String,
    #[schemars(pattern(KIND), length(min = 1, max = 63))]
    pub kind: String,
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DNS_SUBDOMAIN), length(min = 1, max = 253))]
    pub section_name: Option<String>,
}

/// Targets by kind and labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(GROUP), length(max = 253))]
    pub group: Option<String>,
    #[schemars(pattern(KIND), length(min = 1, max = 63))]
    pub kind: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
    /// Targets in other namespaces: not implemented (`unsupported::field`) unless `Same`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<serde_json::Value>,
}

impl TargetSelector {
    pub fn selector(&self) -> LabelSelector {
        LabelSelector { match_labels: self.match_labels.clone(), match_expressions: self.match_expressions.clone() }
    }
}

/// How a route-level policy combines with the Gateway-level (or listener-level) one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MergeType {
    StrategicMerge,
    JSONMerge,
}

/// The targets of a policy as every policy kind spells them (fields of its spec).
#[derive(Debug, Clone, Copy)]
pub struct PolicyTargets<'a> {
    /// Deprecated single form.
    pub target_ref: Option<&'a LocalPolicyTargetReference>,
    pub target_refs: &'a [LocalPolicyTargetReference],
    pub target_selectors: &'a [TargetSelector],
}

/// Text given inline (`type: Inline`, the default) or by a ConfigMap (`type: ValueRef`), as
/// Envoy Gateway's policies take response bodies and key sets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InlineOrRef {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Inline", "ValueRef"]))]
    pub type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_ref: Option<LocalObjectReference>,
}
