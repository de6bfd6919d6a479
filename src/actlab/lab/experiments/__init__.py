"""The lab's experiments, one module each; importing this package registers them all.

The order of the imports is the order of :func:`actlab.lab.experiment_names`.
"""

from . import vanishing_gradient  # noqa: F401
from . import self_normalization  # noqa: F401
from . import perceptron  # noqa: F401
from . import dead_units  # noqa: F401
from . import saturation  # noqa: F401
from . import softmax  # noqa: F401
