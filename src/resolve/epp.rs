//! EnvoyPatchPolicy: which Gateway a policy patches, in which order (priority, lower first),
//! and its Accepted condition, as Envoy Gateway decides them. The patches themselves are
//! applied by the emitter to the configuration it writes (`emit::envoy::patch`), which
//! reports whether each applied (`Programmed`); this stage only carries them, free of the
//! API's types.

use super::ResolvedGateway;
use super::status::{AncestorRef, Problem, Recorder, Site, Target};
use crate::api::epp::{PatchOp, ResourceType};
use crate::api::{GATEWAY_GROUP, Kind, Resources};
use crate::diag::Code;
use crate::id::ObjectKey;
use std::sync::Arc;

/// One policy's patches, for one Gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPolicy {
    pub key: ObjectKey,
    pub patches: Vec<Patch>,
}

/// The xDS resource type a patch addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Listener,
    RouteConfiguration,
    Cluster,
    ClusterLoadAssignment,
    Secret,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

impl Op {
    /// Its name, as RFC 6902 spells it.
    pub fn name(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Remove => "remove",
            Op::Replace => "replace",
            Op::Move => "move",
            Op::Copy => "copy",
            Op::Test => "test",
        }
    }
}

/// One JSON patch operation (RFC 6902).
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub op: Op,
    pub path: Option<String>,
    pub from: Option<String>,
    pub value: Option<serde_json::Value>,
}

impl Operation {
    pub fn of(o: &crate::api::epp::JsonPatchOperation) -> Operation {
        Operation { op: op(o.op), path: o.path.clone(), from: o.from.clone(), value: o.value.clone() }
    }
}

/// One operation on the resources of one type and name.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// Its index in `spec.jsonPatches`.
    pub index: usize,
    pub resource: Resource,
    /// The type URL, as the user wrote it (for messages).
    pub type_url: &'static str,
    pub name: String,
    pub operation: Operation,
}

/// What became of one policy's patches on one Gateway (the emitter's finding).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub policy: ObjectKey,
    /// `<type URL>/<name>` of each patch whose resource does not exist, and its index.
    pub not_found: Vec<(usize, String)>,
    /// Why a patch failed, and its index.
    pub errors: Vec<(usize, String)>,
}

/// Each policy's Programmed condition on `gateway` from what became of its patches, as Envoy
/// Gateway writes it (a resource not found wins over a failed operation), and a diagnostic
/// per patch that did not apply.
pub fn programmed(res: &Resources, gateway: &ObjectKey, outcomes: &[Outcome], status: &mut super::status::StatusTable) -> Vec<crate::diag::Diagnostic> {
    use super::status::{Condition, set};
    let mut diags = Vec::new();
    for o in outcomes {
        let Some(item) = res.envoy_patch_policies.iter().find(|p| ObjectKey::of(Kind::EnvoyPatchPolicy, &p.obj.metadata) == o.policy) else { continue };
        let conds = status.policies.entry(o.policy.clone()).or_default().ancestor(&AncestorRef { gateway: gateway.clone(), section: None });
        let c = if !o.not_found.is_empty() {
            let names: Vec<&str> = o.not_found.iter().map(|(_, n)| n.as_str()).collect();
            Condition::new("Programmed", false, "ResourceNotFound", format!("Unable to find xds resources: {}", names.join(",")))
        } else if !o.errors.is_empty() {
            let errs: Vec<&str> = o.errors.iter().map(|(_, e)| e.as_str()).collect();
            Condition::new("Programmed", false, "Invalid", errs.join("; "))
        } else {
            Condition::new("Programmed", true, "Programmed", "Patches have been successfully applied.")
        };
        set(conds, c);
        let found = o.not_found.iter().map(|(i, n)| (*i, format!("no resource {n} in the configuration of Gateway {}/{}: the patch is not applied (ResourceNotFound)", gateway.namespace, gateway.name)));
        let failed = o.errors.iter().map(|(i, e)| (*i, format!("{e}: the patch is not applied (Invalid)")));
        for (i, message) in found.chain(failed) {
            let pointer = format!("/spec/jsonPatches/{i}");
            diags.push(
                crate::diag::Diagnostic::new(Code::PolicyPatch, message)
                    .with_span(item.loc.span_of(&pointer, false))
                    .with_object(o.policy.to_string())
                    .with_path(pointer),
            );
        }
    }
    diags
}

fn resource(t: ResourceType) -> Resource {
    match t {
        ResourceType::Listener => Resource::Listener,
        ResourceType::RouteConfiguration => Resource::RouteConfiguration,
        ResourceType::Cluster => Resource::Cluster,
        ResourceType::ClusterLoadAssignment => Resource::ClusterLoadAssignment,
        ResourceType::Secret => Resource::Secret,
    }
}

fn op(o: PatchOp) -> Op {
    match o {
        PatchOp::Add => Op::Add,
        PatchOp::Remove => Op::Remove,
        PatchOp::Replace => Op::Replace,
        PatchOp::Move => Op::Move,
        PatchOp::Copy => Op::Copy,
        PatchOp::Test => Op::Test,
    }
}

/// Give each Gateway of ours the patches of the policies that target it, lowest priority
/// first (ties in canonical order), and set each policy's Accepted condition.
pub fn resolve_all(res: &Resources, gateways: &mut [ResolvedGateway], controller: &str, rec: &mut Recorder) {
    let mut order: Vec<usize> = (0..res.envoy_patch_policies.len()).collect();
    order.sort_by_key(|&i| res.envoy_patch_policies[i].obj.spec.priority.unwrap_or(0));
    for i in order {
        let item = &res.envoy_patch_policies[i];
        let spec = &item.obj.spec;
        let key = ObjectKey::of(Kind::EnvoyPatchPolicy, &item.obj.metadata);
        let st = rec.status.policies.entry(key.clone()).or_default();
        (st.generation, st.controller_name) = (item.obj.metadata.generation, controller.to_string());
        let site = Site { object: &key, loc: &item.loc };
        let t = &spec.target_ref;
        let Some(g) = gateways.iter_mut().find(|g| g.key.namespace == key.namespace && g.key.name == t.name) else {
            rec.report(site, Problem::new(Code::ReferencePolicyTargetMissing, "The policy's target is not a Gateway of ours; it has no effect", "/spec/targetRef"));
            continue;
        };
        let ancestor = AncestorRef { gateway: g.key.clone(), section: None };
        rec.status.policies.entry(key.clone()).or_default().ancestor(&ancestor);
        if t.group != GATEWAY_GROUP || t.kind != "Gateway" {
            let message = format!("TargetRef.Group:{} TargetRef.Kind:{}, only TargetRef.Group:{GATEWAY_GROUP} and TargetRef.Kind:Gateway is supported.", t.group, t.kind);
            rec.report(site, Problem::new(Code::PolicyInvalid, message, "/spec/targetRef").sets(Target::PolicyAncestor(key.clone(), ancestor), "Accepted", false, "Invalid"));
            continue;
        }
        let patches = spec
            .json_patches
            .iter()
            .enumerate()
            .map(|(index, p)| Patch {
                index,
                resource: resource(p.type_),
                type_url: p.type_.url(),
                name: p.name.clone(),
                operation: Operation::of(&p.operation),
            })
            .collect();
        g.patches.push(Arc::new(PatchPolicy { key, patches }));
    }
}
