# Source me: the workspace, and DDS kept on loopback with a per-run domain id.
# shellcheck shell=bash
_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC1091
source "$_ROOT/.venv/bin/activate"
if [ -z "${ROS_DISTRO:-}" ] || ! python -c 'import rclpy' >/dev/null 2>&1; then
  export AMENT_PREFIX_PATH="$_ROOT/.venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
fi
# colcon's setup scripts reference unset variables; source them leniently.
set +u
# shellcheck disable=SC1091
source "$_ROOT/install/setup.bash"
set -u 2>/dev/null || true
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$((1 + $$ % 100))}
export CYCLONEDDS_URI=${CYCLONEDDS_URI:-'<CycloneDDS><Domain><General><Interfaces><NetworkInterface name="lo"/></Interfaces><AllowMulticast>false</AllowMulticast></General><Discovery><ParticipantIndex>auto</ParticipantIndex><MaxAutoParticipantIndex>50</MaxAutoParticipantIndex><Peers><Peer address="127.0.0.1"/></Peers></Discovery></Domain></CycloneDDS>'}
# Fast DDS (the default RMW): 8 MiB shared-memory segments, so camera frames are not lost in
# UDP fragments, and UDP only on 127.0.0.1 (see the profile's comment). Set the variable
# yourself (even to '') to keep your own.
if [ -z "${FASTRTPS_DEFAULT_PROFILES_FILE+set}" ] \
    && [ -f "$_ROOT/install/rl_core/share/rl_core/config/fastdds_loopback.xml" ]; then
  export FASTRTPS_DEFAULT_PROFILES_FILE="$_ROOT/install/rl_core/share/rl_core/config/fastdds_loopback.xml"
fi
# Headless MuJoCo rendering (camera images of the simulated Panda) through EGL.
export MUJOCO_GL=${MUJOCO_GL:-egl}
export PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-egl}
# The sim2online command line (rl_experiments' console script) on PATH.
export PATH="$_ROOT/install/rl_experiments/lib/rl_experiments:$PATH"
unset _ROOT
