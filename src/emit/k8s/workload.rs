//! An EnvoyProxy's shape of the workload on the rendered objects: the Deployment's strategy,
//! the pods' labels, annotations and scheduling, the Envoy container's env, security context
//! and mounts, init containers; a PodDisruptionBudget and a HorizontalPodAutoscaler, as
//! Envoy Gateway writes them. gatewayc's own labels (the selector), annotation (the config
//! checksum), volumes and mounts come first and win.

use super::types::*;
use crate::resolve::workload::Workload;
use std::collections::BTreeMap;

pub fn shape(d: &mut Deployment, w: &Workload) {
    if w.hpa.is_some() {
        // The autoscaler decides; a fixed count would fight it on every apply.
        d.spec.replicas = None;
    }
    d.spec.strategy = w.strategy.clone();
    let t = &mut d.spec.template;
    let mut labels = w.pod_labels.clone();
    labels.append(&mut t.metadata.labels);
    t.metadata.labels = labels;
    let mut annotations = w.pod_annotations.clone();
    annotations.append(&mut t.metadata.annotations);
    t.metadata.annotations = annotations;
    let pod = &mut t.spec;
    pod.init_containers = w.init_containers.clone();
    pod.volumes.extend(w.volumes.iter().cloned().map(Entry::Given));
    pod.given = w.pod.clone();
    if let Some(v) = pod.given.remove("securityContext") {
        pod.security_context = Some(Entry::Given(v));
    }
    if let Some(c) = pod.containers.first_mut() {
        c.volume_mounts.extend(w.volume_mounts.iter().cloned().map(Entry::Given));
        c.given = w.container.clone();
        if let Some(v) = c.given.remove("securityContext") {
            c.security_context = Some(Entry::Given(v));
        }
    }
}

/// The PodDisruptionBudget of `envoyPDB`, selecting the Envoy pods.
pub fn budget(metadata: Meta, selector: &BTreeMap<String, String>, w: &Workload) -> Option<Object> {
    let (field, value) = w.pdb.clone()?;
    Some(Object::PodDisruptionBudget(PodDisruptionBudget {
        api_version: "policy/v1".into(),
        kind: "PodDisruptionBudget".into(),
        metadata,
        spec: PdbSpec { selector: LabelSelector { match_labels: selector.clone() }, budget: BTreeMap::from([(field.to_string(), value)]) },
    }))
}

/// The HorizontalPodAutoscaler of `envoyHpa`, scaling the Deployment `name`; by CPU at 80 %
/// when no metric is given, as Envoy Gateway defaults it.
pub fn autoscaler(metadata: Meta, name: &str, w: &Workload) -> Option<Object> {
    let h = w.hpa.as_ref()?;
    let metrics = if h.metrics.is_empty() {
        vec![serde_json::json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}})]
    } else {
        h.metrics.clone()
    };
    Some(Object::HorizontalPodAutoscaler(HorizontalPodAutoscaler {
        api_version: "autoscaling/v2".into(),
        kind: "HorizontalPodAutoscaler".into(),
        metadata,
        spec: HpaSpec {
            scale_target_ref: ScaleTargetRef { api_version: "apps/v1".into(), kind: "Deployment".into(), name: name.to_string() },
            min_replicas: h.min_replicas,
            max_replicas: h.max_replicas,
            metrics,
            behavior: h.behavior.clone(),
        },
    }))
}
