"""effcourse: helpers for the *Efficient Deep Learning* course.

Importing ``effcourse`` does one thing: it chooses Keras 2 (``tf_keras``) for TensorFlow by
setting ``TF_USE_LEGACY_KERAS=1`` if TensorFlow has not been imported yet. Everything else
(seeds, determinism, log levels, plot style) happens in :func:`setup`, called on purpose at
the top of every notebook::

    import effcourse
    effcourse.setup(seed=42)
    from effcourse.compat import keras, tf

Submodules (``effcourse.data``, ``effcourse.measure``, ``effcourse.report``, ...) are imported
lazily on first use, so ``import effcourse`` stays cheap.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

__version__ = "0.1.0"

if "tensorflow" not in sys.modules:
    os.environ["TF_USE_LEGACY_KERAS"] = "1"

# Every name here must import (tests/effcourse/test_names.py). Modules written later are added
# when they exist, never before.
_SUBMODULES = {
    "check",
    "cli",
    "compat",
    "data",
    "deploy",
    "grading",
    "sealed",
    "measure",
    "plots",
    "progress",
    "quantization",
    "report",
}

__all__ = ["setup", "__version__", *sorted(_SUBMODULES)]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'effcourse' has no attribute {name!r}")


def setup(seed: int = 42, *, deterministic: bool = True, quiet: bool = True, style: bool = True) -> None:
    """Prepare a notebook or script: Keras 2, seeds, op determinism, quiet logs, plot style.

    Call it once, first, before importing TensorFlow yourself. It sets the Python, NumPy and
    TensorFlow seeds (``keras.utils.set_random_seed``), enables TensorFlow op determinism so
    that figures are reproducible run to run, lowers TensorFlow's C++ and Python log levels,
    and applies the course's matplotlib style. Calling it again re-seeds everything.

    Example:
        >>> import effcourse
        >>> effcourse.setup(seed=42)
        >>> from effcourse.compat import keras
        >>> keras.__version__.startswith("2.")
        True

    Caveats:
        Op determinism makes some GPU ops slower or unavailable; on CPU it costs little.

    Args:
        seed: the seed for ``random``, NumPy and TensorFlow.
        deterministic: enable ``tf.config.experimental.enable_op_determinism()``.
        quiet: hide TensorFlow's info and warning logs.
        style: apply :func:`effcourse.plots.use_style`.

    Raises:
        RuntimeError: TensorFlow was already imported with Keras 3 (``TF_USE_LEGACY_KERAS``
            was not set before the first ``import tensorflow``): restart the kernel and run
            ``import effcourse`` first.

    Taught in: chapters/ch01_introduction/01_efficiency_mental_model
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if quiet:
        # 3 also hides C++ "E" lines (e.g. node_def_util notices during fit) that are not errors;
        # real failures still raise Python exceptions.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        if "tensorflow" not in sys.modules:
            # TensorFlow's C++ start-up notices (oneDNN, CUDA stubs) are written to file
            # descriptor 2 before any log level applies: hide them while it is imported.
            from effcourse._native import fd2_captured

            with fd2_captured():
                import effcourse.compat  # noqa: F401
    from effcourse.compat import keras, tf  # raises if Keras 3 was chosen already

    if quiet:
        import logging
        import warnings

        tf.get_logger().setLevel(logging.ERROR)
        try:
            import absl.logging

            absl.logging.set_verbosity(absl.logging.ERROR)
        except ImportError:  # absl ships with TensorFlow; keep going without it
            pass
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings(
            "ignore", category=UserWarning, module=r"(tf_keras|tensorflow|tensorflow_model_optimization)"
        )
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    if style:
        from effcourse import plots

        plots.use_style()
