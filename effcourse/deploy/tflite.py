"""Convert Keras models to TensorFlow Lite (LiteRT) and look inside the result.

Four conversion modes, in the order the course teaches them:

================  ==========================  =====================  ===========================
mode              weights stored as           activations computed   needs
================  ==========================  =====================  ===========================
``"float"``       float32                     float32                nothing
``"dynamic"``     int8 (per channel)          float32 (int8 where    nothing
                                              kernels allow it)
``"float16"``     float16                     float32                nothing
``"int8"``        int8                        int8, int8 input and   a representative dataset
                                              output tensors         (to calibrate activations)
================  ==========================  =====================  ===========================

Example:
    >>> from effcourse.deploy import tflite
    >>> tflite_model = tflite.convert(model, "int8",   # doctest: +SKIP
    ...                               representative_dataset=tflite.representative_dataset(x_train))
    >>> tflite.io_details(tflite_model)["input"]["dtype"]   # doctest: +SKIP
    'int8'

The converter path is ``TFLiteConverter.from_concrete_functions`` with a batch-1 signature,
because a fixed batch of one is what a phone or a microcontroller runs (TFLite Micro needs fixed
shapes). ``from_keras_model`` works too with Keras 2 (``tf_keras`` 2.21) models, plain and
tfmot-wrapped, but leaves the batch dimension open (``shape_signature`` -1); it fails only when
the model has no known input shape (a subclassed model never called). Models are interpreted with LiteRT
(``ai_edge_litert``), the successor of ``tf.lite.Interpreter``.

Taught in: chapters/ch02_compression/02_quantizing_a_model
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Union

import numpy as np

from effcourse._native import fd2_captured

MODES = ("float", "dynamic", "float16", "int8")

TFLiteSource = Union[bytes, bytearray, str, "os.PathLike[str]"]
RepresentativeDataset = Callable[[], Iterator[list]]


def representative_dataset(x: Any, num_samples: int = 100, *, seed: int | None = 0) -> RepresentativeDataset:
    """A representative-dataset generator function for the int8 converter.

    The converter calls the returned function once and runs the float model on every item it
    yields, recording the range of every activation tensor; those ranges become the int8
    scales and zero points. Each item is a list holding one float32 batch of one example
    (shape ``(1, *x.shape[1:])``), matching the batch-1 signature :func:`convert` uses.
    Examples are drawn without replacement from ``x`` (a random subset when ``seed`` is an
    int, the first ``num_samples`` when ``seed`` is None).

    Example:
        >>> x = np.random.rand(500, 16, 16, 1).astype("float32")
        >>> gen = representative_dataset(x, num_samples=10)
        >>> batches = [item[0] for item in gen()]
        >>> len(batches), batches[0].shape, batches[0].dtype
        (10, (1, 16, 16, 1), dtype('float32'))

    Caveats:
        Feed inputs preprocessed exactly as at inference time (same scaling). A hundred
        examples usually calibrate a small model well; when ``x`` has fewer, all are used.

    Args:
        x: the inputs, an array-like of shape ``(N, ...)`` with ``N >= 1``.
        num_samples: how many examples to yield (a positive int).
        seed: seed of the random subset, or None for the first ``num_samples`` examples.

    Returns:
        A function with no arguments that returns a fresh generator of ``[batch]`` lists each
        time it is called (the converter may call it more than once).

    Raises:
        ValueError: ``x`` is empty or a scalar per example is missing (``x.ndim < 2``), or
            ``num_samples`` is not a positive int.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
    data = np.asarray(x)
    if data.ndim < 2 or data.shape[0] == 0:
        raise ValueError(
            f"x must be a batch of examples of shape (N, ...) with N >= 1, got shape {data.shape}; "
            "pass x_train (not a single example)"
        )
    if not np.issubdtype(data.dtype, np.number):
        raise ValueError(f"x must hold numbers, got dtype {data.dtype}")
    count = min(int(num_samples), data.shape[0])
    if seed is None:
        indices = np.arange(count)
    else:
        indices = np.random.default_rng(seed).choice(data.shape[0], size=count, replace=False)
    samples = data[indices].astype(np.float32)

    def generate() -> Iterator[list]:
        for i in range(count):
            yield [samples[i : i + 1]]

    return generate


_representative_dataset = representative_dataset  # convert()'s argument shadows the name


def _input_shape(model: Any, input_shape: Sequence[int] | None) -> tuple[int, ...]:
    if input_shape is not None:
        shape = tuple(int(d) for d in input_shape)
        if not shape or any(d < 1 for d in shape):
            raise ValueError(
                f"input_shape must be the shape of one example without the batch axis, got {input_shape!r}"
            )
        return shape
    try:
        full = model.input_shape
    except (AttributeError, ValueError) as err:
        raise ValueError(
            "the model has no known input shape (it was never built or called); pass "
            "input_shape=(H, W, C) for one example, without the batch axis"
        ) from err
    if isinstance(full, list):
        raise ValueError(f"the model has {len(full)} inputs; convert() handles models with one input")
    shape = tuple(full[1:])
    if any(d is None for d in shape):
        raise ValueError(
            f"the model's input shape {full} has unknown dimensions; pass input_shape= with every "
            "dimension of one example"
        )
    return shape


def convert(
    model: Any,
    mode: str = "float",
    *,
    representative_dataset: RepresentativeDataset | np.ndarray | None = None,
    input_shape: Sequence[int] | None = None,
    quiet: bool = True,
) -> bytes:
    """Convert a Keras model to a TensorFlow Lite flatbuffer, optionally quantized.

    The model is traced with a batch-1 float32 signature (``(1, *input_shape)``) and converted
    with ``tf.lite.TFLiteConverter.from_concrete_functions``. The modes:

    - ``"float"``: no optimization; float32 weights and arithmetic.
    - ``"dynamic"``: dynamic-range quantization, ``optimizations=[Optimize.DEFAULT]`` — int8
      weights, float32 activations quantized on the fly inside kernels that support it.
    - ``"float16"``: float16 weights (``supported_types=[tf.float16]``), dequantized to float32
      when the model is loaded.
    - ``"int8"``: full-integer quantization — int8 weights and activations, calibrated on
      ``representative_dataset``; the input and output tensors are int8 too
      (``inference_input_type = inference_output_type = tf.int8``), so callers quantize their
      inputs with the input tensor's scale and zero point and dequantize the outputs (see
      :func:`io_details`). Works for quantization-aware-trained (tfmot) models as well.

    Example:
        >>> tflite_model = convert(model, "dynamic")          # doctest: +SKIP
        >>> int8_model = convert(model, "int8", representative_dataset=x_train[:100])  # doctest: +SKIP

    Caveats:
        Only single-input models. The batch size of the converted model is 1; run batches by
        looping or ``resize_tensor_input``. The MLIR converter writes progress lines straight
        to the process's stderr (file descriptor 2), which Jupyter shows as red output and
        ``nbgrader`` counts as a failed test cell; with ``quiet=True`` they are captured and
        shown only if the conversion fails (as a note on the exception).

    Args:
        model: a built Keras 2 model (``effcourse.compat.keras``), including tfmot-wrapped ones.
        mode: one of ``"float"``, ``"dynamic"``, ``"float16"``, ``"int8"``.
        representative_dataset: for ``"int8"``, a generator function such as
            :func:`representative_dataset` returns, or an array of inputs (``(N, ...)``),
            which is wrapped with :func:`representative_dataset` (100 samples). The other
            modes take none: passing one is an error, to catch a mode mix-up.
        input_shape: shape of one example without the batch axis; defaults to the model's.
        quiet: capture the converter's native stderr output (see Caveats).

    Returns:
        The flatbuffer as ``bytes``.

    Raises:
        ValueError: an unknown ``mode``; ``"int8"`` without a representative dataset; a
            representative dataset for a mode that does not use it; an unknown input shape.
        TypeError: ``model`` is not a Keras model or a callable TensorFlow module.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(map(repr, MODES))}")
    if mode == "int8" and representative_dataset is None:
        raise ValueError(
            "full-integer (int8) conversion needs a representative dataset to calibrate the "
            "activation ranges: pass representative_dataset=effcourse.deploy.tflite."
            "representative_dataset(x_train) (or an array of training inputs)"
        )
    if mode != "int8" and representative_dataset is not None:
        raise ValueError(
            f"mode {mode!r} does not use a representative dataset (only 'int8' does); "
            "drop the argument or use mode='int8'"
        )
    if not callable(model):
        raise TypeError(f"model must be a Keras model, got {type(model).__name__}")
    shape = _input_shape(model, input_shape)

    from effcourse.compat import tf

    @tf.function(input_signature=[tf.TensorSpec((1, *shape), tf.float32, name="input")])
    def serve(x):  # type: ignore[no-untyped-def]
        return model(x, training=False)

    rep = representative_dataset
    if rep is not None and not callable(rep):
        rep = _representative_dataset(rep)

    def run() -> bytes:
        converter = tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], model)
        if mode != "float":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if mode == "int8":
            converter.representative_dataset = rep
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        return bytes(converter.convert())

    if not quiet:
        return run()
    failure: Exception | None = None
    with fd2_captured() as log:
        try:
            flatbuffer = run()
        except Exception as err:  # re-raised below, unchanged, with the converter's log attached
            failure = err
    if failure is not None:
        text = "".join(log).strip()
        if text:
            failure.add_note("converter log (stderr):\n" + text[-4000:])
        raise failure
    return flatbuffer


def _content(tflite_model: TFLiteSource) -> bytes:
    if isinstance(tflite_model, (bytes, bytearray)):
        if len(tflite_model) < 8:
            raise ValueError(f"tflite_model is only {len(tflite_model)} bytes; expected a TFLite flatbuffer")
        return bytes(tflite_model)
    if isinstance(tflite_model, (str, os.PathLike)):
        path = Path(tflite_model)
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; pass the bytes convert() returned or a .tflite path")
        return path.read_bytes()
    raise TypeError(f"tflite_model must be TFLite bytes or a path to a .tflite file, got {type(tflite_model).__name__}")


def interpreter(tflite_model: TFLiteSource, *, num_threads: int | None = None) -> Any:
    """A LiteRT interpreter for a TFLite model, with its tensors allocated, ready to invoke.

    Example:
        >>> it = interpreter(tflite_model)                          # doctest: +SKIP
        >>> inp = it.get_input_details()[0]                          # doctest: +SKIP
        >>> it.set_tensor(inp["index"], x); it.invoke()              # doctest: +SKIP

    Args:
        tflite_model: the flatbuffer bytes (as :func:`convert` returns), a ``.tflite`` path, or
            an interpreter (returned as it is).
        num_threads: threads for the CPU kernels; None lets LiteRT choose.

    Returns:
        An ``ai_edge_litert.interpreter.Interpreter`` after ``allocate_tensors()``.

    Raises:
        TypeError: ``tflite_model`` is neither bytes nor a path.
        FileNotFoundError: the path does not exist.
        ValueError: the bytes are not a valid TFLite model.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    if _is_interpreter(tflite_model):
        return tflite_model
    content = _content(tflite_model)
    from ai_edge_litert.interpreter import Interpreter

    with fd2_captured():  # LiteRT announces its XNNPACK delegate on file descriptor 2
        try:
            it = Interpreter(model_content=content, num_threads=num_threads)
        except ValueError as err:
            raise ValueError(f"LiteRT could not load the model ({err}); pass the bytes convert() returned") from err
        it.allocate_tensors()
    return it


def _is_interpreter(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("get_input_details", "get_output_details", "invoke", "set_tensor"))


def _tensor_info(detail: dict[str, Any]) -> dict[str, Any]:
    params = detail.get("quantization_parameters", {})
    scales = np.asarray(params.get("scales", []), dtype=np.float64)
    zero_points = np.asarray(params.get("zero_points", []), dtype=np.int64)
    quantized = scales.size > 0 and bool(np.any(scales != 0))
    return {
        "name": detail["name"],
        "index": int(detail["index"]),
        "dtype": np.dtype(detail["dtype"]).name,
        "shape": tuple(int(d) for d in detail["shape"]),
        "quantized": quantized,
        "scale": float(scales[0]) if quantized else 0.0,
        "zero_point": int(zero_points[0]) if quantized and zero_points.size else 0,
    }


def io_details(tflite_model: Any) -> dict[str, dict[str, Any]]:
    """The dtype, shape, scale and zero point of a TFLite model's (first) input and output.

    A quantized tensor stores ``q = round(x / scale) + zero_point``; read it back as
    ``x ≈ scale * (q - zero_point)``. For a float tensor ``quantized`` is False and scale and
    zero point are 0 (LiteRT's convention).

    Example:
        >>> info = io_details(int8_model)                    # doctest: +SKIP
        >>> info["input"]["dtype"], info["input"]["scale"]   # doctest: +SKIP
        ('int8', 0.00392156...)

    Args:
        tflite_model: TFLite bytes, a ``.tflite`` path, or a LiteRT interpreter.

    Returns:
        ``{"input": {...}, "output": {...}}``, each with keys ``name``, ``index``, ``dtype``
        (a NumPy dtype name such as ``"int8"``), ``shape`` (tuple), ``quantized`` (bool),
        ``scale`` (float) and ``zero_point`` (int).

    Raises:
        TypeError, FileNotFoundError, ValueError: as :func:`interpreter`.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    it = tflite_model if hasattr(tflite_model, "get_input_details") else interpreter(tflite_model)
    return {
        "input": _tensor_info(it.get_input_details()[0]),
        "output": _tensor_info(it.get_output_details()[0]),
    }


__all__ = ["MODES", "convert", "representative_dataset", "interpreter", "io_details"]
