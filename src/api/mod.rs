//! Stage 2: typed resources. Our own serde types for the kinds we read, with the CRDs'
//! constraints as schemars attributes (the JSON Schemas in `schemas/` are generated from them).
//!
//! Input: [`crate::source::Document`]s. [`classify`] says what each one is; `validate` checks
//! it against its schema and then [`decode`]s it into an [`Object`].

pub mod backend;
pub mod backendtls;
pub mod btp;
pub mod btp_http;
pub mod core;
pub mod ctp;
pub mod eep;
pub mod epp;
pub mod envoyproxy;
pub mod gateway;
pub mod grpcroute;
pub mod httproute;
pub mod l4route;
pub mod listenerset;
pub mod meta;
pub mod policy;
pub mod refgrant;
pub mod routefilter;
pub mod sp;
pub mod sp_auth;

use crate::diag::Code;
use crate::source::Locator;
use meta::ObjectMeta;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
pub const ENVOY_GATEWAY_GROUP: &str = "gateway.envoyproxy.io";

/// Every kind gatewayc implements, once: its Rust type, the `Resources` list that holds its
/// objects (and, after `as`, the smaller form kept there when later stages read little of a
/// kind), its group, served versions and scope. Adding a kind is one line here (plus its type
/// and, if it has rules, a `validate` module).
macro_rules! kinds {
    ($( $kind:ident => $field:ident $(as $kept:ty)?, $group:expr, [$($v:literal),+], $scope:ident; )+) => {
        /// Kinds we implement.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind { $($kind),+ }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$kind),+];
            pub fn name(self) -> &'static str {
                match self { $(Kind::$kind => stringify!($kind)),+ }
            }
            pub fn group(self) -> &'static str {
                match self { $(Kind::$kind => $group),+ }
            }
            /// The versions the API server serves for this kind; the first is the preferred one.
            pub fn versions(self) -> &'static [&'static str] {
                match self { $(Kind::$kind => &[$($v),+]),+ }
            }
            pub fn namespaced(self) -> bool {
                match self { $(Kind::$kind => kinds!(@scope $scope)),+ }
            }
            fn raw_schema(self) -> schemars::Schema {
                match self { $(Kind::$kind => schemars::schema_for!($kind)),+ }
            }
        }

        /// One decoded object of any kind we implement, whole (boxed: a list of objects costs
        /// a pointer each, not the size of the largest kind).
        #[derive(Debug, Clone, PartialEq)]
        pub enum Object { $($kind(Box<$kind>)),+ }

        impl Object {
            pub fn meta(&self) -> &ObjectMeta {
                match self { $(Object::$kind(o) => &o.metadata),+ }
            }
        }

        /// One valid object as `Resources` keeps it (see [`Object::keep`]).
        #[derive(Debug, Clone, PartialEq)]
        pub enum Kept { $($kind(kinds!(@kept $kind $($kept)?))),+ }

        /// Deserialize a document that passed its schema into its typed form.
        pub fn decode(kind: Kind, value: serde_json::Value) -> Result<Object, serde_json::Error> {
            Ok(match kind { $(Kind::$kind => Object::$kind(Box::new(serde_json::from_value(value)?))),+ })
        }

        /// Every valid object of the input, by kind, in a canonical order (creationTimestamp,
        /// then namespace/name), whatever the order of files and documents.
        #[derive(Debug, Default)]
        pub struct Resources { $(pub $field: Vec<Item<kinds!(@kept $kind $($kept)?)>>),+ }

        impl Resources {
            pub fn push(&mut self, obj: Kept, loc: Locator) {
                match obj { $(Kept::$kind(o) => self.$field.push(Item { obj: o, loc })),+ }
            }
            /// Concatenate the lists of `parts`, in order. A list only one part has is taken
            /// over whole; otherwise each part's list is freed as soon as it has been moved.
            pub fn concat(parts: Vec<Resources>) -> Resources {
                let mut out = Resources::default();
                let mut parts = parts;
                $(
                    let non_empty = parts.iter().filter(|p| !p.$field.is_empty()).count();
                    if non_empty <= 1 {
                        if let Some(p) = parts.iter_mut().find(|p| !p.$field.is_empty()) {
                            out.$field = std::mem::take(&mut p.$field);
                            out.$field.shrink_to_fit();
                        }
                    } else {
                        out.$field.reserve_exact(parts.iter().map(|p| p.$field.len()).sum());
                        for p in parts.iter_mut() {
                            out.$field.extend(std::mem::take(&mut p.$field));
                        }
                    }
                )+
                out
            }
            /// Keep one object per (kind, namespace, name): the one pushed last. `replaced` is
            /// called with each dropped object and the one that replaces it.
            pub fn dedup(&mut self, replaced: &mut dyn FnMut(DuplicateOf<'_>)) {
                $(dedup_list(&mut self.$field, Kind::$kind.namespaced(), |o| o.age_key(), |a, b| replaced(DuplicateOf {
                    kind: Kind::$kind,
                    namespace: a.obj.age_key().1,
                    name: a.obj.age_key().2,
                    earlier: &a.loc,
                    later: &b.loc,
                    same: a.obj == b.obj,
                }));)+
            }
            /// Put every list in canonical order (after `dedup`, no two objects compare equal).
            pub fn sort(&mut self) {
                $(self.$field.sort_unstable_by(|a, b| a.obj.age_key().cmp(&b.obj.age_key()));)+
            }
        }
    };
    (@scope namespaced) => { true };
    (@scope cluster) => { false };
    (@kept $kind:ident) => { Box<$kind> };
    (@kept $kind:ident $kept:ty) => { $kept };
}

/// An object defined twice: what [`Resources::dedup`] reports.
pub struct DuplicateOf<'a> {
    pub kind: Kind,
    pub namespace: &'a str,
    pub name: &'a str,
    pub earlier: &'a Locator,
    pub later: &'a Locator,
    /// Both definitions keep the same content.
    pub same: bool,
}

/// Sort by (namespace, name), then input order, so that copies of one object are adjacent in
/// the order they were read, then keep the last of each run. In place: no scratch list.
fn dedup_list<T>(list: &mut Vec<Item<T>>, namespaced: bool, key: impl Fn(&T) -> (&str, &str, &str), mut replaced: impl FnMut(&Item<T>, &Item<T>)) {
    fn id<'i, T>(i: &'i Item<T>, namespaced: bool, key: &impl Fn(&T) -> (&str, &str, &str)) -> (&'i str, &'i str) {
        let (_, ns, name) = key(&i.obj);
        (if namespaced { ns } else { "" }, name)
    }
    list.sort_unstable_by(|a, b| id(a, namespaced, &key).cmp(&id(b, namespaced, &key)).then_with(|| a.loc.input_order().cmp(&b.loc.input_order())));
    list.dedup_by(|later, kept| {
        if id(later, namespaced, &key) != id(kept, namespaced, &key) {
            return false;
        }
        replaced(kept, later);
        std::mem::swap(later, kept);
        true
    });
}

kinds! {
    GatewayClass => gateway_classes, GATEWAY_GROUP, ["v1", "v1beta1"], cluster;
    Gateway => gateways, GATEWAY_GROUP, ["v1", "v1beta1"], namespaced;
    ListenerSet => listener_sets, GATEWAY_GROUP, ["v1"], namespaced;
    HTTPRoute => http_routes, GATEWAY_GROUP, ["v1", "v1beta1"], namespaced;
    GRPCRoute => grpc_routes, GATEWAY_GROUP, ["v1"], namespaced;
    TCPRoute => tcp_routes, GATEWAY_GROUP, ["v1", "v1alpha2"], namespaced;
    UDPRoute => udp_routes, GATEWAY_GROUP, ["v1", "v1alpha2"], namespaced;
    TLSRoute => tls_routes, GATEWAY_GROUP, ["v1", "v1alpha3", "v1alpha2"], namespaced;
    ReferenceGrant => reference_grants, GATEWAY_GROUP, ["v1", "v1beta1"], namespaced;
    BackendTLSPolicy => backend_tls_policies, GATEWAY_GROUP, ["v1", "v1alpha3"], namespaced;
    Service => services as core::ServiceInfo, "", ["v1"], namespaced;
    EndpointSlice => endpoint_slices as core::EndpointSliceInfo, "discovery.k8s.io", ["v1"], namespaced;
    Namespace => namespaces, "", ["v1"], cluster;
    Secret => secrets, "", ["v1"], namespaced;
    ConfigMap => config_maps, "", ["v1"], namespaced;
    EnvoyProxy => envoy_proxies, ENVOY_GATEWAY_GROUP, ["v1alpha1"], namespaced;
    BackendTrafficPolicy => backend_traffic_policies, ENVOY_GATEWAY_GROUP, ["v1alpha1"], namespaced;
    ClientTrafficPolicy => client_traffic_policies, ENVOY_GATEWAY_GROUP, ["v1alpha1"], namespaced;
    SecurityPolicy => security_policies, ENVOY_GATEWAY_GROUP, ["v1alpha1"], namespaced;
    EnvoyExtensionPolicy => envoy_extension_policies, ENVOY_GATEWAY_GROUP, ["v1alpha1"], namespaced;
    EnvoyPatchPolicy => envoy_patch_policies, ENVOY_GATEWAY_GROUP, ["v1alpha1"], namespaced;
    HTTPRouteFilter => http_route_filters, ENVOY_GATEWAY_GROUP, ["v1alpha1"], namespaced;
    Backend => backends, ENVOY_GATEWAY_GROUP, ["v1alpha1"], namespaced;
}

impl Object {
    /// The form `Resources` keeps. Services and EndpointSlices, which can be most of a large
    /// input, become their small resolved forms; other core objects drop the metadata no later
    /// stage reads (a Namespace keeps its labels). Gateway API objects stay whole (`status`
    /// prints them back).
    pub fn keep(self, strings: &mut core::Interner) -> Kept {
        fn meta(m: &mut meta::ObjectMeta, keep_labels: bool) {
            if !keep_labels {
                m.labels = BTreeMap::new();
            }
            m.annotations = BTreeMap::new();
            m.managed_fields = Vec::new();
            m.owner_references = Vec::new();
            m.finalizers = Vec::new();
            (m.uid, m.resource_version, m.generate_name, m.self_link, m.deletion_timestamp) = (None, None, None, None, None);
        }
        match self {
            Object::GatewayClass(o) => Kept::GatewayClass(o),
            Object::Gateway(o) => Kept::Gateway(o),
            Object::ListenerSet(o) => Kept::ListenerSet(o),
            Object::HTTPRoute(o) => Kept::HTTPRoute(o),
            Object::GRPCRoute(o) => Kept::GRPCRoute(o),
            Object::TCPRoute(o) => Kept::TCPRoute(o),
            Object::UDPRoute(o) => Kept::UDPRoute(o),
            Object::TLSRoute(o) => Kept::TLSRoute(o),
            Object::ReferenceGrant(o) => Kept::ReferenceGrant(o),
            Object::BackendTLSPolicy(o) => Kept::BackendTLSPolicy(o),
            Object::EnvoyProxy(o) => Kept::EnvoyProxy(o),
            Object::BackendTrafficPolicy(o) => Kept::BackendTrafficPolicy(o),
            Object::ClientTrafficPolicy(o) => Kept::ClientTrafficPolicy(o),
            Object::SecurityPolicy(o) => Kept::SecurityPolicy(o),
            Object::EnvoyExtensionPolicy(o) => Kept::EnvoyExtensionPolicy(o),
            Object::EnvoyPatchPolicy(o) => Kept::EnvoyPatchPolicy(o),
            Object::HTTPRouteFilter(o) => Kept::HTTPRouteFilter(o),
            Object::Backend(o) => Kept::Backend(o),
            Object::Service(s) => Kept::Service(core::ServiceInfo::from_service(*s, strings)),
            Object::EndpointSlice(e) => Kept::EndpointSlice(core::EndpointSliceInfo::from_slice(*e, strings)),
            Object::Namespace(mut n) => {
                meta(&mut n.metadata, true);
                n.spec = None;
                Kept::Namespace(n)
            }
            Object::Secret(mut s) => {
                meta(&mut s.metadata, false);
                Kept::Secret(s)
            }
            Object::ConfigMap(mut c) => {
                meta(&mut c.metadata, false);
                Kept::ConfigMap(c)
            }
        }
    }
}

impl Kind {
    pub fn api_versions(self) -> Vec<String> {
        self.versions()
            .iter()
            .map(|v| if self.group().is_empty() { v.to_string() } else { format!("{}/{}", self.group(), v) })
            .collect()
    }
}

/// Kinds of the groups we read that exist upstream but are not implemented yet.
const UNSUPPORTED: &[(&str, &str, &[&str])] = &[
    (GATEWAY_X_GROUP, "XBackend", &["v1alpha1"]),
    (GATEWAY_X_GROUP, "XBackendTrafficPolicy", &["v1alpha1"]),
    (GATEWAY_X_GROUP, "XMesh", &["v1alpha1"]),
];

/// Gateway API's experimental group of kinds still being designed.
const GATEWAY_X_GROUP: &str = "gateway.networking.x-k8s.io";

/// What a document is, judged from its apiVersion and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Class {
    Known(Kind),
    /// Defined upstream in a group we read, not implemented yet: a warning.
    Unsupported { kind: String },
    /// Not a kind of ours (Deployment, ...): skipped quietly.
    Foreign,
    /// apiVersion or kind missing or wrong: an error, the API server would refuse it.
    Invalid { code: Code, message: String, pointer: &'static str },
}

pub fn classify(value: &serde_json::Value) -> Class {
    let api_version = value.get("apiVersion").and_then(|v| v.as_str());
    let kind = value.get("kind").and_then(|v| v.as_str());
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        let field = if api_version.is_none() { "apiVersion" } else { "kind" };
        return Class::Invalid {
            code: Code::SchemaMissingType,
            message: format!("document has no `{field}`; every Kubernetes object needs apiVersion and kind"),
            pointer: "",
        };
    };
    let (group, version) = match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    if let Some(k) = Kind::ALL.iter().copied().find(|k| k.name() == kind && k.group() == group) {
        return if k.versions().contains(&version) {
            Class::Known(k)
        } else {
            Class::Invalid {
                code: Code::SchemaUnknownVersion,
                message: format!("{kind} is not served at {api_version}; use one of {}", k.api_versions().join(", ")),
                pointer: "/apiVersion",
            }
        };
    }
    if group == GATEWAY_GROUP || group == ENVOY_GATEWAY_GROUP || group == GATEWAY_X_GROUP {
        return match UNSUPPORTED.iter().find(|(g, k, _)| *g == group && *k == kind) {
            Some((_, _, versions)) if versions.contains(&version) => Class::Unsupported { kind: kind.to_string() },
            Some((_, _, versions)) => Class::Invalid {
                code: Code::SchemaUnknownVersion,
                message: format!("{kind} is not served at {api_version}; served versions: {}", versions.join(", ")),
                pointer: "/apiVersion",
            },
            None => Class::Invalid {
                code: Code::SchemaUnknownKind,
                message: format!("the group {group} defines no kind `{kind}`"),
                pointer: "/kind",
            },
        };
    }
    Class::Foreign
}

macro_rules! resource {
    ($(#[$m:meta])* $name:ident, $kind:literal, [$($v:literal),+] { $($body:tt)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            #[schemars(extend("enum" = [$($v),+]))]
            pub api_version: String,
            #[schemars(extend("const" = $kind))]
            pub kind: String,
            pub metadata: ObjectMeta,
            $($body)*
            /// Ignored on input: status is what we compute.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub status: Option<serde_json::Value>,
        }

        impl $name {
            /// (creationTimestamp, namespace, name): what canonical order sorts by.
            pub fn age_key(&self) -> (&str, &str, &str) {
                age_key(&self.metadata)
            }
        }
    };
}

resource!(
    /// GatewayClass: which controller implements Gateways of this class.
    GatewayClass, "GatewayClass", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"] {
        pub spec: gateway::GatewayClassSpec,
    }
);
resource!(
    /// Gateway: listeners (port, protocol, hostname) that routes attach to.
    Gateway, "Gateway", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"] {
        pub spec: gateway::GatewaySpec,
    }
);
resource!(
    /// ListenerSet: listeners attached to a Gateway that allows them.
    ListenerSet, "ListenerSet", ["gateway.networking.k8s.io/v1"] {
        pub spec: listenerset::ListenerSetSpec,
    }
);
resource!(
    /// HTTPRoute: HTTP matching, filters and backends.
    HTTPRoute, "HTTPRoute", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"] {
        pub spec: httproute::HTTPRouteSpec,
    }
);
resource!(
    /// GRPCRoute: gRPC matching by service, method and header, filters and backends.
    GRPCRoute, "GRPCRoute", ["gateway.networking.k8s.io/v1"] {
        pub spec: grpcroute::GRPCRouteSpec,
    }
);
resource!(
    /// TCPRoute: a TCP listener's connections to weighted backends.
    TCPRoute, "TCPRoute", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha2"] {
        pub spec: l4route::TCPRouteSpec,
    }
);
resource!(
    /// UDPRoute: a UDP listener's datagrams to weighted backends.
    UDPRoute, "UDPRoute", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha2"] {
        pub spec: l4route::UDPRouteSpec,
    }
);
resource!(
    /// TLSRoute: TLS connections by SNI, passed through or terminated, to weighted backends.
    TLSRoute, "TLSRoute", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha3", "gateway.networking.k8s.io/v1alpha2"] {
        pub spec: l4route::TLSRouteSpec,
    }
);
resource!(
    /// BackendTLSPolicy: verified TLS from the Gateway to a Service's port.
    BackendTLSPolicy, "BackendTLSPolicy", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1alpha3"] {
        pub spec: backendtls::BackendTLSPolicySpec,
    }
);
resource!(
    /// BackendTrafficPolicy (Envoy Gateway): load balancing, retries, timeouts and limits
    /// towards the backends of the Gateways, listeners, routes or rules it targets.
    BackendTrafficPolicy, "BackendTrafficPolicy", ["gateway.envoyproxy.io/v1alpha1"] {
        pub spec: btp::BackendTrafficPolicySpec,
    }
);
resource!(
    /// ClientTrafficPolicy (Envoy Gateway): how Envoy treats the clients of the Gateways or
    /// listeners it targets.
    ClientTrafficPolicy, "ClientTrafficPolicy", ["gateway.envoyproxy.io/v1alpha1"] {
        pub spec: ctp::ClientTrafficPolicySpec,
    }
);
resource!(
    /// SecurityPolicy (Envoy Gateway): authentication and authorization at the Gateways,
    /// listeners, routes or rules it targets.
    SecurityPolicy, "SecurityPolicy", ["gateway.envoyproxy.io/v1alpha1"] {
        pub spec: sp::SecurityPolicySpec,
    }
);
resource!(
    /// EnvoyExtensionPolicy (Envoy Gateway): external processors and Lua scripts in the HTTP
    /// filter chain of the Gateways, listeners, routes or rules it targets.
    EnvoyExtensionPolicy, "EnvoyExtensionPolicy", ["gateway.envoyproxy.io/v1alpha1"] {
        pub spec: eep::EnvoyExtensionPolicySpec,
    }
);
resource!(
    /// EnvoyPatchPolicy (Envoy Gateway): JSON patches on the Envoy configuration of the
    /// Gateway it targets.
    EnvoyPatchPolicy, "EnvoyPatchPolicy", ["gateway.envoyproxy.io/v1alpha1"] {
        pub spec: epp::EnvoyPatchPolicySpec,
    }
);
resource!(
    /// HTTPRouteFilter (Envoy Gateway): a route filter named by ExtensionRef filters.
    HTTPRouteFilter, "HTTPRouteFilter", ["gateway.envoyproxy.io/v1alpha1"] {
        pub spec: routefilter::HTTPRouteFilterSpec,
    }
);
resource!(
    /// Backend (Envoy Gateway): IP, DNS and Unix-socket endpoints that backendRefs may name.
    Backend, "Backend", ["gateway.envoyproxy.io/v1alpha1"] {
        pub spec: backend::BackendSpec,
    }
);
resource!(
    /// ReferenceGrant: allows references from other namespaces into this one.
    ReferenceGrant, "ReferenceGrant", ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"] {
        pub spec: refgrant::ReferenceGrantSpec,
    }
);
resource!(
    /// Service (v1).
    Service, "Service", ["v1"] {
        #[serde(default)]
        pub spec: core::ServiceSpec,
    }
);
resource!(
    /// EndpointSlice (discovery.k8s.io/v1): the ready addresses behind a Service.
    EndpointSlice, "EndpointSlice", ["discovery.k8s.io/v1"] {
        pub address_type: core::AddressType,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[schemars(length(max = 1000))]
        pub endpoints: Vec<core::Endpoint>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[schemars(length(max = 100))]
        pub ports: Vec<core::EndpointPort>,
    }
);
resource!(
    /// Namespace (v1): its labels select routes for `allowedRoutes.namespaces.selector`.
    Namespace, "Namespace", ["v1"] {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub spec: Option<serde_json::Value>,
    }
);
resource!(
    /// Secret (v1). Its data never appears in diagnostics.
    Secret, "Secret", ["v1"] {
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        pub type_: Option<String>,
        #[serde(default, skip_serializing)]
        pub data: BTreeMap<String, String>,
        #[serde(default, skip_serializing)]
        pub string_data: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub immutable: Option<bool>,
    }
);
resource!(
    /// EnvoyProxy (gateway.envoyproxy.io/v1alpha1): the proxy's Deployment and Service settings.
    EnvoyProxy, "EnvoyProxy", ["gateway.envoyproxy.io/v1alpha1"] {
        #[serde(default)]
        pub spec: envoyproxy::EnvoyProxySpec,
    }
);
resource!(
    /// ConfigMap (v1).
    ConfigMap, "ConfigMap", ["v1"] {
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub data: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        pub binary_data: BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub immutable: Option<bool>,
    }
);

/// Which Gateway API CRDs the cluster would have: the experimental channel adds fields
/// (HTTPRoute `retry`, `sessionPersistence`) that the standard channel's API server refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Channel {
    Standard,
    /// Envoy Gateway installs the experimental channel's CRDs.
    #[default]
    Experimental,
}

/// What only the experimental channel has: (kind, definition, property, keyword). Without a
/// keyword the property itself is experimental; with one, only that constraint is (the
/// experimental CRDs restrict header values to visible ASCII with single inner spaces).
const EXPERIMENTAL_ONLY: &[(Kind, &str, &str, Option<&str>)] = &[
    (Kind::HTTPRoute, "HTTPRouteRule", "retry", None),
    (Kind::HTTPRoute, "HTTPRouteRule", "sessionPersistence", None),
    (Kind::HTTPRoute, "HTTPHeader", "value", Some("pattern")),
    (Kind::GRPCRoute, "GRPCRouteRule", "sessionPersistence", None),
    (Kind::GRPCRoute, "GRPCRouteSpec", "useDefaultGateways", None),
    (Kind::GRPCRoute, "HTTPHeader", "value", Some("pattern")),
];

/// Versions only the experimental channel's CRDs serve.
const EXPERIMENTAL_VERSIONS: &[(Kind, &str)] = &[
    (Kind::TCPRoute, "v1alpha2"),
    (Kind::UDPRoute, "v1alpha2"),
    (Kind::TLSRoute, "v1alpha2"),
    (Kind::TLSRoute, "v1alpha3"),
    (Kind::BackendTLSPolicy, "v1alpha3"),
];

/// Is this document's apiVersion one only the experimental channel serves?
pub fn experimental_version(kind: Kind, value: &serde_json::Value) -> bool {
    let version = value.get("apiVersion").and_then(|v| v.as_str()).and_then(|v| v.rsplit('/').next()).unwrap_or("");
    EXPERIMENTAL_VERSIONS.iter().any(|(k, v)| *k == kind && *v == version)
}

/// The schema of a kind in a channel: the standard one lacks the experimental fields.
pub fn schema_for_channel(kind: Kind, channel: Channel) -> serde_json::Value {
    let mut schema = schema_for(kind);
    if channel == Channel::Standard {
        for (k, def, prop, keyword) in EXPERIMENTAL_ONLY {
            let Some(props) = schema.pointer_mut(&format!("/$defs/{def}/properties")).and_then(|p| p.as_object_mut()).filter(|_| *k == kind) else {
                continue;
            };
            match keyword {
                None => {
                    props.shift_remove(*prop);
                }
                Some(kw) => {
                    if let Some(p) = props.get_mut(*prop).and_then(|p| p.as_object_mut()) {
                        p.shift_remove(*kw);
                    }
                }
            }
        }
        if let Some(id) = schema.get_mut("$id") {
            *id = schema_id_for(kind, channel).into();
        }
    }
    schema
}

/// Every schema file `gatewayc schema` writes: the experimental channel's schema of each kind,
/// and the standard channel's for kinds that differ.
pub fn schema_files() -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for &k in Kind::ALL {
        out.push((schema_file_name(k), schema_for(k)));
        if EXPERIMENTAL_ONLY.iter().any(|(x, ..)| *x == k) {
            out.push((schema_file_name_for(k, Channel::Standard), schema_for_channel(k, Channel::Standard)));
        }
    }
    out
}

pub fn schema_file_name_for(kind: Kind, channel: Channel) -> String {
    match channel {
        Channel::Experimental => schema_file_name(kind),
        Channel::Standard => schema_file_name(kind).replace(".json", ".standard.json"),
    }
}

fn schema_id_for(kind: Kind, channel: Channel) -> String {
    format!("https://gatewayc.dev/schemas/{}", schema_file_name_for(kind, channel))
}

/// The JSON Schema of one kind (experimental channel), draft 2020-12, with a stable `$id`.
pub fn schema_for(kind: Kind) -> serde_json::Value {
    let mut schema = kind.raw_schema()
    .to_value();
    strip_nullable(&mut schema);
    if let Some(obj) = schema.as_object_mut() {
        let mut out = serde_json::Map::new();
        out.insert("$schema".into(), "https://json-schema.org/draft/2020-12/schema".into());
        out.insert("$id".into(), schema_id(kind).into());
        for (k, v) in std::mem::take(obj) {
            if k != "$schema" {
                out.insert(k, v);
            }
        }
        *obj = out;
    }
    schema
}

pub fn schema_file_name(kind: Kind) -> String {
    let group = if kind.group().is_empty() { "core" } else { kind.group() };
    format!("{}.{}.json", kind.name().to_lowercase(), group)
}

pub fn schema_id(kind: Kind) -> String {
    format!("https://gatewayc.dev/schemas/{}", schema_file_name(kind))
}

/// `Option<T>` becomes `anyOf: [T, null]` in schemars, which turns every error below it into
/// "not valid under any of the schemas". Nulls are pruned before validation (as the API server
/// prunes them), so the schema can say plain `T`.
fn strip_nullable(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Array(any)) = map.get("anyOf")
                && any.len() == 2
                && let Some(i) = any.iter().position(|s| s.get("type").and_then(|t| t.as_str()) == Some("null"))
            {
                let other = any[1 - i].clone();
                map.remove("anyOf");
                if let serde_json::Value::Object(o) = other {
                    for (k, val) in o {
                        map.entry(k).or_insert(val);
                    }
                }
            }
            if let Some(serde_json::Value::Array(types)) = map.get("type")
                && types.len() == 2
                && let Some(i) = types.iter().position(|t| t == "null")
            {
                let t = types[1 - i].clone();
                map.insert("type".into(), t);
            }
            for (_, val) in map.iter_mut() {
                strip_nullable(val);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_nullable),
        _ => {}
    }
}

/// A kept object with the locator of its nodes. Whole API objects stay boxed as they were
/// decoded (`Item<Box<Gateway>>`: moving one copies a pointer); compact forms are inline.
#[derive(Debug, Clone)]
pub struct Item<T> {
    pub obj: T,
    pub loc: Locator,
}


/// Sort key that Gateway API conflict rules use: oldest first, then namespace/name.
/// Absent timestamps compare equal (RFC 3339 UTC strings order as text).
pub fn age_key(meta: &ObjectMeta) -> (&str, &str, &str) {
    (meta.creation_timestamp.as_deref().unwrap_or(""), meta.ns(), &meta.name)
}
