//! SecurityPolicy (gateway.envoyproxy.io/v1alpha1): authentication and authorization at the
//! Gateways, listeners, routes or rules it targets. The fields gatewayc implements are typed
//! here with the v1.9.0 CRD's constraints; every other field of the CRD is kept as data and
//! refused by name (`unsupported::field`), never dropped: a security setting ignored would let
//! in more than the user meant.

use super::meta::SecretObjectReference;
use super::policy::{LocalPolicyTargetReference, MergeType, PolicyTargets, TargetSelector};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

type Other = Option<serde_json::Value>;

pub use super::sp_auth::*;

/// `cors.allowOrigins` and `csrf.additionalOrigins`: a scheme and host, `*` allowed.
const ORIGIN: &str = r"^(\*|[A-Za-z][A-Za-z0-9+.-]*:\/\/(\*|(\*\.)?(([\w-]+\.?)+)?[\w-]+)(:\d{1,5})?)$";
/// A CIDR, v4 or v6: the CRD's pattern, unanchored as it is there (the address is parsed when
/// the policy is translated, as Envoy Gateway parses it).
const CIDR: &str = r"((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\/([0-9]+))|((([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))\/([0-9]+))";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityPolicySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ref: Option<LocalPolicyTargetReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_refs: Vec<LocalPolicyTargetReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_selectors: Vec<TargetSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_type: Option<MergeType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Cors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf: Option<Csrf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    #[serde(rename = "apiKeyAuth", default, skip_serializing_if = "Option::is_none")]
    pub api_key_auth: Option<ApiKeyAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<Jwt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_auth: Option<ExtAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<Oidc>,
}

impl SecurityPolicySpec {
    pub fn targets(&self) -> PolicyTargets<'_> {
        PolicyTargets { target_ref: self.target_ref.as_ref(), target_refs: &self.target_refs, target_selectors: &self.target_selectors }
    }
    /// The parts of the policy gatewayc does not implement yet that it sets: (JSON pointer,
    /// what). Validation refuses each by name; with `--allow-unsupported` the policy closes
    /// its routes instead of applying without them.
    pub fn unsupported_parts(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |at: String, what: &str| out.push((at, what.to_string()));
        if let Some(o) = &self.oidc {
            refs_unsupported(&o.provider.backend_refs, "/spec/oidc/provider/backendRefs", &mut add);
            for (field, set) in [("provider/backendSettings", o.provider.backend_settings.is_some()), ("forwardIDToken", o.forward_id_token.is_some())] {
                if set {
                    add(format!("/spec/oidc/{field}"), &format!("SecurityPolicy oidc.{}", field.replace('/', ".")));
                }
            }
        }
        for (i, r) in self.authorization.iter().flat_map(|a| a.rules.iter().enumerate()) {
            let at = format!("/spec/authorization/rules/{i}");
            if r.cel.is_some() {
                add(format!("{at}/cel"), "SecurityPolicy authorization.rules.cel");
            }
            if r.principal.as_ref().is_some_and(|p| p.client_ip_geo_locations.is_some()) {
                add(format!("{at}/principal/clientIPGeoLocations"), "SecurityPolicy authorization.rules.principal.clientIPGeoLocations");
            }
        }
        for (i, p) in self.jwt.iter().flat_map(|j| j.providers.iter().enumerate()) {
            let Some(r) = &p.remote_jwks else { continue };
            refs_unsupported(&r.backend_refs, &format!("/spec/jwt/providers/{i}/remoteJWKS/backendRefs"), &mut add);
            if r.backend_settings.is_some() {
                add(format!("/spec/jwt/providers/{i}/remoteJWKS/backendSettings"), "SecurityPolicy jwt remoteJWKS.backendSettings");
            }
        }
        let Some(e) = &self.ext_auth else { return out };
        for (field, set) in [("contextExtensions", e.context_extensions.is_some()), ("includeRouteMetadata", e.include_route_metadata == Some(true))] {
            if set {
                add(format!("/spec/extAuth/{field}"), &format!("SecurityPolicy extAuth.{field}"));
            }
        }
        for (kind, svc) in [("grpc", &e.grpc), ("http", &e.http)] {
            let Some(svc) = svc else { continue };
            let at = format!("/spec/extAuth/{kind}");
            let refs = svc.backend_ref.iter().map(|r| (format!("{at}/backendRef"), r)).chain(svc.backend_refs.iter().enumerate().map(|(i, r)| (format!("{at}/backendRefs/{i}"), r)));
            for (rat, r) in refs {
                ref_unsupported(r, &rat, "An extAuth backendRef", &mut add);
            }
            for (field, set) in [("backendSettings", svc.backend_settings.is_some()), ("pathOverride", svc.path_override.is_some())] {
                if set {
                    add(format!("{at}/{field}"), &format!("SecurityPolicy extAuth.{kind}.{field}"));
                }
            }
        }
        out
    }
}

/// Cross-origin resource sharing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cors {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(pattern(ORIGIN), length(min = 1, max = 253)))]
    pub allow_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"))]
    pub max_age: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
}

/// Cross-site request forgery protection: a request that changes state must come from the
/// same origin (or one of `additionalOrigins`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Csrf {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16), inner(pattern(ORIGIN), length(min = 1, max = 253)))]
    pub additional_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow_fraction: Option<Fraction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fraction {
    #[schemars(range(min = 0))]
    pub numerator: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub denominator: Option<i32>,
}

/// HTTP basic authentication against an htpasswd file in a Secret (key `.htpasswd`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BasicAuth {
    pub users: SecretObjectReference,
    /// The authenticated user's name goes to the backend in this header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_username_header: Option<String>,
}

/// API keys: each Secret's entries are client ID → key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiKeyAuth {
    pub credential_refs: Vec<SecretObjectReference>,
    #[schemars(length(min = 1))]
    pub extract_from: Vec<ExtractFrom>,
    #[serde(rename = "forwardClientIDHeader", default, skip_serializing_if = "Option::is_none")]
    pub forward_client_id_header: Option<String>,
    /// Remove the key from the request before it goes to the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sanitize: Option<bool>,
}

/// Where an API key is read: exactly one of headers, params (query) or cookies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtractFrom {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), inner(length(min = 1)))]
    pub headers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), inner(length(min = 1)))]
    pub params: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), inner(length(min = 1)))]
    pub cookies: Option<Vec<String>>,
}

/// Who may pass: rules in order, the first that matches decides; else `defaultAction`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Authorization {
    /// Deny when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_action: Option<AuthorizationAction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<AuthorizationRule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AuthorizationAction {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthorizationRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub name: Option<String>,
    pub action: AuthorizationAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// A CEL expression over the request: not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub cel: Option<String>,
}

/// What the request does: methods (any of) and a path.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Operation {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 16))]
    pub methods: Vec<Method>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<OperationPath>,
}

/// The CRD's methods are Gateway API's.
pub use super::httproute::HTTPMethod as Method;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OperationPath {
    /// PathPrefix when not set.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["Exact", "PathPrefix", "RegularExpression"]))]
    pub type_: Option<String>,
    #[schemars(length(max = 1024))]
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invert: Option<bool>,
}

/// Who the client is: every part set must match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Principal {
    /// The client's address (after ClientTrafficPolicy's clientIPDetection) is in one of these.
    #[serde(rename = "clientCIDRs", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), inner(pattern(CIDR)))]
    pub client_cidrs: Option<Vec<String>>,
    /// Each header has one of its values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 256))]
    pub headers: Option<Vec<HeaderPrincipal>>,
    /// Claims and scopes of the request's JWT (verified by one of `jwt`'s providers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtPrincipal>,
    /// GeoIP: not implemented.
    #[serde(rename = "clientIPGeoLocations", default, skip_serializing_if = "Option::is_none")]
    pub client_ip_geo_locations: Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HeaderPrincipal {
    #[schemars(length(min = 1, max = 256))]
    pub name: String,
    #[schemars(length(min = 1, max = 256))]
    pub values: Vec<String>,
}

/// JWT authentication: a request must carry a token one of the providers verifies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Jwt {
    /// A request without a token passes (one with an invalid token does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
    /// A request with a missing or invalid token passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_open: Option<bool>,
    #[schemars(length(min = 1, max = 16))]
    pub providers: Vec<JwtProvider>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JwtProvider {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 8))]
    pub audiences: Vec<String>,
    #[serde(rename = "remoteJWKS", default, skip_serializing_if = "Option::is_none")]
    pub remote_jwks: Option<RemoteJwks>,
    #[serde(rename = "localJWKS", default, skip_serializing_if = "Option::is_none")]
    pub local_jwks: Option<LocalJwks>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claim_to_headers: Vec<ClaimToHeader>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recompute_route: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extract_from: Option<JwtExtractFrom>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RemoteJwks {
    #[schemars(length(min = 1, max = 253))]
    pub uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"))]
    pub cache_duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"))]
    pub failed_refetch_duration: Option<String>,
    /// The CRD refuses it (`backendRefs` instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Other,
    /// Where the key set is fetched (Services or Backends); without them, the URI's host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub backend_refs: Vec<super::sp_auth::ExtBackendRef>,
    /// Not implemented (`unsupported::field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_settings: Other,
}

/// A key set: inline, or a ConfigMap's (key `jwks`, else its one entry).
pub type LocalJwks = super::policy::InlineOrRef;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClaimToHeader {
    pub header: String,
    /// A claim name; nested claims with dots (`a.b`).
    pub claim: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JwtExtractFrom {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<JwtHeader>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cookies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JwtHeader {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_prefix: Option<String>,
}

/// A JWT principal: every claim and every scope must match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JwtPrincipal {
    #[schemars(length(min = 1, max = 253))]
    pub provider: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 16))]
    pub claims: Vec<JwtClaim>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 16), inner(length(min = 1, max = 253)))]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct JwtClaim {
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// String when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["String", "StringArray"]))]
    pub value_type: Option<String>,
    #[schemars(length(min = 1, max = 128))]
    pub values: Vec<String>,
}

/// The parts of a policy's backendRef gatewayc does not implement: a kind other than Service
/// and Backend (ServiceImport), `fallback`.
pub(super) fn ref_unsupported(r: &super::sp_auth::ExtBackendRef, at: &str, what: &str, add: &mut impl FnMut(String, &str)) {
    if r.kind != "Service" && r.kind != "Backend" {
        add(format!("{at}/kind"), &format!("{what} of kind {}", r.kind));
    }
    if r.fallback.is_some() {
        add(format!("{at}/fallback"), &format!("{what}'s fallback"));
    }
}

fn refs_unsupported(refs: &[super::sp_auth::ExtBackendRef], at: &str, add: &mut impl FnMut(String, &str)) {
    for (i, r) in refs.iter().enumerate() {
        ref_unsupported(r, &format!("{at}/{i}"), "A SecurityPolicy backendRef", add);
    }
}
