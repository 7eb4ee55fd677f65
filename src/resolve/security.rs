//! A SecurityPolicy's translation: what Envoy must check before a request reaches its route's
//! backends (CORS, CSRF, basic auth, API keys, authorization), free of Envoy's types. Secret
//! material (htpasswd lines, API keys) lives here and in the bootstrap only: `Debug` of these
//! types never prints it, and no message names it.

use super::backend::Index;
use super::http::{CorsIr, StringMatch};
use crate::api::sp::{self as s, AuthorizationAction};
use base64::Engine;

/// What one SecurityPolicy asks of the routes it covers.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Security {
    pub cors: Option<CorsIr>,
    pub csrf: Option<Csrf>,
    pub basic_auth: Option<BasicAuth>,
    pub api_keys: Option<ApiKeys>,
    pub jwt: Option<Jwt>,
    pub ext_auth: Option<ExtAuth>,
    pub oidc: Option<super::oidc::Oidc>,
    pub authorization: Option<Authorization>,
}

/// External authorization: each request is first asked of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtAuth {
    /// The ext_authz filter of this policy (one per policy, off unless a route turns it on).
    pub filter: String,
    pub cluster: String,
    /// The service's backends and their weights.
    pub backends: Vec<(std::sync::Arc<super::backend::BackendTarget>, u32)>,
    pub grpc: bool,
    /// `Host` of the check requests: the first backend's `name.namespace:port`.
    pub authority: String,
    /// HTTP: prefix of the check request's path.
    pub path: String,
    /// HTTP: headers of the service's answer that go on to the backend.
    pub headers_to_backend: Vec<String>,
    pub headers_to_ext_auth: Vec<String>,
    pub fail_open: bool,
    pub body_max_bytes: Option<u32>,
    pub timeout_ms: u64,
    pub status_on_error: Option<u16>,
    pub recompute_route: bool,
}

/// JWT authentication: a token one of the providers verifies (any of them).
#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    pub providers: Vec<JwtProvider>,
    /// A request without a token passes.
    pub allow_missing: bool,
    /// A request with a missing or invalid token passes.
    pub fail_open: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JwtProvider {
    pub name: String,
    pub issuer: Option<String>,
    pub audiences: Vec<String>,
    pub jwks: Jwks,
    /// (header, claim).
    pub claim_to_headers: Vec<(String, String)>,
    pub recompute_route: bool,
    /// (header, value prefix); none of the three: `Authorization: Bearer`.
    pub from_headers: Vec<(String, String)>,
    pub from_cookies: Vec<String>,
    pub from_params: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Jwks {
    /// The key set itself (public keys).
    Local(String),
    Remote(RemoteJwks),
}

/// Keys fetched from an endpoint, cached.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteJwks {
    pub endpoint: Upstream,
    pub cache_ms: u64,
    pub failed_refetch_ms: Option<u64>,
}

/// A URI Envoy calls itself (a key set, a token endpoint) through the cluster `cluster`: its
/// host and port, TLS for https.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    pub uri: String,
    pub cluster: String,
    pub host: String,
    pub port: u32,
    pub tls: bool,
    /// Where it is reached when backendRefs name it (each target with its weight); empty:
    /// the URI's host by DNS.
    pub backends: Vec<(std::sync::Arc<super::backend::BackendTarget>, u32)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Csrf {
    /// Hosts (with port) besides the request's own that may send state-changing requests.
    pub additional_origins: Vec<StringMatch>,
    /// The share of requests checked and refused when cross-origin, in millionths; the rest
    /// are checked in shadow (counted, let through) when `shadow`.
    pub enforced_per_million: u32,
    pub shadow: bool,
}

#[derive(Clone, PartialEq)]
pub struct BasicAuth {
    /// The Secret it came from (`namespace/name`), which names its file.
    pub secret: String,
    /// htpasswd lines, `{SHA}` only (what Envoy supports).
    pub htpasswd: String,
    pub forward_username_header: Option<String>,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth").field("secret", &self.secret).field("users", &self.htpasswd.lines().count()).field("forward_username_header", &self.forward_username_header).finish()
    }
}

#[derive(Clone, PartialEq)]
pub struct ApiKeys {
    /// (client ID, key), by client ID.
    pub credentials: Vec<(String, String)>,
    pub sources: Vec<KeySource>,
    pub forward_client_id_header: Option<String>,
    pub sanitize: bool,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let clients: Vec<&str> = self.credentials.iter().map(|(c, _)| c.as_str()).collect();
        f.debug_struct("ApiKeys").field("clients", &clients).field("sources", &self.sources).field("forward_client_id_header", &self.forward_client_id_header).field("sanitize", &self.sanitize).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Header(String),
    Query(String),
    Cookie(String),
}

/// Rules in order; the first that matches decides, else the default.
#[derive(Debug, Clone, PartialEq)]
pub struct Authorization {
    pub default_allow: bool,
    pub rules: Vec<AuthorizationRule>,
}

/// Every part set must match.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizationRule {
    pub name: String,
    pub allow: bool,
    /// Any of these methods.
    pub methods: Vec<String>,
    pub path: Option<PathCheck>,
    /// The client address (as clientIPDetection found it) is in one of these: (address, length).
    pub cidrs: Vec<(String, u32)>,
    /// Each header has one of its values.
    pub headers: Vec<(String, Vec<String>)>,
    pub jwt: Option<JwtCheck>,
}

/// Claims and scopes of the token a provider verified: all must match.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtCheck {
    pub provider: String,
    /// (claim path, the claim is a list, any of these values).
    pub claims: Vec<(Vec<String>, bool, Vec<String>)>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PathCheck {
    /// A regex over `:path` (RE2), or `None` for "any path" (the prefix `/`).
    pub regex: Option<String>,
    pub invert: bool,
}

/// Translate a policy's spec, looking up the Secrets it names in `ns`. The error is Envoy
/// Gateway's message (the policy's Accepted=False condition); the routes it covers answer 500.
/// With Ok, a message when the external authorization alone failed and fails open: the
/// policy applies without it (and is Invalid in status), as Envoy Gateway does.
pub fn build(spec: &s::SecurityPolicySpec, key: &crate::id::ObjectKey, index: &Index) -> Result<(Security, Option<String>), String> {
    let ns = key.namespace.as_str();
    let mut errs: Vec<String> = Vec::new();
    let mut out = Security { cors: spec.cors.as_ref().map(cors), csrf: spec.csrf.as_ref().map(csrf), ..Default::default() };
    if let Some(b) = &spec.basic_auth {
        match basic_auth(b, ns, index) {
            Ok(b) => out.basic_auth = Some(b),
            Err(e) => errs.push(format!("BasicAuth: {e}")),
        }
    }
    if let Some(k) = &spec.api_key_auth {
        match api_keys(k, ns, index) {
            Ok(k) => out.api_keys = Some(k),
            Err(e) => errs.push(format!("APIKeyAuth: {e}")),
        }
    }
    if let Some(j) = &spec.jwt {
        match jwt(j, key, index) {
            Ok(j) => out.jwt = Some(j),
            Err(e) => errs.push(format!("JWT: {e}")),
        }
    }
    if let Some(o) = &spec.oidc {
        match super::oidc::build(o, spec.jwt.as_ref(), key, index) {
            Ok(o) => out.oidc = Some(o),
            Err(e) => errs.push(format!("OIDC: {e}")),
        }
    }
    if let Some(a) = &spec.authorization {
        match authorization(a, key) {
            Ok(a) => out.authorization = Some(a),
            Err(e) => errs.push(format!("Authorization: {e}")),
        }
    }
    let mut degraded = None;
    if let Some(e) = &spec.ext_auth {
        match ext_auth(e, key, index) {
            Ok(e) => out.ext_auth = Some(e),
            Err(e) if errs.is_empty() && spec.ext_auth.as_ref().and_then(|e| e.fail_open) == Some(true) => degraded = Some(format!("ExtAuth: {e}")),
            Err(e) => errs.push(format!("ExtAuth: {e}")),
        }
    }
    if errs.is_empty() { Ok((out, degraded)) } else { Err(errs.join("; ")) }
}

/// The Host an external authorization service is asked with: a Service's
/// `<name>.<namespace>:<port>`, as Envoy Gateway writes it; a Backend's first endpoint
/// (`host:port`), or `<name>.<namespace>` for a Unix socket.
pub(super) fn authority(t: &super::backend::BackendTarget) -> String {
    use super::backend::{Endpoints, TargetKind, unix_path};
    if t.kind == TargetKind::Service {
        return format!("{}.{}:{}", t.service, t.namespace, t.port);
    }
    let (Endpoints::Static(eps) | Endpoints::Dns(eps)) = &t.endpoints;
    match eps.first() {
        Some(e) if unix_path(e).is_none() => {
            let host = if e.0.contains(':') { format!("[{}]", e.0) } else { e.0.clone() };
            format!("{host}:{}", e.1)
        }
        _ => format!("{}.{}", t.service, t.namespace),
    }
}

fn ext_auth(e: &s::ExtAuth, key: &crate::id::ObjectKey, index: &Index) -> Result<ExtAuth, String> {
    use super::backend::BackendRef;
    use crate::api::core::PortProtocol;
    let (svc, grpc) = match (&e.grpc, &e.http) {
        (Some(g), None) => (g, true),
        (None, Some(h)) => (h, false),
        _ => return Err("one of grpc or http must be specified".into()),
    };
    let mut backends = Vec::new();
    for r in svc.backend_ref.iter().chain(&svc.backend_refs) {
        let to = BackendRef { group: &r.group, kind: &r.kind, name: &r.name, namespace: r.namespace.as_deref(), port: r.port };
        let t = index.target((crate::api::Kind::SecurityPolicy, &key.namespace), to, PortProtocol::Tcp).map_err(|u| u.message)?;
        if let Some(super::backendtls::BackendTls::Refused(p)) = &t.tls {
            return Err(format!("the BackendTLSPolicy {}/{} of {} {}/{} has no valid CA", p.namespace, p.name, t.kind.name(), t.namespace, t.service));
        }
        backends.push((t, r.weight.unwrap_or(1)));
    }
    let Some((first, _)) = backends.first() else { return Err("backendRefs must be specified".into()) };
    let authority = authority(first);
    Ok(ExtAuth {
        filter: crate::names::ext_auth_filter(key),
        cluster: crate::names::ext_auth_cluster(key),
        grpc,
        authority,
        path: svc.path.clone().unwrap_or_default(),
        headers_to_backend: svc.headers_to_backend.clone(),
        headers_to_ext_auth: e.headers_to_ext_auth.clone(),
        fail_open: e.fail_open.unwrap_or(false),
        body_max_bytes: e.body_to_ext_auth.map(|b| b.max_request_bytes),
        timeout_ms: e.timeout.as_deref().and_then(crate::api::httproute::duration_ms).unwrap_or(10_000),
        status_on_error: e.status_on_error,
        recompute_route: e.recompute_route.unwrap_or(false),
        backends,
    })
}

fn cors(c: &s::Cors) -> CorsIr {
    CorsIr {
        origins: c.allow_origins.iter().map(|o| super::httproute::origin_match(o)).collect(),
        methods: c.allow_methods.clone(),
        headers: c.allow_headers.clone(),
        expose_headers: c.expose_headers.clone(),
        max_age: c.max_age.as_deref().and_then(crate::api::httproute::duration_ms).map(|ms| u32::try_from(ms / 1000).unwrap_or(u32::MAX)),
        credentials: c.allow_credentials.unwrap_or(false),
    }
}

/// Envoy's CSRF filter compares host and port only: an origin's scheme is dropped.
fn csrf(c: &s::Csrf) -> Csrf {
    let additional_origins = c
        .additional_origins
        .iter()
        .map(|o| match o.split_once("://") {
            Some((_, host)) => super::httproute::origin_match(host),
            None => super::httproute::origin_match(o),
        })
        .collect();
    let (enforced_per_million, shadow) = match c.shadow_fraction {
        None => (1_000_000, false),
        Some(f) => {
            let d = i64::from(f.denominator.unwrap_or(100).max(1));
            let n = i64::from(f.numerator).clamp(0, d);
            (u32::try_from((d - n) * 1_000_000 / d).unwrap_or(0), true)
        }
    };
    Csrf { additional_origins, enforced_per_million, shadow }
}

/// The bytes under `key` of a Secret the policy names (its namespace unless the reference
/// says, then only with a ReferenceGrant), or Envoy Gateway's message.
pub(super) fn secret_entries<'a>(r: &crate::api::meta::SecretObjectReference, ns: &str, index: &Index<'a>) -> Result<(&'a crate::api::Secret, String), String> {
    secret_entries_from("SecurityPolicy", r, ns, index)
}

/// [`secret_entries`] for a referrer of another Envoy Gateway kind (`from`, as
/// ReferenceGrants name it).
pub(super) fn secret_entries_from<'a>(from: &str, r: &crate::api::meta::SecretObjectReference, ns: &str, index: &Index<'a>) -> Result<(&'a crate::api::Secret, String), String> {
    let sns = r.namespace.as_deref().unwrap_or(ns);
    if !(r.group.is_empty() && r.kind == "Secret") {
        return Err(format!("unsupported kind {} of group `{}`: only a Secret can be referenced", r.kind, r.group));
    }
    if sns != ns && !index.granted_from(crate::api::ENVOY_GATEWAY_GROUP, from, ns, "", "Secret", sns, &r.name) {
        return Err(format!("secret ref to Secret {sns}/{} is not permitted by any ReferenceGrant", r.name));
    }
    let secret = index.secret(sns, &r.name).ok_or_else(|| format!("secret {sns}/{} does not exist", r.name))?;
    Ok((secret, format!("{sns}/{}", r.name)))
}

/// A Secret's value under `key` as text, when it is there and is text.
pub(super) fn secret_text(secret: &crate::api::Secret, key: &str) -> Option<String> {
    secret_value(secret, key).and_then(Result::ok).and_then(|b| String::from_utf8(b).ok())
}

/// A Secret's value under `key` (stringData wins over data, as the API server merges them).
fn secret_value(secret: &crate::api::Secret, key: &str) -> Option<Result<Vec<u8>, ()>> {
    if let Some(v) = secret.string_data.get(key) {
        return Some(Ok(v.as_bytes().to_vec()));
    }
    secret.data.get(key).map(|b64| base64::engine::general_purpose::STANDARD.decode(b64.trim()).map_err(|_| ()))
}

fn basic_auth(b: &s::BasicAuth, ns: &str, index: &Index) -> Result<BasicAuth, String> {
    let (secret, name) = secret_entries(&b.users, ns, index)?;
    let missing = || format!("users secret not found in secret {name}");
    let bytes = secret_value(secret, ".htpasswd").ok_or_else(missing)?.map_err(|_| format!("secret {name}: `.htpasswd` is not base64"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("secret {name}: `.htpasswd` is not text"))?.replace("\r\n", "\n");
    if text.trim().is_empty() {
        return Err(missing());
    }
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((_, password)) = line.split_once(':') else {
            return Err("invalid htpasswd format: each line must be in the format 'username:password'".into());
        };
        let Some(hash) = password.strip_prefix("{SHA}") else {
            return Err("unsupported htpasswd format: please use {SHA}".into());
        };
        match base64::engine::general_purpose::STANDARD.decode(hash) {
            Ok(h) if h.len() == 20 => {}
            Ok(_) => return Err("invalid htpasswd format: {SHA} must be SHA1 (20 bytes)".into()),
            Err(_) => return Err("invalid htpasswd format: {SHA} must be base64-encoded SHA1".into()),
        }
    }
    Ok(BasicAuth { secret: name, htpasswd: text, forward_username_header: b.forward_username_header.clone() })
}

fn api_keys(k: &s::ApiKeyAuth, ns: &str, index: &Index) -> Result<ApiKeys, String> {
    let mut credentials: Vec<(String, String)> = Vec::new();
    for r in &k.credential_refs {
        let (secret, name) = secret_entries(r, ns, index)?;
        let mut clients: Vec<&String> = secret.data.keys().chain(secret.string_data.keys()).collect();
        clients.sort();
        clients.dedup();
        for client in clients {
            // The first Secret that names a client gives its key.
            if credentials.iter().any(|(c, _)| c == client) {
                continue;
            }
            let key = secret_value(secret, client)
                .and_then(Result::ok)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| format!("secret {name}: the key of client {client} is not base64 of text"))?;
            if credentials.iter().any(|(_, k)| *k == key) {
                return Err("duplicated API key".into());
            }
            credentials.push((client.clone(), key));
        }
    }
    credentials.sort();
    let mut sources = Vec::new();
    for e in &k.extract_from {
        sources.extend(e.headers.iter().flatten().map(|h| KeySource::Header(h.clone())));
        sources.extend(e.params.iter().flatten().map(|h| KeySource::Query(h.clone())));
        sources.extend(e.cookies.iter().flatten().map(|h| KeySource::Cookie(h.clone())));
    }
    Ok(ApiKeys { credentials, sources, forward_client_id_header: k.forward_client_id_header.clone().filter(|h| !h.is_empty()), sanitize: k.sanitize.unwrap_or(false) })
}

fn authorization(a: &s::Authorization, key: &crate::id::ObjectKey) -> Result<Authorization, String> {
    let mut rules = Vec::with_capacity(a.rules.len());
    for (i, r) in a.rules.iter().enumerate() {
        let p = r.principal.clone().unwrap_or_default();
        let mut cidrs = Vec::new();
        for c in p.client_cidrs.iter().flatten() {
            cidrs.push(cidr(c).ok_or_else(|| format!("unable to translate authorization rule: invalid CIDR address: {c}"))?);
        }
        let (methods, path) = match &r.operation {
            Some(o) => (o.methods.iter().map(|m| m.as_str().to_string()).collect(), o.path.as_ref().map(path_check).transpose()?),
            None => (Vec::new(), None),
        };
        rules.push(AuthorizationRule {
            name: r.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| crate::names::authorization_rule(key, i)),
            allow: r.action == AuthorizationAction::Allow,
            methods,
            path,
            cidrs,
            headers: p.headers.iter().flatten().map(|h| (h.name.clone(), h.values.clone())).collect(),
            jwt: p.jwt.as_ref().map(|j| JwtCheck {
                provider: j.provider.clone(),
                claims: j.claims.iter().map(|c| (c.name.split('.').map(str::to_string).collect(), c.value_type.as_deref() == Some("StringArray"), c.values.clone())).collect(),
                scopes: j.scopes.clone(),
            }),
        });
    }
    Ok(Authorization { default_allow: a.default_action == Some(AuthorizationAction::Allow), rules })
}

/// `10.0.0.0/8` as (address, length); None when it is not a CIDR.
fn cidr(c: &str) -> Option<(String, u32)> {
    let (addr, len) = c.split_once('/')?;
    let ip: std::net::IpAddr = addr.parse().ok()?;
    let len: u32 = len.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then(|| (ip.to_string(), len))
}

/// An operation's path as a regex over `:path` (which carries the query), as Envoy Gateway
/// matches it.
fn path_check(p: &s::OperationPath) -> Result<PathCheck, String> {
    let esc = crate::validate::regex::escape;
    let regex = match p.type_.as_deref().unwrap_or("PathPrefix") {
        "Exact" => Some(format!("^{}([?#].*)?$", esc(&p.value))),
        "RegularExpression" => {
            crate::validate::regex::check_re2(&p.value).map_err(|e| format!("invalid path regex {:?}: {e}", p.value))?;
            Some(p.value.clone())
        }
        _ if p.value == "/" => None,
        _ => Some(format!("^{}(/.*|[?#].*)?$", esc(p.value.trim_end_matches('/')))),
    };
    Ok(PathCheck { regex, invert: p.invert.unwrap_or(false) })
}

fn jwt(j: &s::Jwt, key: &crate::id::ObjectKey, index: &Index) -> Result<Jwt, String> {
    let ns = key.namespace.as_str();
    let mut providers: Vec<JwtProvider> = Vec::with_capacity(j.providers.len());
    for p in &j.providers {
        if providers.iter().any(|q| q.name == p.name) {
            return Err(format!("provider name {} must be unique", p.name));
        }
        if let Some(iss) = &p.issuer {
            if iss.contains(':') && parse_uri(iss).is_none() {
                return Err("invalid issuer; when issuer contains ':' character, it MUST be a valid URI".into());
            }
            if !iss.contains(':') && iss.contains('@') && !iss.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.')) {
                return Err("invalid issuer; when issuer contains '@' character, it MUST be a valid Email Address format".into());
            }
        }
        let jwks = match (&p.remote_jwks, &p.local_jwks) {
            (Some(r), _) => Jwks::Remote(remote_jwks(r, &p.name, key, index)?),
            (None, Some(l)) => Jwks::Local(local_jwks(l, &p.name, ns, index)?),
            (None, None) => return Err(format!("either remoteJWKS or localJWKS must be specified for jwt provider: {}", p.name)),
        };
        let from = p.extract_from.clone().unwrap_or_default();
        providers.push(JwtProvider {
            name: p.name.clone(),
            issuer: p.issuer.clone().filter(|i| !i.is_empty()),
            audiences: p.audiences.clone(),
            jwks,
            claim_to_headers: p.claim_to_headers.iter().map(|c| (c.header.clone(), c.claim.clone())).collect(),
            recompute_route: p.recompute_route.unwrap_or(false),
            from_headers: from.headers.iter().map(|h| (h.name.clone(), h.value_prefix.clone().unwrap_or_default())).collect(),
            from_cookies: from.cookies,
            from_params: from.params,
        });
    }
    Ok(Jwt { providers, allow_missing: j.optional.unwrap_or(false), fail_open: j.fail_open.unwrap_or(false) })
}

fn local_jwks(l: &s::LocalJwks, provider: &str, ns: &str, index: &Index) -> Result<String, String> {
    if l.type_.as_deref().unwrap_or("Inline") == "Inline" {
        return l.inline.clone().ok_or_else(|| format!("inline JWKS must be set for local JWKS provider: {provider} if type is Inline"));
    }
    let r = l.value_ref.as_ref().ok_or_else(|| format!("valueRef must be set for local JWKS provider: {provider} if type is ValueRef"))?;
    if !(r.group.is_empty() && r.kind == "ConfigMap") {
        return Err(format!("local JWKS valueRef kind {} of group `{}` is not supported: only a ConfigMap", r.kind, r.group));
    }
    let cm = index.config_map(ns, &r.name).ok_or_else(|| format!("local JWKS ConfigMap {ns}/{} not found", r.name))?;
    match cm.data.get("jwks") {
        Some(v) => Ok(v.clone()),
        // Envoy Gateway falls back to the entry when there is one (of several, it would pick
        // at random: refused here).
        None if cm.data.len() == 1 => Ok(cm.data.values().next().cloned().unwrap_or_default()),
        None => Err(format!("JWKS data not found in ConfigMap {ns}/{}, no \"jwks\" key and no other data found", r.name)),
    }
}

fn remote_jwks(r: &s::RemoteJwks, provider: &str, key: &crate::id::ObjectKey, index: &Index) -> Result<RemoteJwks, String> {
    let endpoint = remote_endpoint(&r.uri).ok_or_else(|| format!("invalid remote JWKS URI: {}", r.uri))?;
    let endpoint = through_backends(endpoint, &r.backend_refs, &format!("jwks/{provider}"), key, index)?;
    let ms = |d: &Option<String>| d.as_deref().and_then(crate::api::httproute::duration_ms);
    Ok(RemoteJwks { endpoint, cache_ms: ms(&r.cache_duration).unwrap_or(300_000), failed_refetch_ms: ms(&r.failed_refetch_duration) })
}

/// An http(s) URI as an [`Upstream`] (its cluster named after host and port); None when it
/// is not one.
pub(super) fn remote_endpoint(uri: &str) -> Option<Upstream> {
    let (tls, host, port) = parse_uri(uri)?;
    Some(Upstream { uri: uri.to_string(), cluster: crate::names::host_cluster(&host, port), host, port, tls, backends: Vec::new() })
}

/// An upstream reached through a policy's backendRefs (Services or Backends) instead of its
/// URI's host, in a cluster of the policy's own (`what`: `jwks/<provider>`, `oidc`).
pub(super) fn through_backends(mut u: Upstream, refs: &[crate::api::sp_auth::ExtBackendRef], what: &str, key: &crate::id::ObjectKey, index: &Index) -> Result<Upstream, String> {
    use super::backend::BackendRef;
    if refs.is_empty() {
        return Ok(u);
    }
    for r in refs {
        let to = BackendRef { group: &r.group, kind: &r.kind, name: &r.name, namespace: r.namespace.as_deref(), port: r.port };
        let t = index.target((crate::api::Kind::SecurityPolicy, &key.namespace), to, crate::api::core::PortProtocol::Tcp).map_err(|e| e.message)?;
        if let Some(super::backendtls::BackendTls::Refused(p)) = &t.tls {
            return Err(format!("the BackendTLSPolicy {}/{} of {} {}/{} has no valid CA", p.namespace, p.name, t.kind.name(), t.namespace, t.service));
        }
        u.backends.push((t, r.weight.unwrap_or(1)));
    }
    u.cluster = crate::names::policy_backend_cluster(key, what);
    Ok(u)
}

/// An http or https URI as (TLS, host, port); None when it is not one.
fn parse_uri(uri: &str) -> Option<(bool, String, u32)> {
    let (scheme, rest) = uri.split_once("://")?;
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0)?.into(),
        None if tls => 443,
        None => 80,
    };
    Some((tls, host, port))
}
