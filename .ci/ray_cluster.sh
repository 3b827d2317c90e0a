#!/usr/bin/env bash
# A Ray head node on loopback for CI jobs that want an external cluster:
#   .ci/ray_cluster.sh start    # prints the address (HOST:PORT); free ports, own temp dir
#   .ci/ray_cluster.sh status
#   .ci/ray_cluster.sh stop     # stops only this cluster (never 'ray stop', which stops every Ray)
# The Ray tests (tests/ray) start and stop their own cluster and do not need this.
# ZP_RAY_STATE (default /tmp/zp_ray_ci) holds the pid, address and temp dir between calls.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  start|stop|status) exec .venv/bin/python -m tests.ray.cluster "$1" "${@:2}" ;;
  *) echo "usage: $0 start|stop|status [--state DIR] [--num-cpus N]" >&2; exit 2 ;;
esac
