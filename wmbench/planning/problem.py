"""A batch of planning problems: world model, start and goal latents, horizon, action bounds and objective."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from wmbench.planning.objective import Objective


class PlanProblem:
    """B planning problems sharing a world model; the planner's only access to the model.

    ``model`` is any object with ``rollout(z0 [N, D], actions [N, H, A]) -> z [N, H + 1, D]`` and optionally
    ``goal_weights [D]`` (per-latent-dim weights of the objective). Costs are
    batched: candidates ``[B, K, H, A]`` are flattened to ``B * K`` rollouts (in chunks of at most ``chunk``
    rollouts when set, to bound memory). Actions are clipped to ``[low, high]`` before the rollout, as the
    env clips them, so a cost is always the cost of the plan that would be executed (the clip passes
    gradients inside the bounds, boundary included).

    The problem owns the accounting: ``forward_evals`` / ``backward_evals`` count rollouts per episode (K per
    call) and ``evaluations`` is their sum, the unit of ``Budget(evaluations=...)``. They, the bounds and the
    model are read-only to planners: the counts live in a closure (`tally`), no attribute can be set
    or deleted once the problem is built (``AttributeError``), ``low``, ``high``, ``start``, ``goal`` and
    ``warm_start`` return copies, and the model is meant to be reached only through `cost` and
    `cost_and_grad` (the harness verifies its weights after every unit).
    """

    def __init__(self, model: Any, start: torch.Tensor, goal: torch.Tensor, horizon: int, low: Any, high: Any,
                 objective: Objective | None = None, warm_start: torch.Tensor | None = None,
                 chunk: int | None = None):
        if not callable(getattr(model, "rollout", None)):
            raise TypeError(f"PlanProblem model must have rollout(z0, actions); got {type(model).__name__}")
        start, goal = torch.as_tensor(start), torch.as_tensor(goal)
        if start.ndim != 2 or goal.shape != start.shape:
            raise ValueError(f"PlanProblem start and goal must both be [B, D], got {tuple(start.shape)} and "
                             f"{tuple(goal.shape)}")
        if int(horizon) != horizon or horizon < 1:
            raise ValueError(f"PlanProblem horizon must be an integer >= 1, got {horizon!r}")
        low = torch.as_tensor(low).to(start.device, start.dtype)
        high = torch.as_tensor(high).to(start.device, start.dtype)
        if low.ndim != 1 or high.shape != low.shape or not bool((low < high).all()):
            raise ValueError(f"PlanProblem low and high must be [A] with low < high, got {low} and {high}")
        if chunk is not None and chunk < 1:
            raise ValueError(f"PlanProblem chunk must be >= 1 or None, got {chunk!r}")
        self._model = model
        self._start, self._goal = start.clone(), goal.to(start.device, start.dtype).clone()
        self.horizon = int(horizon)
        self._low, self._high = low.clone(), high.clone()
        self.objective = objective if objective is not None else Objective()
        self.chunk = chunk
        self._tally = tally()
        self._repeated: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # K -> (starts, goals) [B * K, D]
        self._warm_start = None
        if warm_start is not None:
            warm_start = torch.as_tensor(warm_start).to(start.device, start.dtype)
            if warm_start.shape != self.plan_shape:
                raise ValueError(f"PlanProblem warm_start must be [B, H, A] = {list(self.plan_shape)}, got "
                                 f"{list(warm_start.shape)}")
            self._warm_start = warm_start.clone()
        self._sealed = True

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_sealed", False):
            raise AttributeError(f"PlanProblem is read-only once built: cannot set {name!r} (its accounting, "
                                 "bounds and model belong to the planning loop)")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"PlanProblem is read-only once built: cannot delete {name!r}")

    @property
    def forward_evals(self) -> int:
        """Forward rollouts per episode so far."""
        return self._tally()[0]

    @property
    def backward_evals(self) -> int:
        """Backward passes per episode so far."""
        return self._tally()[1]

    @property
    def evaluations(self) -> int:
        """Model evaluations per episode so far: forward rollouts + backward passes."""
        return sum(self._tally())

    @property
    def low(self) -> torch.Tensor:
        """Lower action bounds ``[A]`` (a copy)."""
        return self._low.clone()

    @property
    def high(self) -> torch.Tensor:
        """Upper action bounds ``[A]`` (a copy)."""
        return self._high.clone()

    @property
    def start(self) -> torch.Tensor:
        """Start latents ``[B, D]`` (a copy)."""
        return self._start.clone()

    @property
    def goal(self) -> torch.Tensor:
        """Goal latents ``[B, D]`` (a copy)."""
        return self._goal.clone()

    @property
    def warm_start(self) -> torch.Tensor | None:
        """The warm-start plan ``[B, H, A]`` (a copy), or None."""
        return None if self._warm_start is None else self._warm_start.clone()

    @property
    def batch_size(self) -> int:
        return self._start.shape[0]

    @property
    def action_dim(self) -> int:
        return self._low.shape[0]

    @property
    def plan_shape(self) -> torch.Size:
        """``[B, H, A]``."""
        return torch.Size((self.batch_size, self.horizon, self.action_dim))

    @property
    def device(self) -> torch.device:
        return self._start.device

    @property
    def dtype(self) -> torch.dtype:
        return self._start.dtype

    def clip(self, actions: torch.Tensor) -> torch.Tensor:
        """Clamp actions (any shape ending in A) to ``[low, high]``."""
        return torch.clamp(actions, self._low, self._high)

    def initial_plan(self) -> torch.Tensor:
        """The warm start clipped to the bounds, else zero actions clipped to the bounds: ``[B, H, A]``."""
        if self._warm_start is not None:
            return self.clip(self._warm_start)
        return self.clip(torch.zeros(self.plan_shape, device=self.device, dtype=self.dtype))

    def cost(self, actions: torch.Tensor) -> torch.Tensor:
        """Costs ``[B, K]`` of candidate plans ``[B, K, H, A]``, without gradients."""
        k = self._check(actions)
        with torch.no_grad():
            costs = _cat([self._rollout_cost(a, s, g) for a, s, g in self._chunks(actions)])
        self._tally(k, 0)
        return costs.view(self.batch_size, k)

    def cost_and_grad(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Costs ``[B, K]`` and d(sum of costs)/d(actions) ``[B, K, H, A]`` of candidates ``[B, K, H, A]``."""
        k = self._check(actions)
        costs, grads = [], []
        for a, s, g in self._chunks(actions.detach()):
            clipped = self.clip(a).requires_grad_(True)
            with torch.enable_grad():
                z = self._model.rollout(s, clipped)
                if not z.requires_grad:
                    raise TypeError(f"{type(self._model).__name__}.rollout is not differentiable; use a "
                                    "gradient-free planner (e.g. CEM) with this model")
                weights = getattr(self._model, "goal_weights", None)
                c, dz = self.objective.cost_and_grad(z.detach(), g, weights)
                grad = torch.autograd.grad(z, clipped, dz)[0]
            grads.append(self._through_clip(a, clipped, grad))
            costs.append(c)
        self._tally(k, k)
        return _cat(costs).view(self.batch_size, k), _cat(grads).view(actions.shape)

    def _through_clip(self, actions: torch.Tensor, clipped: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        """The gradient w.r.t. the clipped actions taken back through the clip: it passes inside the bounds,
        boundary included (as ``torch.clamp``'s), and is 0 outside them (and at NaN actions)."""
        if torch.equal(actions, clipped):
            return grad
        return torch.where((actions >= self._low) & (actions <= self._high), grad, 0.0)

    def _check(self, actions: torch.Tensor) -> int:
        b, h, a = self.plan_shape
        if actions.ndim != 4 or actions.shape[0] != b or actions.shape[2:] != (h, a):
            raise ValueError(f"PlanProblem expects candidate actions [B, K, H, A] = [{b}, K, {h}, {a}], got "
                             f"{list(actions.shape)}")
        return actions.shape[1]

    def _chunks(self, actions: torch.Tensor):
        """Yield (actions [n, H, A], start [n, D], goal [n, D]) pieces of the flattened B * K candidates."""
        b, k = actions.shape[:2]
        flat = actions.reshape(b * k, self.horizon, self.action_dim)
        starts, goals = self._repeat(k)
        size = self.chunk or b * k
        if size >= b * k:
            yield flat, starts, goals
            return
        for i in range(0, b * k, size):
            yield flat[i:i + size], starts[i:i + size], goals[i:i + size]

    def _repeat(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Start and goal latents repeated K times per episode, ``[B * K, D]`` each (built once per K)."""
        if k == 1:
            return self._start, self._goal
        if k not in self._repeated:
            self._repeated.clear()  # keep one K: planners evaluate a fixed population or two
            self._repeated[k] = self._start.repeat_interleave(k, 0), self._goal.repeat_interleave(k, 0)
        return self._repeated[k]

    def _rollout_cost(self, actions: torch.Tensor, start: torch.Tensor, goal: torch.Tensor) -> torch.Tensor:
        return self.objective.cost(self._model.rollout(start, self.clip(actions)), goal,
                                   getattr(self._model, "goal_weights", None))


def _cat(pieces: list[torch.Tensor]) -> torch.Tensor:
    """``torch.cat`` without the copy of a single piece."""
    return pieces[0] if len(pieces) == 1 else torch.cat(pieces)


def tally() -> Callable[..., tuple[int, int]]:
    """A counter of (forward, backward) evaluations held in a closure, not in attributes:
    ``add(forward=0, backward=0)`` adds non-negative counts and returns the totals."""
    forward = backward = 0

    def add(more_forward: int = 0, more_backward: int = 0) -> tuple[int, int]:
        nonlocal forward, backward
        if more_forward < 0 or more_backward < 0:
            raise ValueError(f"evaluation counts only grow; got {more_forward}, {more_backward}")
        forward, backward = forward + int(more_forward), backward + int(more_backward)
        return forward, backward

    return add
