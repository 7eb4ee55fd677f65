//! Filters that carry credentials of their own, and the bootstrap's static secrets they read
//! by name: an HTTPRouteFilter's credentialInjection (Envoy's credential_injector with a
//! generic credential); the generic secrets of it and of OIDC logins (inline, or files with
//! `--tls-secrets files`); turning on, per route, a filter that is off in the chain.

use super::oauth2::SecretRef;
use super::types::*;
use crate::ir;
use serde::Serialize;
use std::path::Path;

const FILTER_CONFIG: &str = "type.googleapis.com/envoy.config.route.v3.FilterConfig";

/// Turns a filter that is off in the chain (a policy's oauth2, an HTTPRouteFilter's
/// credential_injector) on for a route, with the chain's settings.
#[derive(Serialize)]
pub struct Enable {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub config: Empty,
}

pub fn enable() -> Enable {
    Enable { type_: FILTER_CONFIG, config: Empty {} }
}

/// A generic secret of the bootstrap.
#[derive(Serialize)]
pub struct StaticSecret {
    pub name: String,
    pub generic_secret: GenericSecret,
}

#[derive(Serialize)]
pub struct GenericSecret {
    pub secret: DataSource,
}

/// The bootstrap's secrets of `g`'s OIDC logins: inline, or their files under `dir`.
pub fn secrets(g: &ir::GatewayIr, dir: Option<&Path>) -> Vec<StaticSecret> {
    let mut out: Vec<StaticSecret> = Vec::new();
    for (name, value) in values(g) {
        let secret = match dir {
            None => DataSource { inline_string: Some(value.to_string()), filename: None },
            Some(d) => DataSource { inline_string: None, filename: Some(crate::names::oauth2_secret_file(d, name).display().to_string()) },
        };
        out.push(StaticSecret { name: name.to_string(), generic_secret: GenericSecret { secret } });
    }
    out
}

/// (secret name, value) of every generic secret of `g`'s filters, by name: OIDC logins'
/// client secrets and HMAC keys, injected credentials.
pub fn values(g: &ir::GatewayIr) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    let routes = || g.ports.iter().flat_map(|p| p.virtual_hosts()).flat_map(|v| &v.routes);
    for p in routes().filter_map(|r| r.security.as_deref()).filter_map(|s| s.oidc.as_ref()) {
        out.push((&p.client_secret_name, &p.client_secret));
        out.push((&p.hmac_name, &p.hmac));
    }
    for c in routes().flat_map(|r| r.credentials()) {
        out.push((&c.secret_name, &c.value));
    }
    out.sort();
    out.dedup();
    out
}

const CREDENTIAL_INJECTOR: &str = "type.googleapis.com/envoy.extensions.filters.http.credential_injector.v3.CredentialInjector";
const GENERIC_CREDENTIAL: &str = "type.googleapis.com/envoy.extensions.http.injected_credentials.generic.v3.Generic";

/// An HTTPRouteFilter's credentialInjection: Envoy's credential_injector filter with a
/// generic credential, one per HTTPRouteFilter, off unless a route turns it on.
#[derive(Serialize)]
pub struct CredentialInjector {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub overwrite: bool,
    pub credential: super::rbac::Extension<GenericCredential>,
}

#[derive(Serialize)]
pub struct GenericCredential {
    #[serde(rename = "@type")]
    pub type_: &'static str,
    pub credential: SecretRef,
    pub header: String,
}

pub fn credential_injector(c: &crate::resolve::http::Credential) -> CredentialInjector {
    CredentialInjector {
        type_: CREDENTIAL_INJECTOR,
        overwrite: c.overwrite,
        credential: super::rbac::Extension { name: "envoy.http.injected_credentials.generic".into(), typed_config: GenericCredential { type_: GENERIC_CREDENTIAL, credential: SecretRef { name: c.secret_name.clone() }, header: c.header.clone() } },
    }
}

/// The credential_injector filters of a route table: one per HTTPRouteFilter some route uses.
pub fn credential_filters(vhosts: &[ir::VirtualHostIr]) -> Vec<&crate::resolve::http::Credential> {
    let mut out: Vec<&crate::resolve::http::Credential> = vhosts.iter().flat_map(|v| &v.routes).flat_map(|r| r.credentials()).collect();
    out.sort_by(|a, b| a.filter.cmp(&b.filter));
    out.dedup_by(|a, b| a.filter == b.filter);
    out
}
