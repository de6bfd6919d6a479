"""The lab's settings: checked once, up front, with errors naming the setting; results
repeatable from ``result.settings``; findings that agree with what was measured."""

from __future__ import annotations

import math
import re
import time
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from actlab import lab, nn
from actlab.lab import ExperimentResult
from actlab.lab.compare import compare
from actlab.lab.experiments import dead_units, perceptron, saturation, self_normalization, softmax
from actlab.lab.experiments._common import pre_activations
from actlab.report import build_report

# Small configurations of every experiment, for the checks that need a run.
TINY: dict[str, dict[str, Any]] = {
    "vanishing-gradient": {"activations": ["sigmoid", "relu"], "depths": [3], "batches": 2, "width": 16},
    "self-normalization": {"layers": 5, "width": 16, "samples": 16},
    "perceptron": {"n": 30, "epochs": 4, "grid": 10},
    "dead-units": {"hidden": [16], "epochs": 1},
    "saturation": {"hidden": [16], "epochs": 1, "scales": [1.0, 4.0]},
    "softmax": {"hidden": [16], "epochs": 2},
}


@cache
def tiny(name: str, **extra: Any) -> ExperimentResult:
    return lab.run_experiment(name, seed=0, quick=True, **{**TINY[name], **extra})


# --------------------------------------------------------------------------- 1. saturation
def test_flat_region_is_found_on_each_side() -> None:
    assert saturation.flat_region("relu", 0.1) == (0.0, math.inf)
    below, above = saturation.flat_region("selu", 0.1)
    assert math.isclose(below, math.log(0.1), rel_tol=1e-9) and above == math.inf  # λα eᶻ < 0.1 λα
    assert saturation.flat_region("identity", 0.1) == (-math.inf, math.inf)
    assert saturation.flat_region("leaky_relu", 0.2) == (0.0, math.inf)  # slope 0.1 < 0.2
    below, above = saturation.flat_region("tanh", 0.1)
    assert below == -above and 1.8 < above < 1.9
    assert saturation.describe_region(0.0, math.inf) == "z < 0"
    assert saturation.describe_region(-math.inf, math.inf) == "nowhere"


def test_saturation_relu_finding_agrees_with_the_measured_fraction_and_names_the_init() -> None:
    r = tiny("saturation", activations=("relu", "selu", "tanh"))
    # the finding names the region relu's measured fraction counts, not |z| > 1e6
    assert "relu z < 0" in r.findings[0] and "e+06" not in r.findings[0]
    # independent count: relu units with z < 0 on the test set, for the same initial network
    data = nn.datasets.load("digits", seed=0)
    model = nn.build_mlp(data.n_features, [16], data.n_classes, activation="relu", seed=0)
    ((_, z),) = pre_activations(model, data.X_test)
    measured = r.data["curves"]["relu"]["1"][0]
    assert measured > 0.2 and math.isclose(measured, float(np.mean(z < 0)), rel_tol=1e-12)
    # each row's init is the one used: he for relu, lecun for selu, glorot for tanh
    inits = {"relu": "he", "selu": "lecun", "tanh": "glorot"}
    for name, init in inits.items():
        assert any(f.startswith(f"{name}, weights at {init} ×1") for f in r.findings), (name, r.findings)
    assert not any(f.startswith("relu, weights at glorot") for f in r.findings)


def test_saturation_figure_names_the_init_and_keeps_a_readable_x_range() -> None:
    from actlab.plots.experiments import experiment_figure

    r = tiny("saturation", activations=("relu", "tanh"))
    fig = experiment_figure(r)
    axes = fig.axes
    assert axes[0].get_xlim() == (-8.0, 8.0)
    relu_legend = [t.get_text() for t in axes[1].get_legend().get_texts()]
    tanh_legend = [t.get_text() for t in axes[2].get_legend().get_texts()]
    assert relu_legend == ["he weights ×1", "he weights ×4"]
    assert tanh_legend == ["glorot weights ×1", "glorot weights ×4"]


# --------------------------------------------------------------------------- 2. softmax bins
def test_bin_labels_are_distinct_and_show_the_real_edges() -> None:
    labels = softmax.bin_labels(np.linspace(0.0, 1.0, 21))
    assert labels[5] == "0.25–0.30" and labels[8] == "0.40–0.45" and labels[-1] == "0.95–1.00"
    assert softmax.bin_labels(np.linspace(0.0, 1.0, 11))[3] == "0.3–0.4"
    for bins in (3, 7, 20, 40, 300):
        edges = np.linspace(0.0, 1.0, bins + 1)
        labels = softmax.bin_labels(edges)
        assert len(set(labels)) == bins
        for label, lo, hi in zip(labels, edges[:-1], edges[1:]):
            a, b = label.split("–")
            step = 10.0 ** -len(a.split(".")[1])
            assert abs(float(a) - lo) <= step / 2 + 1e-12 and abs(float(b) - hi) <= step / 2 + 1e-12


def test_softmax_rows_with_twenty_bins_have_distinct_labels() -> None:
    r = tiny("softmax", bins=20)
    labels = [row[0] for row in r.rows]
    assert len(set(labels)) == len(labels)
    rel = r.data["reliability"]
    for label, i in zip(labels, np.flatnonzero(rel["count"])):
        assert label == f"{rel['edges'][i]:.2f}–{rel['edges'][i + 1]:.2f}"


# --------------------------------------------------------------------------- 3. settings repeat
@pytest.mark.parametrize("name", list(TINY))
def test_rerun_from_settings_gives_the_same_result(name: str) -> None:
    assert set(TINY) == set(lab.experiment_names())
    first = tiny(name)
    again = lab.run_experiment(name, **first.settings)
    assert again.rows == first.rows
    assert again.findings == first.findings


def test_vanishing_gradient_settings_record_init() -> None:
    r = tiny("vanishing-gradient", init="he")
    assert r.settings["init"] == "he"
    again = lab.run_experiment("vanishing-gradient", **r.settings)
    assert again.rows == r.rows
    default = tiny("vanishing-gradient")
    assert default.settings["init"] is None and default.rows != r.rows


# --------------------------------------------------------------------------- 4. regression data
@pytest.mark.parametrize("name", ["dead-units", "saturation"])
def test_regression_data_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"classification data set, got dataset='diabetes'"):
        lab.run_experiment(name, quick=True, dataset="diabetes", epochs=1)


# --------------------------------------------------------------------------- 6, 7. seed, quick
BAD_SEEDS = [-1, 1.5, None, "0", True, np.bool_(False), 2**32, 2**40]


def _entry_points(seed: Any = 0, quick: Any = True) -> list[Any]:
    settings = {"seed": seed, "quick": quick, **TINY["self-normalization"]}
    return [
        lambda: lab.run_experiment("self-normalization", **settings),
        lambda: lab.get_experiment("self-normalization").run(**settings),
        lambda: self_normalization.run(**settings),
        lambda: perceptron.run(seed=seed, quick=quick, **TINY["perceptron"]),
    ]


@pytest.mark.parametrize("seed", BAD_SEEDS)
def test_bad_seed_is_refused_at_every_entry_point(seed: Any, tmp_path: Path) -> None:
    for call in _entry_points(seed=seed):
        with pytest.raises(ValueError, match=r"^seed must be .*got " + re.escape(repr(seed))):
            call()
    start = time.perf_counter()
    with pytest.raises(ValueError, match="^seed must be"):
        compare(seed=seed, dataset="iris", hidden=[4], epochs=1, activations=["relu"])
    with pytest.raises(ValueError, match="^seed must be"):
        build_report(tmp_path / "r", seed=seed, quick=True, experiments=["softmax"])
    assert time.perf_counter() - start < 2.0  # refused before any training
    assert not (tmp_path / "r").exists()


def test_seed_range_and_numpy_ints_accepted() -> None:
    r = lab.run_experiment("self-normalization", seed=np.int64(2**32 - 1), quick=True, **TINY["self-normalization"])
    assert r.settings["seed"] == 2**32 - 1 and type(r.settings["seed"]) is int
    with pytest.raises(ValueError, match=r"seeds: the last seed, seed \+ seeds - 1 = 4294967296"):
        compare(seed=2**32 - 1, seeds=2, dataset="iris", hidden=[4], epochs=1, activations=["relu"])


@pytest.mark.parametrize("quick", ["no", 1, None, 0.0])
def test_quick_must_be_a_bool(quick: Any, tmp_path: Path) -> None:
    for call in _entry_points(quick=quick):
        with pytest.raises(TypeError, match=r"^quick must be True or False, got " + re.escape(repr(quick))):
            call()
    with pytest.raises(TypeError, match="^quick must be True or False"):
        build_report(tmp_path / "r", quick=quick, experiments=["softmax"])
    assert not (tmp_path / "r").exists()
    r = lab.run_experiment("self-normalization", quick=np.bool_(True), **TINY["self-normalization"])
    assert r.settings["quick"] is True


# --------------------------------------------------------------------------- 8. NumPy numbers
def test_numpy_scalars_are_accepted() -> None:
    r = lab.run_experiment("perceptron", quick=True, lr=np.float32(0.5), n=np.int64(30), epochs=np.int32(4), grid=10)
    assert r.settings["lr"] == 0.5 and r.settings["n"] == 30
    res = compare(lr=np.float32(1e-3), target=np.float64(0.5), dataset="iris", hidden=[4], epochs=1,
                  activations=["relu"])
    assert res[0].activation == "relu" and res[0].error is None


# --------------------------------------------------------------------------- 9. lists, not scalars
@pytest.mark.parametrize(("name", "setting", "value"), [
    ("softmax", "hidden", 64),
    ("softmax", "hidden", "64"),
    ("dead-units", "hidden", 64),
    ("dead-units", "lrs", 0.05),
    ("dead-units", "activations", "relu"),
    ("vanishing-gradient", "depths", 10),
    ("vanishing-gradient", "activations", "relu"),
    ("saturation", "scales", 4.0),
    ("saturation", "activations", "tanh"),
    ("self-normalization", "activations", "relu"),
])
def test_scalar_or_str_for_a_list_is_refused(name: str, setting: str, value: Any) -> None:
    with pytest.raises(ValueError, match=rf"^{setting} must be a list of .*got {re.escape(repr(value))}"):
        lab.run_experiment(name, quick=True, **{setting: value})


def test_scalar_lists_refused_by_compare_report_and_gallery(tmp_path: Path) -> None:
    from actlab.plots.gallery import plot_gallery

    with pytest.raises(ValueError, match="^hidden must be a list"):
        compare(hidden=64)
    with pytest.raises(ValueError, match="^activations must be a list"):
        compare(activations="relu")
    with pytest.raises(ValueError, match=r"^experiments must be a list of experiment names.*'softmax'"):
        build_report(tmp_path / "r", quick=True, experiments="softmax")
    with pytest.raises(ValueError, match=r"^names must be a list of activation names.*'relu'"):
        plot_gallery("relu", out=tmp_path / "g.png")
    assert not (tmp_path / "r").exists() and not (tmp_path / "g.png").exists()


@pytest.mark.parametrize("name", [None, 5, ["softmax"]])
def test_get_experiment_needs_a_str(name: Any) -> None:
    with pytest.raises(TypeError, match=r"^experiment name must be a str, got " + re.escape(repr(name))):
        lab.get_experiment(name)


# --------------------------------------------------------------------------- 10. no ZeroDivisionError
@pytest.mark.parametrize("name", ["dead-units", "saturation", "softmax"])
def test_no_hidden_layer_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"^hidden must not be empty"):
        lab.run_experiment(name, quick=True, hidden=[], epochs=1)


def test_dead_units_with_maxout() -> None:
    r = tiny("dead-units", activations=("maxout", "relu"))
    (lr,) = r.data["lrs"]
    c = r.data["curves"][lr]["maxout"]
    assert c["dead"] == [0.0] * (r.data["epochs"] + 1)  # every maxout unit passes its gradient on
    # never positive counted independently, on an untrained maxout network
    data = nn.datasets.load("digits", seed=0)
    model = nn.build_mlp(data.n_features, [16, 8], data.n_classes, activation="maxout", seed=0)
    outs = model.hidden_outputs(data.X_test)
    expected = sum(int(np.sum(np.all(h < 0, axis=0))) for h in outs) / 24
    assert dead_units.unit_fractions(model, data.X_test) == (0.0, expected)


# --------------------------------------------------------------------------- 11. nothing trainable
def test_vanishing_gradient_with_nothing_trainable_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no trainable activation left.*step"):
        lab.run_experiment("vanishing-gradient", quick=True, activations=["step"], depths=[2])


# --------------------------------------------------------------------------- 12. empty lists
@pytest.mark.parametrize(("name", "setting"), [
    ("vanishing-gradient", "depths"),
    ("vanishing-gradient", "activations"),
    ("dead-units", "lrs"),
    ("dead-units", "activations"),
    ("dead-units", "hidden"),
    ("saturation", "scales"),
    ("saturation", "hidden"),
    ("softmax", "hidden"),
    ("self-normalization", "activations"),
])
def test_empty_list_is_refused(name: str, setting: str) -> None:
    with pytest.raises(ValueError, match=rf"^{setting} must not be empty"):
        lab.run_experiment(name, quick=True, **{setting: []})


def test_empty_lists_refused_by_compare() -> None:
    for setting in ("hidden", "activations"):
        with pytest.raises(ValueError, match=rf"^{setting} must not be empty"):
            compare(**{setting: []})


# --------------------------------------------------------------------------- 13. upper bounds
# Each would have failed fast without the bounds too (MemoryError, or a run that returns).
@pytest.mark.parametrize(("name", "settings", "setting"), [
    ("self-normalization", {"width": 10**6, "layers": 3}, "width"),
    ("self-normalization", {"layers": 10**9, "width": 10**6}, "layers"),
    ("self-normalization", {"samples": 10**7, "layers": 3}, "samples"),
    ("perceptron", {"grid": 10**6}, "grid"),
    ("perceptron", {"n": 10**9}, "n"),
    ("softmax", {"bins": 10**6}, "bins"),
    ("softmax", {"hidden": [10**6, 10**6]}, r"hidden\[0\]"),
    ("dead-units", {"hidden": [16, 10**6, 10**6]}, r"hidden\[1\]"),
    ("vanishing-gradient", {"depths": [10**5], "width": 10**6}, r"depths\[0\]"),
    ("vanishing-gradient", {"width": 10**6}, "width"),
])
def test_huge_sizes_are_refused(name: str, settings: dict[str, Any], setting: str) -> None:
    with pytest.raises(ValueError, match=rf"^{setting} must be at most \d+, got"):
        lab.run_experiment(name, quick=True, **settings)


def test_self_normalization_bounds_samples_times_width() -> None:
    with pytest.raises(ValueError, match=r"samples × width must be at most"):
        lab.run_experiment("self-normalization", quick=True, layers=2, width=10_000, samples=100_000)


# --------------------------------------------------------------------------- one family of checks
def test_the_lab_uses_the_shared_checks_not_copies_of_them() -> None:
    from actlab.lab import _checks
    from actlab import checks as shared

    for old in ["count", "positive", "real", "open_fraction", "items", "counts", "positives",
                "flag", "text", "seed"]:
        assert old not in _checks.__all__, f"lab/_checks.py still offers its own {old}()"
        assert getattr(_checks, old, None) in (None, getattr(shared, old, None)), old
    assert _checks.list_of is shared.list_of and _checks.positive_ints is shared.positive_ints
    assert _checks.SEED_MAX == shared.SEED_MAX == 2**32 - 1
    assert _checks.MAX_WIDTH == 100_000  # imported by the CLI


def test_range_checks_are_named_by_their_interval() -> None:
    from actlab import checks as shared

    assert not hasattr(shared, "unit_interval") and not hasattr(shared, "fraction")  # names without an interval
    assert shared.fraction_closed_open("momentum", 0) == 0.0
    assert shared.fraction_open("test_size", 0.5) == 0.5
    for value in (0, 1, 1.0, -0.1, np.nan):
        with pytest.raises(ValueError, match=r"test_size must be a fraction in \(0, 1\)"):
            shared.fraction_open("test_size", value)
    for value in (1, 1.0, -1e-300, np.nan):
        with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\)"):
            shared.fraction_closed_open("momentum", value)


def test_bounded_count_names_the_bound_and_lists_name_the_item() -> None:
    from actlab import checks as shared

    assert shared.positive_int("epochs", np.int64(7), maximum=7) == 7
    with pytest.raises(ValueError, match="epochs must be at most 7, got 8"):
        shared.positive_int("epochs", 8, maximum=7)
    with pytest.raises(ValueError, match="epochs must be a positive integer, got True"):
        shared.positive_int("epochs", True, maximum=7)
    with pytest.raises(ValueError, match=r"depths\[1\] must be at most 10, got 11"):
        shared.positive_ints("depths", [3, 11], maximum=10, what="depths")
    assert shared.list_of("experiments", [], shared.text, "names", allow_empty=True) == []
    with pytest.raises(ValueError, match="experiments must not be empty"):
        shared.list_of("experiments", (), shared.text, "names")
