"""The course's datasets, each with a real source and an offline stand-in.

>>> from effcourse import data
>>> (x_train, y_train), (x_test, y_test) = data.load("digits")
>>> x_train.shape[1:], x_train.dtype, y_train.dtype
((16, 16), dtype('uint8'), dtype('uint8'))

See :func:`load` for the sets, the two sources and how to choose between them.

Taught in: chapters/ch01_introduction/01_efficiency_mental_model
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections import OrderedDict
from typing import Any

import numpy as np

from effcourse.data._base import Dataset
from effcourse.data._cache import DownloadError
from effcourse.data.audio import log_mel_spectrogram

__all__ = ["load", "names", "Dataset", "DownloadError", "log_mel_spectrogram", "SOURCES"]

SOURCES = ("auto", "offline", "real")

# name -> module that defines `offline(seed=..., **options)` and `real(cache_dir=..., seed=..., **options)`
_MODULES = {
    "digits": "digits",
    "images": "images",
    "speech": "speech",
    "news": "news",
    "pets": "pets",
    "photo": "photo",
}

_MEMORY: OrderedDict[tuple, Any] = OrderedDict()
_MEMORY_SIZE = 8


def names() -> list[str]:
    """The dataset names :func:`load` accepts.

    Example:
        >>> from effcourse import data
        >>> data.names()
        ['digits', 'images', 'news', 'pets', 'photo', 'speech']

    Returns:
        The sorted list of names.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    return sorted(_MODULES)


def _resolve_source(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: choose one of {', '.join(map(repr, SOURCES))}")
    if source != "auto":
        return source
    env = os.environ.get("EFFCOURSE_DATA", "").strip().lower()
    if env in ("", "offline"):
        return "offline"
    if env == "real":
        return "real"
    raise ValueError(
        f"the environment variable EFFCOURSE_DATA is {os.environ['EFFCOURSE_DATA']!r}: "
        f"set it to 'offline' or 'real' (or unset it for the offline default)"
    )


def _check_options(name: str, fn, options: dict[str, Any]) -> None:
    params = inspect.signature(fn).parameters
    allowed = sorted(p for p, v in params.items() if v.kind == v.KEYWORD_ONLY and p not in ("seed", "cache_dir"))
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        choices = ", ".join(allowed) if allowed else "none"
        raise TypeError(f"load({name!r}) got unknown option(s) {', '.join(unknown)}; its options are: {choices}")


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _copy(result: Any) -> Any:
    if isinstance(result, Dataset):
        return result.copy()
    if isinstance(result, np.ndarray):
        return result.copy()
    return result


def load(
    name: str,
    source: str = "auto",
    *,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    **options: Any,
) -> Dataset:
    """Load a course dataset as NumPy arrays: ``((x_train, y_train), (x_test, y_test))``.

    Every set has two sources with the same shapes, dtypes and label conventions, so one
    notebook runs on either:

    - ``"offline"``: a stand-in that needs no network, built from data bundled with
      scikit-learn or generated on the fly. It is deterministic for a ``seed``, small enough
      that a chapter model trains in seconds on a laptop CPU, and hard enough that a simple
      baseline is well above chance and well below 100%.
    - ``"real"``: the real dataset, downloaded once into a cache (``cache_dir``, else
      ``$EFFCOURSE_CACHE``, else ``~/.cache/effcourse``) and checked (SHA-256 or archive
      integrity) before use.
    - ``"auto"`` (default): the value of the environment variable ``EFFCOURSE_DATA``
      (``offline`` or ``real``), and **offline when it is unset**. The course runs on the
      offline stand-ins by default, so that a notebook's figures match the recorded results
      and every notebook runs in seconds without a network; opt in to the real sets with
      ``EFFCOURSE_DATA=real`` (before starting Jupyter) or ``source="real"``.

    The sets (offline stand-in / real set):

    - ``digits``: scikit-learn's 1797 handwritten digits (8x8) resized to 16x16 with small
      random shifts, rotations, scaling and noise; 4314 train / 1077 test, split by
      original image (no test digit's source image is seen in training). x uint8 (N,16,16)
      in 0..255, y uint8 (N,). Real: MNIST (28x28). Option ``image_size`` (int) resizes both.
    - ``images``: 10 classes of generated objects (shapes with random pose, scale, colour,
      textured background, noise), 5000 train / 1000 test; x uint8 (N,32,32,3), y uint8
      (N,1) as Keras' CIFAR-10. Real: CIFAR-10.
    - ``speech``: 8 synthesised keywords (yes, no, up, down, left, right, on, off) with
      speaker pitch, vocal-tract length, speed, timing and background noise variation;
      on/off and up/down share sounds. x float32 waveforms (N, sample_rate) in [-1, 1]
      (1 s), y int64 (N,); ``info["sample_rate"]`` (option ``sample_rate``, default 8000).
      Real: Speech Commands v0.02, the same eight words. See :func:`log_mel_spectrogram`.
    - ``news``: 4 topics (World, Sports, Business, Sci/Tech) of generated 40-120-word
      documents with shared and ambiguous words; x arrays of str, y int64 (N,);
      ``info["vocabulary"]`` (train-split words, most frequent first). Real: AG News
      (title and description joined).
    - ``pets``: generated cat- and dog-like animals on varied backgrounds with trimap masks
      as in Oxford-IIIT Pet: x uint8 (N,64,64,3), y uint8 masks (N,64,64,1) with 1 = pet,
      2 = background, 3 = border; ``info["species_train"]``/``info["species_test"]``
      (0 cat, 1 dog). Option ``image_size`` (default 64). Real: Oxford-IIIT Pet.
    - ``photo``: the exception: one real photograph, an (H, W, 3) uint8 array, scikit-learn's
      bundled sample image (option ``which="china"`` or ``"flower"``). Bundled, so the
      source does not matter.

    Results are kept in memory per (name, source, seed, options); every call returns fresh
    copies, so changing the arrays does not affect the next ``load``.

    Example:
        >>> from effcourse import data
        >>> ds = data.load("images", seed=0)
        >>> (x_train, y_train), (x_test, y_test) = ds
        >>> x_train.shape, y_train.shape, ds.class_names[:3]
        ((5000, 32, 32, 3), (5000, 1), ['disc', 'ring', 'square'])

    Caveats:
        The stand-ins teach the techniques; their absolute accuracies are not the real
        sets'. The real sets are large (CIFAR-10 170 MB, Speech Commands 2.3 GB, Oxford
        Pets 800 MB) and the first load takes minutes.

    Args:
        name: one of :func:`names`.
        source: ``"auto"``, ``"offline"`` or ``"real"``.
        seed: the seed of the offline stand-in (the real sets ignore it except where noted).
        cache_dir: where the real sets are cached.
        **options: per-set options (``image_size``, ``sample_rate``, ``which``, ...).

    Returns:
        A :class:`Dataset` (a tuple ``((x_train, y_train), (x_test, y_test))`` with ``.name``,
        ``.source``, ``.class_names`` and ``.info``), or an array for ``photo``.

    Raises:
        ValueError: unknown name or source (the message lists the choices), or a bad option value.
        TypeError: an option the set does not have.
        DownloadError: ``source="real"`` and the set is not cached and cannot be downloaded,
            or the cached file is corrupt and cannot be fetched again.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    if not isinstance(name, str) or name not in _MODULES:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(map(repr, names()))}")
    resolved = _resolve_source(source)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
    if name == "photo":
        resolved = "offline"  # bundled real image: one source
    fn = module.offline if resolved == "offline" else module.real
    _check_options(name, fn, options)
    if resolved == "offline":
        key = (name, int(seed), _freeze(options))
        if key in _MEMORY:
            _MEMORY.move_to_end(key)
            return _copy(_MEMORY[key])
        result = fn(seed=int(seed), **options)
        _MEMORY[key] = result
        while len(_MEMORY) > _MEMORY_SIZE:
            _MEMORY.popitem(last=False)
        return _copy(result)
    return fn(seed=int(seed), cache_dir=cache_dir, **options)
