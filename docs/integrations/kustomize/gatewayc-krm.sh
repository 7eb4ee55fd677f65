#!/bin/sh
# kustomize exec KRM function: a ResourceList on stdin, the same list plus the objects that
# run each Gateway on stdout.
exec gatewayc render -f - --krm
