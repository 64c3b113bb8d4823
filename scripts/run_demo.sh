#!/usr/bin/env bash
# THE main job: sets up and builds what it needs, then pretrains the race-car parking policy
# on the kinematic model (CPU config) and writes checkpoint, D0 bag, learning curve, summary.
#   scripts/run_demo.sh [pretrain flags, e.g. --max-wall-clock-s 600]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/bootstrap.sh
set +u
# shellcheck disable=SC1091
source scripts/ros_env.sh
set -u
exec python -m rl_agent.pretrain --config config/racecar_pretrain.yaml "$@"
