"""The modules: one per registered activation, no state beyond their settings, a repr that
shows them, and state_dict / torch.save round trips in a model mixing them with torch's."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import actlab  # noqa: E402
import actlab.torch as at  # noqa: E402
from torch_inputs import sample, takes_dim  # noqa: E402


@pytest.mark.parametrize("name", actlab.names())
def test_every_activation_has_a_module_and_a_function(name: str) -> None:
    cls = getattr(at, at._api.class_name(name))
    module = cls()
    assert isinstance(module, torch.nn.Module) and isinstance(module, at.Activation)
    assert module.name == name
    assert list(module.state_dict()) == [] and list(module.parameters()) == []
    x = torch.tensor(sample(name, (4, 6)))
    expected = actlab.get(name)(x.numpy())
    np.testing.assert_array_equal(module(x).numpy(), expected)
    np.testing.assert_array_equal(getattr(at.functional, name)(x).numpy(), expected)
    np.testing.assert_array_equal(at.Activation(name)(x).numpy(), expected)
    doc = getattr(at.functional, name).__doc__
    assert actlab.get(name).summary in doc and actlab.get(name).summary in cls.__doc__
    for param in actlab.get(name).params:
        assert ("dim" if param.name == "axis" else param.name) in doc


def test_repr_shows_the_settings() -> None:
    assert repr(at.SELU()) == "SELU()"
    assert repr(at.LeakyReLU(slope=0.2)) == "LeakyReLU(slope=0.2)"
    assert repr(at.LeakyReLU()) == "LeakyReLU(slope=0.1)"
    assert repr(at.Softmax(dim=0)) == "Softmax(dim=0)"
    assert repr(at.Maxout(pieces=2)) == "Maxout(pieces=2, dim=-1)"
    assert repr(at.Activation("leaky_relu", slope=0.3)) == "Activation('leaky_relu', slope=0.3)"
    assert repr(at.Activation("logistic")) == "Activation('sigmoid')"  # an alias, resolved


def test_module_settings_reach_the_function() -> None:
    x = torch.tensor([[-2.0, 3.0], [1.0, -4.0]], dtype=torch.float64)
    np.testing.assert_array_equal(at.LeakyReLU(slope=0.25)(x).numpy(),
                                  actlab.get("leaky_relu", slope=0.25)(x.numpy()))
    np.testing.assert_array_equal(at.Softmax(dim=0)(x).numpy(),
                                  actlab.get("softmax", axis=0)(x.numpy()))
    np.testing.assert_array_equal(at.functional.softmax(x, dim=0).numpy(),
                                  actlab.get("softmax", axis=0)(x.numpy()))
    assert at.LeakyReLU(slope=0.25).activation.values == {"slope": 0.25}


def mixed_model(seed: int) -> Any:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 6), at.SELU(), torch.nn.Linear(6, 6), torch.nn.ReLU(),
        torch.nn.Linear(6, 6), at.LeakyReLU(slope=0.2), torch.nn.Linear(6, 3),
        at.Softmax(dim=-1),
    ).double()


def test_state_dict_holds_only_torchs_weights_and_round_trips() -> None:
    model = mixed_model(0)
    plain = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.SELU(), torch.nn.Linear(6, 6), torch.nn.ReLU(),
        torch.nn.Linear(6, 6), torch.nn.LeakyReLU(), torch.nn.Linear(6, 3),
        torch.nn.Softmax(dim=-1),
    )
    assert list(model.state_dict()) == list(plain.state_dict())
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    other = mixed_model(1)
    x = torch.randn(5, 4, dtype=torch.float64)
    assert not torch.equal(other(x), model(x))
    other.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(other(x), model(x))


def test_whole_model_pickles_with_its_settings() -> None:
    model = mixed_model(2)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert repr(loaded) == repr(model)
    x = torch.randn(3, 4, dtype=torch.float64)
    assert torch.equal(loaded(x), model(x))


def test_signatures_come_from_the_registry() -> None:
    import inspect

    for name in actlab.names():
        sig = inspect.signature(getattr(at.functional, name))
        expected = ["input", *(("dim" if p.name == "axis" else p.name)
                               for p in actlab.get(name).params)]
        assert list(sig.parameters) == expected
        assert takes_dim(name) == ("dim" in sig.parameters)
    assert inspect.signature(at.LeakyReLU).parameters["slope"].default == 0.1
