//! SecurityPolicy: its targets and precedence as Envoy Gateway resolves them (the shared
//! machinery in [`super::precedence`]: rule over route over listener over Gateway, the older
//! of two on one target wins, `mergeType` with the parent policy), and its translation
//! ([`super::security`]). The effect is a [`SecurityTable`] per Gateway that the IR reads.

use super::ResolvedGateway;
use super::backend::Index;
use super::policy::{self, RouteIndex};
use super::precedence::{self, Effect, Entry, Kinded, Words};
use super::security::{self, Security};
use super::status::Recorder;
use crate::api::{Kind, Resources};
use crate::id::ObjectKey;
use std::sync::Arc;

/// The SecurityPolicies in effect in one Gateway.
pub type SecurityTable = precedence::Table<Security>;

/// Resolve every SecurityPolicy (in canonical order: oldest first, then namespace/name)
/// against the Gateways and their attached routes, filling each Gateway's `security`.
pub fn resolve_all(res: &Resources, gateways: &mut [ResolvedGateway], index: &Index, controller: &str, rec: &mut Recorder) {
    if res.security_policies.is_empty() {
        return;
    }
    let idx = RouteIndex::new(res, gateways);
    let entries: Vec<Entry<Security>> = res
        .security_policies
        .iter()
        .map(|item| {
            let key = ObjectKey::of(Kind::SecurityPolicy, &item.obj.metadata);
            let st = rec.status.policies.entry(key.clone()).or_default();
            (st.generation, st.controller_name) = (item.obj.metadata.generation, controller.to_string());
            let targets: Vec<_> = policy::targets(item.obj.spec.targets(), item.obj.metadata.ns(), res);
            let tcp = targets.iter().any(|t| t.kind == Kind::TCPRoute);
            let (effect, degraded) = match refused(&item.obj.spec, tcp).map_or_else(|| security::build(&item.obj.spec, &key, index), Err) {
                Ok((s, degraded)) => (Ok(Arc::new(s)), degraded),
                Err(e) => (Err(e), None),
            };
            Entry { key, loc: &item.loc, targets, merge: item.obj.spec.merge_type, effect, degraded }
        })
        .collect();
    let merged = |parent: usize, child: usize, json_merge: bool| merged(index, &res.security_policies[parent].obj, &res.security_policies[child].obj, json_merge);
    let kinded = Kinded {
        words: Words { kind: "SecurityPolicy", singular: "securityPolicy", plural: "securityPolicies" },
        entries: &entries,
        merged: &merged,
        table: |g| &mut g.security,
    };
    precedence::resolve(&kinded, &idx, gateways, rec);
    check_streams(res, gateways, rec);
}

/// An authorization over a UDP listener (a Gateway's or listener's policy) is not translated
/// yet: refused, never dropped.
fn check_streams(res: &Resources, gateways: &[ResolvedGateway], rec: &mut Recorder) {
    use super::status::{Problem, Site};
    for g in gateways {
        for s in g.streams.iter().filter(|s| s.kind == Kind::UDPRoute) {
            for (li, _) in &s.listeners {
                let covered = match g.security.for_rule(*li, &s.route.key, None) {
                    Some(Effect::Apply(sec)) => sec.authorization.is_some(),
                    Some(Effect::Invalid) => true,
                    None => false,
                };
                if !covered {
                    continue;
                }
                let Some(item) = res.gateways.iter().find(|i| ObjectKey::of(Kind::Gateway, &i.obj.metadata) == g.key) else { continue };
                let section = &g.listeners[*li].id.section;
                let at = match item.obj.spec.listeners.iter().position(|l| &l.name == section) {
                    Some(i) => format!("/spec/listeners/{i}"),
                    None => "/spec/listeners".into(),
                };
                let msg = format!("SecurityPolicy authorization on UDP listener {section} is not supported yet");
                rec.report(Site { object: &g.key, loc: &item.loc }, Problem::new(crate::diag::Code::UnsupportedField, msg, at).help(crate::validate::UNSUPPORTED_HELP));
            }
        }
    }
}

/// Why a policy closes its routes before translation: a part gatewayc does not implement
/// (only with `--allow-unsupported`; validation refuses it otherwise: never applied without
/// it), or, on a TCPRoute, anything but authorization by client address (Envoy Gateway's
/// message).
fn refused(spec: &crate::api::sp::SecurityPolicySpec, tcp_route: bool) -> Option<String> {
    if let Some((_, what)) = spec.unsupported_parts().first() {
        return Some(format!("{what} is not supported by gatewayc"));
    }
    if !tcp_route {
        return None;
    }
    let http_only = spec.cors.is_some() || spec.csrf.is_some() || spec.jwt.is_some() || spec.oidc.is_some() || spec.api_key_auth.is_some() || spec.basic_auth.is_some() || spec.ext_auth.is_some();
    if http_only {
        return Some("invalid SecurityPolicy for TCP route: only authorization is supported for TCP (routes/listeners)".into());
    }
    for (i, r) in spec.authorization.iter().flat_map(|a| a.rules.iter().enumerate()) {
        let p = r.principal.clone().unwrap_or_default();
        if p.jwt.is_some() {
            return Some(format!("invalid SecurityPolicy for TCP route: rule {i}: JWT not supported for TCP"));
        }
        if p.headers.is_some() {
            return Some(format!("invalid SecurityPolicy for TCP route: rule {i}: headers not supported for TCP"));
        }
    }
    None
}

/// The effect of a route policy merged over its parent's spec.
fn merged(index: &Index, parent: &crate::api::SecurityPolicy, child: &crate::api::SecurityPolicy, json_merge: bool) -> Effect<Security> {
    let key = ObjectKey::of(Kind::SecurityPolicy, &child.metadata);
    match precedence::merged_spec(&parent.spec, &child.spec, json_merge).and_then(|s| security::build(&s, &key, index)) {
        Ok((t, _)) => Effect::Apply(Arc::new(t)),
        Err(_) => Effect::Invalid,
    }
}
