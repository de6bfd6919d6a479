"""The actlab.jax tests run only where JAX is installed; they share the inputs of
``jax_inputs.py`` beside this file."""

import importlib.util
import sys
from pathlib import Path

collect_ignore_glob = [] if importlib.util.find_spec("jax") else ["*.py"]

sys.path.insert(0, str(Path(__file__).parent))
