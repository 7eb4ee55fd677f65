//! HTTP rules as resolve hands them to the IR: every Gateway API field interpreted (defaults
//! applied, filters split into what they do, backends resolved), no `api` type left. HTTPRoute
//! and GRPCRoute produce them.

use super::backend::BackendTarget;
use crate::id::RuleId;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathMatch {
    Exact(String),
    /// Segment-aware prefix, without a trailing slash; `/` matches everything.
    Prefix(String),
    Regex(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StringMatch {
    Exact(String),
    Regex(String),
    /// GRPCRoute's method-only match on `:path`, as Envoy Gateway writes it.
    Suffix(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeyMatch {
    pub name: String,
    pub value: StringMatch,
}

/// One match of a rule (the rule matches when any of its matches does).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpMatch {
    pub path: PathMatch,
    pub method: Option<String>,
    /// Header names lowercased.
    pub headers: Vec<KeyMatch>,
    pub query: Vec<KeyMatch>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct HeaderOps {
    pub set: Vec<(String, String)>,
    pub add: Vec<(String, String)>,
    pub remove: Vec<String>,
}

impl HeaderOps {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// A path modifier before it meets a match: the whole path, or a replacement for the matched
/// prefix (trailing slashes trimmed, `/` kept).
#[derive(Debug, Clone, PartialEq)]
pub enum PathModifier {
    Full(String),
    Prefix(String),
    /// Every match of an RE2 pattern replaced (an HTTPRouteFilter's ReplaceRegexMatch).
    Regex { pattern: String, substitution: String },
}

/// What the Host becomes towards the backend.
#[derive(Debug, Clone, PartialEq)]
pub enum HostRewrite {
    Literal(String),
    /// The value of a request header.
    Header(String),
    /// The backend's own host name (a DNS backend's).
    Backend,
    /// The path with an RE2 pattern replaced.
    PathRegex { pattern: String, substitution: String },
}

/// RequestRedirect as written; the port rules that depend on the listener apply in the IR.
#[derive(Debug, Clone, PartialEq)]
pub struct RedirectSpec {
    pub scheme: Option<&'static str>,
    pub hostname: Option<String>,
    pub port: Option<u32>,
    pub path: Option<PathModifier>,
    pub status: u16,
}

/// Retries of a route (Gateway API experimental `retry`).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryIr {
    pub attempts: u32,
    pub codes: Vec<u16>,
    pub backoff_ms: Option<u64>,
}

/// Session persistence: requests carrying the session go to the same endpoint.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionIr {
    Cookie { name: String, ttl_ms: Option<u64> },
    Header { name: String },
}

/// Cross-origin resource sharing for a route.
#[derive(Debug, Clone, PartialEq)]
pub struct CorsIr {
    /// Allowed origins; `*` in a host matches any labels to its left.
    pub origins: Vec<StringMatch>,
    pub methods: Vec<String>,
    pub headers: Vec<String>,
    pub expose_headers: Vec<String>,
    /// Seconds a preflight's answer may be cached; unset: no Access-Control-Max-Age.
    pub max_age: Option<u32>,
    pub credentials: bool,
}

/// One backend of a rule with its share and its own filters.
#[derive(Debug, Clone)]
pub struct WeightedBackend {
    pub target: Arc<BackendTarget>,
    pub weight: u32,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    /// A credential injected on the way to this backend only (an HTTPRouteFilter named by an
    /// ExtensionRef filter of the backendRef).
    pub credential: Option<Arc<Credential>>,
}

/// What a backendRef's own filters do.
#[derive(Debug, Clone, Default)]
pub struct BackendFilters {
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    pub credential: Option<Arc<Credential>>,
    /// A filter that cannot be applied: the backend's share answers 500.
    pub failed: bool,
}

/// Forwarding to backends and what happens on the way.
#[derive(Debug, Clone)]
pub struct Forward {
    /// Valid backends with a weight above 0.
    pub backends: Vec<WeightedBackend>,
    /// Total weight of the backendRefs that did not resolve (their share answers 500).
    pub invalid_weight: u32,
    pub host_rewrite: Option<HostRewrite>,
    /// The original Host goes to the backend in X-Forwarded-Host.
    pub append_x_forwarded_host: bool,
    pub path_rewrite: Option<PathModifier>,
    /// Whole request, in milliseconds (0: none); None: Envoy's default.
    pub timeout_ms: Option<u64>,
    /// Each try, in milliseconds.
    pub backend_timeout_ms: Option<u64>,
    /// Copies of requests: where, and the share in millionths.
    pub mirrors: Vec<(Arc<BackendTarget>, u32)>,
    pub retry: Option<RetryIr>,
    pub session: Option<SessionIr>,
    /// Backends speak HTTP/2 whatever their appProtocol (GRPCRoute).
    pub http2: bool,
}

#[derive(Debug, Clone)]
pub enum RuleAction {
    Forward(Forward),
    Redirect(RedirectSpec),
    /// A fixed answer: 500 for a rule without a usable backend or with a filter that cannot
    /// be applied, as the spec asks; an HTTPRouteFilter's directResponse, with its body.
    Respond(u16, Option<String>),
}

/// One rule, interpreted.
#[derive(Debug, Clone)]
pub struct HttpRule {
    pub id: RuleId,
    pub matches: Vec<HttpMatch>,
    pub request_headers: HeaderOps,
    pub response_headers: HeaderOps,
    pub cors: Option<CorsIr>,
    /// A credential put into a request header (an HTTPRouteFilter's credentialInjection).
    pub credential: Option<Arc<Credential>>,
    pub action: RuleAction,
}

/// A credential injected into requests: the filter named after its HTTPRouteFilter, the
/// header, the secret's name in the bootstrap and its value (never printed by `Debug`).
#[derive(Clone, PartialEq)]
pub struct Credential {
    pub filter: String,
    pub header: String,
    pub overwrite: bool,
    pub secret_name: String,
    pub value: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("filter", &self.filter).field("header", &self.header).field("overwrite", &self.overwrite).finish_non_exhaustive()
    }
}

/// An HTTP route's rules, resolved once and shared by every parent it attaches to.
#[derive(Debug)]
pub struct HttpRoute {
    pub key: crate::id::ObjectKey,
    pub loc: crate::source::Locator,
    pub rules: Vec<HttpRule>,
}
