//! HTTPRouteFilter (gateway.envoyproxy.io/v1alpha1): Envoy Gateway's own route filter, named
//! by `ExtensionRef` filters of HTTPRoute and GRPCRoute rules, typed with the v1.9.0 CRD's
//! constraints (every field is implemented; the CEL rules are `validate::routefilter`'s).

use super::policy::InlineOrRef;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HTTPRouteFilterSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_rewrite: Option<UrlRewrite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_response: Option<DirectResponse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_injection: Option<CredentialInjection>,
    /// Further conditions on the rule's matches: the rule matches when one of its own matches
    /// and one of these both do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub matches: Vec<FilterMatch>,
}

/// One further condition (cookies, all of which must match).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FilterMatch {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 16))]
    pub cookies: Vec<CookieMatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CookieMatch {
    #[schemars(length(min = 1, max = 256))]
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Exact", "RegularExpression"]))]
    pub type_: Option<String>,
    #[schemars(length(min = 1, max = 4096))]
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UrlRewrite {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathRewrite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<HostRewrite>,
    /// The original Host goes to the backend in `X-Forwarded-Host`.
    #[serde(rename = "appendXForwardedHost", default, skip_serializing_if = "Option::is_none")]
    pub append_x_forwarded_host: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PathRewrite {
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["ReplaceRegexMatch"]))]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_regex_match: Option<ReplaceRegexMatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReplaceRegexMatch {
    #[schemars(length(min = 1))]
    pub pattern: String,
    pub substitution: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostRewrite {
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["Header", "Backend", "PathRegex"]))]
    pub type_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_regex: Option<HostPathRegex>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostPathRegex {
    #[schemars(length(min = 1))]
    pub pattern: String,
    #[schemars(length(min = 1), regex(pattern = r"^[^\r\n\x00]*$"))]
    pub substitution: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DirectResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<InlineOrRef>,
    /// 200 when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// Headers of the answer (add and set; the CRD refuses remove).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<super::httproute::HeaderModifier>,
}

/// A credential (a Secret's `credential`) put into a request header before the backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CredentialInjection {
    /// Authorization when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Replace a value the client sent (else a request with one keeps it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overwrite: Option<bool>,
    pub credential: InjectedCredential,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InjectedCredential {
    pub value_ref: super::meta::SecretObjectReference,
}
