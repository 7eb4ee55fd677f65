//! Every diagnostic code, once: its stable name, its class, and what it means. The doc comment
//! of each code is its entry in `docs/diagnostics.md`, which `gatewayc` generates from this
//! table (`tests/docs.rs` fails when the page is stale).

/// How a problem affects a run. Exit codes derive from this alone (see [`Class::fails`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Input the API server would refuse, or that cannot be read: every verb fails on it
    /// (`status` only when nothing could be read or parsed).
    Invalid,
    /// A feature gatewayc does not implement yet: an error for `validate`, `translate` and
    /// `render` (fail closed), a warning under `--allow-unsupported`; `status` reports it.
    Unsupported,
    /// What Gateway API answers with a status reason (a route not accepted, a reference not
    /// resolved, a listener not programmed): a warning, the rest is translated, as Envoy Gateway
    /// does; `validate` fails on it.
    Rejected,
    /// Worth knowing, harmless: fails only under `--strict`.
    Advice,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Invalid => "invalid",
            Class::Unsupported => "unsupported",
            Class::Rejected => "rejected",
            Class::Advice => "advice",
        }
    }
}

macro_rules! codes {
    ($( $(#[doc = $doc:literal])+ $name:ident = $text:literal, $class:ident; )+) => {
        /// A diagnostic code. Its text (`reference::backend`) is stable across releases.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[doc = $doc])+ $name, )+
        }
        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$name),+];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => $text,)+ }
            }
            pub fn class(self) -> Class {
                match self { $(Code::$name => Class::$class,)+ }
            }
            /// The doc comment: what the code means, for docs/diagnostics.md.
            pub fn doc(self) -> String {
                let lines: &[&str] = match self { $(Code::$name => &[$($doc),+],)+ };
                lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
            }
        }
    };
}

codes! {
    /// A path cannot be read (missing file, permission, a directory that cannot be walked).
    InputIo = "input::io", Invalid;
    /// The input holds no Kubernetes object at all.
    InputEmpty = "input::empty", Invalid;
    /// A path given on the command line yields no object (an empty file, a directory without
    /// `.yaml`, `.yml` or `.json` files); the path is named.
    InputNoObjects = "input::no-objects", Advice;
    /// `translate`, `render`: no Gateway of a GatewayClass with our controllerName, and why
    /// (no GatewayClass of ours, the class was not accepted, no Gateway names it).
    InputNoGateway = "input::no-gateway", Invalid;
    /// `--gateway NS/NAME` names no Gateway of ours.
    InputGatewayNotFound = "input::gateway-not-found", Invalid;
    /// Invalid YAML or JSON, at the parser's error.
    ParseSyntax = "parse::syntax", Invalid;
    /// Not UTF-8, at the first bad byte.
    ParseEncoding = "parse::encoding", Invalid;
    /// A mapping holds a key twice.
    ParseDuplicateKey = "parse::duplicate-key", Invalid;
    /// A mapping key that is not a scalar.
    ParseComplexKey = "parse::complex-key", Invalid;
    /// Nesting deeper than 64 levels.
    ParseDepthLimit = "parse::depth-limit", Invalid;
    /// Aliases and anchors expand to more than 100,000 nodes (billion laughs).
    ParseAliasLimit = "parse::alias-limit", Invalid;
    /// A document over 3 MiB (the API server's object limit), found while reading it.
    ParseDocumentTooLarge = "parse::document-too-large", Invalid;
    /// A document, a List item or a List's `items` that is not what Kubernetes expects (a
    /// mapping; a sequence of them; no List inside a List).
    ParseNotAnObject = "parse::not-an-object", Invalid;
    /// A YAML tag gatewayc does not honour (`!!binary`, `!custom`, a tag that does not fit its
    /// value): refused rather than ignored.
    ParseTag = "parse::tag", Invalid;
    /// A plain scalar YAML 1.1 readers (kubectl) read differently: `yes`, `on`, `y`, `0644`;
    /// quote it.
    ParseYaml11Ambiguous = "parse::yaml11-ambiguous", Advice;
    /// No `apiVersion` or `kind`.
    SchemaMissingType = "schema::missing-type", Invalid;
    /// A kind the groups gateway.networking.k8s.io and gateway.envoyproxy.io do not define.
    SchemaUnknownKind = "schema::unknown-kind", Invalid;
    /// A kind at a version its CRD does not serve.
    SchemaUnknownVersion = "schema::unknown-version", Invalid;
    /// A field the kind does not have (as `kubectl --validate=strict`); points at the key.
    SchemaUnknownField = "schema::unknown-field", Invalid;
    /// A required field is missing.
    SchemaRequired = "schema::required", Invalid;
    /// A value of the wrong JSON type, at the field.
    SchemaType = "schema::type", Invalid;
    /// A value outside the allowed set.
    SchemaEnum = "schema::enum", Invalid;
    /// A string not matching the CRD's pattern.
    SchemaPattern = "schema::pattern", Invalid;
    /// Other schema constraints: minimum and maximum, lengths, item counts.
    SchemaConstraint = "schema::constraint", Invalid;
    /// A name, namespace, label or annotation the API server would refuse.
    SchemaMetadata = "schema::metadata", Invalid;
    /// One of the CRD's CEL rules (`x-kubernetes-validations`), with the CRD's message.
    SchemaRule = "schema::rule", Invalid;
    /// A document passed its schema but does not decode (a bug: please report it).
    SchemaDecode = "schema::decode", Invalid;
    /// `render`: an IPAddress-type Gateway address that is not an IP address.
    SchemaAddress = "schema::address", Invalid;
    /// The same kind/namespace/name defined twice with different content: the later one (in
    /// `-f` order, then walk order) wins, as with `kubectl apply`; both places are named.
    /// Identical copies are fine.
    ConflictDuplicateObject = "conflict::duplicate-object", Advice;
    /// Listeners of a Gateway that cannot share a port (ProtocolConflict, HostnameConflict):
    /// the listener gets `Conflicted=True` and is not programmed.
    ConflictListener = "conflict::listener", Rejected;
    /// Routes that claim the same connections: every TCPRoute on a TCP listener stays
    /// Accepted but the oldest carries the traffic; a TLSRoute hostname another, older route
    /// already claims on the listener goes to that one.
    ConflictRouteShadowed = "conflict::route-shadowed", Advice;
    /// A second UDPRoute on a UDP listener: it gets `Accepted=False UnsupportedValue`
    /// ("Multiple routes on the same UDP listener"), as Envoy Gateway writes it; the oldest
    /// keeps the listener.
    ConflictRoute = "conflict::route", Rejected;
    /// HTTPS listeners of one port whose hostnames or certificates overlap: the listener gets
    /// `OverlappingTLSConfig=True` (OverlappingHostnames, OverlappingCertificates) and offers
    /// HTTP/1.1 only in ALPN, so HTTP/2 connection coalescing cannot reach the wrong listener, as
    /// Envoy Gateway does. It stays programmed.
    ConflictOverlappingTls = "conflict::overlapping-tls", Advice;
    /// A BackendTLSPolicy whose target an older policy (creationTimestamp, then
    /// namespace/name) already holds: `Accepted=False Conflicted`, as the spec asks; the older
    /// one applies.
    ConflictPolicy = "conflict::policy", Rejected;
    /// `render`: a Gateway address inside no `--metallb-pool` (MetalLB could not assign it).
    ConflictAddressOutsidePool = "conflict::address-outside-pool", Invalid;
    /// A value the API server accepts but Envoy would refuse or misread: CR, LF or NUL in a
    /// header value or a rewritten path, a header modifier on `host` or a pseudo-header, a
    /// regular expression RE2 refuses. The route gets `Accepted=False UnsupportedValue`, as
    /// Envoy Gateway writes it.
    ValueUnsupported = "value::unsupported", Invalid;
    /// A route not accepted by a parent it names, with the status reason (`NoMatchingParent`,
    /// `NotAllowedByListeners`, `NoMatchingListenerHostname`).
    ReferenceRouteNotAccepted = "reference::route-not-accepted", Rejected;
    /// A backendRef that does not resolve, with the reason (`BackendNotFound`,
    /// `RefNotPermitted`, `InvalidKind`, `UnsupportedValue`); its share of traffic answers 500.
    ReferenceBackend = "reference::backend", Rejected;
    /// An Envoy Gateway Backend that Envoy Gateway would not accept (a loopback IP address, a
    /// DNS name of one label or an IP address, TLS without trust, a CA that does not
    /// resolve): `Accepted=False` with the reason, and routes to it answer 500.
    BackendInvalid = "backend::invalid", Rejected;
    /// A ListenerSet its parent Gateway does not take: the Gateway's `spec.allowedListeners`
    /// does not admit its namespace (`NotAllowed`), or the Gateway is not accepted
    /// (`ParentNotAccepted`); its listeners are not served.
    ReferenceListenerSet = "reference::listenerset", Rejected;
    /// An ExtensionRef filter naming an HTTPRouteFilter that is not there, or one that cannot
    /// be applied (its body's ConfigMap missing, two URL rewrites on one rule); the rule
    /// answers 500.
    ReferenceFilter = "reference::filter", Rejected;
    /// An HTTPS listener's certificateRef that does not resolve, with the reason
    /// (`InvalidCertificateRef`: missing Secret, wrong type, unparsable PEM, key not matching
    /// the certificate; `RefNotPermitted`); the listener keeps its valid certificates, or is not
    /// programmed without any.
    ReferenceCertificate = "reference::certificate", Rejected;
    /// A caCertificateRef of the Gateway's client certificate validation (`spec.tls.frontend`)
    /// does not resolve to a CA bundle: the HTTPS and TLS-terminate listeners of its port get
    /// `ResolvedRefs=False` (`InvalidCACertificateRef`, `InvalidCACertificateKind`,
    /// `RefNotPermitted`); with no valid CA left, `Accepted=False NoValidCACertificate` and the
    /// listener is not programmed (no client gets in unverified). For a BackendTLSPolicy: the
    /// policy's `ResolvedRefs=False` (`InvalidCACertificateRef`, `InvalidKind`), with no valid
    /// CA `Accepted=False NoValidCACertificate` and its backends' requests answered 500.
    ReferenceCaCertificate = "reference::ca-certificate", Rejected;
    /// The Gateway's client certificate for backends (`spec.tls.backend.clientCertificateRef`)
    /// does not resolve to a kubernetes.io/tls Secret with a matching key: the Gateway's
    /// `ResolvedRefs=False` (`InvalidClientCertificateRef`, `RefNotPermitted`); backends that
    /// require a client certificate refuse the Gateway's connections.
    ReferenceClientCertificate = "reference::client-certificate", Rejected;
    /// Client certificate validation in mode AllowInsecureFallback: clients without a
    /// certificate are let through (a presented one is still verified). The Gateway gets
    /// `InsecureFrontendValidationMode=True ConfigurationChanged`, as the spec asks.
    TlsInsecureFallback = "tls::insecure-fallback", Advice;
    /// A listener Envoy Gateway refuses beyond the CRD's rules (certificateRefs on a TLS
    /// Passthrough listener): `Programmed=False Invalid`, not programmed.
    ListenerInvalid = "listener::invalid", Rejected;
    /// A TCPRoute or UDPRoute of v1alpha2 with more than one rule: Envoy Gateway serves one
    /// (`Accepted=False InvalidRule`).
    RouteInvalidRule = "route::invalid-rule", Rejected;
    /// A listener's `allowedRoutes.kinds` names a kind its protocol does not serve: the
    /// listener gets `ResolvedRefs=False InvalidRouteKinds` and is not programmed.
    ReferenceRouteKinds = "reference::route-kinds", Rejected;
    /// A GatewayClass or Gateway parametersRef that names no EnvoyProxy in the input, or
    /// another kind: the class or Gateway gets `Accepted=False InvalidParameters`.
    ReferenceParameters = "reference::parameters", Rejected;
    /// A parentRef to a Gateway that is not in the input.
    ReferenceParentNotFound = "reference::parent-not-found", Advice;
    /// A policy names a listener (`sectionName` on a Gateway) or a route rule (`sectionName` on a
    /// route) that does not exist: the policy is `Accepted=False` with reason `TargetNotFound`
    /// for that ancestor, as Envoy Gateway writes it, and does nothing there.
    ReferencePolicyTarget = "reference::policy-target", Rejected;
    /// A policy's target (a Gateway of ours, or a route attached to one) does not exist: the
    /// policy has no effect and no status, as with Envoy Gateway (another controller may own
    /// the target).
    ReferencePolicyTargetMissing = "reference::policy-target-missing", Advice;
    /// A policy has a value Envoy Gateway cannot translate (a consistent-hash table size that
    /// is not prime, ...): it is `Accepted=False` with reason `Invalid`, and every route it
    /// covers answers 500, as Envoy Gateway does.
    PolicyInvalid = "policy::invalid", Rejected;
    /// An EnvoyPatchPolicy patch did not apply: no resource of gatewayc's output has its type
    /// and name (the policy is `Programmed=False` with reason `ResourceNotFound`), or its
    /// operation failed (reason `Invalid`); the other patches apply, as Envoy Gateway does.
    PolicyPatch = "policy::patch", Rejected;
    /// An EnvoyProxy's `bootstrap` JSON patch does not apply to the bootstrap gatewayc writes
    /// (a path that does not exist, a failed test): nothing is written.
    ProxyBootstrap = "proxy::bootstrap", Invalid;
    /// A kind gatewayc does not implement yet (XBackendTrafficPolicy, a ServiceImport backendRef, ...).
    UnsupportedKind = "unsupported::kind", Unsupported;
    /// A field gatewayc parses but does not implement yet; it is named.
    UnsupportedField = "unsupported::field", Unsupported;
    /// A listener protocol other than HTTP, HTTPS, TLS, TCP and UDP (a domain-prefixed one):
    /// the listener gets `Accepted=False UnsupportedProtocol` with Envoy Gateway's message and is
    /// not programmed; the others are.
    UnsupportedProtocol = "unsupported::protocol", Rejected;
    /// Output could not be written (a full disk, a closed or full standard output).
    OutputWrite = "output::write", Invalid;
    /// A generated schema does not compile (a bug).
    InternalSchema = "internal::schema", Invalid;
    /// A bootstrap could not be serialized (a bug).
    InternalRender = "internal::render", Invalid;
}

impl Code {
    /// Nothing could be read or parsed: the only errors that fail `status`.
    pub fn is_read_failure(self) -> bool {
        use Code::*;
        matches!(
            self,
            InputIo | InputEmpty | ParseSyntax | ParseEncoding | ParseDuplicateKey | ParseComplexKey | ParseDepthLimit | ParseAliasLimit
                | ParseDocumentTooLarge | ParseNotAnObject | ParseTag | OutputWrite
        )
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// docs/diagnostics.md, generated from the table above.
pub fn reference_page() -> String {
    let mut out = String::from(
        "# Diagnostics\n\n\
X\n\n\
Every problem is one diagnostic with a stable code, a message, the object (`HTTPRoute ns/name`),\n\
the field as a JSON pointer, the file, 1-based line and column, and sometimes help. The status\n\
condition a problem implies (a route's `Accepted=False`, a listener's `Programmed=False`) is\n\
written from the same value, so `gatewayc status` and `gatewayc validate` never disagree.\n\
`validate --format json|github|sarif` prints them for machines; the human form shows the YAML\n\
snippet with the node underlined (never for Secrets, never near key material).\n\n\
Each code has a class, and exit codes follow from the classes alone:\n\n\
| class | `translate`, `render` | `validate` | `status` |\n\
|---|---|---|---|\n\
| invalid | exit 1, nothing written | exit 1 | reported; exit 1 only when nothing could be read or parsed |\n\
| unsupported | exit 1 (a warning with `--allow-unsupported`) | exit 1 (idem) | reported, exit 0 |\n\
| rejected | warning; the rest is written, as Envoy Gateway does | exit 1 | reported, exit 0 |\n\
| advice | warning | warning | reported, exit 0 |\n\n\
`--strict` makes every warning fail.\n\n\
| code | class | meaning |\n|---|---|---|\n",
    );
    for c in Code::ALL {
        out.push_str(&format!("| `{}` | {} | {} |\n", c.as_str(), c.class().name(), c.doc().replace('|', "\\|")));
    }
    out
}
