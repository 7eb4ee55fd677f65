//! The status a conformant controller would write, kept beside the inputs (never in them).

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
    pub gateway_classes: BTreeMap<String, (Vec<Condition>, Option<i64>)>,
    pub gateways: BTreeMap<(String, String), GatewayStatus>,
    pub http_routes: BTreeMap<(String, String), RouteStatus>,
}
