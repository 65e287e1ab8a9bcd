"""effcourse.setup() configures TensorFlow only when it is (or gets) imported."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


def test_a_numpy_only_notebook_never_imports_tensorflow():
    out = _run(
        "import sys, effcourse\n"
        "effcourse.setup(seed=3)\n"
        "from effcourse import check, data, plots, report, quantization\n"
        "import numpy as np\n"
        "a = np.random.rand()\n"
        "np.random.seed(3)\n"
        "assert a == np.random.rand()\n"
        "print('tensorflow' in sys.modules)\n"
    )
    assert out == "False"


@pytest.mark.slow
@pytest.mark.parametrize("first", ["compat", "tensorflow", "before_setup"])
def test_tensorflow_is_seeded_and_deterministic_however_it_is_imported(first):
    imports = {
        "compat": "from effcourse.compat import tf",
        "tensorflow": "import tensorflow as tf",
        "before_setup": "",
    }[first]
    code = (
        ("import effcourse\nimport tensorflow as tf\n" if first == "before_setup" else "import effcourse\n")
        + "effcourse.setup(seed=7)\n"
        + imports
        + "\nfrom tensorflow.python.framework import config\n"
        "from effcourse.compat import keras\n"
        "x = float(tf.random.uniform(()))\n"
        "tf.random.set_seed(7)\n"
        "print(x == float(tf.random.uniform(())), config.is_op_determinism_enabled(), keras.__version__[:2])\n"
    )
    assert _run(code) == "True True 2."
