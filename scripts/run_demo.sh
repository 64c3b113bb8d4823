#!/usr/bin/env bash
# THE main job: sets up and builds what it needs, then runs the simulated sim-to-online
# experiment: pretrain on the kinematic model (or reuse it), fine-tune through ROS 2.
#   scripts/run_demo.sh [--episodes 15 --seed 0 ...]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/bootstrap.sh
set +u
# shellcheck disable=SC1091
source scripts/ros_env.sh
set -u
exec python -m rl_agent.sim_to_online run "$@"
