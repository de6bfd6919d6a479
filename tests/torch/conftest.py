"""The actlab.torch tests run only where PyTorch is installed; they share the inputs of
``torch_inputs.py`` beside this file."""

import importlib.util
import sys
from pathlib import Path

collect_ignore_glob = [] if importlib.util.find_spec("torch") else ["*.py"]

sys.path.insert(0, str(Path(__file__).parent))
