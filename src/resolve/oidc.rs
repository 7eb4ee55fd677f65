//! A SecurityPolicy's OpenID Connect login, as Envoy Gateway translates it for Envoy's OAuth2
//! filter: the provider's endpoints, the client's credentials (from Secrets), the HMAC key
//! that signs the session cookies, and the cookie and token settings. Secret material
//! (client secret, HMAC key) is never printed by `Debug`.

use super::backend::Index;
use crate::api::sp as s;
use sha2::Digest;

#[derive(Clone, PartialEq)]
pub struct Oidc {
    /// The oauth2 filter of this policy (one per policy, off unless a route turns it on).
    pub filter: String,
    pub client_id: String,
    pub client_secret: String,
    /// Signs the cookies: derived from the policy and its client secret (Envoy Gateway
    /// generates one per installation; gatewayc's must be the same on every run).
    pub hmac: String,
    /// Names of the two secrets in the bootstrap (and their files).
    pub client_secret_name: String,
    pub hmac_name: String,
    pub authorization_endpoint: String,
    pub token_endpoint: super::security::Upstream,
    pub end_session_endpoint: Option<String>,
    pub scopes: Vec<String>,
    pub resources: Vec<String>,
    pub redirect_uri: String,
    pub redirect_path: String,
    pub logout_path: String,
    pub forward_access_token: bool,
    pub refresh_token: bool,
    pub default_token_ttl_ms: Option<u64>,
    pub default_refresh_token_ttl_ms: Option<u64>,
    pub csrf_token_ttl_ms: Option<u64>,
    /// The cookie names' suffix (one policy's cookies never collide with another's).
    pub cookie_suffix: String,
    pub access_token_cookie: Option<String>,
    pub id_token_cookie: Option<String>,
    pub cookie_domain: Option<String>,
    pub same_site: Option<String>,
    pub disable_token_encryption: bool,
    pub pass_through_auth_header: bool,
    /// (header, match): requests that get 401 instead of a redirect to the provider.
    pub deny_redirect: Vec<(String, super::traffic_http::ValueMatch)>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").field("filter", &self.filter).field("client_id", &self.client_id).field("authorization_endpoint", &self.authorization_endpoint).field("token_endpoint", &self.token_endpoint.uri).finish_non_exhaustive()
    }
}

const REDIRECT_URL: &str = "%REQ(x-forwarded-proto)%://%REQ(:authority)%/oauth2/callback";

pub fn build(o: &s::Oidc, jwt: Option<&s::Jwt>, key: &crate::id::ObjectKey, index: &Index) -> Result<Oidc, String> {
    let ns = key.namespace.as_str();
    if o.pass_through_auth_header == Some(true) {
        let Some(j) = jwt else { return Err("the OIDC.PassThroughAuthHeader setting must be used in conjunction with JWT settings".into()) };
        if !j.providers.iter().any(|p| p.extract_from.as_ref().is_none_or(|e| !e.headers.is_empty())) {
            return Err("the OIDC.PassThroughAuthHeader setting must be used in conjunction with a JWT provider that is configured to read from a header".into());
        }
    }
    let client_id = match (&o.client_id, &o.client_id_ref) {
        (Some(id), _) => id.clone(),
        (None, Some(r)) => {
            let (secret, name) = super::security::secret_entries(r, ns, index)?;
            super::security::secret_text(secret, "client-id").filter(|v| !v.is_empty()).ok_or_else(|| format!("client ID not found in secret {name}"))?
        }
        (None, None) => return Err(format!("client ID must be specified in OIDC policy {ns}/{}", key.name)),
    };
    let (secret, name) = super::security::secret_entries(&o.client_secret, ns, index)?;
    let client_secret = super::security::secret_text(secret, "client-secret").filter(|v| !v.is_empty()).ok_or_else(|| format!("client secret not found in secret {name}"))?;
    // Envoy Gateway discovers missing endpoints from the issuer over the network; an offline
    // compiler cannot, so they must be given.
    let (Some(authorization_endpoint), Some(token)) = (&o.provider.authorization_endpoint, &o.provider.token_endpoint) else {
        return Err(format!("provider.authorizationEndpoint and provider.tokenEndpoint must both be set: gatewayc does not discover them from the issuer {} (no network at translation time)", o.provider.issuer));
    };
    let token_endpoint = super::security::remote_endpoint(token).ok_or_else(|| format!("error parsing token endpoint URL: {token}"))?;
    let token_endpoint = super::security::through_backends(token_endpoint, &o.provider.backend_refs, "oidc", key, index)?;
    if token_endpoint.host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(format!("token endpoint URL must be a domain name: {token}"));
    }
    let (redirect_uri, redirect_path) = match &o.redirect_url {
        None => (REDIRECT_URL.to_string(), "/oauth2/callback".to_string()),
        Some(u) => {
            let path = u.split_once("://").map(|(_, rest)| rest.find('/').map_or("/", |i| &rest[i..])).ok_or_else(|| format!("invalid redirect URL {u}"))?;
            (u.clone(), path.split(['?', '#']).next().unwrap_or("/").to_string())
        }
    };
    let mut scopes = o.scopes.clone();
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    let digest = sha2::Sha256::digest(format!("{ns}/{}", key.name).as_bytes());
    let cookie_suffix = format!("{:x}", digest)[..8].to_string();
    let hmac = format!("{:x}", sha2::Sha256::digest(format!("gatewayc oidc hmac\\0{ns}/{}\\0{client_secret}", key.name).as_bytes()));
    let ms = |d: &Option<String>| d.as_deref().and_then(crate::api::httproute::duration_ms);
    let mut deny_redirect = Vec::new();
    for h in o.deny_redirect.iter().flat_map(|d| &d.headers) {
        let m = crate::api::btp::HeaderValueMatch { type_: h.type_.clone(), value: h.value.clone() };
        deny_redirect.push((h.name.clone(), super::traffic_http::value_match(&m)?));
    }
    Ok(Oidc {
        filter: crate::names::oauth2_filter(key),
        client_id,
        client_secret,
        hmac,
        client_secret_name: crate::names::oauth2_secret(key, "client-secret"),
        hmac_name: crate::names::oauth2_secret(key, "hmac"),
        authorization_endpoint: authorization_endpoint.clone(),
        token_endpoint,
        end_session_endpoint: o.provider.end_session_endpoint.clone(),
        scopes,
        resources: o.resources.clone(),
        redirect_uri,
        redirect_path,
        logout_path: o.logout_path.clone().unwrap_or_else(|| "/logout".into()),
        forward_access_token: o.forward_access_token.unwrap_or(false),
        refresh_token: o.refresh_token.unwrap_or(true),
        default_token_ttl_ms: ms(&o.default_token_ttl),
        default_refresh_token_ttl_ms: ms(&o.default_refresh_token_ttl),
        csrf_token_ttl_ms: ms(&o.csrf_token_ttl),
        cookie_suffix,
        access_token_cookie: o.cookie_names.as_ref().and_then(|c| c.access_token.clone()),
        id_token_cookie: o.cookie_names.as_ref().and_then(|c| c.id_token.clone()),
        cookie_domain: o.cookie_domain.clone(),
        same_site: o.cookie_config.as_ref().and_then(|c| c.same_site.clone()),
        disable_token_encryption: o.disable_token_encryption.unwrap_or(false),
        pass_through_auth_header: o.pass_through_auth_header.unwrap_or(false),
        deny_redirect,
    })
}
