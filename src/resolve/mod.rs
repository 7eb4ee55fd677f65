//! Stage 4: attachment, references and status, the way a conformant controller decides them.
//!
//! Input: [`Resources`] from `validate`. Output: [`Resolved`]: for each Gateway of our
//! GatewayClasses, its listeners and the routes attached to them with their backends
//! resolved to endpoints; the [`StatusTable`] a controller would write; diagnostics for
//! routes that were not accepted and references that did not resolve. Inputs stay untouched.

pub mod backend;
pub mod gateway;
pub mod hostname;
pub mod httproute;
pub mod status;
pub mod tls;

use crate::api::{Gateway, HTTPRoute, Item, Resources};
use crate::diag::Diagnostic;
pub use backend::{BackendTarget, Endpoints};
use status::StatusTable;

pub const DEFAULT_CONTROLLER: &str = "gateway.envoyproxy.io/gatewayclass-controller";

#[derive(Debug, Clone)]
pub struct Options {
    pub controller_name: String,
    pub cluster_domain: String,
    /// Which Gateway API channel's schemas objects are checked against.
    pub channel: crate::api::Channel,
    /// `--allow-unsupported`: unimplemented features are warnings, not errors.
    pub allow_unsupported: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { controller_name: DEFAULT_CONTROLLER.into(), cluster_domain: "cluster.local".into(), channel: Default::default(), allow_unsupported: false }
    }
}

/// A listener after validation: whether it is programmed into Envoy.
#[derive(Debug, Clone)]
pub struct ResolvedListener {
    pub name: String,
    pub port: u32,
    pub hostname: Option<String>,
    pub programmed: bool,
    /// HTTPS: the valid certificates (TLS terminated here). Empty for HTTP.
    pub tls: Vec<std::sync::Arc<tls::Certificate>>,
}

impl ResolvedListener {
    pub fn is_https(&self) -> bool {
        !self.tls.is_empty()
    }
}

/// A rule's valid backends with their targets (invalid ones are left out and reported).
#[derive(Debug, Clone)]
pub struct ResolvedRule {
    pub backends: Vec<ResolvedBackend>,
    /// Total weight of the backendRefs that did not resolve (their share answers 500).
    pub invalid_weight: u32,
    /// RequestMirror filters that resolved: where, and which share (numerator, denominator).
    pub mirrors: Vec<(std::sync::Arc<BackendTarget>, u32, u32)>,
    /// A filter we cannot apply: the rule answers 500 rather than skip it (as the spec asks).
    pub unresolvable_filter: bool,
}

#[derive(Debug, Clone)]
pub struct ResolvedBackend {
    /// Index of the backendRef in the rule.
    pub index: usize,
    pub weight: u32,
    /// Shared by every backendRef to the same Service port.
    pub target: std::sync::Arc<BackendTarget>,
}

/// An HTTPRoute accepted by a Gateway: on which listeners, with which hostnames.
#[derive(Debug)]
pub struct AttachedRoute<'a> {
    pub route: &'a Item<HTTPRoute>,
    /// Position of the route in canonical order (oldest first, then namespace/name): the
    /// tie-breaker of route precedence.
    pub order: usize,
    /// (listener index, hostnames effective on that listener)
    pub listeners: Vec<(usize, Vec<String>)>,
    /// Index into [`Resolved::route_rules`].
    pub rules: usize,
}

#[derive(Debug)]
pub struct ResolvedGateway<'a> {
    pub gateway: &'a Item<Gateway>,
    /// The EnvoyProxy in effect: the Gateway's infrastructure.parametersRef, else its class's.
    pub proxy: Option<&'a crate::api::EnvoyProxy>,
    pub listeners: Vec<ResolvedListener>,
    pub routes: Vec<AttachedRoute<'a>>,
}

impl ResolvedGateway<'_> {
    pub fn namespace(&self) -> &str {
        self.gateway.obj.metadata.ns()
    }
    pub fn name(&self) -> &str {
        &self.gateway.obj.metadata.name
    }
}

pub struct Resolved<'a> {
    pub gateways: Vec<ResolvedGateway<'a>>,
    /// Resolved rules per route, shared by all parents of the route.
    pub route_rules: Vec<Vec<ResolvedRule>>,
    pub status: StatusTable,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn resolve<'a>(res: &'a Resources, opts: &Options) -> Resolved<'a> {
    let mut status = StatusTable::default();
    let mut diagnostics = Vec::new();
    let ours = gateway::classes(res, opts, &mut status, &mut diagnostics);
    let index = backend::Index::new(res, opts);
    let mut gateways = gateway::gateways(res, &ours, &index, &mut status, &mut diagnostics);
    let route_rules = httproute::attach(res, &index, opts, &mut gateways, &mut status, &mut diagnostics);
    gateway::finish(&gateways, &mut status);
    Resolved { gateways, route_rules, status, diagnostics }
}
