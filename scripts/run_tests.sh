#!/usr/bin/env bash
# THE test command: sets up and builds what it needs, then runs every package's tests
# (colcon test: unit, smoke and linter tests) and the top-level tests in test/.
#   scripts/run_tests.sh [extra pytest args for the top-level tests]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/bootstrap.sh
set +u
# shellcheck disable=SC1091
source scripts/ros_env.sh
set -u
echo "[tests] ROS_DOMAIN_ID=$ROS_DOMAIN_ID ROS_AUTOMATIC_DISCOVERY_RANGE=$ROS_AUTOMATIC_DISCOVERY_RANGE"
status=0
# interface packages the bootstrap left to a system ROS 2 (not built here) have no tests
skip=()
for pkg in franka_msgs tf2_msgs; do [ -d "build/$pkg" ] || skip+=("$pkg"); done
colcon --log-base log test --base-paths src ${skip[@]:+--packages-skip "${skip[@]}"} \
  --event-handlers console_direct+ \
  --return-code-on-test-failure \
  --pytest-args -p no:cacheprovider --timeout=900 || status=$?
colcon --log-base log test-result --verbose || status=$?
python -m pytest -p no:cacheprovider --timeout=1800 test "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "[tests] FAILED (status $status)"
fi
exit "$status"
