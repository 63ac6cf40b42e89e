"""The original ONNX model kept beside the IR, so onnxruntime can re-check any answer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pyomo_nn.ir.scaling import Scaling


@dataclass(eq=False)
class OnnxSource:
    """Bytes of the source model plus the names needed to run it on a flat input.

    ``input_shape`` is the full ONNX input shape with any symbolic batch dimension set to 1,
    so one sample fills it exactly. ``logits_name`` is the tensor the IR's output stands for;
    when it is not a graph output (a classifier ending in softmax, ArgMax or ZipMap) it is
    exposed as an extra
    output for the re-check, leaving every computation of the original graph unchanged.
    """

    model_bytes: bytes = field(repr=False)
    path: str | None
    input_name: str
    input_shape: tuple[int, ...]
    input_dtype: np.dtype
    logits_name: str
    _session: object | None = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, object]:
        """Everything but the onnxruntime session, which cannot be pickled or copied: a
        pickled or copied source opens its own session on first use."""
        return {**self.__dict__, "_session": None}

    def run(self, x: np.ndarray) -> np.ndarray:
        """Logits computed by onnxruntime for a batch of flat inputs, shape (batch, n_out)."""
        session = self._inference_session()
        batch = np.asarray(x).reshape(-1, int(np.prod(self.input_shape)))
        outputs = []
        for row in batch:
            feed = {self.input_name: row.reshape(self.input_shape).astype(self.input_dtype)}
            (logits,) = session.run([self.logits_name], feed)
            outputs.append(np.asarray(logits, dtype=np.float64).ravel())
        return np.stack(outputs)

    def _inference_session(self) -> object:
        if self._session is None:
            import onnx
            import onnxruntime

            model = onnx.load_from_string(self.model_bytes)
            if self.logits_name not in {output.name for output in model.graph.output}:
                model.graph.output.append(onnx.ValueInfoProto(name=self.logits_name))
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            options.log_severity_level = 3
            self._session = onnxruntime.InferenceSession(
                model.SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
        return self._session


@dataclass(eq=False)
class ScaledSource:
    """The reference of a scaled network (:meth:`~pyomo_nn.ir.Network.scaled`): the original
    source run by onnxruntime on ``(x - input_offset) / input_factor``, its outputs mapped to
    ``y * output_factor + output_offset`` (both in float64 around the original file), so an
    answer in the user's units is re-checked against the very file that was loaded."""

    original: OnnxSource | ScaledSource
    scaling: Scaling

    @property
    def path(self) -> str | None:
        return self.original.path

    def run(self, x: np.ndarray) -> np.ndarray:
        """Outputs in the user's units for a batch of flat inputs in the user's units."""
        return self.scaling.from_network(self.original.run(self.scaling.to_network(x)))
