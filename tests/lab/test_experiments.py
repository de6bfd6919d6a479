"""The lab's experiments: each claim asserted on the quick configuration."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

import actlab
from actlab import lab
from actlab.lab import ExperimentResult
from actlab.lab.experiments import self_normalization
from actlab.lab.compare import default_activations

NAMES = ["vanishing-gradient", "self-normalization", "perceptron", "dead-units", "saturation", "softmax"]


@cache
def quick(name: str, seed: int = 0, **settings: object) -> ExperimentResult:
    return lab.run_experiment(name, seed=seed, quick=True, **settings)


def test_registry_lists_the_six_in_order() -> None:
    assert lab.experiment_names() == NAMES
    with pytest.raises(ValueError, match="did you mean 'softmax'"):
        lab.get_experiment("softmaxx")


@pytest.mark.parametrize("name", NAMES)
def test_result_shape(name: str) -> None:
    r = quick(name)
    exp = lab.get_experiment(name)
    assert (r.name, r.title, r.claim) == (exp.name, exp.title, exp.claim)
    assert r.columns and r.rows and r.findings
    assert all(len(row) == len(r.columns) for row in r.rows)
    for row in r.rows:
        assert all(v is None or isinstance(v, (str, int, float)) for v in row)
    assert r.settings["quick"] is True and r.settings["seed"] == 0


def test_hidden_activations_from_registry() -> None:
    names = default_activations(trainable=True)
    assert {"sigmoid", "tanh", "relu", "selu"} <= set(names)
    assert "step" not in names and "softmax" not in names
    assert "step" in default_activations()


# --------------------------------------------------------------------------- vanishing-gradient
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigmoid_gradient_vanishes_relu_and_selu_do_not(seed: int) -> None:
    r = quick("vanishing-gradient", seed, activations=("sigmoid", "relu", "selu"))
    norms = r.data["norms"][10]
    for stage in ("init", "trained"):
        first, last = norms["sigmoid"][stage][0], norms["sigmoid"][stage][-1]
        assert first * 100 <= last, (stage, first, last)
        for name in ("relu", "selu"):
            ratio = norms[name][stage][0] / norms[name][stage][-1]
            assert 0.1 <= ratio <= 10, (name, stage, ratio)
    assert len(norms["relu"]["init"]) == 11  # 10 hidden Dense layers and the output layer


def test_vanishing_gradient_default_activations_and_step_left_out() -> None:
    r = quick("vanishing-gradient")
    assert r.data["activations"] == default_activations(trainable=True)
    r = lab.run_experiment("vanishing-gradient", quick=True, activations=("step", "tanh"), depths=(3,))
    assert r.data["activations"] == ["tanh"]
    assert any("step" in f and "0 everywhere" in f for f in r.findings)


def test_maxout_with_he_init_explodes_and_is_reported() -> None:
    # He weights double E[h²] at every maxout layer (LeCun, maxout's default, keeps it).
    he = lab.run_experiment("vanishing-gradient", quick=True, activations=("maxout",), depths=(30,), init="he")
    assert max(he.data["norms"][30]["maxout"]["init"]) > 1e3
    assert any(f.startswith("maxout at depth 30") and "explode" in f for f in he.findings)
    default = lab.run_experiment("vanishing-gradient", quick=True, activations=("maxout", "relu"), depths=(30,))
    assert max(default.data["norms"][30]["maxout"]["init"]) < 1e3
    assert max(default.data["norms"][30]["relu"]["init"]) < 1e3
    assert not any("explode" in f for f in default.findings)


def test_vanishing_gradient_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="depth"):
        lab.run_experiment("vanishing-gradient", quick=True, depths=(0,))
    with pytest.raises(ValueError, match="nosuch"):
        lab.run_experiment("vanishing-gradient", quick=True, activations=("nosuch",))


# --------------------------------------------------------------------------- self-normalization
def test_selu_constants_solved_to_1e_12() -> None:
    r = quick("self-normalization")
    alpha, lam = r.data["alpha"], r.data["lambda"]
    assert abs(alpha - float(self_normalization.PUBLISHED_ALPHA)) <= 1e-12
    assert abs(lam - float(self_normalization.PUBLISHED_LAMBDA)) <= 1e-12
    assert f"{alpha:.15g}" in " ".join(str(c) for row in r.rows for c in row)
    mean, second = self_normalization.selu_moments(alpha, lam)
    assert abs(mean) < 1e-15 and abs(second - 1) < 1e-15


def test_published_constants_solve_the_fixed_point_equations() -> None:
    """The published digits themselves, checked at 40 digits with mpmath (a test-only dependency)."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        Phi = lambda t: mpmath.erfc(-t / mpmath.sqrt(2)) / 2  # noqa: E731
        m1 = 1 / mpmath.sqrt(2 * mpmath.pi)
        e1 = mpmath.exp(mpmath.mpf(1) / 2) * Phi(-1)
        e2 = mpmath.exp(2) * Phi(-2)
        a = mpmath.mpf(self_normalization.PUBLISHED_ALPHA)
        lam = mpmath.mpf(self_normalization.PUBLISHED_LAMBDA)
        mean = lam * (m1 + a * (e1 - mpmath.mpf(1) / 2))
        second = lam**2 * (mpmath.mpf(1) / 2 + a**2 * (e2 - 2 * e1 + mpmath.mpf(1) / 2))
        assert abs(mean) < mpmath.mpf("1e-30") and abs(second - 1) < mpmath.mpf("1e-30")


def test_selu_keeps_variance_tanh_and_relu_collapse() -> None:
    r = quick("self-normalization")
    stats, layers = r.data["stats"], r.data["layers"]
    assert layers == 100 and len(stats["selu"]["var"]) == 101
    assert 0.8 <= stats["selu"]["var"][-1] <= 1.2
    assert abs(stats["selu"]["mean"][-1]) < 0.1
    assert all(0.8 <= v <= 1.2 for v in stats["selu"]["var"])
    assert stats["tanh"]["var"][-1] < 0.05
    assert stats["relu"]["var"][-1] < 1e-20


# --------------------------------------------------------------------------- perceptron
def test_perceptron_rule_separates_a_separable_set_and_fails_on_xor() -> None:
    runs = quick("perceptron").data["runs"]
    rule = "step, perceptron rule"
    sep, xor = runs["separable"]["methods"][rule], runs["XOR"]["methods"][rule]
    assert sep["converged"] and sep["final_accuracy"] == 1.0 and sep["errors"][-1] == 0
    assert not xor["converged"] and min(xor["errors"]) > 0 and xor["final_accuracy"] < 0.8


def test_step_unit_does_not_move_under_gradient_descent() -> None:
    runs = quick("perceptron").data["runs"]
    for set_name in ("separable", "XOR"):
        gd = runs[set_name]["methods"]["step, gradient descent"]
        assert gd["moved"] == 0.0 and set(gd["grad_norm"]) == {0.0}
        assert len(set(gd["accuracy"])) == 1
        assert "ZeroGradient" in gd["refused"] or "0 everywhere" in gd["refused"]


def test_sigmoid_unit_learns_the_separable_set() -> None:
    runs = quick("perceptron").data["runs"]
    assert runs["separable"]["methods"]["sigmoid, gradient descent"]["final_accuracy"] >= 0.95
    grid = runs["separable"]["methods"]["sigmoid, gradient descent"]["grid"]
    assert grid.shape == runs["separable"]["grid_x"].shape and set(np.unique(grid)) == {0.0, 1.0}


# --------------------------------------------------------------------------- dead-units
@pytest.mark.parametrize("seed", [0, 1])
def test_relu_units_die_at_a_large_learning_rate_leaky_and_selu_do_not(seed: int) -> None:
    r = quick("dead-units", seed)
    (lr,) = r.data["lrs"]
    curves = r.data["curves"][lr]
    relu = curves["relu"]["dead"][-1]
    assert relu >= 0.1
    assert relu > curves["leaky_relu"]["dead"][-1] and relu > curves["selu"]["dead"][-1]
    assert curves["relu"]["dead"] == curves["relu"]["never_positive"]
    assert len(curves["relu"]["dead"]) == r.data["epochs"] + 1


# --------------------------------------------------------------------------- saturation
def test_large_init_saturates_sigmoid_and_tanh() -> None:
    r = quick("saturation")
    assert r.data["scales"] == ["1", "4"]
    for name in ("sigmoid", "tanh"):
        small, large = r.data["curves"][name]["1"], r.data["curves"][name]["4"]
        assert large[0] > 0.1 and large[0] > 5 * small[0], (name, small[0], large[0])
        assert large[-1] > small[-1]
        assert all(0 <= f <= 1 for f in small + large)


def test_saturation_edges_match_the_threshold() -> None:
    # edges[name] is (below, above): the flat region is z < below and z > above.
    edges = quick("saturation").data["edges"]
    for name, (below, above) in edges.items():
        act = actlab.get(name)
        for edge in (below, above):
            assert math.isclose(float(act.derivative(edge)), 0.1 * act.max_derivative, rel_tol=1e-9)
        assert below == -above
    assert 3.6 < edges["sigmoid"][1] < 3.7 and 1.8 < edges["tanh"][1] < 1.9


def test_saturation_refuses_functions_without_a_flat_region() -> None:
    with pytest.raises(ValueError, match="softmax"):
        lab.run_experiment("saturation", quick=True, activations=("softmax",))


# --------------------------------------------------------------------------- softmax
def test_softmax_rows_sum_to_one_and_reliability_is_consistent() -> None:
    r = quick("softmax")
    d = r.data
    assert d["row_sum_deviation"] <= 1e-12 and d["row_sum_deviation_float32"] <= 1e-6
    rel = d["reliability"]
    n = int(np.sum(rel["count"]))
    assert n == len(d["top"]) == int(np.sum(d["histogram"]))
    assert 0 <= d["ece"] <= 1
    has = rel["count"] > 0
    weighted = float(np.sum(rel["accuracy"][has] * rel["count"][has]) / n)
    assert math.isclose(weighted, d["accuracy"], rel_tol=1e-12)
    assert np.all((rel["confidence"][has] >= rel["edges"][:-1][has]) & (rel["confidence"][has] <= rel["edges"][1:][has]))
    assert d["accuracy"] > 0.8
    assert sum(row[1] for row in r.rows) == n


def test_dead_unit_findings_give_each_accuracy_and_name_a_failure_without_dead_units() -> None:
    # The full configuration: at Adam lr 0.05 selu keeps every unit alive and still fails.
    r = lab.run_experiment("dead-units", seed=0)
    n_classes = actlab.nn.datasets.load("digits", seed=0).n_classes
    best = max(row[5] for row in r.rows)
    bar = (1 / n_classes + best) / 2  # halfway from chance to the best of the run
    for lr in r.settings["lrs"]:
        (dead_line,) = [f for f in r.findings if f.startswith(f"Adam lr {lr:g}, ") and "dead units" in f]
        for name, row_lr, _, dead, _, acc in r.rows:
            if row_lr == lr:
                assert f"{name} {100 * dead:.1f}% dead (test accuracy {acc:.3g})" in dead_line, (name, dead_line)
        failed = [(name, acc) for name, row_lr, _, dead, _, acc in r.rows if row_lr == lr and dead == 0 and acc < bar]
        alive_but_failed = [f for f in r.findings if f.startswith(f"Adam lr {lr:g}: ") and "failed to train" in f]
        if failed:
            (line,) = alive_but_failed
            for name, acc in failed:
                assert f"{name} (test accuracy {acc:.3g})" in line and "no dead units" in line, line
        else:
            assert not alive_but_failed
    selu = [row for row in r.rows if row[0] == "selu" and row[1] == 0.05][0]
    assert selu[3] == 0 and selu[5] < bar  # the case the finding must not pass over
    assert any("selu (test accuracy" in f and "failed to train" in f for f in r.findings)
