"""actlab.nn: a NumPy multilayer perceptron with backprop written out, for any activation.

>>> import numpy as np
>>> from actlab import nn
>>> model = nn.build_mlp(2, [8], 2, activation="tanh", seed=0)
>>> model.forward(np.zeros((3, 2))).shape
(3, 2)
"""

from __future__ import annotations

from . import datasets
from .datasets import Dataset
from .gradcheck import gradcheck
from .init import default_init, init_weights
from .io import load, save
from .layers import Activation, Dense, Layer, Maxout, Sequential, ZeroGradientError, build_mlp, can_build
from .losses import MeanSquaredError, SoftmaxCrossEntropy, loss_for
from .optim import SGD, Adam
from .perceptron import Perceptron
from .train import DivergenceError, History, fit, gradient_norms, score

__all__ = [
    "Activation",
    "Adam",
    "Dataset",
    "Dense",
    "DivergenceError",
    "History",
    "Layer",
    "Maxout",
    "MeanSquaredError",
    "Perceptron",
    "SGD",
    "Sequential",
    "SoftmaxCrossEntropy",
    "ZeroGradientError",
    "build_mlp",
    "can_build",
    "datasets",
    "default_init",
    "fit",
    "gradcheck",
    "gradient_norms",
    "init_weights",
    "load",
    "loss_for",
    "save",
    "score",
]
