"""Child process of :func:`effcourse.deploy.tflite.convert`: convert a saved model, nothing else.

Run as ``python -m effcourse.deploy._isolated DIR``; ``DIR`` holds ``saved/`` (a SavedModel with
the batch-1 serving signature), ``settings.json`` and, for int8, ``samples.npy`` (calibration
inputs). It writes ``DIR/model.tflite``. If TensorFlow's calibrator crashes, only this process
dies; the parent reports the crash with this process's stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(directory: str) -> None:
    import numpy as np

    import effcourse  # noqa: F401  (chooses Keras 2 before TensorFlow loads)
    from effcourse.compat import tf
    from effcourse.deploy.tflite import _configure

    folder = Path(directory)
    settings = json.loads((folder / "settings.json").read_text())
    samples = None
    if (folder / "samples.npy").is_file():
        data = np.load(folder / "samples.npy")
        samples = [data[i : i + 1] for i in range(len(data))]
    converter = tf.lite.TFLiteConverter.from_saved_model(str(folder / "saved"))
    _configure(converter, settings["mode"], samples, settings["float_fallback"])
    (folder / "model.tflite").write_bytes(bytes(converter.convert()))


if __name__ == "__main__":
    main(sys.argv[1])
