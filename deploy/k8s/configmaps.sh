#!/usr/bin/env bash
# Prints the ConfigMaps the xuncha pods mount, made from this checkout's files:
#
#   bash deploy/k8s/configmaps.sh | kubectl apply -f -
#   kubectl -n xuncha rollout restart deployment/xuncha-scanner deployment/xuncha-crawler
#
#   xuncha-rules     rules/              -> /etc/xuncha/rules
#   xuncha-sites     config/sites/       -> /etc/xuncha/config/sites   (crawler)
#   xuncha-settings  config/kafka.toml   -> /etc/xuncha/config/kafka.toml
#
# The rules are read when a process starts, hence the restart. Needs only kubectl (no
# cluster: --dry-run=client). XUNCHA_NAMESPACE picks the namespace (default xuncha).
set -euo pipefail
cd "$(dirname "$0")/../.."
ns=${XUNCHA_NAMESPACE:-xuncha}

configmap() {
  local name=$1
  shift
  kubectl create configmap "$name" --namespace "$ns" "$@" --dry-run=client -o yaml
}

configmap xuncha-rules --from-file=rules/
echo '---'
configmap xuncha-sites --from-file=config/sites/
echo '---'
configmap xuncha-settings --from-file=kafka.toml=config/kafka.toml
