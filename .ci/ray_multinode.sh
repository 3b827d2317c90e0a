#!/usr/bin/env bash
# A 3-node Ray cluster on this machine, each node in its own network namespace (needs root):
#   .ci/ray_multinode.sh start [--dashboard] [--worker-cpus N]   # prints the address, token and head namespace
#   .ci/ray_multinode.sh status
#   .ci/ray_multinode.sh exec -- .venv/bin/zp-evolve run FILE --set executor.address=10.225.0.1:6379
#                                                         # runs a command in the head's namespace, with the token
#   .ci/ray_multinode.sh stop                             # removes namespaces, veths, bridge, Ray processes, temp dirs
# ZP_NETNS_PREFIX (default zpn25) and ZP_NETNS_SUBNET (default 10.225.0) name what it makes.
# tests/ray/test_multinode.py starts and stops its own cluster and does not need this.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  start|stop|status|exec) exec .venv/bin/python -m tests.ray.netns_cluster "$1" "${@:2}" ;;
  *) echo "usage: $0 start|stop|status|exec [-- COMMAND...]" >&2; exit 2 ;;
esac
