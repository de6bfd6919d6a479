"""The mpmath oracle of the activation tests: a re-export of :mod:`actlab.audit.references`,
the one oracle, which ships with the package (``pip install actlab[audit]``)."""

from actlab.audit.references import *  # noqa: F401,F403
from actlab.audit.references import __all__  # noqa: F401
