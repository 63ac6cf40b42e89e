"""What every trained model of this package shares (a :class:`Fit`, a pairwise ensemble, a
batch ensemble): it is an op sequence ``steps()`` over ``n_inputs`` features whose output's
argmax indexes ``classes``, so predicting, scoring and exporting are the same for all."""

from __future__ import annotations

import os

import numpy as np

from pyomo_nn.training.export import run_steps, write_onnx
from pyomo_nn.training.spec import check_features, classification_accuracy


class StepsClassifier:
    """Base of the trained models: subclasses give ``classes``, ``n_inputs`` and ``steps()``."""

    classes: np.ndarray
    n_inputs: int

    def steps(self) -> list:
        raise NotImplementedError

    def scores(self, X: object) -> np.ndarray:
        """The exported output, one row per sample (what the ONNX file computes)."""
        return run_steps(self.steps(), check_features(X, self.n_inputs))

    def predict(self, X: object) -> np.ndarray:
        """Predicted class labels (argmax of the scores, the first on ties)."""
        return self.classes[np.argmax(self.scores(X), axis=1)]

    def accuracy(self, X: object, y: object) -> float:
        """Fraction of the samples classified right."""
        return classification_accuracy(self.predict, check_features(X, self.n_inputs), y)

    def to_onnx(self, path: str | os.PathLike[str]) -> None:
        """One ONNX model with standard operators whose output's argmax is the class index."""
        write_onnx(self.steps(), path)
