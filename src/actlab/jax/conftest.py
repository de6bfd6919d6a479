"""pytest collects the package's doctests only where JAX is installed."""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("jax") else ["*.py"]
