"""Progress bars that show in notebooks and terminals and stay quiet under CI.

Example:
    >>> from effcourse.progress import progress
    >>> total = sum(i for i in progress(range(3), desc="adding"))

Set ``EFFCOURSE_QUIET=1`` (or ``CI=true``, as CI does) to silence every bar.

Taught in: chapters/ch01_introduction/01_efficiency_mental_model
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def quiet() -> bool:
    """True when progress bars should be hidden (``CI`` or ``EFFCOURSE_QUIET`` set and truthy)."""
    return any(os.environ.get(v, "").lower() not in ("", "0", "false", "no") for v in ("CI", "EFFCOURSE_QUIET"))


def progress(iterable: Iterable[T], **kwargs: Any) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar (``tqdm.auto``: a widget in Jupyter, text elsewhere).

    Args:
        iterable: what to loop over.
        **kwargs: passed to tqdm (``desc=``, ``total=``, ...).

    Returns:
        An iterator over the same items.
    """
    from tqdm.auto import tqdm

    kwargs.setdefault("disable", quiet())
    return iter(tqdm(iterable, **kwargs))


def keras_callback(num_epochs: int, desc: str = "training") -> Any:
    """A Keras callback showing one tqdm bar over epochs with the latest loss and metrics.

    Use it with ``verbose=0`` so Keras does not print its own per-step logs::

        model.fit(x, y, epochs=NUM_EPOCHS, verbose=0,
                  callbacks=[effcourse.progress.keras_callback(NUM_EPOCHS)])

    Args:
        num_epochs: the number of epochs ``fit`` will run.
        desc: the bar's label.

    Returns:
        A ``keras.callbacks.Callback``.
    """
    from tqdm.auto import tqdm

    from effcourse.compat import keras

    class _EpochBar(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            self.bar = tqdm(total=num_epochs, desc=desc, disable=quiet(), leave=True)

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.bar.update(1)
            if logs:
                self.bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items()})

        def on_train_end(self, logs: dict | None = None) -> None:
            self.bar.close()

    return _EpochBar()
