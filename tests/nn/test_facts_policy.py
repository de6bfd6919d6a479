"""nn decides from an activation's facts, never from its name: a new activation with the
same facts as an old one is treated the same."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import actlab
from actlab import nn
from actlab.activations import _registry


@pytest.fixture()
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_registry, "_REGISTRY", dict(_registry._REGISTRY))
    monkeypatch.setattr(_registry, "_ALIASES", dict(_registry._ALIASES))


def _register(name: str, **facts: object) -> actlab.Activation:
    base = dict(formula="f(x) = max(x, 0)", plain_formula="max(x, 0)", derivative_formula="[x >= 0]",
                output_range=(0.0, np.inf), monotonic=True, zero_centered=False, max_derivative=1.0,
                use=("hidden layer",), problems=(), reference="test", summary="test")
    base.update(facts)

    @_registry.activation(name, **base)
    def kernel(x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)

    @kernel.derivative_rule
    def _d(x: np.ndarray, y: object) -> np.ndarray:
        return (x >= 0).astype(x.dtype) * (base["max_derivative"] or 0.0)

    return kernel


@pytest.mark.parametrize("init", ["glorot", "he", "lecun"])
def test_default_init_is_the_activation_fact(fresh_registry: None, init: str) -> None:
    _register("ramp_test", init=init)
    assert nn.default_init("ramp_test") == init
    model = nn.build_mlp(400, [300], 2, activation="ramp_test", seed=0)
    first = model.dense_layers[0]
    assert first.init == init
    expected = {"glorot": 2 / 700, "he": 2 / 400, "lecun": 1 / 400}[init]
    assert np.var(first.W) == pytest.approx(expected, rel=0.02)


def test_a_misspelt_init_fact_is_refused_at_definition() -> None:
    with pytest.raises(ValueError, match="ramp_bad: init must be one of .* got 'kaiming'"):
        _registry.activation("ramp_bad", init="kaiming")


def test_a_misspelt_fact_is_a_type_error(fresh_registry: None) -> None:
    with pytest.raises(TypeError, match="max_derivate"):
        _register("ramp_typo", max_derivate=1.0)


def test_an_untrainable_activation_is_refused_by_fit_whatever_its_name(fresh_registry: None) -> None:
    _register("flat_test", max_derivative=0.0)
    assert not actlab.get("flat_test").trainable
    X = np.random.default_rng(0).standard_normal((20, 3))
    model = nn.build_mlp(3, [4], 2, activation="flat_test", seed=0)
    with pytest.raises(nn.ZeroGradientError, match="flat_test.s derivative is 0 everywhere"):
        nn.fit(model, X, np.arange(20) % 2, loss=nn.SoftmaxCrossEntropy(), optimizer=nn.SGD(lr=0.1), epochs=1)


@pytest.mark.parametrize("name", actlab.names())
def test_trainable_is_a_nonzero_derivative_somewhere(name: str) -> None:
    act = actlab.get(name)
    assert act.trainable == (act.max_derivative != 0)
    if act.elementwise:
        x = np.linspace(-4, 4, 101)
        assert act.trainable == bool(np.any(act.derivative(x) != 0))


def test_a_width_changing_activation_needs_its_own_layer() -> None:
    with pytest.raises(ValueError, match="maxout changes the layer width"):
        nn.Activation("maxout")
    assert {n for n in actlab.names() if not actlab.get(n).keeps_shape} == {"maxout", "glu"}
    with pytest.raises(ValueError, match="glu changes the layer width"):
        nn.Activation("glu")
    with pytest.raises(ValueError, match="build_mlp: glu changes the layer width"):
        nn.build_mlp(4, [6], 2, activation="glu")
    assert nn.can_build("maxout") and not nn.can_build("glu") and nn.can_build("gelu")


def test_with_params_is_a_replace_of_the_values_only() -> None:
    base = actlab.get("leaky_relu")
    bound = base.with_params(slope=0.2)
    assert bound.values == {"slope": 0.2} and base.values == {"slope": 0.1}
    facts = [f.name for f in dataclasses.fields(actlab.Facts)]
    assert all(getattr(bound, f) == getattr(base, f) for f in facts)
    with pytest.raises(dataclasses.FrozenInstanceError):
        bound.init = "he"  # type: ignore[misc]


def test_dead_units_have_one_definition() -> None:
    """compare's dead fraction and the dead-units experiment's are the same number: units
    whose derivative is 0 on every row (a relu unit whose input is negative everywhere)."""
    from actlab.lab.experiments import dead_units

    rng = np.random.default_rng(0)
    model = nn.build_mlp(3, [5], 2, activation="relu", seed=0)
    dense = model.dense_layers[0]
    dense.b[:2] = -100.0  # two of five units negative on every row
    X = rng.standard_normal((50, 3))
    assert model.dead_fraction(X) == pytest.approx(2 / 5)
    assert dead_units.unit_fractions(model, X)[0] == model.dead_fraction(X)
    # leaky_relu's derivative is never 0: the same weights give no dead unit
    leaky = nn.build_mlp(3, [5], 2, activation="leaky_relu", seed=0)
    leaky.dense_layers[0].b[:2] = -100.0
    assert leaky.dead_fraction(X) == 0.0
    # a maxout unit always passes the gradient to its largest piece
    assert nn.build_mlp(3, [5], 2, activation="maxout", seed=0).dead_fraction(X) == 0.0
