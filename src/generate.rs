//! Synthetic inputs for benchmarks: N HTTPRoutes with realistic variety (many namespaces and
//! hostnames, mixed match types, weighted backends, filters, EndpointSlices with several
//! endpoints). Deterministic: the same N gives the same bytes.

use std::fmt::Write;

/// A small deterministic PRNG (xorshift64*), so generated inputs never change.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Namespaces used for `routes` routes.
pub fn namespaces(routes: usize) -> usize {
    (routes / 40).max(1)
}

/// The input for `routes` HTTPRoutes as one multi-document YAML text.
pub fn manifests(routes: usize) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ routes as u64);
    let mut out = String::with_capacity(routes * 2300);
    let gateways = routes.div_ceil(2500).max(1);
    out.push_str("apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: eg\nspec:\n  controllerName: gateway.envoyproxy.io/gatewayclass-controller\n");
    for g in 0..gateways {
        let _ = write!(
            out,
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: gw-{g}\n  namespace: infra\nspec:\n  gatewayClassName: eg\n  listeners:\n    - name: http\n      protocol: HTTP\n      port: 80\n      allowedRoutes:\n        namespaces:\n          from: All\n    - name: wildcard\n      protocol: HTTP\n      port: 8080\n      hostname: \"*.example.com\"\n      allowedRoutes:\n        namespaces:\n          from: All\n"
        );
    }
    let nss = namespaces(routes);
    for n in 0..nss {
        let _ = write!(out, "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-{n}\n  labels:\n    team: t{n}\n");
    }
    // Services: four per namespace, each with a slice of three endpoints.
    for n in 0..nss {
        for s in 0..4 {
            let _ = write!(
                out,
                "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{s}\n  namespace: team-{n}\nspec:\n  selector:\n    app: svc-{s}\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: svc-{s}-abcde\n  namespace: team-{n}\n  labels:\n    kubernetes.io/service-name: svc-{s}\naddressType: IPv4\nports:\n  - name: http\n    port: 8080\nendpoints:\n"
            );
            for e in 0..3 {
                let _ = write!(out, "  - addresses:\n      - 10.{}.{}.{}\n    conditions:\n      ready: true\n", n % 250, s * 10 + e, (n / 250) % 250 + 1);
            }
        }
    }
    for r in 0..routes {
        let ns = r % nss;
        let g = rng.below(gateways as u64);
        let _ = write!(
            out,
            "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: route-{r}\n  namespace: team-{ns}\n  labels:\n    app: route-{r}\n    tier: {}\n    app.kubernetes.io/managed-by: helm\n    app.kubernetes.io/part-of: team-{ns}\n  annotations:\n    meta.helm.sh/release-name: team-{ns}-routes\n    meta.helm.sh/release-namespace: team-{ns}\n    description: \"Route {r} of team {ns}, generated for the gatewayc benchmark; owners team-{ns}@example.com\"\nspec:\n  parentRefs:\n    - name: gw-{g}\n      namespace: infra\n  hostnames:\n    - app-{r}.team-{ns}.example.com\n",
            ["web", "api", "batch"][r % 3]
        );
        if rng.below(3) == 0 {
            let _ = writeln!(out, "    - www-{r}.example.org");
        }
        out.push_str("  rules:\n");
        for rule in 0..(2 + rng.below(5)) {
            out.push_str("    - matches:\n");
            match rng.below(6) {
                0 => {
                    let _ = write!(out, "        - path:\n            type: Exact\n            value: /v{rule}/exact/{r}\n");
                }
                1 => {
                    let _ = write!(out, "        - path:\n            type: RegularExpression\n            value: \"/v{rule}/items/[0-9]+\"\n");
                }
                2 => {
                    let _ = write!(
                        out,
                        "        - path:\n            type: PathPrefix\n            value: /v{rule}/api\n          headers:\n            - name: x-tenant\n              value: t{}\n          method: GET\n",
                        rng.below(50)
                    );
                }
                3 => {
                    let _ = write!(out, "        - path:\n            type: PathPrefix\n            value: /v{rule}/search\n          queryParams:\n            - name: q\n              type: RegularExpression\n              value: \"^[a-z]+$\"\n");
                }
                _ => {
                    let _ = write!(out, "        - path:\n            type: PathPrefix\n            value: /v{rule}/\n");
                }
            }
            let redirect = rng.below(12) == 0;
            if redirect {
                out.push_str("      filters:\n        - type: RequestRedirect\n          requestRedirect:\n            scheme: https\n            statusCode: 301\n");
                continue;
            }
            match rng.below(4) {
                0 => out.push_str("      filters:\n        - type: RequestHeaderModifier\n          requestHeaderModifier:\n            set:\n              - name: x-route\n                value: generated\n            remove:\n              - x-debug\n"),
                1 => out.push_str("      filters:\n        - type: ResponseHeaderModifier\n          responseHeaderModifier:\n            add:\n              - name: cache-control\n                value: no-store\n"),
                _ => {}
            }
            out.push_str("      backendRefs:\n");
            for b in 0..(1 + rng.below(3)) {
                let _ = write!(out, "        - name: svc-{}\n          port: 80\n          weight: {}\n", (b + rng.below(4)) % 4, 10 * (1 + rng.below(9)));
            }
        }
    }
    out
}

/// A stream of about `bytes` bytes of small valid objects: one Gateway and one HTTPRoute, then
/// Services, each with an EndpointSlice, in 50 namespaces (the memory benchmark: gatewayc must
/// keep little of each).
pub fn stream(bytes: usize, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut w = std::io::BufWriter::new(out);
    w.write_all(
        b"apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: eg}\nspec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: ns-0}\nspec:\n  gatewayClassName: eg\n  listeners: [{name: http, protocol: HTTP, port: 8080}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: ns-0}\nspec:\n  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: svc-0, port: 80}]}]\n",
    )?;
    let mut written = 0;
    let mut i = 0usize;
    while written < bytes {
        let doc = format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n  namespace: ns-{ns}\n  labels: {{app: svc-{i}, tier: backend}}\nspec:\n  selector: {{app: svc-{i}}}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: svc-{i}-abcde\n  namespace: ns-{ns}\n  labels: {{kubernetes.io/service-name: svc-{i}}}\naddressType: IPv4\nports: [{{name: http, port: 8080}}]\nendpoints: [{{addresses: [10.{a}.{b}.{c}]}}]\n",
            ns = i % 50,
            a = (i >> 16) & 255,
            b = (i >> 8) & 255,
            c = i & 255,
        );
        w.write_all(doc.as_bytes())?;
        written += doc.len();
        i += 1;
    }
    w.flush()
}
