"""The metrics and the rendered-cost model of benchmarks/patch_resolution.py on cases with known answers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from wmbench.models.patch_model import PatchWorldModel
from wmbench.models.simulator import SimulatorModel
from wmbench.planning import Objective
from wmbench_envs.pusht import wrap_angle

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "patch_resolution.py"


@pytest.fixture(scope="module")
def pr():
    spec = importlib.util.spec_from_file_location("patch_resolution", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["patch_resolution"] = module
    spec.loader.exec_module(module)
    return module


def test_auc_known_answers(pr):
    positive = np.array([True, True, False, False, False])
    assert pr.auc(np.array([0.1, 0.2, 0.3, 0.4, 0.5]), positive) == 1.0  # positives cheapest: perfect
    assert pr.auc(np.array([0.5, 0.4, 0.3, 0.2, 0.1]), positive) == 0.0  # reversed
    assert pr.auc(np.ones(5), positive) == 0.5  # all tied
    assert pr.auc(np.array([0.1, 0.35, 0.3, 0.4, 0.5]), positive) == pytest.approx(5 / 6)  # one of 6 pairs
    assert np.isnan(pr.auc(np.ones(3), np.ones(3, dtype=bool)))
    rng = np.random.default_rng(0)
    labels = rng.random(4000) < 0.3
    independent = pr.auc(rng.random(4000), labels)
    low, high = pr.auc_interval(independent, int(labels.sum()), int((~labels).sum()))
    assert abs(independent - 0.5) < 0.04 and low < 0.5 < high
    low, high = pr.auc_interval(0.9, 50, 50)
    assert 0.8 < low < 0.9 < high < 0.97


def test_spearman(pr):
    x = np.arange(10.0)
    assert pr.spearman(x, x ** 3) == pytest.approx(1.0)
    assert pr.spearman(x, -x) == pytest.approx(-1.0)
    assert np.isnan(pr.spearman(x, np.ones(10)))


def test_perturb_families_and_state_cost_ranks_perfectly(pr):
    goals = np.array([[100.0, 100.0, 250.0, 250.0, 1.0, 0, 0], [400.0, 300.0, 200.0, 150.0, 6.0, 0, 0]])
    probe = pr.perturb(goals, 20, np.random.default_rng(0))
    again = pr.perturb(goals, 20, np.random.default_rng(0))
    np.testing.assert_array_equal(probe["state"], again["state"])  # seeded
    states, family, g = probe["state"], probe["family"], goals[probe["goal"]]
    assert states.shape == (2 * 4 * 20, 7) and np.bincount(family).tolist() == [40] * 4
    rot, shift = family == 0, family == 1
    np.testing.assert_array_equal(states[rot, :4], g[rot, :4])  # rotated in place
    assert (wrap_angle(states[rot, 4] - g[rot, 4]) <= np.deg2rad(90) + 1e-9).all()
    np.testing.assert_allclose(wrap_angle(states[shift, 4] - g[shift, 4]), 0, atol=1e-9)
    assert (np.linalg.norm(states[shift, 2:4] - g[shift, 2:4], axis=1) <= 60 + 1e-9).all()
    # Angle error alone (rot) and block distance alone (shift): the state cost is monotone in each.
    sim = SimulatorModel("pusht", workers=1)
    cost = pr.planner_cost(sim.encode(torch.as_tensor(states)), sim.encode(torch.as_tensor(g)),
                           sim.goal_weights)
    metrics = pr.probe_metrics(cost, states, g, family)
    assert metrics["rho_angle"] == pytest.approx(1.0) and metrics["rho_position"] == pytest.approx(1.0)
    assert metrics["auc_n_pass"] > 0 and metrics["auc_n_fail"] > 0 and metrics["auc"] > 0.9
    # A cost that ignores the pose cannot separate success from failure.
    flat = pr.probe_metrics(np.ones(len(states)), states, g, family)
    assert flat["auc"] == 0.5 and np.isnan(flat["rho_angle"])
    sim.close()


def test_rendered_cost_scores_the_final_frame(pr):
    torch.manual_seed(0)
    patch = PatchWorldModel("pusht", image_size=32, patch_size=16, blur=0.0).eval()
    sim = SimulatorModel("pusht", workers=1)
    model = pr.RenderedCost(sim, patch, patch.encode)
    assert model.latent_dim == sim.latent_dim + patch.frame_dim
    starts = torch.tensor([[100.0, 100.0, 250.0, 250.0, 1.0, 0, 0], [300.0, 300.0, 200.0, 200.0, 0.5, 0, 0]],
                          dtype=torch.float64)
    actions = torch.rand(2, 3, sim.action_dim, generator=torch.Generator().manual_seed(0)) * 2 - 1
    z0 = model.encode(starts)
    traj = model.rollout(z0, actions)
    assert traj.shape == (2, 4, model.latent_dim)
    final = traj[:, -1, :sim.state_dim]
    torch.testing.assert_close(traj[..., :sim.latent_dim], sim.rollout(z0[:, :sim.latent_dim], actions))
    with torch.no_grad():
        expected = patch.encode(patch.render(final)).double()
    torch.testing.assert_close(traj[:, -1, sim.latent_dim:], expected)
    # The planner's "last" cost is the token MSE of the final frame against the goal's.
    goal = model.encode(starts.flip(0))
    cost = Objective("last").cost(traj, goal, model.goal_weights)
    torch.testing.assert_close(cost, (expected - goal[:, sim.latent_dim:]).pow(2).mean(1))
    sim.close()
