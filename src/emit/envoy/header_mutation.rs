//! A ClientTrafficPolicy's header changes in Envoy's terms: early request mutations (an HCM
//! extension, before routing) and late response mutations (the header_mutation filter first
//! in the chain, so it encodes last).

use super::types::*;
use crate::resolve::ctp::{HeaderChange, HeaderChanges};
use serde::Serialize;

const EARLY: &str = "type.googleapis.com/envoy.extensions.http.early_header_mutation.header_mutation.v3.HeaderMutation";
const FILTER: &str = "type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation";

/// One change (Envoy's config.common.mutation_rules.v3.HeaderMutation): exactly one field.
#[derive(Serialize)]
pub struct MutationRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    remove: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    append: Option<HeaderValueOption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remove_on_match: Option<RemoveOnMatch>,
}

#[derive(Serialize)]
struct RemoveOnMatch {
    key_matcher: StringMatcher,
}

#[derive(Serialize)]
pub struct EarlyMutation {
    name: &'static str,
    typed_config: EarlyConfig,
}

#[derive(Serialize)]
struct EarlyConfig {
    #[serde(rename = "@type")]
    type_: &'static str,
    mutations: Vec<MutationRule>,
}

#[derive(Serialize)]
pub struct LateFilter {
    #[serde(rename = "@type")]
    type_: &'static str,
    mutations: LateMutations,
}

#[derive(Serialize)]
struct LateMutations {
    response_mutations: Vec<MutationRule>,
}

fn rules(c: &HeaderChanges) -> Vec<MutationRule> {
    let rule = |remove, append, remove_on_match| MutationRule { remove, append, remove_on_match };
    let add = |k: &str, v: &str, action| rule(None, Some(HeaderValueOption { header: HeaderValue { key: k.to_string(), value: v.to_string() }, append_action: action }), None);
    c.0.iter()
        .map(|h| match h {
            HeaderChange::Set(k, v) => add(k, v, "OVERWRITE_IF_EXISTS_OR_ADD"),
            HeaderChange::Append(k, v) => add(k, v, "APPEND_IF_EXISTS_OR_ADD"),
            HeaderChange::AddIfAbsent(k, v) => add(k, v, "ADD_IF_ABSENT"),
            HeaderChange::Remove(k) => rule(Some(k.clone()), None, None),
            HeaderChange::RemoveMatching(m) => {
                // Header names match without regard to case.
                let key_matcher = StringMatcher::of_value(m, true);
                rule(None, None, Some(RemoveOnMatch { key_matcher }))
            }
        })
        .collect()
}

pub(super) fn early(c: &HeaderChanges) -> EarlyMutation {
    EarlyMutation { name: "envoy.http.early_header_mutation.header_mutation", typed_config: EarlyConfig { type_: EARLY, mutations: rules(c) } }
}

pub(super) fn late(c: &HeaderChanges) -> HttpFilter {
    HttpFilter {
        name: "envoy.filters.http.header_mutation".into(),
        typed_config: FilterConfig::HeaderMutation(LateFilter { type_: FILTER, mutations: LateMutations { response_mutations: rules(c) } }),
        disabled: false,
    }
}
