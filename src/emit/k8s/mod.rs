//! IR to the Kubernetes objects that run a Gateway (`gatewayc render`): the bootstrap in a
//! ConfigMap, certificates in a Secret (never in a ConfigMap), a Deployment of Envoy, a
//! Service of type LoadBalancer, and MetalLB's IPAddressPool and L2Advertisement.

pub mod types;
mod workload;

use crate::ir::GatewayIr;
use base64::Engine;
use sha2::Digest;
use std::collections::BTreeMap;
use std::net::IpAddr;
use types::*;

/// Where the Deployment mounts the bootstrap and the certificates.
pub const CONFIG_DIR: &str = "/etc/envoy";
pub const SECRETS_DIR: &str = "/etc/envoy/secrets";
pub const BOOTSTRAP_KEY: &str = "envoy.yaml";
/// The Envoy image of the version the tests run.
pub const DEFAULT_IMAGE: &str = "envoyproxy/envoy:distroless-v1.40.0";
/// The non-root user of Envoy's distroless image.
const ENVOY_UID: u32 = 65532;

#[derive(Debug, Clone)]
pub struct MetalLb {
    /// (pool name, address ranges: CIDRs or `first-last`)
    pub pools: Vec<(String, Vec<String>)>,
    pub l2: bool,
    pub namespace: String,
}

#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub image: String,
    pub readiness_port: u32,
    /// Where the Prometheus endpoint listens (a container port `metrics` unless disabled).
    pub metrics_port: u32,
    pub metallb: Option<MetalLb>,
    pub external_dns: bool,
}

/// The labels Envoy Gateway puts on a Gateway's proxy objects; selectors use them.
pub fn owner_labels(g: &GatewayIr) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".into(), "envoy".into()),
        ("app.kubernetes.io/component".into(), "proxy".into()),
        ("app.kubernetes.io/managed-by".into(), "gatewayc".into()),
        ("gateway.envoyproxy.io/owning-gateway-name".into(), crate::names::label_value(&g.name)),
        ("gateway.envoyproxy.io/owning-gateway-namespace".into(), crate::names::label_value(&g.namespace)),
    ])
}

fn meta(g: &GatewayIr, name: &str, annotations: BTreeMap<String, String>) -> Meta {
    // Gateway spec.infrastructure labels and annotations go on every generated object.
    let mut labels = g.infra.labels.clone();
    labels.extend(owner_labels(g));
    let mut all = g.infra.annotations.clone();
    all.extend(annotations);
    Meta { name: name.to_string(), namespace: Some(g.namespace.clone()), labels, annotations: all }
}

/// The objects of one Gateway. `bootstrap` refers to certificates under [`SECRETS_DIR`];
/// `secret_files` are those files (absolute paths under it, PEM).
/// `rate_limits`: the rate-limit service's configuration files (name, text), written into a
/// ConfigMap of their own for the service to mount.
pub fn gateway_objects(g: &GatewayIr, bootstrap: &str, secret_files: &[(std::path::PathBuf, String)], rate_limits: &[(String, String)], opts: &RenderOptions) -> Vec<Object> {
    let name = crate::names::infra(&g.namespace, &g.name);
    let mut out = Vec::new();
    let mut hasher = sha2::Sha256::new();
    hasher.update(bootstrap.as_bytes());
    let mut items = Vec::new();
    let mut data = BTreeMap::new();
    for (path, pem) in secret_files {
        hasher.update(path.display().to_string().as_bytes());
        hasher.update(pem.as_bytes());
        let rel = path.strip_prefix(SECRETS_DIR).unwrap_or(path).display().to_string();
        let key = rel.replace('/', ".");
        data.insert(key.clone(), base64::engine::general_purpose::STANDARD.encode(pem));
        items.push(KeyToPath { key, path: rel });
    }
    let checksum = format!("{:x}", hasher.finalize());
    if !data.is_empty() {
        out.push(Object::Secret(Secret {
            api_version: "v1".into(),
            kind: "Secret".into(),
            metadata: meta(g, &name, BTreeMap::new()),
            type_: "Opaque".into(),
            data,
        }));
    }
    // A bootstrap that holds credentials Envoy reads from no file (API keys) is a Secret.
    let bootstrap_secret = crate::emit::envoy::holds_credentials(g).then(|| crate::names::bootstrap_secret(&name));
    match &bootstrap_secret {
        None => out.push(Object::ConfigMap(ConfigMap {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            metadata: meta(g, &name, BTreeMap::new()),
            data: BTreeMap::from([(BOOTSTRAP_KEY.to_string(), bootstrap.to_string())]),
        })),
        Some(secret) => out.push(Object::Secret(Secret {
            api_version: "v1".into(),
            kind: "Secret".into(),
            metadata: meta(g, secret, BTreeMap::new()),
            type_: "Opaque".into(),
            data: BTreeMap::from([(BOOTSTRAP_KEY.to_string(), base64::engine::general_purpose::STANDARD.encode(bootstrap))]),
        })),
    }
    if !rate_limits.is_empty() {
        out.push(Object::ConfigMap(ConfigMap {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            metadata: meta(g, &crate::names::rate_limit_config_map(&name), BTreeMap::new()),
            data: rate_limits.iter().cloned().collect(),
        }));
    }
    let selector = owner_labels(g);
    let mut pod_labels = g.infra.labels.clone();
    pod_labels.extend(selector.clone());
    let config = match bootstrap_secret {
        None => Volume { name: "config".into(), config_map: Some(ConfigMapVolume { name: name.clone() }), secret: None },
        Some(secret_name) => Volume { name: "config".into(), config_map: None, secret: Some(SecretVolume { secret_name, default_mode: 0o400, items: vec![KeyToPath { key: BOOTSTRAP_KEY.into(), path: BOOTSTRAP_KEY.into() }] }) },
    };
    let mut volumes = vec![config];
    let mut mounts = vec![VolumeMount { name: "config".into(), mount_path: CONFIG_DIR.into(), read_only: true }];
    if !items.is_empty() {
        volumes.push(Volume {
            name: "certs".into(),
            config_map: None,
            secret: Some(SecretVolume { secret_name: name.clone(), default_mode: 0o400, items }),
        });
        mounts.push(VolumeMount { name: "certs".into(), mount_path: SECRETS_DIR.into(), read_only: true });
    }
    let mut ports: Vec<ContainerPort> = g
        .ports
        .iter()
        .map(|p| ContainerPort { name: p.name.clone(), container_port: p.bind_port, protocol: l4_protocol(p).into() })
        .collect();
    if !g.infra.proxy.prometheus_disabled {
        ports.push(ContainerPort { name: crate::names::metrics().into(), container_port: opts.metrics_port, protocol: "TCP".into() });
    }
    ports.push(ContainerPort { name: crate::names::readiness().into(), container_port: opts.readiness_port, protocol: "TCP".into() });
    let mut deployment = Deployment {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        metadata: meta(g, &name, BTreeMap::new()),
        spec: DeploymentSpec {
            replicas: Some(g.infra.proxy.replicas.unwrap_or(1)),
            selector: LabelSelector { match_labels: selector.clone() },
            strategy: None,
            template: PodTemplate {
                metadata: PodMeta {
                    labels: pod_labels,
                    // A new bootstrap or certificate rolls the pods.
                    annotations: BTreeMap::from([("gatewayc.dev/config-checksum".to_string(), checksum)]),
                },
                spec: PodSpec {
                    containers: vec![Container {
                        name: "envoy".into(),
                        image: g.infra.proxy.image.clone().unwrap_or_else(|| opts.image.clone()),
                        args: envoy_args(&g.infra.proxy),
                        ports,
                        readiness_probe: Probe {
                            http_get: HttpGet { path: "/ready".into(), port: opts.readiness_port, scheme: "HTTP".into() },
                            period_seconds: 5,
                            timeout_seconds: 1,
                            success_threshold: 1,
                            failure_threshold: 1,
                        },
                        resources: g.infra.proxy.resources.clone(),
                        security_context: Some(Entry::Ours(ContainerSecurityContext {
                            allow_privilege_escalation: false,
                            read_only_root_filesystem: true,
                            run_as_non_root: true,
                            capabilities: Capabilities { drop: vec!["ALL".into()] },
                        })),
                        volume_mounts: mounts.into_iter().map(Entry::Ours).collect(),
                        given: BTreeMap::new(),
                    }],
                    init_containers: Vec::new(),
                    volumes: volumes.into_iter().map(Entry::Ours).collect(),
                    given: BTreeMap::new(),
                    security_context: Some(Entry::Ours(PodSecurityContext {
                        run_as_non_root: true,
                        run_as_user: ENVOY_UID,
                        run_as_group: ENVOY_UID,
                        fs_group: ENVOY_UID,
                        seccomp_profile: SeccompProfile { type_: "RuntimeDefault".into() },
                    })),
                    termination_grace_period_seconds: 60,
                },
            },
        },
    };
    let w = &g.infra.proxy.workload;
    workload::shape(&mut deployment, w);
    let named = |given: &Option<String>| given.clone().unwrap_or_else(|| name.clone());
    let deployment_name = named(&w.names.deployment);
    deployment.metadata.name = deployment_name.clone();
    out.push(Object::Deployment(deployment));
    out.extend(workload::budget(meta(g, &named(&w.names.pdb), BTreeMap::new()), &selector, w));
    out.extend(workload::autoscaler(meta(g, &named(&w.names.hpa), BTreeMap::new()), &deployment_name, w));
    let proxy = &g.infra.proxy;
    let mut annotations = proxy.service_annotations.clone();
    if !g.infra.addresses.is_empty() {
        // MetalLB's own annotation, not spec.externalIPs (which MetalLB does not honour).
        annotations.insert("metallb.io/loadBalancerIPs".to_string(), g.infra.addresses.join(","));
    }
    if let Some(m) = &opts.metallb
        && let Some(pool) = pool_for(g, m)
    {
        annotations.insert("metallb.io/address-pool".to_string(), pool);
    }
    if let Some((k, v)) = proxy_protocol_annotation(g, &annotations) {
        annotations.insert(k.to_string(), v.to_string());
    }
    if opts.external_dns && !g.infra.hostnames.is_empty() {
        annotations.insert("external-dns.alpha.kubernetes.io/hostname".to_string(), g.infra.hostnames.join(","));
    }
    let mut service_meta = meta(g, &g.infra.proxy.workload.names.service.clone().unwrap_or_else(|| name.clone()), annotations);
    service_meta.labels.extend(proxy.service_labels.clone());
    let type_ = proxy.service_type.clone().unwrap_or_else(|| "LoadBalancer".into());
    let external = type_ != "ClusterIP";
    out.push(Object::Service(Service {
        api_version: "v1".into(),
        kind: "Service".into(),
        metadata: service_meta,
        spec: ServiceSpec {
            selector,
            ports: g.ports.iter().map(|p| ServicePort { name: p.name.clone(), protocol: l4_protocol(p).into(), port: p.port, target_port: p.bind_port }).collect(),
            // Envoy Gateway's default: keep the client's source address.
            external_traffic_policy: external.then(|| proxy.external_traffic_policy.clone().unwrap_or_else(|| "Local".into())),
            load_balancer_class: proxy.load_balancer_class.clone().filter(|_| type_ == "LoadBalancer"),
            load_balancer_ip: proxy.load_balancer_ip.clone().filter(|_| type_ == "LoadBalancer"),
            load_balancer_source_ranges: if type_ == "LoadBalancer" { proxy.load_balancer_source_ranges.clone() } else { Vec::new() },
            allocate_load_balancer_node_ports: proxy.allocate_load_balancer_node_ports.filter(|_| type_ == "LoadBalancer"),
            type_,
        },
    }));
    out
}

/// The options [`envoy_args`] sets, which an EnvoyProxy's `extraArgs` may not repeat.
pub const OWN_ARGS: &[&str] = &["--config-path", "-c", "--log-level", "-l", "--component-log-level", "--disable-hot-restart", "--drain-strategy", "--concurrency"];

/// The container arguments: the mounted bootstrap, no hot restart (one process a pod), the
/// EnvoyProxy's log levels (Envoy Gateway's `warn` by default), concurrency and extra args.
pub fn envoy_args(p: &crate::ir::ProxyIr) -> Vec<String> {
    let level = p.log_levels.get("default").copied().unwrap_or("warn");
    let mut out: Vec<String> = ["--config-path", &format!("{CONFIG_DIR}/{BOOTSTRAP_KEY}"), "--log-level", level, "--disable-hot-restart", "--drain-strategy", "immediate"].iter().map(|s| s.to_string()).collect();
    let components: Vec<String> = p.log_levels.iter().filter(|(k, _)| k.as_str() != "default").map(|(k, v)| format!("{k}:{v}")).collect();
    if !components.is_empty() {
        out.extend(["--component-log-level".to_string(), components.join(",")]);
    }
    if let Some(n) = p.concurrency {
        out.extend(["--concurrency".to_string(), n.to_string()]);
    }
    out.extend(p.extra_args.iter().cloned());
    out
}

/// The pool a Gateway's Service draws from: the one holding its first address, or the first
/// pool declared.
/// Cloud load balancers that send the PROXY protocol header when their Service asks: the
/// prefix of their annotations (which says the Service is theirs) and the annotation that
/// turns the header on.
const PROXY_PROTOCOL_LBS: [(&str, &str, &str); 3] = [
    ("service.beta.kubernetes.io/aws-load-balancer-", "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol", "*"),
    ("service.beta.kubernetes.io/do-loadbalancer-", "service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol", "true"),
    ("load-balancer.hetzner.cloud/", "load-balancer.hetzner.cloud/uses-proxyprotocol", "true"),
];

/// The annotation the Service's load balancer needs to send the PROXY protocol header, when
/// every TCP port of the Gateway reads it (a ClientTrafficPolicy's proxyProtocol) and the
/// Service's annotations name a load balancer that can send it (AWS, DigitalOcean, Hetzner)
/// but do not say yet. The header goes to every port of the Service, so a port that does not
/// read it gets none. MetalLB sends no header: nothing to add (docs/features.md).
fn proxy_protocol_annotation(g: &GatewayIr, annotations: &BTreeMap<String, String>) -> Option<(&'static str, &'static str)> {
    let tcp: Vec<&crate::ir::PortIr> = g.ports.iter().filter(|p| !p.is_udp()).collect();
    let reads = |p: &crate::ir::PortIr| p.client_settings().iter().any(|c| c.proxy_protocol.is_some());
    if tcp.is_empty() || !tcp.iter().all(|p| reads(p)) {
        return None;
    }
    let (_, key, value) = PROXY_PROTOCOL_LBS.iter().find(|(prefix, _, _)| annotations.keys().any(|k| k.starts_with(prefix)))?;
    (!annotations.contains_key(*key)).then_some((*key, *value))
}

fn pool_for(g: &GatewayIr, m: &MetalLb) -> Option<String> {
    match g.infra.addresses.first() {
        Some(a) => m.pools.iter().find(|(_, ranges)| ranges.iter().any(|r| in_range(a, r))).map(|(n, _)| n.clone()),
        None => m.pools.first().map(|(n, _)| n.clone()),
    }
}

/// MetalLB's objects for `--metallb-pool` and `--metallb-l2`.
pub fn metallb_objects(m: &MetalLb) -> Vec<Object> {
    let meta = |name: &str| Meta {
        name: name.to_string(),
        namespace: Some(m.namespace.clone()),
        labels: BTreeMap::from([("app.kubernetes.io/managed-by".to_string(), "gatewayc".to_string())]),
        annotations: BTreeMap::new(),
    };
    let mut out: Vec<Object> = m
        .pools
        .iter()
        .map(|(name, ranges)| {
            Object::IPAddressPool(IPAddressPool {
                api_version: "metallb.io/v1beta1".into(),
                kind: "IPAddressPool".into(),
                metadata: meta(name),
                spec: IPAddressPoolSpec { addresses: ranges.clone(), auto_assign: true },
            })
        })
        .collect();
    if m.l2 && !m.pools.is_empty() {
        out.push(Object::L2Advertisement(L2Advertisement {
            api_version: "metallb.io/v1beta1".into(),
            kind: "L2Advertisement".into(),
            metadata: meta(crate::names::l2_advertisement()),
            spec: L2AdvertisementSpec { ip_address_pools: m.pools.iter().map(|(n, _)| n.clone()).collect() },
        }));
    }
    out
}

/// Parse one `--metallb-pool` range: a CIDR (`10.0.0.0/24`, `fd00::/120`) or `first-last`.
/// Ok(()) or why not.
pub fn check_range(r: &str) -> Result<(), String> {
    match bounds(r) {
        Some(_) => Ok(()),
        None => Err(format!("`{r}` is neither a CIDR nor an address range first-last")),
    }
}

fn to_u128(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(v) => (false, u128::from(u32::from(v))),
        IpAddr::V6(v) => (true, u128::from(v)),
    }
}

/// (is_v6, first, last) of a range.
fn bounds(r: &str) -> Option<(bool, u128, u128)> {
    if let Some((a, b)) = r.split_once('-') {
        let (v6a, x) = to_u128(a.trim().parse().ok()?);
        let (v6b, y) = to_u128(b.trim().parse().ok()?);
        return (v6a == v6b && x <= y).then_some((v6a, x, y));
    }
    let (addr, len) = r.split_once('/')?;
    let (v6, x) = to_u128(addr.parse().ok()?);
    let bits = if v6 { 128 } else { 32 };
    let len: u32 = len.parse().ok().filter(|l| *l <= bits)?;
    let host_bits = bits - len;
    let mask: u128 = if host_bits == 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
    Some((v6, x & !mask, (x & !mask) | mask))
}

/// Is `addr` inside the range `r`?
pub fn in_range(addr: &str, r: &str) -> bool {
    let (Ok(ip), Some((v6, lo, hi))) = (addr.parse::<IpAddr>(), bounds(r)) else { return false };
    let (ip_v6, x) = to_u128(ip);
    ip_v6 == v6 && lo <= x && x <= hi
}

/// The Kubernetes port protocol of a listener port.
fn l4_protocol(p: &crate::ir::PortIr) -> &'static str {
    if p.is_udp() { "UDP" } else { "TCP" }
}

#[cfg(test)]
mod tests {
    use super::{check_range, in_range};
    #[test]
    fn ranges() {
        assert!(in_range("192.168.10.5", "192.168.10.0/24"));
        assert!(!in_range("192.168.11.5", "192.168.10.0/24"));
        assert!(in_range("10.0.0.7", "10.0.0.5-10.0.0.9"));
        assert!(!in_range("10.0.0.10", "10.0.0.5-10.0.0.9"));
        assert!(in_range("fd00::12", "fd00::/120"));
        assert!(!in_range("10.0.0.1", "fd00::/120"));
        assert!(in_range("1.2.3.4", "0.0.0.0/0"));
        assert!(check_range("10.0.0.0/33").is_err());
        assert!(check_range("nope").is_err());
    }
}

