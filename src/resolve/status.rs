//! The status a conformant controller would write, kept beside the inputs (never in them), and
//! the [`Recorder`]: the one place a problem becomes both a diagnostic and the status condition
//! it implies, so that `status` and `validate` cannot disagree.

use crate::diag::{Code, Diagnostic};
use crate::id::{ListenerId, ObjectKey};
use crate::source::Locator;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub type_: &'static str,
    pub status: bool,
    pub reason: &'static str,
    pub message: String,
}

impl Condition {
    pub fn new(type_: &'static str, status: bool, reason: &'static str, message: impl Into<String>) -> Self {
        Condition { type_, status, reason, message: message.into() }
    }
}

/// Sets a condition, replacing one of the same type.
pub fn set(conds: &mut Vec<Condition>, c: Condition) {
    match conds.iter_mut().find(|x| x.type_ == c.type_) {
        Some(x) => *x = c,
        None => conds.push(c),
    }
}

pub fn get<'a>(conds: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conds.iter().find(|c| c.type_ == type_)
}

/// Whether a condition of this type says something is wrong that stops the object
/// (`Conflicted=True` does, `Accepted=False` does; `OverlappingTLSConfig=True` is a caution).
fn is_problem(c: &Condition) -> bool {
    match c.type_ {
        "Conflicted" => c.status,
        "OverlappingTLSConfig" => false,
        _ => !c.status,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteGroupKind {
    pub group: String,
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct ListenerStatus {
    pub name: String,
    pub supported_kinds: Vec<RouteGroupKind>,
    pub attached_routes: u32,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Default)]
pub struct GatewayStatus {
    pub conditions: Vec<Condition>,
    pub listeners: Vec<ListenerStatus>,
    pub generation: Option<i64>,
    /// A Gateway's accepted ListenerSets (`status.attachedListenerSets`).
    pub attached_listener_sets: u32,
}

/// The parentRef as status spells it: group, kind and namespace written out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentRefStatus {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub section_name: Option<String>,
    pub port: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct RouteParentStatus {
    pub parent_ref: ParentRefStatus,
    pub controller_name: String,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Default)]
pub struct RouteStatus {
    pub parents: Vec<RouteParentStatus>,
    pub generation: Option<i64>,
}

/// All status, keyed by object. Objects we do not own have no entry.
#[derive(Debug, Default)]
pub struct StatusTable {
    pub gateway_classes: BTreeMap<ObjectKey, (Vec<Condition>, Option<i64>)>,
    pub gateways: BTreeMap<ObjectKey, GatewayStatus>,
    /// Routes of every kind.
    pub routes: BTreeMap<ObjectKey, RouteStatus>,
    /// Policies (BackendTLSPolicy): their conditions, written once per ancestor.
    pub policies: BTreeMap<ObjectKey, PolicyStatus>,
    /// Envoy Gateway's Backends: Accepted or not.
    pub backends: BTreeMap<ObjectKey, (Vec<Condition>, Option<i64>)>,
}

/// A policy's status: the ancestors it takes effect in, each with its conditions. Conditions
/// the policy has as a whole (BackendTLSPolicy judges its trust once) are kept apart and
/// written to every ancestor that has no condition of that type of its own.
#[derive(Debug, Clone, Default)]
pub struct PolicyStatus {
    pub controller_name: String,
    /// In the order they were found.
    pub ancestors: Vec<(AncestorRef, Vec<Condition>)>,
    pub conditions: Vec<Condition>,
    pub generation: Option<i64>,
}

impl PolicyStatus {
    /// The ancestor's conditions, adding the ancestor if it is new.
    pub fn ancestor(&mut self, a: &AncestorRef) -> &mut Vec<Condition> {
        let i = match self.ancestors.iter().position(|(x, _)| x == a) {
            Some(i) => i,
            None => {
                self.ancestors.push((a.clone(), Vec::new()));
                self.ancestors.len() - 1
            }
        };
        &mut self.ancestors[i].1
    }
}

/// A Gateway a policy takes effect in, and the listener when the policy (or the route it
/// targets) names one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AncestorRef {
    pub gateway: ObjectKey,
    pub section: Option<String>,
}

/// What a problem says about status: which object's (or listener's, or route parent's)
/// condition it sets.
#[derive(Debug, Clone)]
pub enum Target {
    GatewayClass(ObjectKey),
    Gateway(ObjectKey),
    Listener(ListenerId),
    /// One parent of a route: the route and the index of the parent in its status.
    RouteParent(ObjectKey, usize),
    /// Every parent of a route (a problem with its rules or backends).
    Route(ObjectKey),
    /// A policy, for every ancestor.
    Policy(ObjectKey),
    /// A policy, for one ancestor.
    PolicyAncestor(ObjectKey, AncestorRef),
    /// An Envoy Gateway Backend.
    Backend(ObjectKey),
}

/// Where a problem is: the object, the position finder of its nodes, and the field.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub object: &'a ObjectKey,
    pub loc: &'a Locator,
}

/// One problem: a diagnostic and, when status has a word for it, the condition it implies.
pub struct Problem {
    pub code: Code,
    /// What status says (the condition's message), and the core of the diagnostic.
    pub message: String,
    /// Where, for the diagnostic only (`listener `https``, `not accepted by Gateway ns/gw`).
    pub context: Option<String>,
    pub pointer: String,
    pub help: Option<String>,
    /// (target, condition type, condition status, reason); the condition's message is the
    /// diagnostic's message.
    pub condition: Option<(Target, &'static str, bool, &'static str)>,
}

impl Problem {
    pub fn new(code: Code, message: impl Into<String>, pointer: impl Into<String>) -> Self {
        Problem { code, message: message.into(), context: None, pointer: pointer.into(), help: None, condition: None }
    }
    pub fn context(mut self, c: impl Into<String>) -> Self {
        self.context = Some(c.into());
        self
    }
    pub fn sets(mut self, target: Target, type_: &'static str, status: bool, reason: &'static str) -> Self {
        self.condition = Some((target, type_, status, reason));
        self
    }
    pub fn help(mut self, h: impl Into<String>) -> Self {
        self.help = Some(h.into());
        self
    }
}

/// Writes diagnostics and status together. Problems set negative conditions as they are found;
/// [`Recorder::finish`] fills in the positive ones.
#[derive(Default)]
pub struct Recorder {
    pub diagnostics: Vec<Diagnostic>,
    pub status: StatusTable,
    /// Conditions for every parent of a route, applied at the end (the parents are known
    /// only once attachment is done).
    route_wide: BTreeMap<ObjectKey, Vec<Condition>>,
    /// Policies (BackendTLSPolicy) targeting the Services each route uses.
    pub route_policies: BTreeMap<ObjectKey, std::collections::BTreeSet<ObjectKey>>,
}

impl Recorder {
    pub fn report(&mut self, site: Site, p: Problem) {
        // The diagnostic says where and why; the condition carries the same message.
        let mut text = match &p.context {
            Some(c) => format!("{c}: {}", p.message),
            None => p.message.clone(),
        };
        if let Some((_, _, _, reason)) = &p.condition {
            text.push_str(&format!(" ({reason})"));
        }
        let mut d = Diagnostic::new(p.code, text)
            .with_span(site.loc.span_of(&p.pointer, false))
            .with_object(site.object.to_string())
            .with_path(p.pointer);
        if let Some(h) = p.help {
            d = d.with_help(h);
        }
        self.diagnostics.push(d);
        if let Some((target, type_, status, reason)) = p.condition {
            self.condition(target, Condition::new(type_, status, reason, p.message));
        }
    }

    /// A condition without a diagnostic (an informational one, or the positive defaults).
    /// The first problem of a type wins: later ones do not overwrite it.
    pub fn condition(&mut self, target: Target, c: Condition) {
        let conds = match target {
            Target::GatewayClass(k) => self.status.gateway_classes.get_mut(&k).map(|(c, _)| c),
            Target::Gateway(k) => self.status.gateways.get_mut(&k).map(|g| &mut g.conditions),
            Target::Listener(id) => self
                .status
                .gateways
                .get_mut(&id.parent)
                .and_then(|g| g.listeners.iter_mut().find(|l| l.name == id.section))
                .map(|l| &mut l.conditions),
            Target::RouteParent(k, i) => self.status.routes.get_mut(&k).and_then(|r| r.parents.get_mut(i)).map(|p| &mut p.conditions),
            Target::Route(k) => Some(self.route_wide.entry(k).or_default()),
            Target::Policy(k) => Some(&mut self.status.policies.entry(k).or_default().conditions),
            Target::PolicyAncestor(k, a) => Some(self.status.policies.entry(k).or_default().ancestor(&a)),
            Target::Backend(k) => self.status.backends.get_mut(&k).map(|(c, _)| c),
        };
        if let Some(conds) = conds
            && get(conds, c.type_).is_none_or(|old| !is_problem(old))
        {
            set(conds, c);
        }
    }

    /// Does this listener have a problem condition already?
    pub fn listener_ok(&self, id: &ListenerId) -> bool {
        self.status
            .gateways
            .get(&id.parent)
            .and_then(|g| g.listeners.iter().find(|l| l.name == id.section))
            .is_none_or(|l| !l.conditions.iter().any(is_problem))
    }

    /// Fill in the positive conditions, in each kind's canonical order, and hand over.
    pub fn finish(mut self) -> (StatusTable, Vec<Diagnostic>) {
        for (conds, _) in self.status.gateway_classes.values_mut() {
            canonical(conds, &[("Accepted", "Accepted", "Valid GatewayClass")]);
        }
        for (conds, _) in self.status.backends.values_mut() {
            canonical(conds, &[("Accepted", "Accepted", "The Backend was accepted")]);
        }
        for g in self.status.gateways.values_mut() {
            for l in &mut g.listeners {
                let ok = !l.conditions.iter().any(is_problem);
                if !ok && get(&l.conditions, "Programmed").is_none() {
                    set(&mut l.conditions, Condition::new("Programmed", false, "Invalid", "Listener is invalid, see other Conditions for details."));
                }
                canonical(
                    &mut l.conditions,
                    &[
                        ("Accepted", "Accepted", "Listener has been successfully translated"),
                        ("ResolvedRefs", "ResolvedRefs", "Listener references have been resolved"),
                        ("Conflicted", "NoConflicts", "No conflicts"),
                        ("Programmed", "Programmed", "Sending translated listener configuration to the data plane"),
                    ],
                );
            }
            canonical(
                &mut g.conditions,
                &[("Accepted", "Accepted", "The Gateway has been scheduled by gatewayc"), ("Programmed", "Programmed", "All listeners are programmed")],
            );
        }
        for (key, r) in self.status.routes.iter_mut() {
            let wide = self.route_wide.get(key);
            for p in &mut r.parents {
                for c in wide.into_iter().flatten() {
                    if get(&p.conditions, c.type_).is_none_or(|old| !is_problem(old)) {
                        set(&mut p.conditions, c.clone());
                    }
                }
                canonical(
                    &mut p.conditions,
                    &[("Accepted", "Accepted", "Route is accepted"), ("ResolvedRefs", "ResolvedRefs", "Resolved all the Object references for the Route")],
                );
            }
        }
        for (key, p) in self.status.policies.iter_mut() {
            // Envoy Gateway's policies say Accepted; a BackendTLSPolicy also ResolvedRefs.
            let defaults: &[(&'static str, &'static str, &'static str)] = if key.kind == crate::api::Kind::BackendTLSPolicy {
                &[("Accepted", "Accepted", "Policy has been accepted."), ("ResolvedRefs", "ResolvedRefs", "Resolved all the Object references.")]
            } else {
                &[("Accepted", "Accepted", "Policy has been accepted.")]
            };
            let wide = std::mem::take(&mut p.conditions);
            for (_, conds) in &mut p.ancestors {
                for c in &wide {
                    if get(conds, c.type_).is_none_or(|old| !is_problem(old)) {
                        set(conds, c.clone());
                    }
                }
                canonical(conds, defaults);
            }
            p.conditions = wide;
        }
        (self.status, self.diagnostics)
    }
}

/// Put `conds` in the order of `defaults`, adding each missing type as its positive default
/// (status True, except `Conflicted` whose good state is False); other types follow.
fn canonical(conds: &mut Vec<Condition>, defaults: &[(&'static str, &'static str, &'static str)]) {
    let mut out = Vec::with_capacity(conds.len().max(defaults.len()));
    for (type_, reason, message) in defaults {
        match conds.iter().position(|c| c.type_ == *type_) {
            Some(i) => out.push(conds.remove(i)),
            None => out.push(Condition::new(type_, *type_ != "Conflicted", reason, *message)),
        }
    }
    out.append(conds);
    *conds = out;
}
