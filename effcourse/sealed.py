"""Reference answers of graded exercises: registered here, sealed while grading.

A helper of ``effcourse`` that answers a graded exercise (the learner is asked to write
``quantize``; ``effcourse.quantization.quantize`` does the same) is registered as that
exercise's *reference*::

    from effcourse import sealed

    @sealed.reference("ch02_compression/01_quantization_from_scratch:quantize")
    def quantize(x, scale, zero_point, bits=8):
        ...

The exercise id is ``<assignment>/<notebook stem>:<grade id of the answer cell>``. The lesson may
use the helper *after* the exercise; visible tests never call it. While a submission is graded
(and when a learner validates), the registered helpers are sealed: they refuse to run, so an
answer that calls the course's own implementation earns nothing for that exercise
(see INSTRUCTORS.md, "Authoring exercises"). Self-learners calling the helper outside grading
are unaffected.

Rules for registered helpers: nothing else in ``effcourse`` calls them (they are leaves), and
the decorator is applied with a literal exercise id, so that the sealed build can find them
without importing the package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

#: ``"<module>:<qualname>"`` of every registered reference -> the exercise id it answers.
REGISTRY: dict[str, str] = {}


def reference(exercise: str) -> Callable[[F], F]:
    """Register the decorated function as the reference answer of ``exercise``.

    Example:
        >>> from effcourse import sealed
        >>> @sealed.reference("ch00_demo/01_demo:double")
        ... def double(x):
        ...     return 2 * x
        >>> double(2)
        4

    Args:
        exercise: ``"<assignment>/<notebook stem>:<answer cell grade id>"``.

    Returns:
        A decorator that registers the function and returns it unchanged.

    Raises:
        ValueError: the exercise id is not of that form.

    Taught in: INSTRUCTORS.md (authoring exercises)
    """
    if not isinstance(exercise, str) or exercise.count(":") != 1 or "/" not in exercise.split(":")[0]:
        raise ValueError(f"exercise must look like '<assignment>/<notebook>:<grade_id>', got {exercise!r}")

    def register(fn: F) -> F:
        REGISTRY[f"{fn.__module__}:{fn.__qualname__}"] = exercise
        return fn

    return register
