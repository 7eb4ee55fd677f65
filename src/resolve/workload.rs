//! An EnvoyProxy's shape of the workload `render` writes (`provider.kubernetes`): the
//! Deployment's strategy, the pods' metadata and scheduling, the Envoy container's env,
//! security context and mounts, init containers, a PodDisruptionBudget and a
//! HorizontalPodAutoscaler. The core/v1 parts are kept as the user gave them (as the
//! Kubernetes API server would have checked them against the CRD) and copied into the
//! rendered objects; gatewayc's own volumes, mounts and labels come first and win.

use crate::api::envoyproxy::KubernetesProvider;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workload {
    pub strategy: Option<Value>,
    pub pod_labels: BTreeMap<String, String>,
    pub pod_annotations: BTreeMap<String, String>,
    /// Pod spec fields by name (affinity, tolerations, nodeSelector, imagePullSecrets,
    /// topologySpreadConstraints, priorityClassName, securityContext).
    pub pod: BTreeMap<String, Value>,
    pub volumes: Vec<Value>,
    pub init_containers: Vec<Value>,
    /// Envoy container fields by name (env, securityContext).
    pub container: BTreeMap<String, Value>,
    pub volume_mounts: Vec<Value>,
    /// The PodDisruptionBudget's minAvailable or maxUnavailable (by name).
    pub pdb: Option<(&'static str, Value)>,
    pub hpa: Option<Hpa>,
    /// Names given for the Deployment, Service, PodDisruptionBudget and autoscaler.
    pub names: Names,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    pub deployment: Option<String>,
    pub service: Option<String>,
    pub pdb: Option<String>,
    pub hpa: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hpa {
    pub min_replicas: Option<i32>,
    pub max_replicas: i32,
    pub metrics: Vec<Value>,
    pub behavior: Option<Value>,
}

pub fn workload(k: &KubernetesProvider) -> Workload {
    let mut w = Workload::default();
    if let Some(d) = &k.envoy_deployment {
        w.strategy = d.strategy.clone();
        w.init_containers = d.init_containers.clone();
        if let Some(p) = &d.pod {
            w.pod_labels = p.labels.clone();
            w.pod_annotations = p.annotations.clone();
            w.volumes = p.volumes.clone();
            let fields = [
                ("affinity", p.affinity.clone()),
                ("tolerations", p.tolerations.clone()),
                ("imagePullSecrets", p.image_pull_secrets.clone()),
                ("topologySpreadConstraints", p.topology_spread_constraints.clone()),
                ("priorityClassName", p.priority_class_name.clone().map(Value::String)),
                ("securityContext", p.security_context.clone()),
                ("nodeSelector", (!p.node_selector.is_empty()).then(|| Value::Object(p.node_selector.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()))),
            ];
            w.pod = fields.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect();
        }
        if let Some(c) = &d.container {
            w.volume_mounts = c.volume_mounts.clone();
            let env = (!c.env.is_empty()).then(|| Value::Array(c.env.clone()));
            w.container = [("env", env), ("securityContext", c.security_context.clone())].into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect();
        }
    }
    if let Some(p) = &k.envoy_pdb {
        let to = |v: &crate::api::core::IntOrString| serde_json::to_value(v).unwrap_or(Value::Null);
        w.pdb = match (&p.min_available, &p.max_unavailable) {
            (Some(m), _) => Some(("minAvailable", to(m))),
            (None, Some(m)) => Some(("maxUnavailable", to(m))),
            (None, None) => None,
        };
    }
    w.names = Names {
        deployment: k.envoy_deployment.as_ref().and_then(|d| d.name.clone()),
        service: k.envoy_service.as_ref().and_then(|s| s.name.clone()),
        pdb: k.envoy_pdb.as_ref().and_then(|p| p.name.clone()),
        hpa: k.envoy_hpa.as_ref().and_then(|h| h.name.clone()),
    };
    w.hpa = k.envoy_hpa.as_ref().map(|h| Hpa { min_replicas: h.min_replicas, max_replicas: h.max_replicas, metrics: h.metrics.clone(), behavior: h.behavior.clone() });
    w
}

/// How an EnvoyProxy changes the bootstrap: a Merge of a given one, or JSON patches.
#[derive(Debug, Clone, PartialEq)]
pub enum BootstrapChange {
    Merge(Value),
    Patch(Vec<super::epp::Operation>),
}

/// A Merge bootstrap's YAML as a value (a mapping), or None.
pub fn bootstrap_value(text: &str) -> Option<Value> {
    let loaded = crate::source::load_str("bootstrap", text);
    if loaded.diagnostics.iter().any(|d| d.is_error()) || loaded.documents.len() != 1 {
        return None;
    }
    loaded.documents.into_iter().next().map(|d| d.value).filter(Value::is_object)
}

pub fn bootstrap_change(b: &crate::api::envoyproxy::ProxyBootstrap) -> Option<BootstrapChange> {
    match b.type_.as_str() {
        "Merge" => bootstrap_value(b.value.as_deref()?).map(BootstrapChange::Merge),
        "JSONPatch" => Some(BootstrapChange::Patch(b.json_patches.iter().map(super::epp::Operation::of).collect())),
        _ => None,
    }
}
