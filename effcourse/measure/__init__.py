"""Measure a model: parameters, MACs and FLOPs, size on disk, sparsity, unique weights, latency,
and the accuracy of a TFLite model.

Every efficiency claim in the course is a number one of these functions computed::

    from effcourse import measure
    measure.count_params(model)            # weights, as Keras counts them (tfmot bookkeeping excluded)
    measure.count_flops(model)             # per example; FLOPs = 2 x MACs (+ pooling comparisons/adds)
    measure.gzipped_size(tflite_model)     # bytes after gzip: what zeros and few unique values save
    measure.latency(tflite_model, x[:1])   # median and spread over repeated runs
    measure.tflite_accuracy(tflite_model, x_test, y_test)
    measure.compare_latency({"float": float_model, "int8": int8_model}, x[:1])  # interleaved rounds, spread
    measure.compare_accuracy(y_test, pred_a, pred_b)   # paired: McNemar's exact test on the disagreements
    measure.mean_iou(y_true, y_pred, num_classes=3)    # segmentation: intersection over union per class
    measure.peak_memory_in_child(train, steps=3)        # run in a fresh process: (result, peak_mib, start_mib)

Counting conventions (the same in every chapter):

* **MACs** are multiply-accumulates per example (batch size 1). Bias additions, activations,
  softmax, element-wise merges (Add, Multiply, Concatenate), normalization and resizing are not
  counted: they are cheap next to the matrix products, and BatchNormalization is folded into the
  preceding convolution or dense layer when a model is converted for inference.
* **FLOPs = 2 x MACs** (one multiplication and one addition per MAC) for every layer that
  multiplies. Pooling layers do no MACs; they add one FLOP per value each window reads (the
  comparisons of a max, the additions of an average): ``out_elements x pool_h x pool_w`` for
  ``MaxPooling2D``/``AveragePooling2D`` and ``in_elements`` for ``Global*Pooling``. So for a
  model without pooling, ``count_flops == 2 * count_macs`` exactly.
* Embedding lookups cost 0 MACs (an index, no multiplication).
* tfmot wrappers (pruning, quantization, clustering) are measured as the layer they wrap.
* A layer this module does not know (``Lambda``, a custom layer, a subclass that overrides
  ``call``) is counted as 0 with one :class:`UncountedLayerWarning` per layer class;
  :func:`uncounted_layers` lists such layers without writing to stderr (for graded cells), and
  :func:`layer_kind` says how any layer is treated. Every layer class ``tf_keras`` exports is
  counted, known to be free, walked into, or warned about (``tests/effcourse/test_counting.py``).

Taught in: chapters/ch01_introduction/01_efficiency_mental_model
"""

from __future__ import annotations

__all__ = [
    "count_params",
    "count_macs",
    "count_flops",
    "flops_by_layer",
    "macs_by_layer",
    "summary",
    "uncounted_layers",
    "layer_kind",
    "UncountedLayerWarning",
    "serialized_size",
    "gzipped_size",
    "sparsity",
    "sparsity_by_layer",
    "unique_weights",
    "Latency",
    "latency",
    "LatencyComparison",
    "compare_latency",
    "compare_accuracy",
    "mean_iou",
    "iou_per_class",
    "tflite_predict",
    "tflite_accuracy",
    "interpreter",
    "PeakMemory",
    "peak_memory_in_child",
]

from effcourse.measure.counting import (
    KERNEL_NAMES as KERNEL_NAMES,
)
from effcourse.measure.counting import (
    NO_INPUT_SHAPE as NO_INPUT_SHAPE,
)
from effcourse.measure.counting import (
    UncountedLayerWarning,
    count_flops,
    count_macs,
    count_params,
    flops_by_layer,
    layer_kind,
    macs_by_layer,
    summary,
    uncounted_layers,
)
from effcourse.measure.memory import PeakMemory, peak_memory_in_child
from effcourse.measure.running import (
    Latency,
    LatencyComparison,
    compare_latency,
    interpreter,
    latency,
    tflite_accuracy,
    tflite_predict,
)
from effcourse.measure.segmentation import iou_per_class, mean_iou
from effcourse.measure.sizes import (
    gzipped_size,
    serialized_size,
    sparsity,
    sparsity_by_layer,
    unique_weights,
)
from effcourse.measure.stats import compare_accuracy
