#!/bin/sh
# Helm post-renderer: Helm pipes the rendered chart on stdin and reads the result on stdout.
#   helm install my-release ./chart --post-renderer ./gatewayc-post-renderer.sh
# Every object of the chart comes back unchanged and in order, followed by the ConfigMap,
# Secret, Deployment and Service that run each Gateway of the chart.
exec gatewayc render -f - --passthrough "$@"
