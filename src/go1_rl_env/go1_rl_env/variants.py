# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Named Go1 simulator variants: 'sim' (pretraining) and 'real' (the sim-to-sim "real" Go1).

``sim`` randomises at every reset: floor friction U(0.4, 1.0), link masses x U(0.9, 1.1),
torso mass +- 1 kg, joint friction loss x U(0.5, 2.0) and armature x U(1.0, 1.05) as
published, and the torso centre of mass +- 0.05 m per axis. The published +- 0.15 m was
measured here to knock over a robot that merely stands: with zero actions (the PD holding
the default pose) 84 % of 50 randomised robots flipped within 6 s (0 % without the shift,
16 % at +- 0.05 m), i.e. the centre of mass left the support polygon; +- 0.05 m is the
MuJoCo Playground Go1 value. ``real`` is one fixed robot outside the
nominal model: a slippery floor (friction 0.45), every link 8 % heavier, a 0.8 kg payload
2 cm behind the torso centre, motors 15 % weaker (gains and torque limits), and an actuation
latency of 2 physics substeps (8 ms) before a new target reaches the motors.
"""

from typing import Dict

VARIANTS: Dict[str, Dict] = {
    'sim': {'randomize': True, 'friction': 0.8, 'mass_scale': 1.0, 'torso_extra_mass': 0.0,
            'torso_com_shift': (0.0, 0.0, 0.0), 'motor_strength': 1.0,
            'latency_substeps': 0},
    'nominal': {'randomize': False, 'friction': 0.8, 'mass_scale': 1.0,
                'torso_extra_mass': 0.0, 'torso_com_shift': (0.0, 0.0, 0.0),
                'motor_strength': 1.0, 'latency_substeps': 0},
    'real': {'randomize': False, 'friction': 0.45, 'mass_scale': 1.08,
             'torso_extra_mass': 0.8, 'torso_com_shift': (-0.02, 0.0, 0.0),
             'motor_strength': 0.85, 'latency_substeps': 2},
}

#: Published randomisation ranges of the 'sim' variant.
RANDOMIZATION = {
    'friction': (0.4, 1.0),
    'link_mass_scale': (0.9, 1.1),
    'torso_extra_mass': (-1.0, 1.0),
    'torso_com_shift': 0.05,
    'frictionloss_scale': (0.5, 2.0),
    'armature_scale': (1.0, 1.05),
}


def resolve_variant(name: str) -> Dict:
    """Return the parameters of a named variant, or raise naming the known ones."""
    if name not in VARIANTS:
        raise ValueError(f'unknown Go1 variant {name!r}; known: {sorted(VARIANTS)}')
    return dict(VARIANTS[name])
