"""TensorFlow Lite for Microcontrollers (TFLM): run an int8 model, size its arena, export it as C.

A microcontroller has no file system and a few hundred kilobytes of memory. TFLM runs a
``.tflite`` flatbuffer compiled into the firmware as a constant byte array (flash) with every
tensor placed in one statically allocated *tensor arena* (RAM). This module gives the three
steps a deployment needs, checked from Python:

- :func:`predict` runs int8 inputs through the TFLM Python runtime
  (``tflite_micro.python.tflite_micro.runtime.Interpreter``), the same C++ kernels the
  firmware runs;
- :func:`arena_size` finds the smallest tensor arena the model runs in, by bisection;
- :func:`export_c_array` writes ``<name>_model_data.h/.cc`` (the flatbuffer as an aligned
  ``const unsigned char`` array) and ``model_settings.h`` (the preprocessing constants the
  firmware needs), generated in Python, without ``xxd``; :func:`read_c_array` parses it back.

``tflite-micro`` publishes wheels for Linux x86-64 only. Elsewhere :func:`available` returns
``False`` with the reason, and every function that needs the runtime raises a
:class:`RuntimeError` saying so; the notebook checks :func:`available` and skips its TFLM
sections with that message.

Example:
    >>> from effcourse.deploy import tfmicro
    >>> ok, why = tfmicro.available()
    >>> tfmicro.arena_size(tflite_model)            # doctest: +SKIP
    6480

Taught in: chapters/projects_tfmicro_speech/01_keyword_spotting
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from effcourse import sealed

__all__ = [
    "available",
    "interpreter",
    "predict",
    "litert_predict",
    "arena_size",
    "export_c_array",
    "read_c_array",
    "quantize_input",
]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TFLITE_IDENTIFIER = b"TFL3"


@functools.lru_cache(maxsize=1)
def available() -> tuple[bool, str]:
    """Whether the TFLM Python runtime (``pip install tflite-micro``) can be used here.

    Example:
        >>> ok, why = available()
        >>> isinstance(ok, bool) and isinstance(why, str)
        True

    Returns:
        ``(True, "")`` when ``tflite_micro``'s runtime imports, else ``(False, reason)``, a
        sentence to show the reader (the package is published for Linux x86-64 only).

    Taught in: chapters/projects_tfmicro_speech/01_keyword_spotting
    """
    try:
        from tflite_micro.python.tflite_micro import runtime  # noqa: F401
    except ImportError as exc:
        return False, (
            f"the TFLM Python runtime is not available on this machine ({sys.platform}): {exc}. "
            "tflite-micro publishes wheels for Linux x86-64 only (pip install tflite-micro); "
            "the TFLM sections are skipped here, the LiteRT ones still run."
        )
    return True, ""


def _runtime() -> Any:
    ok, why = available()
    if not ok:
        raise RuntimeError(why)
    from tflite_micro.python.tflite_micro import runtime

    return runtime


def _content(tflite_model: Any) -> bytes:
    if isinstance(tflite_model, (str, os.PathLike)):
        path = Path(tflite_model)
        if not path.is_file():
            raise FileNotFoundError(f"no TFLite file at {path}")
        tflite_model = path.read_bytes()
    if not isinstance(tflite_model, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"tflite_model must be the flatbuffer's bytes (from tflite.convert) or a path, got {type(tflite_model).__name__}"
        )
    content = bytes(tflite_model)
    if len(content) < 8 or content[4:8] != _TFLITE_IDENTIFIER:
        raise ValueError("tflite_model is not a TFLite flatbuffer (its bytes 4..8 are not b'TFL3')")
    return content


def interpreter(tflite_model: Any, *, arena_size: int | None = None) -> Any:
    """A TFLM interpreter for a flatbuffer, with a tensor arena of ``arena_size`` bytes.

    Example:
        >>> interp = interpreter(tflite_model, arena_size=16 * 1024)   # doctest: +SKIP

    Args:
        tflite_model: the ``.tflite`` bytes or a path to the file.
        arena_size: the tensor arena in bytes; None lets the runtime pick 10x the model size.

    Returns:
        A ``tflite_micro`` ``runtime.Interpreter`` (``set_input``, ``invoke``, ``get_output``).

    Raises:
        RuntimeError: the TFLM runtime is unavailable here, or the model does not fit in the
            arena (or uses an op TFLM lacks); the runtime's message is included.
        ValueError: not a flatbuffer, or ``arena_size`` is not a positive int.

    Taught in: chapters/projects_tfmicro_speech/01_keyword_spotting
    """
    content = _content(tflite_model)
    if arena_size is not None and (
        isinstance(arena_size, bool) or not isinstance(arena_size, (int, np.integer)) or arena_size <= 0
    ):
        raise ValueError(f"arena_size must be a positive int (bytes) or None, got {arena_size!r}")
    runtime = _runtime()
    try:
        return runtime.Interpreter.from_bytes(content, arena_size=None if arena_size is None else int(arena_size))
    except (RuntimeError, ValueError) as exc:
        raise RuntimeError(f"TFLM could not prepare the model with arena_size={arena_size}: {exc}") from exc


def predict(tflite_model: Any, x: Any, *, arena_size: int | None = None) -> np.ndarray:
    """Run a batch of already quantized inputs through TFLM, one example at a time.

    The model's input must be int8 or uint8 (a fully integer model); ``x`` holds the
    quantized values (quantize floats with the input tensor's scale and zero point first).
    The raw output tensors are returned, not dequantized, so that they can be compared
    exactly with LiteRT's.

    Example:
        >>> q = predict(tflite_model, x_int8)      # doctest: +SKIP
        >>> q.dtype, q.shape
        (dtype('int8'), (400, 8))

    Args:
        tflite_model: the ``.tflite`` bytes or a path.
        x: an array ``(N, *input_shape[1:])`` with the dtype of the model's input tensor.
        arena_size: the tensor arena in bytes (None: the runtime's default).

    Returns:
        ``(N, *output_shape[1:])`` array of the output tensor's dtype.

    Raises:
        RuntimeError: the TFLM runtime is unavailable, or the model does not fit the arena.
        TypeError: ``x`` is not of the input tensor's dtype (e.g. a float spectrogram).
        ValueError: ``x``'s shape does not match the input tensor.

    Taught in: chapters/projects_tfmicro_speech/01_keyword_spotting
    """
    interp = interpreter(tflite_model, arena_size=arena_size)
    detail = interp.get_input_details(0)
    dtype, shape = np.dtype(detail["dtype"]), tuple(int(s) for s in detail["shape"])
    x = np.asarray(x)
    if x.dtype != dtype:
        raise TypeError(
            f"x has dtype {x.dtype} but the model's input is {dtype}: quantize the inputs first "
            f"(q = clip(round(x / scale) + zero_point)) with the input tensor's scale and zero point"
        )
    if x.ndim == len(shape) - 1:
        x = x[None]
    if tuple(x.shape[1:]) != shape[1:]:
        raise ValueError(f"x has examples of shape {x.shape[1:]}, the model expects {shape[1:]}")
    outputs = []
    for example in x:
        interp.set_input(example.reshape(shape), 0)
        interp.invoke()
        outputs.append(np.array(interp.get_output(0)).reshape(-1))
        interp.reset()
    out_detail = interp.get_output_details(0)
    out_shape = tuple(int(s) for s in out_detail["shape"])[1:]
    return np.stack(outputs).reshape((len(x), *out_shape)).astype(np.dtype(out_detail["dtype"]))


def litert_predict(tflite_model: Any, x: Any, *, reference_kernels: bool = True) -> np.ndarray:
    """Run the same quantized inputs through LiteRT, returning the raw output tensors.

    The counterpart of :func:`predict` for the three-level check of TFLM's examples (Keras vs
    TFLite, LiteRT vs TFLM, the C array byte for byte). With ``reference_kernels=True``
    LiteRT uses its reference kernels (``OpResolverType.BUILTIN_REF``), the same integer
    arithmetic TFLM's kernels implement, so the int8 outputs are nearly always identical: of 12
    small conv+dense models (12x10 inputs, 20 random int8 inputs, 3 outputs each; 2026-12-03)
    one differed from TFLM by one step in one output of 60, a rounding tie the two runtimes
    resolve differently. LiteRT's optimized kernels (the default elsewhere) round some
    requantizations differently and differ by one step more often.

    Example:
        >>> np.array_equal(litert_predict(tflite_model, x_int8), predict(tflite_model, x_int8))  # doctest: +SKIP
        True

    Args:
        tflite_model: the ``.tflite`` bytes or a path.
        x: an array ``(N, *input_shape[1:])`` of the input tensor's dtype.
        reference_kernels: use LiteRT's reference kernels instead of its optimized ones.

    Returns:
        ``(N, *output_shape[1:])`` array of the output tensor's dtype.

    Raises:
        TypeError: ``x`` is not of the input tensor's dtype.
        ValueError: ``x``'s shape does not match the input tensor, or not a flatbuffer.

    Taught in: chapters/projects_tfmicro_speech/01_keyword_spotting
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from effcourse._native import fd2_captured

    content = _content(tflite_model)
    resolver = OpResolverType.BUILTIN_REF if reference_kernels else OpResolverType.AUTO
    with fd2_captured():
        interp = Interpreter(model_content=content, experimental_op_resolver_type=resolver)
        interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    shape = tuple(int(s) for s in inp["shape"])
    x = np.asarray(x)
    if x.dtype != np.dtype(inp["dtype"]):
        raise TypeError(f"x has dtype {x.dtype} but the model's input is {np.dtype(inp['dtype'])}: quantize it first")
    if x.ndim == len(shape) - 1:
        x = x[None]
    if tuple(x.shape[1:]) != shape[1:]:
        raise ValueError(f"x has examples of shape {x.shape[1:]}, the model expects {shape[1:]}")
    outputs = []
    for example in x:
        interp.set_tensor(inp["index"], example.reshape(shape))
        interp.invoke()
        outputs.append(interp.get_tensor(out["index"])[0].copy())
    return np.stack(outputs)


_BISECT = r"""
import sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime

content = open(sys.argv[1], "rb").read()
lo, hi, step = (int(v) for v in sys.argv[2:5])
example = None
def runs(size):
    global example
    interp = runtime.Interpreter.from_bytes(content, arena_size=size)
    if example is None:
        d = interp.get_input_details(0)
        example = np.zeros(tuple(int(s) for s in d["shape"]), dtype=d["dtype"])
    interp.set_input(example, 0)
    interp.invoke()
while lo < hi:
    mid = (lo + hi) // 2
    print("try", mid, flush=True)
    try:
        runs(mid * step)
        hi = mid
        print("ok", mid, flush=True)
    except (RuntimeError, ValueError):
        lo = mid + 1
        print("fail", mid, flush=True)
"""


def _bisect(content: bytes, lo: int, hi: int, step: int) -> int:
    """Bisect in units of ``step`` in child processes; a crash counts as "does not fit".

    Far too small arenas crash the TFLM runtime (a segmentation fault while it places its own
    bookkeeping, not a Python exception), so the tries run in a child Python; when the child
    dies, the size it was trying failed and a new child continues.
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="effcourse-arena-") as tmp:
        path = Path(tmp) / "model.tflite"
        path.write_bytes(content)
        while lo < hi:
            proc = subprocess.run(
                [sys.executable, "-c", _BISECT, str(path), str(lo), str(hi), str(step)],
                capture_output=True,
                text=True,
            )
            trying = None
            for line in proc.stdout.splitlines():
                word, _, value = line.partition(" ")
                if word == "try":
                    trying = int(value)
                elif word == "ok":
                    hi, trying = int(value), None
                elif word == "fail":
                    lo, trying = int(value) + 1, None
            if trying is not None:  # the child crashed while trying this size
                lo = trying + 1
            elif proc.returncode != 0:
                raise RuntimeError(f"the arena bisection failed: {proc.stderr.strip()[-500:]}")
    return hi


def arena_size(tflite_model: Any, *, low: int = 256, high: int = 1 << 20, step: int = 16) -> int:
    """The smallest tensor arena (bytes) the model is prepared and invoked in, by bisection.

    The tries run in a child Python process (see ``_bisect``): an arena far too small can
    crash the TFLM runtime outright instead of raising. Bisection over ``[low, high]`` in multiples of ``step`` on "``from_bytes`` + one
    ``invoke`` succeed" (which is monotonic in the arena size): about ``log2(high / step)``
    tries. The figure is what the firmware's ``constexpr int kTensorArenaSize`` needs on this
    build of TFLM (alignment and bookkeeping vary a little by platform and version: leave a
    margin of a few hundred bytes on the device, as TFLM's examples do).

    Example:
        >>> arena_size(tflite_model)           # doctest: +SKIP
        6480

    Args:
        tflite_model: the ``.tflite`` bytes or a path.
        low: a lower bound (bytes, > 0).
        high: an upper bound (bytes) that must be enough.
        step: granularity of the answer in bytes (TFLM aligns to 16).

    Returns:
        The smallest multiple of ``step`` in ``[low, high]`` that works.

    Raises:
        RuntimeError: the runtime is unavailable, or the model fails even with ``high`` bytes.
        ValueError: bad bounds.

    Taught in: chapters/projects_tfmicro_speech/01_keyword_spotting
    """
    content = _content(tflite_model)
    for label, value in (("low", low), ("high", high), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{label} must be a positive int, got {value!r}")
    if low > high:
        raise ValueError(f"low ({low}) must not exceed high ({high})")
    _runtime()  # a clear error where TFLM is unavailable
    lo, hi = -(-int(low) // step), int(high) // step  # in units of step
    # bisect over [lo, hi + 1): hi + 1 stands for "nothing up to high works" and is never tried
    found = _bisect(content, lo, hi + 1, int(step))
    if found > hi:
        raise RuntimeError(f"the model does not run even with a {high}-byte arena: raise high")
    return found * step


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{what} must be a C identifier (letters, digits, _; not starting with a digit), got {name!r}")
    return name


def _c_value(key: str, value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"setting {key}: use an int or a float, not a bool")
    if isinstance(value, (int, np.integer)):
        return f"constexpr int {key} = {int(value)};"
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise ValueError(f"setting {key} must be finite, got {value}")
        return f"constexpr float {key} = {float(value)!r}f;"
    raise TypeError(f"setting {key} must be an int or a float, got {type(value).__name__}")


def export_c_array(
    tflite_bytes: Any,
    name: str,
    out_dir: str | os.PathLike[str],
    *,
    settings: Mapping[str, int | float] | None = None,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write a flatbuffer as C++ source for TFLM firmware, plus ``model_settings.h``.

    Files written in ``out_dir`` (created if missing):

    - ``<name>_model_data.h``: ``extern const unsigned char g_<name>_model_data[];`` and
      ``constexpr unsigned int g_<name>_model_data_size = <bytes>;``
    - ``<name>_model_data.cc``: ``alignas(16) const unsigned char g_<name>_model_data[] =
      {0x.., ...};`` (12 bytes a line). The alignment lets TFLM read the flatbuffer in place.
    - ``model_settings.h``: one ``constexpr`` per entry of ``settings`` (ints as ``int``,
      floats as ``float``), e.g. ``kFeatureCount``, ``kInputScale``: the constants the
      firmware's preprocessing must share with the training pipeline.

    This is what ``xxd -i model.tflite`` does, with the alignment and the naming of TFLM's
    examples (``micro_speech``'s ``g_micro_speech_model_data``).

    Example:
        >>> paths = export_c_array(tflite_model, "kws", "firmware",
        ...                        settings={"kFeatureCount": 49})   # doctest: +SKIP
        >>> sorted(p.name for p in paths.values())                   # doctest: +SKIP
        ['kws_model_data.cc', 'kws_model_data.h', 'model_settings.h']

    Args:
        tflite_bytes: the ``.tflite`` flatbuffer (bytes or a path).
        name: a C identifier, the stem of the file and array names.
        out_dir: the folder to write to.
        settings: constant name (a C identifier) -> int or float; may be empty.
        overwrite: replace existing files (otherwise an existing file is an error).

    Returns:
        ``{"header": Path, "source": Path, "settings": Path}``.

    Raises:
        FileExistsError: one of the files exists and ``overwrite`` is False (nothing is written).
        ValueError: not a flatbuffer, or a name is not a C identifier.
        TypeError: a setting is neither an int nor a float.

    Taught in: chapters/projects_tfmicro_speech/01_keyword_spotting
    """
    content = _content(tflite_bytes)
    name = _check_name(name, "name")
    lines = []
    for key, value in dict(settings or {}).items():
        lines.append(_c_value(_check_name(key, "a setting's name"), value))
    out = Path(out_dir)
    paths = {
        "header": out / f"{name}_model_data.h",
        "source": out / f"{name}_model_data.cc",
        "settings": out / "model_settings.h",
    }
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"refusing to overwrite {', '.join(existing)}: pass overwrite=True to replace them")
    array, guard = f"g_{name}_model_data", f"{name.upper()}_MODEL_DATA_H_"
    header = (
        f"// The TFLite flatbuffer of '{name}' as a C array; generated by effcourse.deploy.tfmicro.\n"
        f"#ifndef {guard}\n#define {guard}\n\n"
        f"extern const unsigned char {array}[];\n"
        f"constexpr unsigned int {array}_size = {len(content)};\n\n"
        f"#endif  // {guard}\n"
    )
    rows = [", ".join(f"0x{b:02x}" for b in content[i : i + 12]) for i in range(0, len(content), 12)]
    source = (
        f"// Generated by effcourse.deploy.tfmicro.export_c_array; do not edit.\n"
        f'#include "{name}_model_data.h"\n\n'
        f"alignas(16) const unsigned char {array}[] = {{\n" + "".join(f"    {row},\n" for row in rows) + "};\n"
    )
    settings_h = (
        "// Preprocessing and model constants shared by training and firmware;\n"
        "// generated by effcourse.deploy.tfmicro.export_c_array.\n"
        "#ifndef MODEL_SETTINGS_H_\n#define MODEL_SETTINGS_H_\n\n"
        + "".join(line + "\n" for line in lines)
        + "\n#endif  // MODEL_SETTINGS_H_\n"
    )
    out.mkdir(parents=True, exist_ok=True)
    paths["header"].write_text(header)
    paths["source"].write_text(source)
    paths["settings"].write_text(settings_h)
    return paths


def read_c_array(source: str | os.PathLike[str], name: str | None = None) -> bytes:
    """Parse the bytes of a ``const unsigned char <array>[] = {...};`` back from C source.

    Example:
        >>> read_c_array("const unsigned char g_x_model_data[] = {0x54, 0x46, 76};")
        b'TFL'

    Args:
        source: the C/C++ text, or a path to a file holding it.
        name: the array's name; None takes the first ``unsigned char`` array.

    Returns:
        The bytes of the array.

    Raises:
        ValueError: no such array, or an element that is not a byte.

    Taught in: chapters/projects_tfmicro_speech/01_keyword_spotting
    """
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "{" not in source and Path(source).is_file()):
        source = Path(source).read_text()
    ident = re.escape(name) if name is not None else r"[A-Za-z_][A-Za-z0-9_]*"
    match = re.search(rf"unsigned\s+char\s+{ident}\s*\[\s*\d*\s*\]\s*=\s*\{{([^}}]*)\}}", source)
    if match is None:
        raise ValueError(f"no 'unsigned char {name or '<name>'}[] = {{...}}' array in the source")
    values = []
    for token in (t.strip() for t in match.group(1).split(",")):
        if not token:
            continue
        try:
            value = int(token, 0)
        except ValueError:
            raise ValueError(f"array element {token!r} is not an integer literal") from None
        if not 0 <= value <= 255:
            raise ValueError(f"array element {token} is not a byte (0..255)")
        values.append(value)
    return bytes(values)


@sealed.reference("projects_tfmicro_speech/01_keyword_spotting:quantize_input")
def quantize_input(spectrogram: Any, scale: float, zero_point: int) -> np.ndarray:
    """Quantize a float spectrogram to the int8 input of a fully integer model.

    ``q = clip(round(x / scale) + zero_point, -128, 127)`` as int8, with the input tensor's
    own scale and zero point (``tflite.io_details(tflite_model)["input"]``); rounding to the
    nearest integer, halves away from zero as TFLite's ``Quantize`` kernel does
    (``TfLiteRound``, i.e. ``std::round``). See Jacob et al. 2018, "Quantization and Training
    of Neural Networks for Efficient Integer-Arithmetic-Only Inference", eq. (1).

    Example:
        >>> quantize_input(np.array([0.0, 0.5, -10.0]), 0.1, -3)
        array([  -3,    2, -103], dtype=int8)

    Args:
        spectrogram: float array of any shape (e.g. ``(frames, mel_bins)`` or a batch).
        scale: the input tensor's scale (> 0).
        zero_point: the input tensor's zero point (-128..127).

    Returns:
        An int8 array of ``spectrogram``'s shape; the argument is left unchanged.

    Raises:
        ValueError: ``scale`` is not positive.

    Taught in: chapters/projects_tfmicro_speech/01_keyword_spotting
    """
    if not float(scale) > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    x = np.asarray(spectrogram, dtype=np.float64) / float(scale)
    rounded = np.sign(x) * np.floor(np.abs(x) + 0.5)
    return np.clip(rounded + int(zero_point), -128, 127).astype(np.int8)
