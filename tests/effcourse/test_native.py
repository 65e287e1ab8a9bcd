"""effcourse._native: native stderr capture."""

import os
import sys

from effcourse._native import fd2_captured


def test_fd2_is_captured_and_restored(capfd):
    with fd2_captured() as log:
        os.write(2, b"native noise\n")
    assert log == ["native noise\n"]
    os.write(2, b"visible\n")
    assert "visible" in capfd.readouterr().err


def test_fd2_restored_after_an_exception(capfd):
    try:
        with fd2_captured():
            raise KeyError("boom")
    except KeyError:
        pass
    print("still here", file=sys.stderr)
    assert "still here" in capfd.readouterr().err
