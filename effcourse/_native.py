"""Capture what native code (TensorFlow, LiteRT) writes straight to file descriptor 2.

TensorFlow's C++ start-up notices, the TFLite converter's log and LiteRT's "Created XNNPACK
delegate" line bypass Python's ``sys.stderr``: Jupyter shows them as red output, and nbgrader's
Validate button counts any stderr in a graded cell as a failure. Helpers that trigger such output
run it inside :func:`fd2_captured`, which keeps the text for error messages.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def fd2_captured() -> Iterator[list[str]]:
    """Send file descriptor 2 to a temporary file; after the block, the list holds its text.

    Example:
        >>> with fd2_captured() as log:
        ...     _ = os.write(2, b"native noise\\n")
        >>> log
        ['native noise\\n']
    """
    with contextlib.suppress(AttributeError, ValueError, OSError):
        sys.stderr.flush()
    saved = os.dup(2)
    log: list[str] = []
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield log
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            log.append(tmp.read().decode(errors="replace"))
