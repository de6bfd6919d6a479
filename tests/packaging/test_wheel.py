"""python -m build makes an sdist and, from it, a wheel with the compiled kernels; the wheel
installs into a fresh venv, where ``actlab list`` and an import work."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import actlab

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _sources(into: Path) -> Path:
    """The files git tracks (as they are in the working tree): a build that needs a file
    git does not have fails here as it would from a clean clone."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    for name in listed.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    return into


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to list the sources")
    src = _sources(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(src)],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return out


def test_the_sdist_holds_the_sources_and_the_wheel_the_kernels(dist: Path) -> None:
    (sdist,) = dist.glob("actlab-*.tar.gz")
    (wheel,) = dist.glob("actlab-*.whl")
    import tarfile

    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    assert any(n.endswith("_kernels_src/kernels.def") for n in names)
    assert any(n.endswith("activations/modern.py") for n in names)
    with zipfile.ZipFile(wheel) as whl:
        members = whl.namelist()
    assert any(n.startswith("actlab/activations/_kernels") and n.endswith(".so") for n in members)
    assert "actlab/py.typed" in members


def test_the_wheel_installs_and_runs_in_a_fresh_venv(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("actlab-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ACTLAB_NO_FAST")}
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)],
                             capture_output=True, text=True, timeout=900, env=env)
    assert install.returncode == 0, install.stderr[-3000:]
    listing = subprocess.run([str(venv / "bin" / "actlab"), "list"], capture_output=True,
                             text=True, timeout=120, env={**env, "COLUMNS": "200"})
    assert listing.returncode == 0, listing.stderr
    for name in actlab.names():
        assert name in listing.stdout
    smoke = subprocess.run(
        [str(python), "-c", "import actlab, numpy as np; print(actlab.__file__); "
         "print(actlab.kernel_status()); print(float(actlab.get('sigmoid').derivative(37.0)))"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert smoke.returncode == 0, smoke.stderr
    where, status, derivative = smoke.stdout.splitlines()
    assert str(venv) in where  # the installed copy, not the checkout
    assert status.startswith("compiled kernels")
    assert float(derivative) == pytest.approx(8.533047625744066e-17, rel=1e-15)
