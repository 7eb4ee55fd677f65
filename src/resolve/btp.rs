//! BackendTrafficPolicy: its targets and precedence as Envoy Gateway resolves them (the
//! shared machinery in [`super::precedence`]), `mergeType` with the parent policy, and its
//! translation (`traffic`). The effect is a [`TrafficTable`] per Gateway that the IR reads.

use super::ResolvedGateway;
use super::policy::{self, RouteIndex};
use super::precedence::{self, Entry, Kinded, Words};
use super::status::Recorder;
use super::traffic::{self, ClusterPolicy, Effect, Traffic};
use crate::api::{Kind, Resources};
use crate::id::ObjectKey;
use std::sync::Arc;

pub use super::precedence::Scope;

/// The BackendTrafficPolicies in effect in one Gateway.
pub type TrafficTable = precedence::Table<Traffic>;

impl precedence::Table<Traffic> {
    /// The cluster settings of a TCP, UDP or TLS route: each setting from the most specific
    /// policy that has it, as Envoy Gateway fills them. A stream route has one rule; a
    /// policy on that rule counts as one on the route.
    pub fn for_stream(&self, listener: usize, route: &ObjectKey, rule: Option<&str>) -> Option<Arc<ClusterPolicy>> {
        if self.scopes.is_empty() {
            return None;
        }
        let mut out = ClusterPolicy::default();
        for e in self.chain(listener, route, rule) {
            if let Effect::Apply(t) = e
                && let Some(c) = &t.cluster
            {
                out.fill_from(c);
            }
        }
        (!out.is_empty()).then(|| Arc::new(out))
    }
}

/// Resolve every BackendTrafficPolicy (in canonical order: oldest first, then namespace/name)
/// against the Gateways and their attached routes, filling each Gateway's `traffic`.
pub fn resolve_all(res: &Resources, gateways: &mut [ResolvedGateway], controller: &str, rate_limit_service: bool, rec: &mut Recorder) {
    if res.backend_traffic_policies.is_empty() {
        return;
    }
    let idx = RouteIndex::new(res, gateways);
    let entries: Vec<Entry<Traffic>> = res
        .backend_traffic_policies
        .iter()
        .map(|item| {
            let key = ObjectKey::of(Kind::BackendTrafficPolicy, &item.obj.metadata);
            let st = rec.status.policies.entry(key.clone()).or_default();
            (st.generation, st.controller_name) = (item.obj.metadata.generation, controller.to_string());
            let targets = policy::targets(item.obj.spec.targets(), item.obj.metadata.ns(), res);
            let cm = config_maps(res, item.obj.metadata.ns());
            let effect = traffic::build(&item.obj.spec, &traffic::Env { config_map: &cm, rate_limit_service }).map(Arc::new);
            Entry { key, loc: &item.loc, targets, merge: item.obj.spec.merge_type, effect, degraded: None }
        })
        .collect();
    let merged = |parent: usize, child: usize, json_merge: bool| merged(res, rate_limit_service, &res.backend_traffic_policies[parent].obj, &res.backend_traffic_policies[child].obj, json_merge);
    let kinded = Kinded {
        words: Words { kind: "BackendTrafficPolicy", singular: "backendTrafficPolicy", plural: "backendTrafficPolicies" },
        entries: &entries,
        merged: &merged,
        table: |g| &mut g.traffic,
    };
    precedence::resolve(&kinded, &idx, gateways, rec);
}

/// The ConfigMaps of namespace `ns`, by name.
fn config_maps<'r>(res: &'r Resources, ns: &'r str) -> impl Fn(&str) -> Option<&'r crate::api::ConfigMap> + 'r {
    move |name| res.config_maps.iter().map(|c| &*c.obj).find(|c| c.metadata.ns() == ns && c.metadata.name == name)
}

/// The effect of a route policy merged over its parent's spec.
fn merged(res: &Resources, rate_limit_service: bool, parent: &crate::api::BackendTrafficPolicy, child: &crate::api::BackendTrafficPolicy, json_merge: bool) -> Effect {
    let cm = config_maps(res, child.metadata.ns());
    match precedence::merged_spec(&parent.spec, &child.spec, json_merge).and_then(|s| traffic::build(&s, &traffic::Env { config_map: &cm, rate_limit_service })) {
        Ok(t) => Effect::Apply(Arc::new(t)),
        Err(_) => Effect::Invalid,
    }
}
