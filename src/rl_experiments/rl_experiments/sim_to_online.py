# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
The simulated sim-to-online experiment, end to end, for any registered robot.

    sim2online run --task racecar_parking        # pretrain (or reuse), fine-tune via ROS 2
    sim2online ablation --task racecar_parking   # full recipe vs naive, several seeds
    sim2online table runs/*/ablation.json        # merge seed runs

``run``: pretrains with the robot's registered config (reusing ``--pretrain-dir`` when its
checkpoint and D0 bag exist), then starts the robot's ROS 2 graph (the node list of its
registration, the same one its launch file starts, with its installed parameter file) as
processes with DDS on loopback, fine-tunes for ``--episodes`` episodes on the simulator's
"real" variant (behind the sim bridge), and evaluates pi0 and the fine-tuned policy on 100
episodes of the same "real" robot offline.

``ablation``: the same online protocol without ROS (the learner core on one simulated
"real" robot, identical episode by episode), comparing the full recipe (D0 retention with
annealed alpha, warm start, asymmetric actor updates M=20, actor lr 1e-5) with the naive
one (M=1, shared learning rate 3e-4, no D0, no warm start) over several seeds.
"""

import copy
import json
import os
import pathlib
import signal
import subprocess
import time
from typing import Dict, List, Optional, Sequence, Tuple

from rl_core import registry
from rl_core.run_info import resolve_task
from rl_core.task import split_observation
from rl_experiments import ablation
import torch
import yaml

# The arms of the ablation grid (full, no_retention, no_warm_start, no_asymmetric, naive,
# fixed_alpha): see rl_experiments.ablation.
RECIPES = ablation.ARMS
EVAL_SEED = 123


def ensure_pretrained(plugin: registry.RobotPlugin, out_dir: str, target_success: float,
                      log=print, extra_args: Optional[List[str]] = None) -> str:
    """Reuse a finished pretraining run of this task in ``out_dir`` or run one."""
    summary = pathlib.Path(out_dir) / 'summary.json'
    ckpt = pathlib.Path(out_dir) / 'checkpoint.pt'
    if summary.is_file() and (pathlib.Path(out_dir) / 'd0_bag' / 'metadata.yaml').is_file():
        from rl_core.run_info import read_checkpoint_run_info
        stored = read_checkpoint_run_info(str(ckpt)).get('task')
        if stored != plugin.name:
            raise ValueError(f'{out_dir} holds a pretraining of task {stored!r}, not '
                             f'{plugin.name!r}: choose another --pretrain-dir')
        data = json.loads(summary.read_text())
        log(f"reusing pretraining in {out_dir}: pi0 (at {data.get('checkpoint_updates', '?')} "
            f"updates) had success {data['success_rate']:.0%}, return "
            f"{data['return_mean']:.2f} when it was trained, under that run's task and "
            f'evaluation (delete the folder to pretrain again)')
        return out_dir
    from rl_experiments.pretrain import build_configs, Pretrainer
    cfg, sac_cfg, task_overrides = build_configs(
        ['--task', plugin.name, '--out-dir', out_dir, '--target-success',
         str(target_success)] + list(extra_args or []))
    Pretrainer(cfg, sac_cfg, log=log, task_overrides=task_overrides).train()
    return out_dir


def make_eval_env(checkpoint: str, variant: str, episodes: int = 100, seed: int = EVAL_SEED,
                  task_checkpoint: Optional[str] = None):
    """
    Return a task on ``episodes`` copies of a simulator variant.

    The task is ``task_checkpoint``'s (default: the checkpoint's own).
    """
    task, plugin = resolve_task(checkpoint=task_checkpoint or checkpoint)
    env = plugin.make_simulator(task, episodes, variant=variant, seed=seed)
    env.reset(seed=seed)
    return env


@torch.no_grad()
def evaluate_checkpoint(checkpoint: str, variant: Optional[str] = None, episodes: int = 100,
                        seed: int = EVAL_SEED, task_checkpoint: Optional[str] = None
                        ) -> Dict[str, float]:
    """
    Return the success rate, mean return and task metrics of a deterministic policy.

    ``task_checkpoint`` evaluates on another checkpoint's task (e.g. pi0 on the online task,
    whose episodes may be longer than pretraining's), so two policies compare on one task.
    """
    from rl_agent.sac import SAC
    from rl_experiments.pretrain import evaluate
    _, plugin = resolve_task(checkpoint=checkpoint)
    env = make_eval_env(checkpoint, variant or plugin.real_variant, episodes, seed,
                        task_checkpoint)
    return evaluate(SAC.load(checkpoint), env)


# ------------------------------------------------------------------------- through ROS 2
def executable(package: str, name: str) -> str:
    """Return the path of an installed node executable: ``<prefix>/lib/<package>/<name>``."""
    from ament_index_python.packages import get_package_prefix
    path = os.path.join(get_package_prefix(package), 'lib', package, name)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path} missing: build the workspace (scripts/bootstrap.sh)')
    return path


def set_param(data: dict, node: str, dotted: str, value) -> None:
    """
    Set ``node``'s parameter ``a.b.c`` in a parameter-file dict.

    A plain node name means the file's ``/**/<node>`` section (any namespace); ``/**`` is the
    section of every node.
    """
    key = node if node.startswith('/') else f'/**/{node}'
    section = data.setdefault(key, {}).setdefault('ros__parameters', {})
    *parents, leaf = dotted.split('.')
    for key in parents:
        section = section.setdefault(key, {})
    section[leaf] = value


def graph_params(plugin: registry.RobotPlugin, overrides: Dict[str, Dict], path: pathlib.Path,
                 params_file: Optional[str] = None) -> pathlib.Path:
    """Write the robot's installed parameter file with ``{node: {a.b: value}}`` applied."""
    source = params_file or plugin.share_path('config', plugin.params_file)
    data = yaml.safe_load(pathlib.Path(source).read_text())
    for node, values in overrides.items():
        for dotted, value in values.items():
            set_param(data, node, dotted, value)
    path.write_text(yaml.safe_dump(data))
    return path


def ros_environment(domain_id: Optional[int] = None) -> Dict[str, str]:
    """Environment of node processes: loopback-only DDS on a per-run domain."""
    env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE='LOCALHOST', PYTHONUNBUFFERED='1')
    if domain_id is not None:
        env['ROS_DOMAIN_ID'] = str(domain_id)
    env.setdefault('ROS_DOMAIN_ID', str(1 + os.getpid() % 100))
    return env


class GraphProcesses:
    """The robot's nodes (``RobotPlugin.graph_nodes``) as processes, one log file each."""

    def __init__(self, plugin: registry.RobotPlugin, params: pathlib.Path,
                 log_dir: pathlib.Path, use_sim: bool = True, env: Optional[Dict] = None,
                 namespace: str = ''):
        """Remember what to start; nothing runs yet."""
        self.plugin, self.params, self.log_dir = plugin, params, log_dir
        self.namespace = namespace
        self.nodes = plugin.graph_nodes(use_sim)
        self.env = env or ros_environment()
        self.procs: Dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> subprocess.Popen:
        """Start one node by name (again, after a kill)."""
        spec = next(n for n in self.nodes if n.name == name)
        log = open(self.log_dir / f'{name}.log', 'a')
        ns = ['-r', f'__ns:=/{self.namespace.strip("/")}'] if self.namespace else []
        self.procs[name] = subprocess.Popen(
            [executable(spec.package, spec.executable), '--ros-args', '-r',
             f'__node:={spec.name}', *ns, '--params-file', str(self.params)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self.procs[name]

    def start_all(self) -> None:
        """Start every node in the registered order."""
        for spec in self.nodes:
            self.start(spec.name)

    def check_alive(self, except_for=()) -> None:
        """Raise naming the first node that exited (and its log)."""
        for name, proc in self.procs.items():
            if name not in except_for and proc.poll() is not None:
                raise RuntimeError(f'{name} exited with {proc.returncode}; see '
                                   f'{self.log_dir}/{name}.log')

    def stop(self) -> None:
        """SIGINT every node, then SIGKILL what is left after 15 s."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


LEARNER = registry.NodeSpec('rl_agent', 'agent_node', 'rl_learner')


def parse_set(text: str) -> Tuple[str, str, object]:
    """Parse ``NODE:PARAM=VALUE`` (the value as YAML) for ``sim2online run --set``."""
    import argparse
    node, sep, rest = text.partition(':')
    name, eq, value = rest.partition('=')
    if not (sep and eq and node.strip() and name.strip()):
        raise argparse.ArgumentTypeError(
            f'--set {text!r}: expected NODE:PARAM=VALUE, e.g. rl_agent:online.alpha_end=0.5')
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise argparse.ArgumentTypeError(f'--set {text!r}: the value is not YAML: {exc}')
    return node.strip(), name.strip(), parsed


def run_graph(plugin: registry.RobotPlugin, run_dir: pathlib.Path, pretrain_dir: str,
              episodes: int, seed: int, log=print, learner: str = 'between_episodes',
              utd: Optional[float] = None, sets: Sequence = ()) -> List[Dict]:
    """
    Fine-tune through the robot's ROS 2 graph; returns the agent's per-episode history.

    ``learner='separate'``: the graph's agent only acts (``agent.role: actor``) and a second
    agent process (``rl_learner``, the same ``rl_agent`` parameters, ``agent.role:
    learner``) trains while episodes run and publishes the weights; the fine-tuned policy
    is the learner's checkpoint, written when the last episode has ended. ``utd`` replaces
    the parameter file's ``online.utd`` when given.
    """
    checkpoint = str(pathlib.Path(pretrain_dir, 'checkpoint.pt').resolve())
    trial = f'{plugin.robot}_seed{seed}'
    params = graph_params(plugin, {
        '/**': {'task.name': plugin.name, 'task.checkpoint': checkpoint},
        'rl_agent': {'agent.online_checkpoint': str(run_dir / 'agent_online.pt'),
                     'agent.d0_bags': [str(pathlib.Path(pretrain_dir, 'd0_bag').resolve())],
                     'agent.max_episodes': episodes, 'sac.seed': seed, 'online.seed': seed},
        'rl_env': {'env.trial_id': trial},
        'rl_replay': {'replay.bag_root': str(run_dir / 'bags'), 'replay.trial_id': trial},
    }, run_dir / 'params.yaml')
    if utd is not None or sets:
        data = yaml.safe_load(params.read_text())
        if utd is not None:
            set_param(data, 'rl_agent', 'online.utd', float(utd))
        for node, name, value in sets:  # sim2online run --set NODE:PARAM=VALUE
            set_param(data, node, name, value)
        params.write_text(yaml.safe_dump(data))
    graph = GraphProcesses(plugin, params, run_dir)
    history_path = run_dir / 'agent_online_history.json'
    if learner == 'separate':
        data = yaml.safe_load(params.read_text())
        data['/**/rl_learner'] = copy.deepcopy(data['/**/rl_agent'])
        set_param(data, 'rl_agent', 'agent.role', 'actor')
        set_param(data, 'rl_learner', 'agent.role', 'learner')
        params.write_text(yaml.safe_dump(data))
        graph.nodes = [*graph.nodes, LEARNER]
        history_path = run_dir / 'agent_online_actor_history.json'
    try:
        graph.start_all()
        shown = 0
        while graph.procs['rl_agent'].poll() is None:
            graph.check_alive(except_for=('rl_agent',))
            if history_path.is_file():
                rows = json.loads(history_path.read_text())
                for row in rows[shown:]:
                    log(f"  episode {row['episode']:3d}: return {row['return']:7.2f}  "
                        f"success {bool(row['success'])!s:5}  updates "
                        f"{row.get('updates', 0):5d}  end: {row.get('reason', '?')}")
                shown = len(rows)
            time.sleep(1.0)
        if graph.procs['rl_agent'].returncode != 0:
            raise RuntimeError(f'agent failed; see {run_dir}/rl_agent.log')
        if learner == 'separate':  # it stops after the same episodes, then checkpoints
            if graph.procs[LEARNER.name].wait(timeout=120) != 0:
                raise RuntimeError(f'learner failed; see {run_dir}/rl_learner.log')
    finally:
        graph.stop()
    return json.loads(history_path.read_text())


def plot_online(history: List[Dict], evals: Dict[str, Dict], path: pathlib.Path, title: str):
    """Per-episode returns (marked by how each episode ended) and pi0 vs fine-tuned."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    reasons = sorted({h.get('reason', '?').split(':')[0] for h in history})
    markers = 'osD^vP*X'
    for i, reason in enumerate(reasons):
        rows = [h for h in history if h.get('reason', '?').split(':')[0] == reason]
        aborted = not (reason in ('time_limit', '') or reason.startswith('out_of')
                       or reason in ('terminated', 'success'))
        axes[0].plot([h['episode'] for h in rows], [h['return'] for h in rows],
                     markers[i % len(markers)], color='tab:red' if aborted else None,
                     label=reason + (' (aborted)' if aborted else ''))
    axes[0].plot([h['episode'] for h in history], [h['return'] for h in history], '-',
                 color='grey', alpha=0.4)
    axes[0].set_xlabel('online episode')
    axes[0].set_ylabel('return')
    axes[0].legend(title='episode end', fontsize=8)
    axes[0].grid(alpha=0.3)
    names = list(evals)
    axes[1].bar(names, [evals[n]['success_rate'] for n in names], color=['grey', 'tab:green'])
    axes[1].set_ylim(0, 1)
    axes[1].set_ylabel('success on the "real" robot (100 episodes)')
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def end_reasons(history: List[Dict]) -> Dict[str, int]:
    """Return how many episodes ended for each reason code (the text before ':')."""
    counts: Dict[str, int] = {}
    for row in history:
        code = row.get('reason', '?').split(':')[0]
        counts[code] = counts.get(code, 0) + 1
    return counts


def cmd_run(args) -> int:
    """Run the main job for one task."""
    start = time.monotonic()
    plugin = registry.find(args.task)
    pretrain_dir = args.pretrain_dir or f'runs/pretrain_{plugin.robot}'
    ensure_pretrained(plugin, pretrain_dir, args.target_success)
    run_dir = pathlib.Path(args.out_dir or f'runs/sim_to_online_{plugin.robot}') / \
        time.strftime('%Y%m%d-%H%M%S')
    run_dir.mkdir(parents=True)
    print(f"fine-tuning {plugin.name} online through ROS 2 on the '{plugin.real_variant}' "
          f'variant for {args.episodes} episodes; logs in {run_dir}', flush=True)
    history = run_graph(plugin, run_dir, pretrain_dir, args.episodes, args.seed,
                        learner=args.learner, utd=args.utd, sets=args.sets)
    # both on the task the graph ran (the online checkpoint's: e.g. the Panda's 250 steps)
    online = str(run_dir / 'agent_online.pt')
    evals = {'pi0': evaluate_checkpoint(f'{pretrain_dir}/checkpoint.pt', task_checkpoint=online),
             'fine-tuned': evaluate_checkpoint(online)}
    plot_online(history, evals, run_dir / 'online.png',
                f'{plugin.name}: sim-to-online via ROS 2')
    summary = {'task': plugin.name, 'history': history, 'end_reasons': end_reasons(history),
               'eval_on_real': evals, 'real_variant': plugin.real_variant,
               'learner': args.learner, 'seed': args.seed, 'utd': args.utd,
               'set': [f'{n}:{k}={v}' for n, k, v in args.sets],
               'wall_clock_s': round(time.monotonic() - start, 1)}
    (run_dir / 'summary.json').write_text(json.dumps(summary, indent=2))
    print('episode ends: ' + ', '.join(f'{k} {v}' for k, v in summary['end_reasons'].items()))
    for name, row in evals.items():
        print(f"{name:>10}: success {row['success_rate']:.0%}  return "
              f"{row['return_mean']:.1f}  (100 episodes on the '{plugin.real_variant}' "
              'variant)')
    print(f'bags: {run_dir}/bags   plot: {run_dir}/online.png   summary: '
          f"{run_dir}/summary.json   wall-clock {summary['wall_clock_s'] / 60:.1f} min")
    return 0


# ------------------------------------------------------------------------- ablation
def online_trial(pretrain_dir: str, recipe: str, seed: int, episodes: int, utd: float,
                 variant: Optional[str] = None, eval_every: int = 0, log=None,
                 stop_at_success: float = 2.0) -> Dict:
    """
    One online trial of a recipe on one simulated "real" robot (no ROS, same protocol).

    Every ``eval_every`` episodes (0: only at the end) the deterministic policy is evaluated
    on 100 episodes of the same variant; the trial ends early once an evaluation reaches
    ``stop_at_success``. ``log`` receives one line per episode.
    """
    from rl_agent.online import load_offline, OnlineConfig, OnlineLearner
    from rl_agent.sac import SAC
    from rl_core import config_spec
    from rl_experiments.pretrain import act, evaluate
    checkpoint = f'{pretrain_dir}/checkpoint.pt'
    task, plugin = resolve_task(checkpoint=checkpoint)
    variant = variant or plugin.real_variant
    spec = RECIPES[recipe]
    agent = SAC.load(checkpoint, seed=seed, **spec['sac'])
    online_cfg = config_spec.replace(OnlineConfig(), utd=utd, seed=seed, **spec['online'])
    offline = load_offline([f'{pretrain_dir}/d0_bag']) if online_cfg.use_offline_data else None
    learner = OnlineLearner(agent, online_cfg, offline)
    env = plugin.make_simulator(task, 1, variant=variant, seed=seed)
    eval_env = plugin.make_simulator(task, 100, variant=variant, seed=EVAL_SEED)
    curve = []
    obs, _ = env.reset(seed=seed)
    for episode in range(1, episodes + 1):
        done = False
        term_returns: Dict[str, float] = {}
        while not done:
            action = act(agent, obs)
            next_obs, reward, terminated, truncated, info = env.step(action)
            done = bool(info['episode_done'][0])
            state, pixels = split_observation(obs)
            real_next, next_pixels = split_observation(info['final_obs'] if done else next_obs)
            learner.add_transitions(state, action, reward, real_next, terminated, truncated,
                                    **({} if pixels is None else
                                       {'pixels': pixels, 'next_pixels': next_pixels}))
            for name, value in info.get('reward_terms', {}).items():
                term_returns[f'reward/{name}'] = term_returns.get(f'reward/{name}', 0.0) + \
                    float(value[0])
            obs = next_obs
        reason = 'terminated' if bool(terminated[0]) else 'time_limit'
        learner.end_episode(float(info['episode_return'][0]), bool(info['success'][0]),
                            reason=reason, metrics=term_returns)
        phase = learner.train_phase()
        line = (f'{recipe} seed {seed} episode {episode:3d}: return '
                f"{float(info['episode_return'][0]):7.2f} success {bool(info['success'][0])!s:5}"
                f" updates {phase['updates']}")
        stop = False
        if episode == episodes or (eval_every and episode % eval_every == 0):
            eval_env.reset(seed=EVAL_SEED)
            result = evaluate(agent, eval_env)
            curve.append({'episode': episode, **result})
            line += (f"  | eval success {result['success_rate']:.0%} return "
                     f"{result['return_mean']:.1f}")
            stop = result['success_rate'] >= stop_at_success
        if log:
            log(line)
        if stop:
            break
    return {'recipe': recipe, 'seed': seed, 'task': plugin.name, 'variant': variant,
            'history': learner.history, 'final': curve[-1], 'eval_curve': curve}


def cmd_ablation(args) -> int:
    """Run the ablation grid (every arm x seed, resumable, in parallel); print the table."""
    plugin = registry.find(args.task)
    pretrain_dir = args.pretrain_dir or f'runs/pretrain_{plugin.robot}'
    ensure_pretrained(plugin, pretrain_dir, args.target_success)
    variant = args.variant or plugin.real_variant
    pi0 = evaluate_checkpoint(f'{pretrain_dir}/checkpoint.pt', variant=variant)
    out = pathlib.Path(args.out_dir or f'runs/ablation_{plugin.robot}_{variant}')
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    rows = ablation.run_grid(pretrain_dir, args.recipes, seeds, args.episodes, args.utd,
                             variant, args.eval_every, str(out), pi0, jobs=args.jobs)
    (out / 'ablation.json').write_text(json.dumps({'task': plugin.name, 'variant': variant,
                                                   'pi0': pi0, 'rows': rows}, indent=1))
    print(ablation.summary_table(pi0, rows))
    ablation.plot(rows, str(out / 'ablation.png'),
                  f'{plugin.name} on {variant}: mean success and 95 % bootstrap CI', pi0=pi0)
    print(f'written: {out}/trials/*.json, {out}/ablation.json, {out}/ablation.png')
    return 0


def cmd_table(args) -> int:
    """Merge trial files / folders / ablation.json files; print (and write) the table."""
    pi0, rows = ablation.load_rows(args.files)
    if not rows:
        print('no ablation trials found in ' + ' '.join(args.files))
        return 1
    text = ablation.summary_table(pi0, rows)
    print(text)
    if args.markdown:
        pathlib.Path(args.markdown).write_text(text + '\n')
    if args.png:
        ablation.plot(rows, args.png, pi0=pi0)
    return 0
