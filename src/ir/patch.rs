//! What an EnvoyPatchPolicy needs from the IR: the names Envoy Gateway gives the resources
//! gatewayc writes under names of its own, so that a patch written for Envoy Gateway finds
//! its resource. A Gateway listener `<ns>/<gateway>/<listener>` is, in Envoy Gateway, the
//! Envoy listener of its port when it is the port's first listener (and, on an HTTP port,
//! that listener's route configuration too), and the route configuration of its own filter
//! chain when it is an HTTPS listener.

use super::{PortIr, Transport};
use crate::names;
use crate::resolve::{self, epp::Resource};
use std::collections::BTreeSet;

/// A resource by Envoy Gateway's name and by gatewayc's.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub resource: Resource,
    pub envoy_gateway: String,
    pub ours: String,
}

pub fn aliases(g: &resolve::ResolvedGateway, ports: &[PortIr]) -> Vec<Alias> {
    let mut out = Vec::new();
    if g.patches.is_empty() {
        return out;
    }
    let mut first_on_port = BTreeSet::new();
    for l in g.listeners.iter().filter(|l| l.programmed) {
        let udp = l.protocol.is_udp();
        let Some(p) = ports.iter().find(|p| p.port == l.port && matches!(p.transport, Transport::Udp { .. }) == udp) else { continue };
        let first = first_on_port.insert((l.port, udp));
        if l.id.parent != g.key {
            continue;
        }
        let envoy_gateway = format!("{}/{}/{}", g.key.namespace, g.key.name, l.id.section);
        if first {
            out.push(Alias { resource: Resource::Listener, envoy_gateway: envoy_gateway.clone(), ours: p.name.clone() });
            if matches!(p.transport, Transport::Http { .. }) {
                out.push(Alias { resource: Resource::RouteConfiguration, envoy_gateway: envoy_gateway.clone(), ours: p.name.clone() });
            }
        }
        if l.is_https() {
            out.push(Alias { resource: Resource::RouteConfiguration, envoy_gateway, ours: names::tls_chain(l.port, &names::listener_label(&l.id)) });
        }
    }
    out
}
