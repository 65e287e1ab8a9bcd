"""Deploying models: TensorFlow Lite / LiteRT (``tflite``), TensorFlow Lite Micro (``tfmicro``), ``distribute``.

Importing ``effcourse.deploy`` imports nothing heavy; its submodules load on first use::

    from effcourse.deploy import tflite
    tflite_model = tflite.convert(model, "int8", representative_dataset=x_train)

Taught in: chapters/ch02_compression/02_quantizing_a_model
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = {"distribute", "optional", "tflite", "tfmicro"}

__all__ = sorted(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'effcourse.deploy' has no attribute {name!r}")
