# Copyright 2026 The sim2online authors
# SPDX-License-Identifier: Apache-2.0
"""
Soft Actor-Critic with the sim-to-online stabilizers (As et al., 'What Matters ...').

- BRO critic ensemble evaluated in one batched pass; targets use the mean over critics
  (BRO's optimistic choice; ``target_reduction='min'`` gives clipped double-Q).
- Asymmetric updates: the actor (and temperature) step once every ``actor_update_period``
  critic steps, with its own learning rate.
- AdamW with weight decay and gradient-norm clipping; Polyak-averaged target critics.
- Running observation normalisation; seeded; device-agnostic; optional CUDA-graph capture
  of the update (data already on the GPU), with eager mode the tested default.
- Optional pixel observations (the paper's Panda): observations are (state, uint8 pixels
  (C, H, W)); a conv encoder (``encoders.ConvEncoder``) maps pixels to features and the
  actor and critics see concat(features, normalised state). The encoder belongs to the
  critic (trained by the critic loss, in the critic optimizer, Polyak-averaged target copy
  used by the target critics); the actor sees its features behind stop-gradient. The
  critic update applies DrQ random shifts to pixels and next pixels (``drq_pad``).

``update`` performs one critic step and never calls ``.item()``/``.cpu()`` so it does not
force a device synchronisation; metrics are returned as tensors for the caller to log.
"""

import copy
import dataclasses
import json
import math
import os
import tempfile
from typing import Any, Dict, Optional, Tuple

from rl_agent.encoders import ConvEncoder, random_shift
from rl_agent.networks import BROCriticEnsemble, MLPCriticEnsemble, TanhGaussianActor
from rl_agent.normalizer import RunningNormalizer
from rl_core import config_spec
from rl_core.config_spec import spec
import torch

CHECKPOINT_FORMAT = 1


@dataclasses.dataclass
class SACConfig:
    """Learner hyperparameters (paper defaults are the race car's online values)."""

    obs_dim: int = spec(45, 'Observation size.', low=1, read_only=True)
    action_dim: int = spec(2, 'Action size; actions live in [-1, 1].', low=1, read_only=True)
    actor_hidden: Tuple[int, ...] = spec((64, 64), 'Actor MLP hidden widths.', low=1,
                                         high=4096, read_only=True)
    critic_type: str = spec('bro', 'Critic architecture.', choices=('bro', 'mlp'),
                            read_only=True)
    critic_width: int = spec(512, 'BRO critic width W.', low=1, high=8192, read_only=True)
    critic_blocks: int = spec(2, 'BRO residual blocks K.', low=0, high=16, read_only=True)
    critic_hidden: Tuple[int, ...] = spec((256, 256), 'MLP critic hidden widths.', low=1,
                                          high=8192, read_only=True)
    num_critics: int = spec(2, 'Critics in the ensemble.', low=1, high=32, read_only=True)
    target_reduction: str = spec('mean', 'How target critics are combined.',
                                 choices=('mean', 'min'))
    gamma: float = spec(0.99, 'Discount factor.', low=0.0, high=1.0)
    tau: float = spec(0.005, 'Polyak rate of the target critics.', low=0.0, high=1.0)
    actor_lr: float = spec(1e-5, 'Actor learning rate.', low=0.0, high=1.0)
    critic_lr: float = spec(3e-4, 'Critic learning rate.', low=0.0, high=1.0)
    alpha_lr: float = spec(3e-4, 'Temperature (log alpha) learning rate.', low=0.0, high=1.0)
    init_temperature: float = spec(1.0, 'Initial entropy temperature alpha.', low=1e-8,
                                   high=1e4)
    actor_init_std: float = spec(1.0, 'Initial policy standard deviation before tanh: '
                                 "log(actor_init_std) is added to the log-std head's bias "
                                 '(1: the default initialisation, near-uniform actions in '
                                 '[-1, 1]; smaller starts closer to the mean action).',
                                 low=1e-3, high=10.0)
    autotune_temperature: bool = spec(True, 'Learn alpha towards the target entropy.')
    target_entropy: float = spec(-1.0, 'Target policy entropy (nats).', low=-1e3, high=1e3)
    weight_decay: float = spec(1e-4, 'AdamW weight decay.', low=0.0, high=1.0)
    grad_clip: float = spec(1.0, 'Gradient-norm clip (0 disables).', low=0.0, high=1e6)
    actor_update_period: int = spec(20, 'Critic updates per actor update (M).', low=1,
                                    high=10000)
    reward_scale: float = spec(1.0, 'Multiplier applied to rewards in the TD target.',
                               low=0.0, high=1e6)
    normalize_obs: bool = spec(True, 'Normalise observations with running statistics.')
    seed: int = spec(0, 'Seed of network initialisation and policy noise.', low=0,
                     high=2 ** 31 - 1)
    cuda_graph: bool = spec(False, 'Capture the update in CUDA graphs (CUDA only).')
    pixel_shape: Tuple[int, ...] = spec((), 'Pixel observation shape (C, H, W) of uint8 '
                                        'images; empty = state only.', low=1, high=65536,
                                        read_only=True)
    encoder: str = spec('none', "Pixel encoder (conv: the paper's conv 3x3 stride-2 stack).",
                        choices=('none', 'conv'), read_only=True)
    encoder_channels: Tuple[int, ...] = spec((32, 64, 128, 256), 'Conv encoder channels, one '
                                             'conv 3x3 / stride 2 layer each.', low=1,
                                             high=4096, read_only=True)
    encoder_feature_dim: int = spec(128, 'Conv encoder output features (Dense-LN-tanh).',
                                    low=1, high=65536, read_only=True)
    drq_pad: int = spec(4, 'DrQ random-shift padding in pixels for the critic update '
                        '(0 disables).', low=0, high=1024)
    freeze_encoder: bool = spec(False, 'Hold the pixel encoder fixed: the critic loss '
                                'trains the critic heads only (online, this keeps the '
                                "features pretraining learned; the actor's inputs then "
                                'change only with the observation statistics).')

    def __post_init__(self):
        """Validate every field against its declared range and the pixel fields together."""
        config_spec.validate(self)
        shape = tuple(self.pixel_shape)
        if len(shape) not in (0, 3):
            raise ValueError(f'SACConfig.pixel_shape={shape} is not allowed: must be () '
                             '(no pixels) or (C, H, W)')
        if shape and self.encoder == 'none':
            raise ValueError(f"SACConfig.pixel_shape={shape} needs encoder='conv' "
                             "(encoder='none' takes no pixels)")
        if self.encoder != 'none' and not shape:
            raise ValueError(f'SACConfig.encoder={self.encoder!r} needs pixel_shape (C, H, W); '
                             'got ()')
        if shape and not self.encoder_channels:
            raise ValueError('SACConfig.encoder_channels=() is not allowed with pixels: the '
                             'conv encoder needs at least one layer')
        if shape and self.cuda_graph:
            raise ValueError(f'SACConfig.cuda_graph=True is not supported with pixels '
                             f'(pixel_shape={shape}): CUDA-graph mode is state-only; use '
                             'eager mode')

    @property
    def has_pixels(self) -> bool:
        """Return whether observations include uint8 pixels."""
        return bool(self.pixel_shape)


def save_atomic(obj: Dict[str, Any], path: str, write=torch.save, suffix='.pt') -> None:
    """
    Write ``obj`` to a temporary file in the same folder, fsync, then rename over path.

    A reader (or a process killed mid-write) sees the old file or the new one, never a
    part. ``write(obj, binary_file)`` does the writing: ``torch.save`` by default.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp_', suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            write(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_json_atomic(obj: Any, path: str) -> None:
    """Write ``obj`` as indented JSON with ``save_atomic`` (whole file or the old one)."""
    save_atomic(obj, path, write=lambda o, f: f.write(json.dumps(o, indent=1).encode()),
                suffix='.json')


class SAC:
    """Soft Actor-Critic agent: ``act``, ``observe`` and ``update`` (one critic step)."""

    def __init__(self, config: SACConfig, device: str = 'cpu'):
        """Build networks and optimizers on ``device`` from a validated config."""
        self.config = config_spec.validate(config)
        self.device = torch.device(device)
        if config.cuda_graph and self.device.type != 'cuda':
            raise ValueError('cuda_graph=True needs a CUDA device; got ' + str(self.device))
        self.generator = torch.Generator(self.device)
        self.generator.manual_seed(config.seed)
        # What the actor and critics see: concat(encoder features, state) with pixels.
        latent = config.obs_dim + (config.encoder_feature_dim if config.has_pixels else 0)
        self.latent_dim = latent
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.actor = TanhGaussianActor(latent, config.action_dim, config.actor_hidden)
            if config.actor_init_std != 1.0:  # 1.0 keeps the default init bit for bit
                with torch.no_grad():
                    self.actor.log_std.bias.add_(math.log(config.actor_init_std))
            if config.critic_type == 'bro':
                make = lambda: BROCriticEnsemble(  # noqa: E731
                    latent, config.action_dim, config.critic_width,
                    config.critic_blocks, config.num_critics)
            else:
                make = lambda: MLPCriticEnsemble(  # noqa: E731
                    latent, config.action_dim, config.critic_hidden,
                    config.num_critics)
            self.critic = make()
            self.critic_target = make()
            # Built last, so the state-only networks' initialisation is unchanged.
            self.encoder: Optional[ConvEncoder] = None
            self.encoder_target: Optional[ConvEncoder] = None
            if config.has_pixels:
                self.encoder = ConvEncoder(config.pixel_shape, config.encoder_channels,
                                           config.encoder_feature_dim).to(self.device)
                self.encoder_target = copy.deepcopy(self.encoder).requires_grad_(False)
        self.actor.to(self.device)
        self.critic.to(self.device)
        self.critic_target.to(self.device)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)
        self.normalizer = RunningNormalizer(config.obs_dim).to(self.device)
        self.log_alpha = torch.tensor(math.log(config.init_temperature), device=self.device,
                                      requires_grad=True)
        capturable = {'capturable': True} if config.cuda_graph else {}
        foreach = {'fused': True}
        self.actor_opt = torch.optim.AdamW(self.actor.parameters(), lr=config.actor_lr,
                                           weight_decay=config.weight_decay,
                                           **capturable, **foreach)
        # The encoder is part of the critic: trained by the critic loss, in its optimizer.
        self._critic_params = list(self.critic.parameters())
        self._target_params = list(self.critic_target.parameters())
        if self.encoder is not None:
            self._critic_params += list(self.encoder.parameters())
            self._target_params += list(self.encoder_target.parameters())
        self.critic_opt = torch.optim.AdamW(self._critic_params, lr=config.critic_lr,
                                            weight_decay=config.weight_decay,
                                            **capturable, **foreach)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=config.alpha_lr, **capturable)
        self._apply_encoder_freeze()
        # Parameter views without autograd history: the actor loss differentiates through
        # the critic's inputs only, so no critic weight gradients are computed and wasted.
        self._critic_frozen = {k: v.detach() for k, v in self.critic.named_parameters()}
        self.critic_updates = 0
        self.actor_updates = 0
        self._graphs = None

    # ----------------------------------------------------------------------------- acting
    @torch.no_grad()
    def observe(self, obs: torch.Tensor) -> None:
        """Update running observation statistics with raw observations (N, obs_dim)."""
        if self.config.normalize_obs:
            self.normalizer.update(torch.as_tensor(obs, device=self.device))

    def normalize(self, obs: torch.Tensor) -> torch.Tensor:
        """Return normalised observations (identity when normalisation is off)."""
        return self.normalizer(obs) if self.config.normalize_obs else obs

    @torch.no_grad()
    def act(self, obs, deterministic: bool = False, pixels=None) -> torch.Tensor:
        """
        Return actions in [-1, 1] for raw observations (N, obs_dim) or (obs_dim,).

        With ``pixel_shape`` in the config, ``pixels`` are required: uint8 (C, H, W) with a
        single observation, (N, C, H, W) with a batch (tensor or numpy array).
        """
        obs = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        single = obs.dim() == 1
        obs = self.normalize(obs.unsqueeze(0) if single else obs)
        if self.encoder is not None:
            pixels = self._check_pixels('pixels', pixels, obs.shape[0], allow_single=single)
            obs = torch.cat([self.encoder(pixels), obs], dim=-1)
        elif pixels is not None:
            raise ValueError(f'pixels of shape {tuple(torch.as_tensor(pixels).shape)} were '
                             'given, but this agent takes no pixels (pixel_shape=(), expected '
                             'None)')
        if deterministic:
            action = self.actor.deterministic(obs)
        else:
            action = self.actor.sample(obs, self._noise_generator())[0]
        return action[0] if single else action

    def _check_pixels(self, name: str, pixels, n: int, allow_single: bool = False
                      ) -> torch.Tensor:
        """Return ``pixels`` as a uint8 (n, C, H, W) tensor on the device, or raise."""
        shape = tuple(self.config.pixel_shape)
        expected = (n, *shape)
        wanted = f'uint8 {shape}' if allow_single else ''
        wanted = (wanted + ' or ' if wanted else '') + f'uint8 {expected}'
        if pixels is None:
            raise ValueError(f'{name} missing: this agent has pixel_shape={shape} and expects '
                             f'{wanted}')
        if not torch.is_tensor(pixels):
            pixels = torch.as_tensor(pixels)
        if allow_single and tuple(pixels.shape) == shape:
            pixels = pixels.unsqueeze(0)
        if tuple(pixels.shape) != expected or pixels.dtype != torch.uint8:
            raise ValueError(f'{name} have shape {tuple(pixels.shape)} and dtype {pixels.dtype}; '
                             f'expected {wanted}')
        return pixels.to(self.device)

    def _latent(self, obs: torch.Tensor, pixels: Optional[torch.Tensor],
                encoder: Optional[ConvEncoder] = None) -> torch.Tensor:
        """Return concat(encoder(pixels), obs) with pixels; the normalised obs otherwise."""
        if self.encoder is None:
            return obs
        return torch.cat([(encoder or self.encoder)(pixels), obs], dim=-1)

    def _noise_generator(self) -> Optional[torch.Generator]:
        # CUDA graphs record the default generator's Philox offsets; a private generator
        # would need registering with every graph, so graph mode uses the default one.
        return None if self.config.cuda_graph else self.generator

    # ---------------------------------------------------------------------------- learning
    @property
    def alpha(self) -> torch.Tensor:
        """Return the entropy temperature as a tensor (no host sync)."""
        return self.log_alpha.detach().exp()

    def _critic_step(self, obs, action, reward, next_obs, terminated, pixels=None,
                     next_pixels=None) -> Dict[str, torch.Tensor]:
        cfg = self.config
        gen = self._noise_generator()
        obs, next_obs = self.normalize(obs), self.normalize(next_obs)
        if self.encoder is not None:  # DrQ: independent random shifts of both images
            pixels = random_shift(pixels, cfg.drq_pad, gen)
            next_pixels = random_shift(next_pixels, cfg.drq_pad, gen)
        with torch.no_grad():
            # The next action comes from the online encoder's features (as the actor acts);
            # the target critics see the target encoder's (no-op without pixels).
            next_action, next_log_prob = self.actor.sample(self._latent(next_obs, next_pixels),
                                                           gen)
            next_q = self.critic_target(
                self._latent(next_obs, next_pixels, self.encoder_target), next_action)
            next_q = next_q.mean(0) if cfg.target_reduction == 'mean' else next_q.min(0)[0]
            soft_v = next_q - self.alpha * next_log_prob
            target = cfg.reward_scale * reward + cfg.gamma * (1.0 - terminated) * soft_v
        q = self.critic(self._latent(obs, pixels), action)
        critic_loss = 0.5 * (q - target).pow(2).mean(1).sum()
        self.critic_opt.zero_grad(set_to_none=not cfg.cuda_graph)
        critic_loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self._critic_params, cfg.grad_clip, foreach=True)
        self.critic_opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(self._target_params, self._critic_params, cfg.tau)
        return {'critic_loss': critic_loss.detach(), 'q_mean': q.detach().mean()}

    def _actor_step(self, obs, pixels=None) -> Dict[str, torch.Tensor]:
        cfg = self.config
        obs = self.normalize(obs)
        if self.encoder is not None:
            with torch.no_grad():  # stop-gradient: only the critic loss trains the encoder
                obs = self._latent(obs, pixels)
        action, log_prob = self.actor.sample(obs, self._noise_generator())
        q = torch.func.functional_call(self.critic, self._critic_frozen, (obs, action))
        q = q.mean(0) if cfg.target_reduction == 'mean' else q.min(0)[0]
        actor_loss = (self.alpha * log_prob - q).mean()
        self.actor_opt.zero_grad(set_to_none=not cfg.cuda_graph)
        actor_loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.actor.parameters(), cfg.grad_clip,
                                           foreach=True)
        self.actor_opt.step()
        entropy = -log_prob.detach().mean()
        if cfg.autotune_temperature:
            alpha_loss = self.log_alpha * (entropy - cfg.target_entropy)
            self.alpha_opt.zero_grad(set_to_none=not cfg.cuda_graph)
            alpha_loss.backward()
            self.alpha_opt.step()
        return {'actor_loss': actor_loss.detach(), 'entropy': entropy, 'alpha': self.alpha}

    def update(self, batch) -> Dict[str, torch.Tensor]:
        """
        One critic update on ``batch``; the actor also steps every M-th call.

        ``batch`` has fields obs, action, reward, next_obs, terminated (tensors on the
        agent's device, raw observations). Truncation is not a terminal: it bootstraps.
        With pixels in the config it also needs uint8 ``pixels`` and ``next_pixels``
        (B, C, H, W); a state-only agent ignores pixels a batch may carry.
        In CUDA-graph mode the returned tensors are static and valid until the next call.
        """
        fields = (batch.obs, batch.action, batch.reward, batch.next_obs, batch.terminated)
        actor_due = (self.critic_updates + 1) % self.config.actor_update_period == 0
        if self.config.cuda_graph:
            metrics = self._graph_update(fields, actor_due)
        elif self.encoder is not None:
            n = batch.obs.shape[0]
            pixels = self._check_pixels('batch.pixels', getattr(batch, 'pixels', None), n)
            next_pixels = self._check_pixels('batch.next_pixels',
                                             getattr(batch, 'next_pixels', None), n)
            metrics = self._critic_step(*fields, pixels, next_pixels)
            if actor_due:
                metrics.update(self._actor_step(fields[0], pixels))
        else:
            metrics = self._critic_step(*fields)
            if actor_due:
                metrics.update(self._actor_step(fields[0]))
        self.critic_updates += 1
        self.actor_updates += int(actor_due)
        return metrics

    # ------------------------------------------------------------------------- CUDA graphs
    def _graph_update(self, fields, actor_due: bool) -> Dict[str, torch.Tensor]:
        if self._graphs is None or self._graphs['batch'][0].shape[0] != fields[0].shape[0]:
            self._capture(fields)
        g = self._graphs
        for static, value in zip(g['batch'], fields):
            static.copy_(value, non_blocking=True)
        g['critic'].replay()
        if actor_due:
            g['actor'].replay()
            return {**g['critic_out'], **g['actor_out']}
        return g['critic_out']

    def _capture(self, fields) -> None:
        """
        Capture the critic step and the actor step as two CUDA graphs.

        Warm-up iterations (needed before capture) really step the networks, so the full
        training state is snapshotted first and restored before capture: capturing never
        changes what the agent has learned.
        """
        snapshot = copy.deepcopy(self.state_dict())
        batch = [f.detach().clone() for f in fields]
        stream = torch.cuda.Stream(self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(stream):
            for _ in range(3):
                self._critic_step(*batch)
                self._actor_step(batch[0])
        torch.cuda.current_stream(self.device).wait_stream(stream)
        self.load_state_dict(snapshot, restore_graphs=False)
        critic_graph, actor_graph = torch.cuda.CUDAGraph(), torch.cuda.CUDAGraph()
        with torch.cuda.graph(critic_graph):
            critic_out = self._critic_step(*batch)
        with torch.cuda.graph(actor_graph):
            actor_out = self._actor_step(batch[0])
        self._graphs = {'batch': batch, 'critic': critic_graph, 'actor': actor_graph,
                        'critic_out': critic_out, 'actor_out': actor_out}

    # ------------------------------------------------------------------- live changes
    def set_hyperparameters(self, **changes) -> None:
        """Change non-structural hyperparameters (learning rates, M, gamma, ...) live."""
        structural = [k for k in changes
                      if SACConfig.__dataclass_fields__[k].metadata.get('read_only')]
        if structural:
            raise ValueError(f'{structural} change the network shapes; build a new agent')
        self.config = config_spec.replace(self.config, **changes)
        for opt, lr in ((self.actor_opt, self.config.actor_lr),
                        (self.critic_opt, self.config.critic_lr),
                        (self.alpha_opt, self.config.alpha_lr)):
            for group in opt.param_groups:
                group['lr'] = lr
                if 'weight_decay' in group and opt is not self.alpha_opt:
                    group['weight_decay'] = self.config.weight_decay
        self._apply_encoder_freeze()
        self._graphs = None  # Graphs bake hyperparameters in: recapture on next update.

    def _apply_encoder_freeze(self) -> None:
        """
        Stop (or restart) gradients into the encoder as ``freeze_encoder`` says.

        A frozen encoder gets no gradient (the critic step's ``zero_grad(set_to_none=True)``
        clears what an earlier step left), so AdamW skips it (no step, no weight decay) and
        the backward pass stops at the features; its target copy, still averaged towards
        it, converges to it. Its optimizer moments are kept for when it thaws.
        """
        if self.encoder is not None:
            self.encoder.requires_grad_(not self.config.freeze_encoder)

    # ---------------------------------------------------------------- checkpoints
    def state_dict(self) -> Dict[str, Any]:
        """Everything needed to resume exactly; only tensors and plain Python values."""
        state = {
            'format': CHECKPOINT_FORMAT,
            'config': json.dumps(config_spec.to_dict(self.config)),
            'actor': self.actor.state_dict(),
            'critic': self.critic.state_dict(),
            'critic_target': self.critic_target.state_dict(),
            'normalizer': self.normalizer.state_dict(),
            'log_alpha': self.log_alpha.detach().clone(),
            'actor_opt': self.actor_opt.state_dict(),
            'critic_opt': self.critic_opt.state_dict(),
            'alpha_opt': self.alpha_opt.state_dict(),
            'critic_updates': self.critic_updates,
            'actor_updates': self.actor_updates,
            'generator': self.generator.get_state(),
        }
        if self.encoder is not None:
            state['encoder'] = self.encoder.state_dict()
            state['encoder_target'] = self.encoder_target.state_dict()
        return state

    def load_state_dict(self, state: Dict[str, Any], restore_graphs: bool = True) -> None:
        """Restore a state produced by ``state_dict`` (same network shapes)."""
        if state.get('format') != CHECKPOINT_FORMAT:
            raise ValueError(f"checkpoint format {state.get('format')!r} is not supported "
                             f'(expected {CHECKPOINT_FORMAT})')
        if self.encoder is not None and 'encoder' not in state:
            raise ValueError(f'checkpoint has no pixel encoder, but this agent takes pixels '
                             f'(pixel_shape={tuple(self.config.pixel_shape)})')
        self.actor.load_state_dict(state['actor'])
        self.critic.load_state_dict(state['critic'])
        if self.encoder is not None:
            self.encoder.load_state_dict(state['encoder'])
            self.encoder_target.load_state_dict(state['encoder_target'])
        self.critic_target.load_state_dict(state['critic_target'])
        self.normalizer.load_state_dict(state['normalizer'])
        with torch.no_grad():
            self.log_alpha.copy_(state['log_alpha'])
        for opt, key in ((self.actor_opt, 'actor_opt'), (self.critic_opt, 'critic_opt'),
                         (self.alpha_opt, 'alpha_opt')):
            # A checkpoint from an eager run may be resumed with CUDA graphs (and back):
            # keep this agent's execution flags, take only the optimizer's learned state.
            flags = [{k: g[k] for k in ('capturable', 'fused', 'foreach') if k in g}
                     for g in opt.param_groups]
            opt.load_state_dict(state[key])
            for group, kept in zip(opt.param_groups, flags):
                group.update(kept)
            if self.config.cuda_graph:
                for per_param in opt.state.values():
                    if 'step' in per_param:
                        per_param['step'] = per_param['step'].to(self.device, torch.float32)
        self.critic_updates = int(state['critic_updates'])
        self.actor_updates = int(state['actor_updates'])
        self.generator.set_state(state['generator'].cpu())
        if restore_graphs:
            self._graphs = None

    def _policy_modules(self):
        return [(name, module) for name, module in (
            ('actor', self.actor), ('encoder', self.encoder), ('normalizer', self.normalizer))
            if module is not None]

    def policy_tensors(self) -> Dict[str, torch.Tensor]:
        """
        Copy what the acting path reads (actor, pixel encoder, observation normaliser).

        Named ``<module>.<state_dict key>``, detached CPU copies: what a learner process
        sends to its actors (``load_policy_tensors``).
        """
        return {f'{prefix}.{key}': value.detach().to('cpu', copy=True)
                for prefix, module in self._policy_modules()
                for key, value in module.state_dict().items()}

    @torch.no_grad()
    def load_policy_tensors(self, tensors: Dict[str, torch.Tensor]) -> None:
        """
        Replace the acting path's tensors in place (CUDA graphs stay valid).

        Refuses, naming the difference and changing nothing, a set whose names or shapes
        differ from this agent's or that holds NaN/inf.
        """
        mine = {f'{prefix}.{key}': value for prefix, module in self._policy_modules()
                for key, value in module.state_dict().items()}
        missing, extra = sorted(set(mine) - set(tensors)), sorted(set(tensors) - set(mine))
        if missing or extra:
            raise ValueError(f'policy tensors do not match this agent: missing {missing[:5]}'
                             f'{" ..." if len(missing) > 5 else ""}, unexpected {extra[:5]}'
                             f'{" ..." if len(extra) > 5 else ""}')
        for name, value in tensors.items():
            if tuple(value.shape) != tuple(mine[name].shape):
                raise ValueError(f'policy tensor {name} has shape {tuple(value.shape)}; this '
                                 f'agent has {tuple(mine[name].shape)}')
            if not bool(torch.isfinite(value).all()):
                raise ValueError(f'policy tensor {name} holds NaN/inf')
        for name, value in tensors.items():
            mine[name].copy_(value.to(mine[name].device, mine[name].dtype))

    def save(self, path: str, extra: Optional[Dict[str, Any]] = None) -> None:
        """Write an atomic checkpoint; ``extra`` holds plain data (e.g. env config)."""
        state = self.state_dict()
        state['extra'] = json.dumps(extra or {})
        save_atomic(state, path)

    @staticmethod
    def read_checkpoint(path: str, device: str = 'cpu') -> Dict[str, Any]:
        """Load a checkpoint dict without unpickling arbitrary objects."""
        if not os.path.isfile(path):
            raise FileNotFoundError(f'checkpoint {path} does not exist')
        try:
            return torch.load(path, map_location=device, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - re-raised with the file named
            raise ValueError(f'checkpoint {path} is unreadable or not a SAC checkpoint: '
                             f'{exc}') from exc

    @classmethod
    def load(cls, path: str, device: str = 'cpu', **overrides) -> 'SAC':
        """Build an agent from a checkpoint; ``overrides`` change non-structural fields."""
        state = cls.read_checkpoint(path, device)
        config = config_spec.from_dict(SACConfig, json.loads(state['config']))
        if overrides:
            config = config_spec.replace(config, **overrides)
        agent = cls(config, device)
        agent.load_state_dict(state)
        if 'seed' in overrides:  # a new seed means new policy noise, not the saved stream
            agent.generator.manual_seed(config.seed)
        if overrides:
            agent.set_hyperparameters()
        return agent

    @staticmethod
    def checkpoint_extra(path: str) -> Dict[str, Any]:
        """Return the plain-data ``extra`` dict stored with a checkpoint."""
        return json.loads(SAC.read_checkpoint(path).get('extra', '{}'))
