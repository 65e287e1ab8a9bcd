"""The one place that chooses Keras 2 for TensorFlow.

Import Keras from here, never with a bare ``import keras`` (which is Keras 3 and does not work
with tensorflow-model-optimization)::

    from effcourse.compat import keras, tf

Taught in: chapters/ch01_introduction/01_efficiency_mental_model
"""

from __future__ import annotations

import os
import sys

KERAS3_ERROR = (
    "TensorFlow was imported with Keras 3 before effcourse could choose Keras 2. "
    "tensorflow-model-optimization (pruning, clustering, QAT) needs Keras 2 (tf_keras). "
    "Restart the kernel and make `import effcourse` (or `effcourse.setup()`) the first import, "
    "or set the environment variable TF_USE_LEGACY_KERAS=1 before starting Python."
)


def _choose_keras2() -> None:
    if "tensorflow" not in sys.modules:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"


_choose_keras2()

import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402


def uses_keras2() -> bool:
    """True when ``tf.keras`` is Keras 2 (``tf_keras``), as the course needs.

    Example:
        >>> from effcourse.compat import uses_keras2
        >>> uses_keras2()
        True
    """
    return getattr(tf.keras, "__name__", "").startswith("tf_keras") or str(
        getattr(tf.keras, "__version__", "")
    ).startswith("2.")


if not uses_keras2():
    raise RuntimeError(KERAS3_ERROR)

__all__ = ["keras", "tf", "uses_keras2", "KERAS3_ERROR"]
