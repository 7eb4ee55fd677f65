//! A SecurityPolicy's OIDC login in Envoy's terms, as Envoy Gateway writes it: an oauth2
//! filter per policy, off in the chain and turned on by the routes the policy covers; the
//! client secret and the HMAC key are static secrets of the bootstrap (`credential.rs`); the
//! token endpoint is a cluster of its own.

use super::types::*;
use crate::ir;
use crate::resolve::oidc::Oidc;
use serde::Serialize;

const OAUTH2: &str = "type.googleapis.com/envoy.extensions.filters.http.oauth2.v3.OAuth2";

#[derive(Serialize)]
pub struct OAuth2 {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub config: Config,
}

#[derive(Serialize)]
pub struct Config {
    pub token_endpoint: super::jwt::HttpUri,
    pub authorization_endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<String>,
    pub redirect_uri: String,
    pub redirect_path_matcher: PathMatcher,
    pub signout_path: PathMatcher,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forward_bearer_token: bool,
    pub use_refresh_token: bool,
    pub auth_type: &'static str,
    pub auth_scopes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_expires_in: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_refresh_token_expires_in: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token_expires_in: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disable_token_encryption: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pass_through_matcher: Vec<HeaderMatcher>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny_redirect_matcher: Vec<HeaderMatcher>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie_configs: Option<CookieConfigs>,
    pub credentials: Credentials,
}

#[derive(Serialize)]
pub struct PathMatcher {
    pub path: StringMatcher,
}

fn exact_path(p: &str) -> PathMatcher {
    PathMatcher { path: StringMatcher::exact(p) }
}

#[derive(Serialize)]
pub struct Credentials {
    pub client_id: String,
    pub token_secret: SecretRef,
    pub hmac_secret: SecretRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookie_domain: Option<String>,
    pub cookie_names: CookieNames,
}

#[derive(Serialize)]
pub struct SecretRef {
    pub name: String,
}

#[derive(Serialize)]
pub struct CookieNames {
    pub bearer_token: String,
    pub oauth_hmac: String,
    pub oauth_expires: String,
    pub id_token: String,
    pub refresh_token: String,
    pub oauth_nonce: String,
    pub code_verifier: String,
}

#[derive(Serialize)]
pub struct CookieConfig {
    pub same_site: &'static str,
}

#[derive(Serialize)]
pub struct CookieConfigs {
    pub bearer_token_cookie_config: CookieConfig,
    pub oauth_hmac_cookie_config: CookieConfig,
    pub oauth_expires_cookie_config: CookieConfig,
    pub id_token_cookie_config: CookieConfig,
    pub refresh_token_cookie_config: CookieConfig,
    pub oauth_nonce_cookie_config: CookieConfig,
    pub code_verifier_cookie_config: CookieConfig,
}

fn cookie_configs(same_site: &str) -> CookieConfigs {
    let c = || CookieConfig {
        same_site: match same_site {
            "Strict" => "STRICT",
            "None" => "NONE",
            _ => "LAX",
        },
    };
    CookieConfigs {
        bearer_token_cookie_config: c(),
        oauth_hmac_cookie_config: c(),
        oauth_expires_cookie_config: c(),
        id_token_cookie_config: c(),
        refresh_token_cookie_config: c(),
        oauth_nonce_cookie_config: c(),
        code_verifier_cookie_config: c(),
    }
}

pub fn filter(o: &Oidc) -> OAuth2 {
    let d = |ms: Option<u64>| ms.map(super::policy::duration);
    let suffix = &o.cookie_suffix;
    OAuth2 {
        type_: OAUTH2,
        config: Config {
            token_endpoint: super::jwt::HttpUri { uri: o.token_endpoint.uri.clone(), cluster: o.token_endpoint.cluster.clone(), timeout: "10s" },
            authorization_endpoint: o.authorization_endpoint.clone(),
            end_session_endpoint: o.end_session_endpoint.clone(),
            redirect_uri: o.redirect_uri.clone(),
            redirect_path_matcher: exact_path(&o.redirect_path),
            signout_path: exact_path(&o.logout_path),
            forward_bearer_token: o.forward_access_token,
            use_refresh_token: o.refresh_token,
            // Every OIDC provider takes the client's credentials by basic auth.
            auth_type: "BASIC_AUTH",
            auth_scopes: o.scopes.clone(),
            resources: o.resources.clone(),
            default_expires_in: d(o.default_token_ttl_ms),
            default_refresh_token_expires_in: d(o.default_refresh_token_ttl_ms),
            csrf_token_expires_in: d(o.csrf_token_ttl_ms),
            disable_token_encryption: o.disable_token_encryption,
            pass_through_matcher: if o.pass_through_auth_header {
                vec![HeaderMatcher { name: "authorization".into(), string_match: StringMatcher { prefix: Some("Bearer ".into()), ..Default::default() } }]
            } else {
                Vec::new()
            },
            deny_redirect_matcher: o.deny_redirect.iter().map(|(n, m)| HeaderMatcher { name: n.clone(), string_match: StringMatcher::of_value(m, false) }).collect(),
            cookie_configs: o.same_site.as_deref().map(cookie_configs),
            credentials: Credentials {
                client_id: o.client_id.clone(),
                token_secret: SecretRef { name: o.client_secret_name.clone() },
                hmac_secret: SecretRef { name: o.hmac_name.clone() },
                cookie_domain: o.cookie_domain.clone(),
                cookie_names: CookieNames {
                    bearer_token: o.access_token_cookie.clone().unwrap_or_else(|| format!("AccessToken-{suffix}")),
                    oauth_hmac: format!("OauthHMAC-{suffix}"),
                    oauth_expires: format!("OauthExpires-{suffix}"),
                    id_token: o.id_token_cookie.clone().unwrap_or_else(|| format!("IdToken-{suffix}")),
                    refresh_token: format!("RefreshToken-{suffix}"),
                    oauth_nonce: format!("OauthNonce-{suffix}"),
                    code_verifier: format!("CodeVerifier-{suffix}"),
                },
            },
        },
    }
}

/// The oauth2 filters of a route table: one per policy some route uses, in name order.
pub fn filters(vhosts: &[ir::VirtualHostIr]) -> Vec<&Oidc> {
    let mut out: Vec<&Oidc> = vhosts.iter().flat_map(|v| &v.routes).filter_map(|r| r.security.as_ref().and_then(|s| s.oidc.as_ref())).collect();
    out.sort_by(|a, b| a.filter.cmp(&b.filter));
    out.dedup_by(|a, b| a.filter == b.filter);
    out
}
