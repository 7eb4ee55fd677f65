//! backendRefs to endpoints: Service port, EndpointSlices, ReferenceGrants.

use super::Options;
use crate::api::core::{EndpointSliceInfo, PortProtocol, ServiceInfo};
use crate::api::{GATEWAY_GROUP, Item, Namespace, Resources};
use std::collections::{BTreeMap, HashMap};

/// Where a backend's traffic goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoints {
    /// Ready endpoint addresses from EndpointSlices (may be empty: no ready endpoint), or a
    /// Backend's IP and Unix-socket endpoints. A Unix socket is its path with port 0 (see
    /// [`unix_path`]); no IP address starts with `/` or `@`.
    Static(Vec<(String, u32)>),
    /// Resolved by DNS at run time: the Service's cluster DNS name, or FQDN endpoints.
    Dns(Vec<(String, u32)>),
}

/// What a backend is: a Service's port, or Envoy Gateway's Backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum TargetKind {
    #[default]
    Service,
    Backend,
}

impl TargetKind {
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Service => "Service",
            TargetKind::Backend => "Backend",
        }
    }
}

/// One Service port, or one Backend, as a backend, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackendTarget {
    pub namespace: String,
    /// The Service's or the Backend's name.
    pub service: String,
    pub kind: TargetKind,
    /// The Service port; 0 for a Backend (its endpoints carry their ports).
    pub port: u32,
    pub endpoints: Endpoints,
    /// The Service port's appProtocol (`kubernetes.io/h2c`, `kubernetes.io/ws`, ...).
    pub app_protocol: Option<String>,
    /// A BackendTLSPolicy for the port (or the Backend's own `tls`): verified TLS, or
    /// requests that must fail.
    pub tls: Option<super::backendtls::BackendTls>,
    /// A Backend's `fallback`: it takes traffic only when the others are unhealthy.
    pub fallback: bool,
}

/// The socket path of a Unix-socket endpoint (`/path`, or `@name` in the abstract namespace).
pub fn unix_path(e: &(String, u32)) -> Option<&str> {
    (e.1 == 0 && (e.0.starts_with('/') || e.0.starts_with('@'))).then_some(e.0.as_str())
}

/// What a backendRef names, whatever the route kind.
#[derive(Debug, Clone, Copy)]
pub struct BackendRef<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub port: Option<u32>,
}

/// Why a backendRef did not resolve: the route status reason and a message; `code` is
/// `unsupported::kind` for a kind gatewayc does not implement (ServiceImport).
#[derive(Debug, Clone)]
pub struct Unresolved {
    pub reason: &'static str,
    pub message: String,
    pub code: crate::diag::Code,
}

fn unresolved(reason: &'static str, message: String) -> Unresolved {
    Unresolved { reason, message, code: crate::diag::Code::ReferenceBackend }
}

/// (namespace, Service, port, protocol) of a resolved backend.
type TargetKey = (String, String, u32, PortProtocol);

/// Lookup tables built once per run (no scan per route).
pub struct Index<'a> {
    /// In (namespace, name) order, searched by halving: an input can hold many Services, and a
    /// map of them would cost more than the Services themselves.
    services: &'a [Item<ServiceInfo>],
    /// EndpointSlices with a Service label, as indices into `slice_list` sorted by (namespace,
    /// Service): 4 bytes a slice.
    slices: Vec<u32>,
    slice_list: &'a [Item<EndpointSliceInfo>],
    grants: HashMap<&'a str, Vec<&'a crate::api::ReferenceGrant>>,
    namespaces: HashMap<&'a str, &'a Namespace>,
    secrets: HashMap<(&'a str, &'a str), &'a crate::api::Secret>,
    config_maps: HashMap<(&'a str, &'a str), &'a crate::api::ConfigMap>,
    route_filters: HashMap<(&'a str, &'a str), &'a crate::api::HTTPRouteFilter>,
    /// BackendTLSPolicies in effect, set once they are resolved (they need this index).
    tls_policies: std::cell::OnceCell<super::backendtls::Policies>,
    /// Envoy Gateway's Backends, judged once the BackendTLSPolicies are known.
    backends: std::cell::OnceCell<super::egbackend::Judged>,
    cluster_domain: String,
    /// Resolved targets by (namespace, Service, port): resolved once, shared.
    targets: std::cell::RefCell<HashMap<TargetKey, std::sync::Arc<BackendTarget>>>,
}

impl<'a> Index<'a> {
    pub fn new(res: &'a Resources, opts: &Options) -> Self {
        let slice_key = |i: &u32| {
            let s = &res.endpoint_slices[*i as usize].obj;
            (&*s.namespace, s.service.as_deref().unwrap_or(""))
        };
        let mut slices: Vec<u32> = (0..res.endpoint_slices.len())
            .filter(|&i| res.endpoint_slices[i].obj.service.is_some())
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        slices.sort_by(|a, b| slice_key(a).cmp(&slice_key(b)));
        let mut grants: HashMap<&str, Vec<_>> = HashMap::new();
        for g in &res.reference_grants {
            grants.entry(g.obj.metadata.ns()).or_default().push(&*g.obj);
        }
        Index {
            services: &res.services,
            slices,
            slice_list: &res.endpoint_slices,
            grants,
            namespaces: res.namespaces.iter().map(|n| (n.obj.metadata.name.as_str(), &*n.obj)).collect(),
            secrets: res.secrets.iter().map(|s| ((s.obj.metadata.ns(), s.obj.metadata.name.as_str()), &*s.obj)).collect(),
            config_maps: res.config_maps.iter().map(|c| ((c.obj.metadata.ns(), c.obj.metadata.name.as_str()), &*c.obj)).collect(),
            route_filters: res.http_route_filters.iter().map(|f| ((f.obj.metadata.ns(), f.obj.metadata.name.as_str()), &*f.obj)).collect(),
            tls_policies: Default::default(),
            backends: Default::default(),
            cluster_domain: opts.cluster_domain.clone(),
            targets: Default::default(),
        }
    }

    /// Labels of a namespace: declared ones plus `kubernetes.io/metadata.name`, which the API
    /// server sets on every namespace. A namespace not in the input has only that label.
    pub fn namespace_labels(&self, ns: &str) -> BTreeMap<String, String> {
        let mut labels = self.namespaces.get(ns).map(|n| n.metadata.labels.clone()).unwrap_or_default();
        labels.insert("kubernetes.io/metadata.name".into(), ns.to_string());
        labels
    }

    pub fn secret(&self, ns: &str, name: &str) -> Option<&'a crate::api::Secret> {
        self.secrets.get(&(ns, name)).copied()
    }

    pub fn config_map(&self, ns: &str, name: &str) -> Option<&'a crate::api::ConfigMap> {
        self.config_maps.get(&(ns, name)).copied()
    }

    pub fn route_filter(&self, ns: &str, name: &str) -> Option<&'a crate::api::HTTPRouteFilter> {
        self.route_filters.get(&(ns, name)).copied()
    }

    /// BackendTLSPolicies targeting a Service, in effect or not.
    pub fn tls_policies_targeting(&self, ns: &str, kind: &'static str, name: &str) -> &[crate::id::ObjectKey] {
        self.tls_policies.get().map(|p| p.targeting(ns, kind, name)).unwrap_or(&[])
    }

    /// Hand over the resolved BackendTLSPolicies; backends resolved afterwards carry them.
    pub fn set_tls_policies(&self, p: super::backendtls::Policies) {
        let _ = self.tls_policies.set(p);
    }

    /// The BackendTLSPolicy in effect for a port of a Service or Backend (`kind`).
    pub fn tls_policy_for(&self, ns: &str, kind: &'static str, name: &str, section: &str) -> Option<&super::backendtls::BackendTls> {
        self.tls_policies.get().and_then(|p| p.for_port(ns, kind, name, section))
    }

    /// Hand over the judged Backends; backendRefs resolved afterwards reach them.
    pub fn set_backends(&self, b: super::egbackend::Judged) {
        let _ = self.backends.set(b);
    }

    /// Does a ReferenceGrant in `to_ns` allow `from_kind` objects of `from_ns` to refer to it?
    pub fn granted(&self, from_kind: &str, from_ns: &str, to_group: &str, to_kind: &str, to_ns: &str, to_name: &str) -> bool {
        self.granted_from(GATEWAY_GROUP, from_kind, from_ns, to_group, to_kind, to_ns, to_name)
    }

    /// [`Index::granted`] for a referrer of any group (Envoy Gateway's policies).
    #[allow(clippy::too_many_arguments)]
    pub fn granted_from(&self, from_group: &str, from_kind: &str, from_ns: &str, to_group: &str, to_kind: &str, to_ns: &str, to_name: &str) -> bool {
        self.grants.get(to_ns).is_some_and(|gs| {
            gs.iter().any(|g| {
                g.spec.from.iter().any(|f| f.group == from_group && f.kind == from_kind && f.namespace == from_ns)
                    && g.spec.to.iter().any(|t| t.group == to_group && t.kind == to_kind && t.name.as_deref().is_none_or(|n| n == to_name))
            })
        })
    }

    /// The EndpointSlices of a Service, in (namespace, name) order; None when it has none.
    fn slices_of(&self, ns: &str, service: &str) -> Option<Vec<&'a EndpointSliceInfo>> {
        let key = |i: &u32| {
            let s = &self.slice_list[*i as usize].obj;
            (&*s.namespace, s.service.as_deref().unwrap_or(""))
        };
        let from = self.slices.partition_point(|i| key(i) < (ns, service));
        let to = self.slices.partition_point(|i| key(i) <= (ns, service));
        let mut found: Vec<usize> = self.slices[from..to].iter().map(|&i| i as usize).collect();
        found.sort_unstable();
        if found.is_empty() { None } else { Some(found.into_iter().map(|i| &self.slice_list[i].obj).collect()) }
    }

    /// Resolve a backendRef (a Service's port, or an Envoy Gateway Backend) from an object
    /// of kind `from.0` in namespace `from.1` to its endpoints.
    pub fn target(&self, from: (crate::api::Kind, &str), to: BackendRef, protocol: PortProtocol) -> Result<std::sync::Arc<BackendTarget>, Unresolved> {
        let (route_kind, route_ns) = from;
        let BackendRef { group, kind, name, namespace: ns, .. } = to;
        let to_group = match (group, kind) {
            ("" | "core", "Service") => "",
            (crate::api::ENVOY_GATEWAY_GROUP, "Backend") => crate::api::ENVOY_GATEWAY_GROUP,
            ("multicluster.x-k8s.io", "ServiceImport") => {
                return Err(Unresolved { code: crate::diag::Code::UnsupportedKind, ..unresolved("UnsupportedValue", "backendRefs of kind ServiceImport are not supported yet; with --allow-unsupported its share answers 500".into()) });
            }
            _ => return Err(unresolved("InvalidKind", format!("backendRef kind {kind} of group `{group}` is not supported; only Services and Envoy Gateway's Backends are"))),
        };
        let ns = ns.unwrap_or(route_ns);
        // An EnvoyProxy's collectors are the operator's, named in the proxy's own settings:
        // Envoy Gateway asks no ReferenceGrant for them.
        if ns != route_ns && route_kind != crate::api::Kind::EnvoyProxy && !self.granted_from(route_kind.group(), route_kind.name(), route_ns, to_group, kind, ns, name) {
            return Err(unresolved("RefNotPermitted", format!("backendRef to {kind} {ns}/{name} is not permitted by any ReferenceGrant in namespace {ns}")));
        }
        if kind == "Backend" {
            return self.backend_kind(ns, name, protocol);
        }
        self.service_port(ns, name, to.port, protocol)
    }

    /// An Envoy Gateway Backend, as judged (not found, not accepted, or its target).
    fn backend_kind(&self, ns: &str, name: &str, protocol: PortProtocol) -> Result<std::sync::Arc<BackendTarget>, Unresolved> {
        let Some(judged) = self.backends.get().and_then(|b| b.get(&(ns.to_string(), name.to_string()))) else {
            return Err(unresolved("BackendNotFound", format!("Backend {ns}/{name} not found")));
        };
        let t = judged.as_ref().map_err(|(reason, message)| unresolved(reason, message.clone()))?;
        let (Endpoints::Static(eps) | Endpoints::Dns(eps)) = &t.endpoints;
        if protocol == PortProtocol::Udp && eps.iter().any(|e| unix_path(e).is_some()) {
            return Err(unresolved("UnsupportedValue", format!("Backend {ns}/{name} has Unix-socket endpoints, which do not carry UDP")));
        }
        Ok(t.clone())
    }

    /// A Service's port.
    fn service_port(&self, ns: &str, name: &str, port: Option<u32>, protocol: PortProtocol) -> Result<std::sync::Arc<BackendTarget>, Unresolved> {
        let found = self.services.binary_search_by(|s| (&*s.obj.namespace, &*s.obj.name).cmp(&(ns, name)));
        let Some(svc) = found.ok().map(|i| &self.services[i].obj) else {
            return Err(unresolved("BackendNotFound", format!("Service {ns}/{name} not found")));
        };
        let Some(port) = port else {
            return Err(unresolved("UnsupportedValue", "backendRef to a Service needs a port".into()));
        };
        let Some(sp) = svc
            .ports
            .iter()
            .find(|p| p.port == port && p.protocol == protocol)
        else {
            let proto = if protocol == PortProtocol::Udp {
                "UDP"
            } else {
                "TCP"
            };
            return Err(unresolved("BackendNotFound", format!("Service {ns}/{name} has no {proto} port {port}")));
        };
        let key = (ns.to_string(), name.to_string(), port, protocol);
        if let Some(t) = self.targets.borrow().get(&key) {
            return Ok(t.clone());
        }
        let endpoints = if let Some(external) = &svc.external_name {
            Endpoints::Dns(vec![(external.to_string(), port)])
        } else {
            match self.slices_of(ns, name) {
                None => Endpoints::Dns(vec![(format!("{name}.{ns}.svc.{}", self.cluster_domain), port)]),
                Some(slices) => {
                    let target_port = sp.target_port;
                    let mut ips = Vec::new();
                    let mut fqdns = Vec::new();
                    for s in slices {
                        // The slice's port carries the Service port's name; unnamed ports are "".
                        let Some(p) = s.ports.iter().find(|(n, _)| *n == sp.name).and_then(|(_, p)| *p).or(if s.ports.is_empty() { target_port } else { None }) else {
                            continue;
                        };
                        let out = if s.fqdn { &mut fqdns } else { &mut ips };
                        out.extend(s.ready.iter().map(|a| (a.to_string(), p)));
                    }
                    ips.sort();
                    ips.dedup();
                    fqdns.sort();
                    fqdns.dedup();
                    if ips.is_empty() && !fqdns.is_empty() { Endpoints::Dns(fqdns) } else { Endpoints::Static(ips) }
                }
            }
        };
        let target = std::sync::Arc::new(BackendTarget {
            namespace: ns.to_string(),
            service: name.to_string(),
            port,
            endpoints,
            app_protocol: sp.app_protocol.as_deref().map(str::to_string),
            tls: self.tls_policies.get().and_then(|p| p.for_port(ns, "Service", name, &sp.name)).cloned(),
            kind: TargetKind::Service,
            fallback: false,
        });
        self.targets.borrow_mut().insert(key, target.clone());
        Ok(target)
    }
}
