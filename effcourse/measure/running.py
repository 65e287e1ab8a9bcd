"""Running TFLite models: interpreter, predictions, accuracy and latency.

Taught in: chapters/ch02_compression/02_quantizing_a_model
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from effcourse import sealed
from effcourse.measure.counting import _keras, _model_inputs

# --------------------------------------------------------------------------------------------
# TFLite: interpreter, predictions, accuracy
# --------------------------------------------------------------------------------------------


def interpreter(tflite_model: Any, *, num_threads: int | None = None):
    """A LiteRT interpreter with tensors allocated: :func:`effcourse.deploy.tflite.interpreter`.

    Kept here so that measuring code reads ``measure.interpreter(...)``; an interpreter is
    returned as it is.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    from effcourse.measure.counting import keras3_message

    if not _is_interpreter(tflite_model) and keras3_message(tflite_model, "interpreter"):
        raise TypeError(keras3_message(tflite_model, "interpreter"))
    if not _is_interpreter(tflite_model) and _is_keras_model(tflite_model):
        raise TypeError(
            "expected TFLite bytes, a .tflite path or an interpreter, got a Keras model: "
            "convert it to TFLite first (effcourse.deploy.tflite.convert)"
        )
    from effcourse.deploy import tflite

    return tflite.interpreter(tflite_model, num_threads=num_threads)


def _is_interpreter(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("get_input_details", "get_output_details", "invoke", "set_tensor"))


def _is_keras_model(obj: Any) -> bool:
    try:
        return isinstance(obj, _keras().Model)
    except ImportError:
        return False


def _quantize_input(x: np.ndarray, detail: dict) -> np.ndarray:
    dtype = np.dtype(detail["dtype"])
    if not np.issubdtype(dtype, np.integer):
        return x.astype(dtype, copy=False)
    scale, zero_point = detail["quantization"]
    if not scale:
        # an integer input that is not quantized holds ids (token ids for an Embedding): pass them as they are
        values = np.asarray(x)
        if not np.issubdtype(values.dtype, np.integer) and not np.all(np.round(values) == values):
            raise ValueError(
                f"the model's input is {dtype.name} ids (not quantized): x must hold whole numbers, "
                f"got values such as {values.ravel()[0]!r}"
            )
        return values.astype(dtype)
    info = np.iinfo(dtype)
    q = np.round(np.asarray(x, dtype=np.float64) / scale + zero_point)
    return np.clip(q, info.min, info.max).astype(dtype)


@sealed.reference("ch02_compression/02_quantizing_a_model:tflite_predict")
def _dequantize_output(q: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if np.issubdtype(q.dtype, np.integer) and scale:
        return (q.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)
    return q.astype(np.float32, copy=False)


def _check_input(x: np.ndarray, detail: dict) -> None:
    expected = [int(d) for d in detail.get("shape_signature", detail["shape"])][1:]
    got = list(x.shape[1:])
    ok = len(expected) == len(got) and all(e in (-1, g) for e, g in zip(expected, got))
    if not ok:
        want = "(N, " + ", ".join("?" if e == -1 else str(e) for e in expected) + ")"
        hint = ""
        if len(expected) == len(got) + 1 and expected[-1] == 1:
            hint = ": add the channel axis with x[..., None]"
        elif len(expected) + 1 == len(got) and got[-1] == 1:
            hint = ": drop the channel axis with x[..., 0]"
        raise ValueError(f"x has shape {tuple(x.shape)} but the model expects {want}{hint}")


def _require_single_output(interp: Any, fn: str) -> None:
    outputs = interp.get_output_details()
    if len(outputs) != 1:
        raise ValueError(
            f"{fn} handles models with one output; this one has {len(outputs)} "
            f"({', '.join(repr(d['name']) for d in outputs)}), and TFLite may store them in another "
            "order than Keras returns them. Convert one model per output, e.g. "
            "keras.Model(model.inputs, model.outputs[i]), and run each"
        )


@sealed.reference("ch02_compression/02_quantizing_a_model:tflite_predict")
def _run(interp: Any, x: np.ndarray) -> np.ndarray:
    """One invoke on batch x (already checked); returns the dequantized output."""
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    if tuple(inp["shape"]) != tuple(x.shape):
        interp.resize_tensor_input(inp["index"], list(x.shape))
        interp.allocate_tensors()
        inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    interp.set_tensor(inp["index"], _quantize_input(x, inp))
    interp.invoke()
    y = interp.get_tensor(out["index"])
    if y.shape[0] != x.shape[0]:
        raise ValueError(
            f"the TFLite model returned {y.shape[0]} rows for a batch of {x.shape[0]}: it was "
            f"converted for a fixed batch size; use batch_size={y.shape[0] if y.shape[0] else 1} "
            f"or convert with a None batch dimension"
        )
    return _dequantize_output(y, out)


@sealed.reference("ch02_compression/02_quantizing_a_model:tflite_predict")
def tflite_predict(tflite_model: Any, x: Any, *, batch_size: int = 1) -> np.ndarray:
    """Run a TFLite model on float inputs and return float outputs.

    When the model's input tensor is integer (int8/uint8/int16), ``x`` is quantized with the
    scale and zero point the interpreter reports (``q = round(x / scale + zero_point)``,
    clipped to the type's range); integer outputs are dequantized the same way
    (``(q - zero_point) * scale``). Nothing is hard-coded, so the same call serves float,
    dynamic-range, float16 and full-integer models.

    Example:
        >>> probs = tflite_predict(tflite_model, x_test[:10])   # doctest: +SKIP
        >>> probs.shape                                         # doctest: +SKIP
        (10, 10)

    Args:
        tflite_model: TFLite bytes, a ``.tflite`` path, or an ``ai_edge_litert`` Interpreter.
        x: inputs with a batch dimension first, shaped like the model's input.
        batch_size: examples per ``invoke()``; models converted with a fixed batch of 1 need 1.

    Returns:
        The (dequantized) float32 outputs, shape ``(N, ...)``.

    Raises:
        ValueError: ``x``'s shape does not match the model's input (the message says what the
            model expects), the model has several inputs or several outputs (TFLite may store
            outputs in another order than Keras: convert one model per output), or ``batch_size``
            is not positive.
        TypeError: ``tflite_model`` is not TFLite bytes, a path or an interpreter.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    from effcourse.progress import progress

    interp = interpreter(tflite_model)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if len(interp.get_input_details()) != 1:
        raise ValueError(
            f"tflite_predict handles models with one input; this one has {len(interp.get_input_details())}"
        )
    _require_single_output(interp, "tflite_predict")
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must hold at least one example with a batch dimension first, got shape {x.shape}")
    _check_input(x, interp.get_input_details()[0])
    starts = range(0, len(x), int(batch_size))
    outputs = [
        _run(interp, x[i : i + batch_size]) for i in progress(starts, desc="TFLite", total=len(starts), leave=False)
    ]
    return np.concatenate(outputs, axis=0)


@sealed.reference("ch02_compression/02_quantizing_a_model:tflite_accuracy")
def tflite_accuracy(tflite_model: Any, x: Any, y: Any, *, batch_size: int = 1) -> float:
    """Accuracy of a TFLite model on float inputs ``x`` and labels ``y``.

    Runs :func:`tflite_predict` (inputs quantized and outputs dequantized with the
    interpreter's own scale and zero point) and compares the argmax over the last output axis
    with the labels. ``y`` may be class ids shaped ``(N,)`` or ``(N, 1)``, one-hot ``(N, C)``,
    or per-pixel labels such as masks ``(N, H, W, 1)`` (then it is pixel accuracy). A model
    with a single output unit is read as a probability thresholded at 0.5.

    Example:
        >>> tflite_accuracy(int8_model, x_test, y_test)   # doctest: +SKIP
        0.97

    Args:
        tflite_model: TFLite bytes, a ``.tflite`` path, or an ``ai_edge_litert`` Interpreter.
        x: float inputs shaped like the model's input, batch first.
        y: labels (see above).
        batch_size: examples per ``invoke()``.

    Returns:
        The fraction of correct predictions, a float in [0, 1].

    Raises:
        ValueError: shapes of ``x``/``y`` do not fit the model or each other.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    y = np.asarray(y)
    x = np.asarray(x)
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} examples but y has {len(y)} labels")
    outputs = tflite_predict(tflite_model, x, batch_size=batch_size)
    if outputs.shape[-1] == 1:
        predicted = (outputs[..., 0] > 0.5).astype(np.int64)
    else:
        predicted = outputs.argmax(axis=-1)
    if y.shape == outputs.shape and outputs.shape[-1] > 1:
        labels = y.argmax(axis=-1)
    elif y.ndim == predicted.ndim + 1 and y.shape[-1] == 1:
        labels = y[..., 0]
    else:
        labels = y
    if labels.shape != predicted.shape:
        raise ValueError(
            f"labels of shape {y.shape} do not match the model's predictions of shape "
            f"{predicted.shape} (outputs {outputs.shape}): give class ids (N,), (N, 1) or one-hot (N, C)"
        )
    return float(np.mean(predicted == labels))


# --------------------------------------------------------------------------------------------
# Latency
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """Timings of repeated runs, in milliseconds (median is the headline figure).

    Example:
        >>> print(Latency(1.234, 1.1, 1.4, 1.25, 0.1, 50, 1))
        1.23 ms (p10 1.10, p90 1.40, n=50)

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """

    median_ms: float
    p10_ms: float
    p90_ms: float
    mean_ms: float
    std_ms: float
    repeats: int
    batch_size: int

    def __str__(self) -> str:
        batch = f", batch {self.batch_size}" if self.batch_size != 1 else ""
        return f"{_ms(self.median_ms)} ms (p10 {_ms(self.p10_ms)}, p90 {_ms(self.p90_ms)}, n={self.repeats}{batch})"


def _ms(value: float) -> str:
    """Two decimals, or two significant digits below 0.1 ms (so 4 us does not print as 0.00)."""
    return f"{value:.2f}" if abs(value) >= 0.1 or value == 0 else f"{value:.2g}"


def latency(target: Any, x: Any, *, warmup: int = 5, repeats: int = 50, batch_size: int | None = None) -> Latency:
    """Time one inference on a batch: warm-up runs, then ``repeats`` timed runs.

    * Keras model: ``model(x, training=False)`` inside a ``tf.function`` (traced during the
      warm-up), the way a served model runs — eager Keras adds Python overhead that would
      swamp a small model's compute. The output is read back (``.numpy()``) inside the timing.
    * TFLite bytes or an ``ai_edge_litert`` Interpreter: ``set_tensor`` + ``invoke()`` +
      ``get_tensor``; a float ``x`` is quantized first (outside the timing) with the input
      tensor's scale and zero point when the input is integer, and the input tensor is
      resized to the batch when needed.

    Each run is timed with ``time.perf_counter_ns``. On a shared machine timings are noisy:
    compare medians, and look at the p10-p90 spread before believing a small difference.

    Example:
        >>> t = latency(model, x_test[:1], repeats=20)   # doctest: +SKIP
        >>> print(t)                                     # doctest: +SKIP
        0.41 ms (p10 0.39, p90 0.47, n=20)

    Args:
        target: a Keras model, TFLite bytes, a ``.tflite`` path, or an Interpreter.
        x: one batch of inputs (batch first).
        warmup: untimed runs first (caches, tracing, memory allocation).
        repeats: timed runs (at least 1).
        batch_size: take the first ``batch_size`` examples of ``x``; None uses all of ``x``.

    Returns:
        A :class:`Latency` with median, p10, p90, mean and standard deviation in ms.

    Raises:
        TypeError: ``target`` is not a Keras model, TFLite bytes/path or interpreter.
        ValueError: bad ``warmup``/``repeats``/``batch_size``, or ``x`` does not fit the model.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    for name, value, low in (("warmup", warmup, 0), ("repeats", repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must be a batch with at least one example, got shape {x.shape}")
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        if batch_size > len(x):
            raise ValueError(f"batch_size={batch_size} but x has only {len(x)} examples")
        x = x[:batch_size]
    if _is_keras_model(target):
        run = _keras_runner(target, x)
    elif _is_interpreter(target) or isinstance(target, (bytes, bytearray, memoryview, str, os.PathLike)):
        run = _tflite_runner(interpreter(target), x)
    else:
        from effcourse.measure.counting import keras3_message

        raise TypeError(
            keras3_message(target, "latency")
            or f"latency needs a Keras model, TFLite bytes, a .tflite path or an ai_edge_litert "
            f"Interpreter, got {type(target).__name__}"
        )
    for _ in range(warmup):
        run()
    times = np.empty(int(repeats), dtype=np.float64)
    for i in range(int(repeats)):
        start = time.perf_counter_ns()
        run()
        times[i] = (time.perf_counter_ns() - start) / 1e6
    return Latency(
        median_ms=float(np.median(times)),
        p10_ms=float(np.percentile(times, 10)),
        p90_ms=float(np.percentile(times, 90)),
        mean_ms=float(times.mean()),
        std_ms=float(times.std()),
        repeats=int(repeats),
        batch_size=int(len(x)),
    )


def _keras_runner(model: Any, x: np.ndarray) -> Callable[[], Any]:
    from effcourse.compat import tf

    inputs = _model_inputs(model)
    dtype = inputs[0].dtype if inputs else tf.float32
    tensor = tf.constant(x, dtype=dtype)

    @tf.function
    def forward(t):
        return model(t, training=False)

    try:
        forward(tensor)
    except (ValueError, TypeError, tf.errors.InvalidArgumentError) as err:
        raise ValueError(f"the model cannot run on x of shape {x.shape}: {err}") from err

    def run() -> Any:
        out = forward(tensor)
        return tf.nest.map_structure(lambda t: t.numpy(), out)

    return run


def _tflite_runner(interp: Any, x: np.ndarray) -> Callable[[], Any]:
    details = interp.get_input_details()
    if len(details) != 1:
        raise ValueError(f"latency handles TFLite models with one input; this one has {len(details)}")
    _check_input(x, details[0])
    inp = details[0]
    if tuple(inp["shape"]) != tuple(x.shape):  # resize and allocate (not via _run: a sealed reference)
        interp.resize_tensor_input(inp["index"], list(x.shape))
        interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    q = _quantize_input(x, inp)
    index_in, index_out = inp["index"], out["index"]

    def run() -> Any:
        interp.set_tensor(index_in, q)
        interp.invoke()
        return interp.get_tensor(index_out)

    return run


# --------------------------------------------------------------------------------------------
# Interleaved latency: several variants, measured round by round
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatencyComparison:
    """Interleaved timings of one variant: the median of each round and their spread, in ms.

    ``median_ms`` is the median over rounds of the per-round medians; ``low_ms``/``high_ms``
    are the smallest and largest round medians (the spread a reader should compare against).
    ``times_ms`` keeps every timed run (round by round, warm-up runs excluded), so a
    distribution can be plotted and tail percentiles read: :meth:`percentile` and ``p90_ms``
    pool the runs of all rounds (NumPy's default linear interpolation).

    Example:
        >>> print(LatencyComparison(1.2, 1.1, 1.4, (1.1, 1.2, 1.4), 50))
        1.20 ms (rounds 1.10-1.40, 3 rounds x 50)

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """

    median_ms: float
    low_ms: float
    high_ms: float
    round_medians_ms: tuple[float, ...]
    repeats: int
    times_ms: tuple[float, ...] = ()

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100) of all timed runs, in ms (linear interpolation).

        Raises:
            ValueError: no runs were kept (``times_ms`` is empty) or ``q`` is outside 0..100.
        """
        if not self.times_ms:
            raise ValueError("this LatencyComparison kept no individual runs (times_ms is empty)")
        if not 0 <= float(q) <= 100:
            raise ValueError(f"q must be a percentile between 0 and 100, got {q!r}")
        return float(np.percentile(np.asarray(self.times_ms), float(q)))

    @property
    def p90_ms(self) -> float:
        """The 90th percentile of all timed runs (the tail a user notices), in ms."""
        return self.percentile(90)

    @property
    def spread_ms(self) -> float:
        """``high_ms - low_ms``: differences smaller than this are noise."""
        return self.high_ms - self.low_ms

    def __str__(self) -> str:
        return (
            f"{_ms(self.median_ms)} ms (rounds {_ms(self.low_ms)}-{_ms(self.high_ms)}, "
            f"{len(self.round_medians_ms)} rounds x {self.repeats})"
        )


def compare_latency(
    targets: dict[str, Any], x: Any, *, rounds: int = 5, repeats: int = 20, warmup: int = 5, seed: int = 0
) -> dict[str, LatencyComparison]:
    """Time several models on the same input in interleaved rounds.

    Timing one model after the other lets a load spike (another process, a frequency change)
    land on one model only and be read as a property of that model. Here every round times
    every variant (``repeats`` runs each, in a shuffled order per round), so a spike hits all
    variants alike or shows as a spread between rounds. Each variant is prepared as in
    :func:`latency` (Keras model in a ``tf.function``; TFLite via ``set_tensor`` + ``invoke``
    + ``get_tensor``, with float inputs quantized outside the timing) and warmed up first.

    Example:
        >>> times = compare_latency({"float": float_model, "int8": int8_model}, x_test[:1])  # doctest: +SKIP
        >>> print(times["int8"])                                                              # doctest: +SKIP
        0.05 ms (rounds 0.048-0.061, 5 rounds x 20)

    Args:
        targets: name -> Keras model, TFLite bytes, ``.tflite`` path or Interpreter.
        x: one batch of inputs (batch first), the same for every variant.
        rounds: interleaved rounds (at least 3, so a spread exists).
        repeats: timed runs of each variant per round.
        warmup: untimed runs of each variant before the first round.
        seed: seed of the per-round shuffling of the order.

    Returns:
        name -> :class:`LatencyComparison` (median of the round medians and their range, ms,
        and every timed run in ``times_ms``), in the order of ``targets``.

    Raises:
        ValueError: ``targets`` is empty, bad ``rounds``/``repeats``/``warmup``, or ``x`` does
            not fit a model.
        TypeError: a target is not a Keras model, TFLite bytes/path or interpreter.

    Taught in: chapters/ch02_compression/02_quantizing_a_model
    """
    if not isinstance(targets, dict) or not targets:
        raise ValueError("targets must be a non-empty dict name -> model")
    for name, value, low in (("rounds", rounds, 3), ("repeats", repeats, 1), ("warmup", warmup, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    x = np.asarray(x)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must be a batch with at least one example, got shape {x.shape}")
    runners: dict[str, Callable[[], Any]] = {}
    for name, target in targets.items():
        if _is_keras_model(target):
            runners[name] = _keras_runner(target, x)
        elif _is_interpreter(target) or isinstance(target, (bytes, bytearray, memoryview, str, os.PathLike)):
            runners[name] = _tflite_runner(interpreter(target), x)
        else:
            raise TypeError(
                f"compare_latency: {name!r} is a {type(target).__name__}; give Keras models, TFLite "
                f"bytes, .tflite paths or ai_edge_litert Interpreters"
            )
    for run in runners.values():
        for _ in range(int(warmup)):
            run()
    names = list(runners)
    rng = np.random.default_rng(seed)
    medians: dict[str, list[float]] = {name: [] for name in names}
    every: dict[str, list[float]] = {name: [] for name in names}
    times = np.empty(int(repeats), dtype=np.float64)
    for _ in range(int(rounds)):
        for i in rng.permutation(len(names)):
            run = runners[names[i]]
            for r in range(int(repeats)):
                start = time.perf_counter_ns()
                run()
                times[r] = (time.perf_counter_ns() - start) / 1e6
            medians[names[i]].append(float(np.median(times)))
            every[names[i]].extend(float(t) for t in times)
    return {
        name: LatencyComparison(
            median_ms=float(np.median(medians[name])),
            low_ms=float(min(medians[name])),
            high_ms=float(max(medians[name])),
            round_medians_ms=tuple(medians[name]),
            repeats=int(repeats),
            times_ms=tuple(every[name]),
        )
        for name in names
    }
