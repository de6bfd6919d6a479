"""save/load: exact round trip; corrupt, truncated and foreign files raise ValueError."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from actlab import nn


@pytest.fixture
def saved(tmp_path: Path) -> tuple[nn.Sequential, Path]:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = nn.Sequential([nn.Dense(4, 6, rng=1), nn.Activation("leaky_relu", slope=0.2),
                           nn.Maxout(6, 5, pieces=3, rng=2), nn.Dense(5, 3, rng=3)])
    nn.fit(model, X, y, loss=nn.SoftmaxCrossEntropy(), optimizer=nn.Adam(), epochs=2)
    path = tmp_path / "model.npz"
    model.save(path)
    return model, path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_predicts_identically(tmp_path: Path, dtype: type) -> None:
    model = nn.build_mlp(4, [8, 8], 3, activation="selu", seed=5, dtype=dtype)
    path = tmp_path / "m.npz"
    nn.save(model, path)
    back = nn.load(path)
    X = np.random.default_rng(1).standard_normal((20, 4))
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back.forward(X), model.forward(X))
    for a, b in zip(model.dense_layers, back.dense_layers):
        assert a.W.dtype == b.W.dtype and np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b)


def test_round_trip_architecture(saved: tuple[nn.Sequential, Path]) -> None:
    model, path = saved
    back = nn.load(path)
    assert [type(l) for l in back.layers] == [type(l) for l in model.layers]
    assert back.layers[1].act.values == {"slope": 0.2}
    assert back.layers[2].pieces == 3
    X = np.random.default_rng(2).standard_normal((10, 4))
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))


def test_regressor_round_trip(tmp_path: Path) -> None:
    model = nn.build_mlp(3, [4], 1, activation="tanh", output="identity")
    nn.save(model, tmp_path / "r.npz")
    assert nn.load(tmp_path / "r.npz").output == "identity"


def test_truncated(saved: tuple[nn.Sequential, Path], tmp_path: Path) -> None:
    _, path = saved
    bad = tmp_path / "trunc.npz"
    bad.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a valid actlab model file"):
        nn.load(bad)


def test_corrupt(saved: tuple[nn.Sequential, Path], tmp_path: Path) -> None:
    _, path = saved
    data = bytearray(path.read_bytes())
    for i in range(200, len(data) - 200, 7):
        data[i] ^= 0xFF
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a valid actlab model file"):
        nn.load(bad)


def test_garbage_bytes(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.npz"
    bad.write_bytes(b"this is not a model\n" * 10)
    with pytest.raises(ValueError, match="not a valid actlab model file") as info:
        nn.load(bad)
    # Named for what it is not; no advice to unpickle it.
    assert "not an .npz archive" in str(info.value) and "pickle" not in str(info.value)


def test_foreign_npz(tmp_path: Path) -> None:
    path = tmp_path / "foreign.npz"
    np.savez(path, a=np.arange(3))
    with pytest.raises(ValueError, match="no actlab header"):
        nn.load(path)


def test_object_array_refused(tmp_path: Path) -> None:
    path = tmp_path / "pickled.npz"
    np.savez(path, __actlab__=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match="not a valid actlab model file"):
        nn.load(path)


def test_wrong_weight_shape(saved: tuple[nn.Sequential, Path], tmp_path: Path) -> None:
    _, path = saved
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["W0"] = arrays["W0"][:2]
    bad = tmp_path / "shape.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ValueError, match="weights of layer 0"):
        nn.load(bad)


def test_plain_npy(tmp_path: Path) -> None:
    path = tmp_path / "array.npy"
    np.save(path, np.arange(3))
    with pytest.raises(ValueError, match="not a valid actlab model file"):
        nn.load(path)


def _craft(path: Path, layers: list[dict[str, object]], **arrays: np.ndarray) -> Path:
    meta = {"format": "actlab.nn/1", "dtype": "float64", "output": "softmax", "layers": layers}
    np.savez(path, __actlab__=np.array(json.dumps(meta)), **arrays)
    return path


def test_widths_must_chain(tmp_path: Path) -> None:
    # Dense(4, 5) → tanh → Dense(6, 3), each with matching arrays: the model cannot run.
    path = _craft(tmp_path / "chain.npz",
                  [{"type": "Dense", "n_in": 4, "n_out": 5, "init": "glorot"},
                   {"type": "Activation", "name": "tanh", "params": {}},
                   {"type": "Dense", "n_in": 6, "n_out": 3, "init": "glorot"}],
                  W0=np.ones((4, 5)), b0=np.zeros(5), W1=np.ones((6, 3)), b1=np.zeros(3))
    with pytest.raises(ValueError, match=r"not a valid actlab model file .*Dense\(6, 3.*takes 6 inputs.*output 5"):
        nn.load(path)


def test_header_sizes_checked_before_allocating(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The header claims a 10⁶×10⁶ layer (7.3 TiB) but the file holds a 4×3 array: refused
    # before any weights are drawn.
    import actlab.nn.layers

    def no_alloc(*args: object, **kwargs: object) -> None:
        raise AssertionError("init_weights called before the stored shapes were checked")

    monkeypatch.setattr(actlab.nn.layers, "init_weights", no_alloc)
    path = _craft(tmp_path / "huge.npz", [{"type": "Dense", "n_in": 10**6, "n_out": 10**6, "init": "glorot"}],
                  W0=np.ones((4, 3)), b0=np.zeros(3))
    with pytest.raises(ValueError, match=r"weights of layer 0 have shape \(4, 3\)/\(3,\).*expected \(1000000, 1000000\)"):
        nn.load(path)
    path = _craft(tmp_path / "maxout.npz",
                  [{"type": "Maxout", "n_in": 4, "n_out": 10**6, "pieces": 3, "init": "lecun"}],
                  W0=np.ones((4, 6)), b0=np.zeros(6))
    with pytest.raises(ValueError, match=r"weights of layer 0 .*expected \(4, 3000000\)"):
        nn.load(path)
    path = _craft(tmp_path / "float.npz", [{"type": "Dense", "n_in": 4.0, "n_out": 3, "init": "glorot"}],
                  W0=np.ones((4, 3)), b0=np.zeros(3))
    with pytest.raises(ValueError, match="n_in must be a positive integer, got 4.0"):
        nn.load(path)


def _imports(module: str) -> set[str]:
    """The actlab.nn modules ``module`` imports anywhere in its source (also inside functions)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    found = set()
    for node in ast.walk(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = "actlab.nn." if node.level == 1 else ""
            found |= {f"{base}{node.module}" if node.module else f"{base}{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_io_and_layers_do_not_import_each_other() -> None:
    assert "actlab.nn.io" not in _imports("actlab.nn.layers")
    assert "actlab.nn.layers" in _imports("actlab.nn.io")  # load builds layers: one direction only


def test_load_draws_no_random_weights(saved: tuple[nn.Sequential, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import actlab.nn.layers

    def no_init(*args: object, **kwargs: object) -> None:
        raise AssertionError("load drew random weights")

    monkeypatch.setattr(actlab.nn.layers, "init_weights", no_init)
    model, path = saved
    back = nn.load(path)
    for a, b in zip(model.dense_layers, back.dense_layers):
        assert np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b)
        assert b.W.flags.writeable and b.b.flags.writeable  # trainable after loading


def test_load_takes_the_weights_memory_once(tmp_path: Path) -> None:
    import tracemalloc

    model = nn.Sequential([nn.Dense(1000, 2000, rng=0), nn.Activation("tanh"), nn.Dense(2000, 3, rng=1)])
    path = tmp_path / "big.npz"
    nn.save(model, path)
    weights = sum(layer.W.nbytes + layer.b.nbytes for layer in model.dense_layers)  # 16 MB
    tracemalloc.start()
    try:
        back = nn.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.25 * weights, f"load peaked at {peak / weights:.2f}x the weights"
    np.testing.assert_array_equal(back.dense_layers[0].W, model.dense_layers[0].W)
    # the gradients appear with the first backward pass, zero and of the weights' shape
    assert back.dense_layers[0].grad_W.shape == (1000, 2000) and not back.dense_layers[0].grad_W.any()
