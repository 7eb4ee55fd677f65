//! Stage 4: attachment, references and status, the way a conformant controller decides them.
//!
//! Input: [`Resources`] from `validate`. Output: [`Resolved`]: for each Gateway of our
//! GatewayClasses, its listeners ([`listener::ResolvedListener`]) and the routes attached to
//! them with their rules fully interpreted ([`http::HttpRule`]) and their backends resolved to
//! endpoints; the [`StatusTable`] a controller would write; the diagnostics. Both come from one
//! [`status::Recorder`]. Inputs stay untouched; nothing after this stage reads `api` types.
//!
//! One module per kind: `gateway` (classes, Gateways, infrastructure), `listener`,
//! `listenerset` (ListenerSets folded into their Gateway), `attach` (generic over route kinds),
//! `httproute` (HTTPRoute rules), `grpcroute` (GRPCRoute rules into the same shapes), `l4route`
//! (TLSRoute, TCPRoute, UDPRoute), `backend` (backendRefs to Services and Backends), `egbackend`
//! (Envoy Gateway's Backend kind), `tls`, `backendtls`, `routefilter` (HTTPRouteFilter); Envoy
//! Gateway's policies: `policy` (targets shared by every kind), `precedence`, `btp`, `ctp`, `sp`,
//! `eep` (each kind's precedence and status), `traffic`, `security` (what one does).

pub mod attach;
pub mod backend;
pub mod backendtls;
pub mod btp;
pub mod ctp;
pub mod eep;
pub mod workload;
pub mod epp;
pub mod egbackend;
pub mod frontend;
pub mod gateway;
pub mod grpcroute;
pub mod hostname;
pub mod http;
pub mod httproute;
pub mod l4route;
pub mod listener;
pub mod listenerset;
pub mod oidc;
pub mod policy;
pub mod status;
pub mod tls;
pub mod precedence;
pub mod routefilter;
pub mod security;
pub mod sp;
pub mod telemetry;
pub mod traffic;
pub mod traffic_http;
pub mod traffic_ratelimit;

use crate::api::{Kind, Resources};
use crate::diag::Diagnostic;
use crate::id::ObjectKey;
pub use backend::{BackendTarget, Endpoints};
pub use listener::{Protocol, ResolvedListener};
use status::StatusTable;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const DEFAULT_CONTROLLER: &str = "gateway.envoyproxy.io/gatewayclass-controller";

#[derive(Debug, Clone)]
pub struct Options {
    pub controller_name: String,
    pub cluster_domain: String,
    /// Which Gateway API channel's schemas objects are checked against.
    pub channel: crate::api::Channel,
    /// `--allow-unsupported`: unimplemented features are warnings, not errors.
    pub allow_unsupported: bool,
    /// `--rate-limit-service`: the gRPC rate-limit service (host, port) global rate limits use.
    pub rate_limit_service: Option<(String, u16)>,
    /// `--allow-loopback-backends`: Backend IP endpoints on loopback are accepted.
    pub allow_loopback_backends: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { controller_name: DEFAULT_CONTROLLER.into(), cluster_domain: "cluster.local".into(), channel: Default::default(), allow_unsupported: false, rate_limit_service: None, allow_loopback_backends: false }
    }
}

/// A route accepted by a Gateway: on which listeners, with which hostnames.
#[derive(Debug)]
pub struct AttachedRoute {
    pub route: Arc<http::HttpRoute>,
    /// Position of the route in canonical order (oldest first, then namespace/name): the
    /// tie-breaker of route precedence.
    pub order: usize,
    /// (index into the Gateway's listeners, hostnames effective on that listener)
    pub listeners: Vec<(usize, Vec<String>)>,
}

/// The proxy's Deployment and Service settings (from the EnvoyProxy in effect), all optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProxySettings {
    pub replicas: Option<u32>,
    pub image: Option<String>,
    /// Container resources (requests/limits), as given.
    pub resources: Option<serde_json::Value>,
    pub service_type: Option<String>,
    pub service_annotations: BTreeMap<String, String>,
    pub service_labels: BTreeMap<String, String>,
    pub load_balancer_class: Option<String>,
    pub load_balancer_ip: Option<String>,
    pub load_balancer_source_ranges: Vec<String>,
    pub allocate_load_balancer_node_ports: Option<bool>,
    pub external_traffic_policy: Option<String>,
    /// `telemetry.metrics.prometheus.disable`: no Prometheus endpoint (on by default).
    pub prometheus_disabled: bool,
    /// Envoy's log levels: `default` and per component (`logging.level`).
    pub log_levels: BTreeMap<String, &'static str>,
    pub concurrency: Option<u32>,
    pub extra_args: Vec<String>,
    /// Where every listener's access log lines go (`telemetry.accessLog`).
    pub access_log: AccessLogIr,
    /// The stats Envoy keeps (`telemetry.metrics.matches`); all when empty.
    pub stats_matches: Vec<traffic_http::ValueMatch>,
    /// `telemetry.metrics` enableRequestResponseSizesStats, enablePerEndpointStats.
    pub size_stats: bool,
    pub endpoint_stats: bool,
    /// `telemetry.tracing`: spans of every HTTP request, to a collector.
    pub tracing: Option<Arc<TracingIr>>,
    /// The workload's shape (`provider.kubernetes`, for `render`).
    pub workload: Arc<workload::Workload>,
    /// `bootstrap`: changes to the bootstrap gatewayc writes.
    pub bootstrap: Option<Arc<workload::BootstrapChange>>,
    /// `filterOrder`: moves of HTTP filters, in order.
    pub filter_order: Vec<FilterPosition>,
    /// `preserveRouteOrder`: routes in the order written, not by precedence.
    pub preserve_route_order: bool,
}

/// One `filterOrder` rule: the filters of type `name` go before the first filter of type
/// `anchor` (or after the last one).
#[derive(Debug, Clone, PartialEq)]
pub struct FilterPosition {
    pub name: String,
    pub anchor: String,
    pub before: bool,
}

/// How a Gateway's HTTP listeners trace requests.
#[derive(Debug, Clone, PartialEq)]
pub struct TracingIr {
    pub tracer: TracerIr,
    /// The collector, in a cluster of its own (`resources`: OpenTelemetry resource attributes).
    pub collector: Arc<OtelSinkIr>,
    /// Percent of requests traced with no earlier decision, of those a client asks to trace,
    /// and of all traced after every other decision.
    pub random: f64,
    pub client: f64,
    pub overall: f64,
    /// Tag name to value, sorted by name.
    pub tags: Vec<(String, TagIr)>,
    /// Span names (Envoy format strings): the request's, the upstream call's.
    pub span_names: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TracerIr {
    /// OTLP over gRPC; the metadata sent with each export; the sampler, if any.
    Otel { service_name: String, headers: Vec<(String, String)>, sampler: Option<SamplerIr> },
    Zipkin { trace_id_128bit: bool, shared_span_context: bool },
    Datadog { service_name: String },
}

/// An OpenTelemetry sampler: always, by trace-id ratio (numerator, denominator), or the
/// parent's decision and else the wrapped one.
#[derive(Debug, Clone, PartialEq)]
pub enum SamplerIr {
    AlwaysOn,
    Ratio(u32, u32),
    ParentBased(Box<SamplerIr>),
}

/// A span tag's value: fixed, from an environment variable or request header (with a value
/// for its absence), or an Envoy format string.
#[derive(Debug, Clone, PartialEq)]
pub enum TagIr {
    Literal(String),
    Environment(String, String),
    RequestHeader(String, String),
    Format(String),
}

/// The access log of a Gateway's listeners.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum AccessLogIr {
    /// Envoy Gateway's default: its JSON fields, to stdout.
    #[default]
    Default,
    /// `disable: true`: none.
    Off,
    /// Each sink with its format.
    Sinks(Vec<(LogSinkIr, LogFormatIr)>),
}

/// Where access log lines go.
#[derive(Debug, Clone, PartialEq)]
pub enum LogSinkIr {
    File(String),
    /// An OpenTelemetry collector (OTLP over gRPC), in a cluster of its own.
    Otel(Arc<OtelSinkIr>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct OtelSinkIr {
    pub cluster: String,
    /// `host:port` the collector is asked with.
    pub authority: String,
    /// The collector's endpoints: its backendRefs' targets with weights, else `host:port`.
    pub backends: Vec<(Arc<BackendTarget>, u32)>,
    pub host: Option<(String, u32)>,
    pub resources: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LogFormatIr {
    /// Envoy Gateway's default JSON fields.
    DefaultJson,
    /// An Envoy format string (a newline is added when it has none).
    Text(String),
    /// Field name to Envoy command.
    Json(BTreeMap<String, String>),
}

/// What the Gateway asks of the infrastructure that runs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Infra {
    /// Requested IP addresses (`spec.addresses` of type IPAddress).
    pub addresses: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub proxy: ProxySettings,
}

#[derive(Debug)]
pub struct ResolvedGateway {
    pub key: ObjectKey,
    /// Accepted (its parametersRef, if any, resolved): only accepted Gateways are translated.
    pub accepted: bool,
    pub infra: Infra,
    pub listeners: Vec<ResolvedListener>,
    pub routes: Vec<AttachedRoute>,
    /// TLSRoutes, TCPRoutes and UDPRoutes.
    pub streams: Vec<l4route::AttachedStream>,
    /// Listeners (indices) of routes attached but not served (a value Envoy would refuse):
    /// they count in `attachedRoutes`, as Envoy Gateway counts them.
    pub unserved: Vec<usize>,
    /// Presented to backends reached over TLS that ask for a client certificate.
    pub backend_client_certificate: Option<Arc<tls::Certificate>>,
    /// The BackendTrafficPolicies in effect, by scope.
    pub traffic: btp::TrafficTable,
    /// The SecurityPolicies in effect, by scope.
    pub security: sp::SecurityTable,
    /// The EnvoyExtensionPolicies in effect, by scope.
    pub extensions: eep::ExtensionTable,
    /// The EnvoyPatchPolicies on this Gateway, in the order they apply.
    pub patches: Vec<Arc<epp::PatchPolicy>>,
    /// The ListenerSets attached (accepted), in precedence order; their listeners follow the
    /// Gateway's own in `listeners`.
    pub listener_sets: Vec<ObjectKey>,
}

impl ResolvedGateway {
    /// The index of the Gateway's own listener `section` (not a ListenerSet's).
    pub fn own_listener(&self, section: &str) -> Option<usize> {
        self.listener_of(&self.key, section)
    }
    /// The index of listener `section` of `owner` (the Gateway or one of its ListenerSets).
    pub fn listener_of(&self, owner: &ObjectKey, section: &str) -> Option<usize> {
        self.listeners.iter().position(|l| &l.id.parent == owner && l.id.section == section)
    }
    /// The listeners (indices) `owner` declares: the Gateway's whole set of listeners when it
    /// is the Gateway (a Gateway policy covers its ListenerSets' too), else the ListenerSet's.
    pub fn listeners_of(&self, owner: &ObjectKey) -> Vec<usize> {
        (0..self.listeners.len()).filter(|&i| *owner == self.key || self.listeners[i].id.parent == *owner).collect()
    }
}

/// The Gateway (index) a policy target of kind Gateway or ListenerSet lands in, with the
/// target's key: one of our Gateways, or a ListenerSet attached to one.
pub fn gateway_of(gateways: &[ResolvedGateway], kind: Kind, ns: &str, name: &str) -> Option<(usize, ObjectKey)> {
    let key = ObjectKey::new(kind, ns, name);
    let gi = match kind {
        Kind::Gateway => gateways.iter().position(|g| g.key == key),
        Kind::ListenerSet => gateways.iter().position(|g| g.listener_sets.contains(&key)),
        _ => None,
    }?;
    Some((gi, key))
}

/// What attaching one HTTPRoute or GRPCRoute needs.
struct HttpCtx<'a> {
    parents: &'a attach::Parents,
    gateways: &'a mut Vec<ResolvedGateway>,
    index: &'a backend::Index<'a>,
    opts: &'a Options,
    rec: &'a mut status::Recorder,
    order: usize,
}

impl HttpCtx<'_> {
    /// Resolve a route's rules once (if any parent is ours) and attach it to every accepting
    /// Gateway; a route with a value Envoy would refuse is reported but not served.
    fn route(&mut self, view: &attach::RouteView, kind: Kind, rules: impl FnOnce(&backend::Index, &mut status::Recorder) -> (http::HttpRoute, bool)) {
        if !self.parents.any_ours(view) {
            attach::report_missing_parents(view, self.parents, self.rec);
            return;
        }
        let (route, valid) = rules(self.index, self.rec);
        let route = Arc::new(route);
        for a in attach::attach(view, kind, self.parents, self.gateways, self.index, self.opts, self.rec) {
            let g = &mut self.gateways[a.gateway];
            if valid {
                g.routes.push(AttachedRoute { route: route.clone(), order: self.order, listeners: a.listeners });
            } else {
                g.unserved.extend(a.listeners.iter().map(|(li, _)| *li));
            }
        }
    }
}

/// Each Gateway is an ancestor of the BackendTLSPolicies of the Services its routes use.
fn policy_ancestors(gateways: &[ResolvedGateway], rec: &mut status::Recorder) {
    for g in gateways {
        let routes = g.routes.iter().map(|r| r.route.key.clone()).chain(g.streams.iter().map(|s| s.route.key.clone()));
        backendtls::ancestors(&g.key, routes.collect::<Vec<_>>().into_iter(), rec);
    }
}

pub struct Resolved {
    pub gateways: Vec<ResolvedGateway>,
    pub status: StatusTable,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn resolve(res: &Resources, opts: &Options) -> Resolved {
    let mut rec = status::Recorder::default();
    let ours = gateway::classes(res, opts, &mut rec);
    let index = backend::Index::new(res, opts);
    index.set_tls_policies(backendtls::resolve_all(res, &index, &opts.controller_name, &mut rec));
    index.set_backends(egbackend::judge_all(res, &index, opts, &mut rec));
    let mut gateways = gateway::gateways(res, &ours, &index, &mut rec);
    listenerset::attach_all(res, &mut gateways, &index, &mut rec);
    let parents = attach::Parents::new(res, &gateways);
    let regexes = crate::validate::regex::Verdicts::default();
    // HTTPRoutes and GRPCRoutes share route tables; precedence ties go to the oldest route of
    // either kind, then namespace/name.
    let mut http_kinds: Vec<((&str, &str, &str), Kind, usize)> = res.http_routes.iter().enumerate().map(|(i, r)| (r.obj.age_key(), Kind::HTTPRoute, i)).collect();
    http_kinds.extend(res.grpc_routes.iter().enumerate().map(|(i, r)| (r.obj.age_key(), Kind::GRPCRoute, i)));
    http_kinds.sort_unstable();
    // The same steps for either kind: its RouteView, then its rules through its own module.
    macro_rules! http_route {
        ($ctx:expr, $list:ident, $i:expr, $kind:expr, $rules:path) => {{
            let item = &res.$list[$i];
            let key = ObjectKey::of($kind, &item.obj.metadata);
            let s = &item.obj.spec;
            let view = attach::RouteView { key: &key, loc: &item.loc, parent_refs: &s.parent_refs, hostnames: &s.hostnames, generation: item.obj.metadata.generation };
            $ctx.route(&view, $kind, |index, rec| $rules(item, &key, index, &regexes, rec));
        }};
    }
    for (order, (_, kind, i)) in http_kinds.into_iter().enumerate() {
        let mut ctx = HttpCtx { parents: &parents, gateways: &mut gateways, index: &index, opts, rec: &mut rec, order };
        if kind == Kind::GRPCRoute {
            http_route!(ctx, grpc_routes, i, kind, grpcroute::resolve);
        } else {
            http_route!(ctx, http_routes, i, kind, httproute::resolve);
        }
    }
    l4route::resolve_all(res, &parents, &mut gateways, &index, opts, &mut rec);
    btp::resolve_all(res, &mut gateways, &opts.controller_name, opts.rate_limit_service.is_some(), &mut rec);
    ctp::resolve_all(res, &mut gateways, &index, &opts.controller_name, &mut rec);
    sp::resolve_all(res, &mut gateways, &index, &opts.controller_name, &mut rec);
    eep::resolve_all(res, &mut gateways, &index, &opts.controller_name, &mut rec);
    epp::resolve_all(res, &mut gateways, &opts.controller_name, &mut rec);
    policy_ancestors(&gateways, &mut rec);
    gateway::finish(&gateways, &mut rec);
    let (status, diagnostics) = rec.finish();
    Resolved { gateways, status, diagnostics }
}
