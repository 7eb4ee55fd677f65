//! Typed identities, in one place: objects, listeners and route rules are named by these
//! everywhere after `validate` (status, diagnostics, the IR's origins), never by indexes into
//! `spec` lists or by formatted strings.

use crate::api::Kind;

/// An object: kind, namespace (empty for cluster-scoped kinds) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    pub fn new(kind: Kind, namespace: &str, name: &str) -> Self {
        let namespace = if kind.namespaced() { namespace.to_string() } else { String::new() };
        ObjectKey { kind, namespace, name: name.to_string() }
    }
    pub fn of(kind: Kind, meta: &crate::api::meta::ObjectMeta) -> Self {
        ObjectKey::new(kind, meta.ns(), &meta.name)
    }
}

/// `Kind namespace/name`, or `Kind name` for cluster-scoped kinds: how diagnostics name objects.
impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.kind.namespaced() {
            write!(f, "{} {}/{}", self.kind.name(), self.namespace, self.name)
        } else {
            write!(f, "{} {}", self.kind.name(), self.name)
        }
    }
}

/// A listener: the object that declares it (a Gateway now, a ListenerSet later) and its
/// section name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId {
    pub parent: ObjectKey,
    pub section: String,
}

/// One rule of a route: the route, the rule's index in `spec.rules`, and its name if it has one
/// (policies and `sectionName` refer to rules by name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId {
    pub route: ObjectKey,
    pub index: usize,
    pub name: Option<String>,
}
