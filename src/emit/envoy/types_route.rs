//! The route table part of the Envoy v3 subset we emit (route configurations, virtual
//! hosts, routes and their matches, actions and per-filter configurations), as plain serde
//! structs; re-exported by `types`.

use serde::Serialize;

#[derive(Serialize)]
pub struct RouteConfiguration {
    pub name: String,
    pub ignore_port_in_host_matching: bool,
    pub virtual_hosts: Vec<VirtualHost>,
}

#[derive(Serialize)]
pub struct VirtualHost {
    pub name: String,
    pub domains: Vec<String>,
    pub routes: Vec<Route>,
}

#[derive(Serialize)]
pub struct Route {
    pub name: String,
    #[serde(rename = "match")]
    pub match_: RouteMatch,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<RedirectAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_response: Option<DirectResponse>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_remove: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_remove: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typed_per_filter_config: Option<PerFilterConfig>,
}

#[derive(Serialize, Default)]
pub struct PerFilterConfig {
    #[serde(rename = "envoy.filters.http.cors", skip_serializing_if = "Option::is_none")]
    pub cors: Option<CorsPolicy>,
    #[serde(rename = "envoy.filters.http.stateful_session", skip_serializing_if = "Option::is_none")]
    pub stateful_session: Option<StatefulSessionPerRoute>,
    #[serde(rename = "envoy.filters.http.fault", skip_serializing_if = "Option::is_none")]
    pub fault: Option<super::http_filters::HttpFault>,
    #[serde(rename = "envoy.filters.http.local_ratelimit", skip_serializing_if = "Option::is_none")]
    pub local_ratelimit: Option<super::http_filters::LocalRateLimitFilter>,
    #[serde(rename = "envoy.filters.http.compressor.gzip", skip_serializing_if = "Option::is_none")]
    pub gzip: Option<super::http_filters::CompressorPerRoute>,
    #[serde(rename = "envoy.filters.http.compressor.brotli", skip_serializing_if = "Option::is_none")]
    pub brotli: Option<super::http_filters::CompressorPerRoute>,
    #[serde(rename = "envoy.filters.http.compressor.zstd", skip_serializing_if = "Option::is_none")]
    pub zstd: Option<super::http_filters::CompressorPerRoute>,
    #[serde(rename = "envoy.filters.http.buffer", skip_serializing_if = "Option::is_none")]
    pub buffer: Option<super::http_filters::BufferPerRoute>,
    #[serde(rename = "envoy.filters.http.ratelimit", skip_serializing_if = "Option::is_none")]
    pub ratelimit: Option<super::global_rate_limit::PerRoute>,
    /// The custom_response filters the route turns on, by name.
    #[serde(flatten)]
    pub custom_response: std::collections::BTreeMap<String, super::custom_response::CustomResponseFilter>,
    #[serde(rename = "envoy.filters.http.csrf", skip_serializing_if = "Option::is_none")]
    pub csrf: Option<super::security::CsrfPolicy>,
    #[serde(rename = "envoy.filters.http.api_key_auth", skip_serializing_if = "Option::is_none")]
    pub api_key_auth: Option<super::security::ApiKeyAuth>,
    #[serde(rename = "envoy.filters.http.jwt_authn", skip_serializing_if = "Option::is_none")]
    pub jwt_authn: Option<super::jwt::PerRouteConfig>,
    #[serde(rename = "envoy.filters.http.rbac", skip_serializing_if = "Option::is_none")]
    pub rbac: Option<super::rbac::RbacPerRoute>,
    /// The basic_auth filter the route turns on (one per forwarded-username header), by name.
    #[serde(flatten)]
    pub basic_auth: std::collections::BTreeMap<String, super::security::BasicAuthPerRoute>,
    /// Filters off in the chain that the route turns on with the chain's settings (a
    /// policy's oauth2, an HTTPRouteFilter's credential_injector), by name.
    #[serde(flatten)]
    pub enable: std::collections::BTreeMap<String, super::credential::Enable>,
    /// The ext_authz filter (its policy's) the route turns on, by name.
    #[serde(flatten)]
    pub ext_authz: std::collections::BTreeMap<String, super::ext_auth::Enable>,
}

#[derive(Serialize)]
pub struct StatefulSessionPerRoute {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub stateful_session: StatefulSession,
}

#[derive(Serialize)]
pub struct StatefulSession {
    pub session_state: SessionState,
}

#[derive(Serialize)]
pub struct SessionState {
    pub name: &'static str,
    pub typed_config: SessionStateConfig,
}

#[derive(Serialize)]
#[serde(untagged)]
pub enum SessionStateConfig {
    Cookie {
        #[serde(rename = "@type")]
        type_: &'static str,
        cookie: SessionCookie,
    },
    Header {
        #[serde(rename = "@type")]
        type_: &'static str,
        name: String,
    },
}

#[derive(Serialize)]
pub struct SessionCookie {
    pub name: String,
    pub path: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

#[derive(Serialize)]
pub struct CorsPolicy {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub allow_origin_string_match: Vec<StringMatcher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_methods: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_headers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expose_headers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
    pub allow_credentials: bool,
    pub forward_not_matching_preflights: bool,
}

impl Route {
    /// A route with no action and no header changes yet.
    pub fn new(name: impl Into<String>, match_: RouteMatch) -> Self {
        Route {
            name: name.into(),
            match_,
            route: None,
            redirect: None,
            direct_response: None,
            request_headers_to_add: Vec::new(),
            request_headers_to_remove: Vec::new(),
            response_headers_to_add: Vec::new(),
            response_headers_to_remove: Vec::new(),
            typed_per_filter_config: None,
        }
    }
}

#[derive(Serialize, Default)]
pub struct RouteMatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_separated_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_regex: Option<RegexMatcher>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HeaderMatcher>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub query_parameters: Vec<QueryParameterMatcher>,
}

#[derive(Serialize)]
pub struct RegexMatcher {
    pub regex: String,
}

/// Envoy's StringMatcher: exactly one of the patterns.
#[derive(Serialize, Default)]
pub struct StringMatcher {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_regex: Option<RegexMatcher>,
    /// Not for regular expressions.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignore_case: bool,
}

impl StringMatcher {
    pub fn exact(v: &str) -> Self {
        StringMatcher { exact: Some(v.to_string()), ..Default::default() }
    }
    /// A route's or a rate limit's match.
    pub fn of(m: &crate::resolve::http::StringMatch) -> Self {
        use crate::resolve::http::StringMatch;
        match m {
            StringMatch::Exact(v) => Self::exact(v),
            StringMatch::Regex(v) => StringMatcher { safe_regex: Some(RegexMatcher { regex: v.clone() }), ..Default::default() },
            StringMatch::Suffix(v) => StringMatcher { suffix: Some(v.clone()), ..Default::default() },
        }
    }
    /// Envoy Gateway's StringMatch; `ignore_case` where the pattern is not a regular expression.
    pub fn of_value(m: &crate::resolve::traffic_http::ValueMatch, ignore_case: bool) -> Self {
        use crate::resolve::traffic_http::ValueMatch;
        match m {
            ValueMatch::Exact(v) => StringMatcher { exact: Some(v.clone()), ignore_case, ..Default::default() },
            ValueMatch::Prefix(v) => StringMatcher { prefix: Some(v.clone()), ignore_case, ..Default::default() },
            ValueMatch::Suffix(v) => StringMatcher { suffix: Some(v.clone()), ignore_case, ..Default::default() },
            ValueMatch::Regex(v) => StringMatcher { safe_regex: Some(RegexMatcher { regex: v.clone() }), ..Default::default() },
        }
    }
}

#[derive(Serialize)]
pub struct HeaderMatcher {
    pub name: String,
    pub string_match: StringMatcher,
}

#[derive(Serialize)]
pub struct QueryParameterMatcher {
    pub name: String,
    pub string_match: StringMatcher,
}

#[derive(Serialize, Default)]
pub struct RouteAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weighted_clusters: Option<WeightedClusters>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_rewrite_literal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_rewrite_header: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub auto_host_rewrite: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_rewrite_path_regex: Option<RegexRewrite>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub append_x_forwarded_host: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_rewrite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_rewrite: Option<RegexRewrite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// How long a stream may sit without activity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hash_policy: Vec<super::policy::HashPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_mirror_policies: Vec<RequestMirrorPolicy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upgrade_configs: Vec<super::http_filters::RouteUpgrade>,
}

#[derive(Serialize)]
pub struct RequestMirrorPolicy {
    pub cluster: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime_fraction: Option<RuntimeFractionalPercent>,
}

#[derive(Serialize)]
pub struct RuntimeFractionalPercent {
    pub default_value: FractionalPercent,
}

#[derive(Serialize)]
pub struct FractionalPercent {
    pub numerator: u32,
    pub denominator: &'static str,
}

#[derive(Serialize, Default)]
pub struct RetryPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_on: Option<String>,
    pub num_retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_try_timeout: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retriable_status_codes: Vec<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_back_off: Option<RetryBackOff>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retry_host_predicate: Vec<super::policy::RetryHostPredicate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_selection_retry_max_attempts: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_priority: Option<super::policy::RetryPriority>,
}

#[derive(Serialize)]
pub struct RetryBackOff {
    pub base_interval: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_interval: Option<String>,
}

#[derive(Serialize)]
pub struct WeightedClusters {
    pub clusters: Vec<ClusterWeight>,
}

#[derive(Serialize)]
pub struct ClusterWeight {
    pub name: String,
    pub weight: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers_to_remove: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_add: Vec<HeaderValueOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub response_headers_to_remove: Vec<String>,
    /// Filters turned on towards this cluster only (its credential injector); boxed, as most
    /// clusters have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typed_per_filter_config: Option<Box<PerFilterConfig>>,
}

#[derive(Serialize)]
pub struct RegexRewrite {
    pub pattern: RegexMatcher,
    pub substitution: String,
}

#[derive(Serialize, Default)]
pub struct RedirectAction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme_redirect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_redirect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_redirect: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_redirect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_rewrite: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regex_rewrite: Option<RegexRewrite>,
    pub response_code: &'static str,
}

#[derive(Serialize)]
pub struct DirectResponse {
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<super::types::DataSource>,
}

#[derive(Serialize)]
pub struct HeaderValueOption {
    pub header: HeaderValue,
    pub append_action: &'static str,
}

#[derive(Serialize)]
pub struct HeaderValue {
    pub key: String,
    pub value: String,
}
