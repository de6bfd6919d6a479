"""The activation tests share their mpmath oracle, ``references.py`` beside this file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
