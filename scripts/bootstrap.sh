#!/usr/bin/env bash
# Set up everything the workspace needs on a fresh Debian/Ubuntu machine, then build it.
# Idempotent: a stamp keyed on the requirement files skips pip when nothing changed.
#
#   scripts/bootstrap.sh          # venv + pinned wheels + colcon build
#
# With a system ROS 2 sourced (/opt/ros/<distro>/setup.bash, rclpy importable), the venv
# sees the system packages and no ros-* wheel is installed, so the system ROS is used.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv"
PY=${PYTHON:-python3}

log() { printf '[bootstrap] %s\n' "$*" >&2; }

system_ros=0
if [ -n "${ROS_DISTRO:-}" ] && "$PY" -c 'import rclpy' >/dev/null 2>&1; then
  system_ros=1
  log "using the sourced ROS 2 $ROS_DISTRO"
fi

# --- Debian packages (only what is missing; needs root or sudo) ---------------------------
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v g++ >/dev/null 2>&1 || need+=(g++)
"$PY" -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
# Headless MuJoCo rendering (EGL) and the RealSense SDK's libusb.
for pkg in libegl1 libegl-mesa0 libgl1-mesa-dri libusb-1.0-0; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need+=("$pkg")
done
"$PY" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
  || need+=(python3-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  log "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# --- Python environment ---------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  if [ "$system_ros" = 1 ]; then
    "$PY" -m venv --system-site-packages "$VENV"
  else
    "$PY" -m venv "$VENV"
  fi
fi
# shellcheck disable=SC1091
source "$VENV/bin/activate"
stamp="$VENV/.sim2online-stamp"
want=$(cat requirements/*.txt scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)-$system_ros
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing pinned Python packages"
  python -m pip install -q --upgrade pip >/dev/null
  # torch first and exactly: an open range would pull a multi-GB CUDA build.
  python -m pip install -q torch==2.13.0
  python -m pip install -q -r requirements/core.txt
  python -m pip install -q -r requirements/robots.txt
  python -m pip install -q --no-deps -r requirements/robots-nodeps.txt
  if [ "$system_ros" = 0 ] && ! python -c 'import rclpy' >/dev/null 2>&1; then
    log "no system ROS 2: installing the ROS 2 Jazzy wheels"
    python -m pip install -q -r requirements/ros-wheels.txt
  fi
  echo "$want" > "$stamp"
fi

# --- rosidl from wheels: two paths baked into the wheels' CMake exports must exist ----------
if [ "$system_ros" = 0 ]; then
  pyinc=$(python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
  npinc=$(python -c 'import numpy; print(numpy.get_include())')
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  for pair in "/opt/python/cp311-cp311/include/python3.11=$pyinc" \
              "/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include=$npinc"; do
    link=${pair%%=*}; target=${pair#*=}
    if [ "$(readlink "$link" 2>/dev/null)" != "$target" ]; then
      $SUDO mkdir -p "$(dirname "$link")"
      $SUDO ln -sfn "$target" "$link"
    fi
  done
  export CMAKE_PREFIX_PATH="$VENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  export AMENT_PREFIX_PATH="$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
fi

# --- build the workspace -----------------------------------------------------------------------
# Interface packages that a system ROS 2 may already have (franka_ros2's franka_msgs,
# tf2_msgs): the system's when importable from outside this workspace; otherwise the
# workspace's wire-identical copies in src/ are built (same fields => same type hashes).
skip=()
for pkg in franka_msgs tf2_msgs; do
  if python - "$ROOT" "$pkg" <<'PYEOF' >/dev/null 2>&1
import importlib, os, sys
mod = importlib.import_module(sys.argv[2])
sys.exit(os.path.realpath(mod.__file__).startswith(os.path.realpath(sys.argv[1])))
PYEOF
  then
    log "using the system's $pkg"
    skip+=("$pkg")
  fi
done
log "colcon build"
colcon --log-base log build --symlink-install --base-paths src ${skip[@]:+--packages-skip "${skip[@]}"} \
  --event-handlers console_stderr- status- summary+ \
  --cmake-args -DBUILD_TESTING=OFF -DPython3_EXECUTABLE="$VENV/bin/python" >&2
