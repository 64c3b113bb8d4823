# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The Go1 adapter's reset against a fake driver on the driver's topics and services.

The driver stands up from the pose it measures at ``go1/release``, so the adapter waits
``adapter.settle_s`` after the lay-down before releasing. The race this guards against
(seen in the Go1 main job): an episode ends with the robot flipped; the reset lays it down
and the driver stands it up; but the environment node's between-episode ``stop()`` still
saw the flipped reading from before the lay-down and e-stopped the driver after the
release, so the next episode began damped and lying.
"""

from geometry_msgs.msg import QuaternionStamped, TwistStamped
from go1_rl_env import model
from go1_rl_env.ros_adapter import Go1Adapter
from go1_rl_env.task import Go1JoystickTask
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rl_core import ros_qos
from rl_core.ros_executor import spin_until
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Bool
from std_srvs.srv import Trigger


class FakeDriver(Node):
    """The driver's topics (published on demand) and services, recording the calls."""

    def __init__(self):
        super().__init__('go1_driver')
        self.pubs = {'js': self.create_publisher(JointState, 'go1/joint_states',
                                                 ros_qos.SENSOR),
                     'imu': self.create_publisher(Imu, 'go1/imu', ros_qos.SENSOR),
                     'vel': self.create_publisher(TwistStamped, 'go1/velocity',
                                                  ros_qos.SENSOR),
                     'feet': self.create_publisher(QuaternionStamped, 'go1/foot_force',
                                                   ros_qos.SENSOR)}
        self.estops = []
        self.calls = []
        self.create_subscription(Bool, 'go1/estop', lambda m: self.estops.append(m.data),
                                 ros_qos.LATCHED)
        self.create_service(Trigger, 'go1/release', self.service('release'))
        self.create_service(Trigger, 'sim/reset', self.service('reset'))

    def service(self, name):
        def handle(_request, response):
            self.calls.append(name)
            response.success = True
            return response
        return handle

    def publish_state(self, upright: bool):
        js = JointState()
        js.name = list(model.SDK_JOINT_NAMES)
        js.position = [float(q) for q in model.DEFAULT_POSE]
        js.velocity = [0.0] * 12
        js.effort = [0.0] * 12
        imu = Imu()   # orientation (w, x, y, z) = (1, 0, 0, 0): upright
        if not upright:  # rolled over: 180 degrees about x
            imu.orientation.w, imu.orientation.x = 0.0, 1.0
        feet = QuaternionStamped()
        feet.quaternion.x = feet.quaternion.y = feet.quaternion.z = feet.quaternion.w = 40.0
        for key, msg in (('js', js), ('imu', imu), ('vel', TwistStamped()), ('feet', feet)):
            self.pubs[key].publish(msg)


@pytest.fixture
def world():
    rclpy.init()
    env = Node('rl_env')
    adapter = Go1Adapter()
    adapter.configure(env, Go1JoystickTask(), 'adapter')
    driver = FakeDriver()
    ex = SingleThreadedExecutor()
    ex.add_node(env)
    ex.add_node(driver)
    yield adapter, driver, ex
    ex.shutdown()
    env.destroy_node()
    driver.destroy_node()
    rclpy.shutdown()


def settle(ex, seconds=0.3):
    spin_until(ex, lambda: False, timeout=seconds)


def fresh_state(adapter, driver, ex, upright):
    """Publish a state until the adapter holds one of this kind, newer than before."""
    before = adapter.latest()[1] if adapter.latest() is not None else -1.0

    def arrived():
        latest = adapter.latest()
        if latest is None or latest[1] <= before:
            return False
        # per topic in order: once an IMU reading of this kind is in, no older kind follows
        return (adapter.parts['go1/imu'][0].orientation.w == 1.0) == upright
    for _ in range(20):   # best-effort QoS: the first messages may precede the matching
        driver.publish_state(upright)
        if spin_until(ex, arrived, timeout=0.5):
            return
    raise AssertionError(f'the adapter never received a state (upright={upright})')


def test_reset_is_not_e_stopped_by_a_reading_from_before_it(world):
    adapter, driver, ex = world
    # A flipped robot between episodes: damping through the e-stop (unchanged behaviour).
    fresh_state(adapter, driver, ex, upright=False)
    adapter.stop()
    assert spin_until(ex, lambda: driver.estops == [True])

    future = adapter.reset()
    assert spin_until(ex, lambda: driver.estops[-1] is False)   # the reset clears it
    # Ticks while the reset runs: the newest reading is still the flipped one from before.
    for _ in range(20):
        adapter.stop()
        ex.spin_once(timeout_sec=0.02)
    assert spin_until(ex, lambda: driver.calls == ['reset', 'release'])
    for _ in range(10):
        adapter.stop()
        ex.spin_once(timeout_sec=0.02)
    settle(ex)
    assert driver.estops == [True, False], 'a pre-reset reading e-stopped the stand-up'

    # After the release, readings count again: standing is fine...
    fresh_state(adapter, driver, ex, upright=True)
    adapter.stop()
    settle(ex)
    assert driver.estops == [True, False]
    assert spin_until(ex, future.done, timeout=adapter.stand_up_wait_s + 5.0)
    assert future.ok, future.message
    # ... and a robot that falls during or after the stand-up is damped as before.
    fresh_state(adapter, driver, ex, upright=False)
    adapter.stop()
    assert spin_until(ex, lambda: driver.estops == [True, False, True]), driver.estops


def test_an_abandoned_reset_releases_nothing_and_judges_every_reading_again(world):
    adapter, driver, ex = world
    fresh_state(adapter, driver, ex, upright=False)
    future = adapter.reset()
    adapter.stop()
    assert spin_until(ex, lambda: driver.calls == ['reset'])   # laid down, settling
    assert True not in driver.estops
    adapter.cancel_reset()   # an abort or e-stop during the reset
    adapter.stop()
    assert spin_until(ex, lambda: driver.estops[-1] is True)
    settle(ex, adapter.settle_s + 0.5)
    assert driver.calls == ['reset'], 'an abandoned reset still stood the robot up'
    assert not future.done() or not future.ok
