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
    "architectures",
    "augmentation",
    "check",
    "cli",
    "clustering",
    "compat",
    "data",
    "deploy",
    "distillation",
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

    Call it once, first, before importing TensorFlow yourself. It seeds Python's ``random`` and
    NumPy at once. TensorFlow is configured (its seed, op determinism so that figures are
    reproducible run to run, its C++ and Python log levels) right away if it is already imported,
    otherwise the moment it is first imported: a NumPy-only notebook never pays for importing
    TensorFlow (several seconds). It also applies the course's matplotlib style. Calling it again
    re-seeds everything.

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
    import random

    import numpy as np

    if quiet:
        # 3 also hides C++ "E" lines (e.g. node_def_util notices during fit) that are not errors;
        # real failures still raise Python exceptions.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
        import warnings

        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings(
            "ignore", category=UserWarning, module=r"(tf_keras|tensorflow|tensorflow_model_optimization)"
        )
    random.seed(seed)
    np.random.seed(seed)
    settings = {"seed": seed, "deterministic": deterministic, "quiet": quiet}
    if "tensorflow" in sys.modules:
        _configure_tensorflow(**settings)
    else:
        _when_tensorflow_is_imported(settings)
    if style:
        from effcourse import plots

        plots.use_style()


def _configure_tensorflow(*, seed: int, deterministic: bool, quiet: bool, check_keras: bool = True) -> None:
    """TensorFlow's part of :func:`setup` (TensorFlow is imported).

    ``check_keras=False`` when called from the import hook: TensorFlow is then being imported
    after ``import effcourse`` chose Keras 2, and ``effcourse.compat`` may be what imports it.
    """
    if check_keras:
        import effcourse.compat  # noqa: F401  (raises if Keras 3 was chosen already)
    tf = sys.modules["tensorflow"]

    if quiet:
        import logging

        tf.get_logger().setLevel(logging.ERROR)
        try:
            import absl.logging

            absl.logging.set_verbosity(absl.logging.ERROR)
        except ImportError:  # absl ships with TensorFlow; keep going without it
            pass
    tf.random.set_seed(seed)
    _reseed_keras_generator(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def _reseed_keras_generator(seed: int) -> None:
    """Re-seed Keras 2's own seed generator, if ``keras.utils.set_random_seed`` ever created one.

    Once it exists, Keras's initializers and dropout draw their seeds from it instead of from
    TensorFlow's global seed, so ``tf.random.set_seed`` alone would not make them repeat. It is
    left alone otherwise: creating it would change which weights a seed gives.
    """
    import random

    backend = sys.modules.get("tf_keras.src.backend")
    state = getattr(backend, "_SEED_GENERATOR", None)
    if getattr(state, "generator", None) is not None:
        state.generator = random.Random(seed)


class _TensorFlowHook:
    """A ``sys.meta_path`` finder that configures TensorFlow right after its first import.

    It finds nothing itself: for ``tensorflow`` it asks the other finders for the real spec and
    wraps that spec's loader, so that once TensorFlow's ``__init__`` has run, the settings of the
    last :func:`setup` are applied (TensorFlow's C++ start-up notices on file descriptor 2 are
    hidden while it loads when ``quiet``). It removes itself after that one import.
    """

    def __init__(self) -> None:
        self.settings: dict[str, Any] = {}
        self.busy = False

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "tensorflow" or self.busy:
            return None
        import importlib.util

        self.busy = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self.busy = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        hook, original = self, spec.loader.exec_module

        def exec_module(module: Any) -> None:
            _remove_hook()
            if hook.settings.get("quiet"):
                from effcourse._native import fd2_captured

                with fd2_captured():
                    original(module)
            else:
                original(module)
            _configure_tensorflow(**hook.settings, check_keras=False)

        spec.loader.exec_module = exec_module  # this spec's own loader instance
        return spec


_HOOK = _TensorFlowHook()


def _when_tensorflow_is_imported(settings: dict[str, Any]) -> None:
    _HOOK.settings = dict(settings)
    if _HOOK not in sys.meta_path:
        sys.meta_path.insert(0, _HOOK)


def _remove_hook() -> None:
    while _HOOK in sys.meta_path:
        sys.meta_path.remove(_HOOK)
