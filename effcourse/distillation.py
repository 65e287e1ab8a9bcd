"""Knowledge distillation: Hinton's loss, a ``Distiller`` Keras model, layer-wise imitation.

A small *student* learns from a large *teacher*'s softened outputs (Hinton, Vinyals and Dean,
2015, *Distilling the Knowledge in a Neural Network*, arXiv:1503.02531)::

    distiller = Distiller(student, teacher, temperature=4.0, alpha=0.5)
    distiller.compile(optimizer=keras.optimizers.Adam(3e-3))
    distiller.fit(x_train, y_train, epochs=20)

or first imitates the teacher's intermediate features, layer by layer (FitNets: Romero et al.,
2015, *FitNets: Hints for Thin Deep Nets*, ICLR), with :func:`imitate_layerwise`, and is then
fine-tuned on the labels.

Taught in: chapters/ch03_learning_techniques/03_distillation
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from effcourse import sealed
from effcourse.compat import keras, tf

__all__ = ["distillation_loss", "Distiller", "feature_model", "imitate_layerwise"]


def _check_hyperparameters(temperature: float, alpha: float) -> tuple[float, float]:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)):
        raise TypeError(f"temperature must be a number, got {type(temperature).__name__}")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"alpha must be a number, got {type(alpha).__name__}")
    if not float(temperature) > 0:
        raise ValueError(f"temperature must be > 0 (Hinton et al. use T > 1 to soften), got {temperature}")
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha is the weight of the hard-label loss and must be in [0, 1], got {alpha}")
    return float(temperature), float(alpha)


@sealed.reference("ch03_learning_techniques/03_distillation:distillation_loss")
def distillation_loss(
    y_true: Any, student_logits: Any, teacher_logits: Any, temperature: float = 4.0, alpha: float = 0.1
) -> tf.Tensor:
    """Hinton's distillation loss, averaged over the batch.

    ``alpha * CE(y, softmax(s)) + (1 - alpha) * T**2 * KL(softmax(t / T) || softmax(s / T))``
    with the student's logits ``s``, the teacher's ``t`` and the temperature ``T``. Both
    distributions are softened by the same ``T``; the hard-label cross-entropy uses ``T = 1``.
    The soft term's gradient with respect to the student's logits scales as ``1 / T**2``
    (for large ``T`` it tends to ``(s - t) / (K T**2)`` per logit, zero-mean logits), so the
    ``T**2`` factor keeps its weight relative to the hard term when ``T`` changes (Hinton et al.
    2015, section 2). Computed with ``log_softmax`` (no ``log(softmax(...))``), so it stays
    finite for logits in the thousands.

    Example:
        >>> import numpy as np
        >>> s = np.array([[2.0, 0.0, -1.0]], dtype=np.float32)
        >>> round(float(distillation_loss([0], s, s, temperature=4.0, alpha=0.0)), 6)
        0.0

    Args:
        y_true: integer labels, shape (N,).
        student_logits: float logits (N, K) of the student.
        teacher_logits: float logits (N, K) of the teacher.
        temperature: ``T > 0``; ``T > 1`` softens both distributions.
        alpha: weight of the hard-label cross-entropy in [0, 1].

    Returns:
        A float32 scalar tensor.

    Raises:
        TypeError, ValueError: a bad temperature or alpha, or logits of different shapes.

    Taught in: chapters/ch03_learning_techniques/03_distillation
    """
    temperature, alpha = _check_hyperparameters(temperature, alpha)
    s = tf.convert_to_tensor(student_logits, dtype=tf.float32)
    t = tf.convert_to_tensor(teacher_logits, dtype=tf.float32)
    if s.shape != t.shape or s.shape.rank != 2:
        raise ValueError(f"student_logits and teacher_logits must both be (N, K), got {s.shape} and {t.shape}")
    y = tf.cast(tf.convert_to_tensor(y_true), tf.int32)
    hard = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=s))
    log_p = tf.nn.log_softmax(t / temperature, axis=-1)
    log_q = tf.nn.log_softmax(s / temperature, axis=-1)
    soft = tf.reduce_mean(tf.reduce_sum(tf.exp(log_p) * (log_p - log_q), axis=-1))
    return alpha * hard + (1.0 - alpha) * temperature**2 * soft


class Distiller(keras.Model):
    """A Keras model that trains ``student`` on labels and on ``teacher``'s softened outputs.

    ``fit(x, y)`` runs, per batch, the teacher (frozen, ``training=False``) and the student, and
    minimises Hinton's loss ``alpha * CE(y, s) + (1 - alpha) * T**2 * KL(softmax(t/T) ||
    softmax(s/T))`` over the student's weights only. ``evaluate`` and ``predict`` use the
    student alone; its metrics are ``loss`` (training: the distillation loss; evaluation: the
    student's cross-entropy) and ``accuracy``. After training, use ``distiller.student``.

    When the inputs are fixed arrays (no augmentation inside ``fit``), the teacher's outputs
    never change: compute them once with ``teacher.predict(x)`` and pass them with the labels,
    ``fit(x, (y, teacher_logits))``; the teacher then does not run during training (one forward
    pass per example in all, instead of one per example in every epoch). ``evaluate`` takes the
    labels alone.

    Example:
        >>> distiller = Distiller(student, teacher, temperature=4.0, alpha=0.5)  # doctest: +SKIP
        >>> distiller.compile(optimizer=keras.optimizers.Adam(3e-3))             # doctest: +SKIP
        >>> distiller.fit(x_train, y_train, epochs=20, verbose=0)                # doctest: +SKIP
        >>> teacher_logits = teacher.predict(x_train, verbose=0)                 # doctest: +SKIP
        >>> distiller.fit(x_train, (y_train, teacher_logits), epochs=20)        # doctest: +SKIP

    Caveats:
        Without precomputed logits the teacher runs on every batch: one teacher forward pass
        per step. Precomputed logits must be the teacher's outputs for exactly those inputs.

    Args:
        student: a Keras model mapping inputs to K logits (no softmax).
        teacher: a trained Keras model mapping the same inputs to K logits.
        temperature: ``T > 0`` for the soft term.
        alpha: weight of the hard-label loss in [0, 1].

    Raises:
        TypeError, ValueError: bad models, temperature or alpha.

    Taught in: chapters/ch03_learning_techniques/03_distillation
    """

    def __init__(self, student: Any, teacher: Any, temperature: float = 4.0, alpha: float = 0.1, **kwargs: Any):
        super().__init__(**kwargs)
        for name, m in (("student", student), ("teacher", teacher)):
            if not isinstance(m, keras.Model):
                raise TypeError(f"{name} must be a Keras model, got {type(m).__name__}")
        self.temperature, self.alpha = _check_hyperparameters(temperature, alpha)
        self.student = student
        self.teacher = teacher
        self.teacher.trainable = False
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    @property
    def metrics(self) -> list[Any]:
        return [self.loss_tracker, self.accuracy_tracker]

    def call(self, x: Any, training: bool = False) -> Any:
        return self.student(x, training=training)

    def train_step(self, data: Any) -> dict[str, Any]:
        x, y = data[0], data[1]
        if isinstance(y, (tuple, list)):  # fit(x, (y, teacher_logits)): the teacher's logits precomputed
            y, teacher_logits = y
            teacher_logits = tf.cast(teacher_logits, tf.float32)
        else:
            teacher_logits = self.teacher(x, training=False)
        with tf.GradientTape() as tape:
            student_logits = self.student(x, training=True)
            # Hinton's loss, written out here rather than in a method of its own: a learner could
            # otherwise call that method instead of writing the graded exercise (this class is not
            # sealed, since the lesson trains with it and runs against the sealed build).
            labels = tf.cast(tf.reshape(y, [-1]), tf.int32)
            hard = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=student_logits))
            log_teacher = tf.nn.log_softmax(teacher_logits / self.temperature, axis=-1)
            log_student = tf.nn.log_softmax(student_logits / self.temperature, axis=-1)
            kl = tf.reduce_sum(tf.exp(log_teacher) * (log_teacher - log_student), axis=-1)
            loss = self.alpha * hard + (1.0 - self.alpha) * self.temperature**2 * tf.reduce_mean(kl)
        variables = self.student.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        self.loss_tracker.update_state(loss)
        self.accuracy_tracker.update_state(y, student_logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data: Any) -> dict[str, Any]:
        x, y = data[0], data[1]
        s = self.student(x, training=False)
        y = tf.cast(tf.reshape(y, [-1]), tf.int32)
        self.loss_tracker.update_state(
            tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=s))
        )
        self.accuracy_tracker.update_state(y, s)
        return {m.name: m.result() for m in self.metrics}


def feature_model(model: Any, layer_names: Sequence[str]) -> Any:
    """A Keras model that returns the outputs of ``model``'s named layers (sharing its weights).

    Example:
        >>> features = feature_model(teacher, ["flatten", "hidden"])  # doctest: +SKIP
        >>> flat, hidden = features.predict(x_train)                   # doctest: +SKIP

    Args:
        model: a built functional or Sequential Keras model.
        layer_names: names of its layers.

    Returns:
        A ``keras.Model`` with one output per name (a single output for one name).

    Raises:
        ValueError: a name that is not a layer of ``model`` (the message lists the names).

    Taught in: chapters/ch03_learning_techniques/03_distillation
    """
    names = [layer.name for layer in model.layers]
    missing = [n for n in layer_names if n not in names]
    if missing:
        raise ValueError(f"{model.name} has no layer(s) {missing}; its layers are {names}")
    outputs = [model.get_layer(n).output for n in layer_names]
    return keras.Model(model.inputs, outputs[0] if len(outputs) == 1 else outputs)


def imitate_layerwise(
    student: Any,
    teacher: Any,
    pairs: Sequence[tuple[str, str]],
    x: np.ndarray,
    *,
    epochs_per_stage: int = 2,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    steps_per_execution: int = 1,
) -> list[float]:
    """Warm-start ``student`` by imitating ``teacher``'s intermediate features, layer by layer.

    For each ``(student_layer, teacher_layer)`` pair in order (the FitNets "hint" of Romero et
    al. 2015, applied stage by stage): the student up to ``student_layer``, followed by a linear
    projection to the teacher layer's width where the widths differ, is trained for
    ``epochs_per_stage`` epochs to minimise the mean squared error to the teacher's features
    on ``x`` (the teacher's features are computed once). Only the student's layers up to that
    layer change; the projections are thrown away afterwards. Then fine-tune the student on the
    labels as usual. Layers' outputs are matched flattened, so widths may differ in any way.

    Example:
        >>> mse = imitate_layerwise(student, teacher, [("hidden1", "flatten"), ("hidden2", "dense")],
        ...                         x_train, epochs_per_stage=2)  # doctest: +SKIP

    Args:
        student: the (fresh) student Keras model, modified in place.
        teacher: the trained teacher.
        pairs: ``(student layer name, teacher layer name)`` from the input towards the output.
        x: the training inputs, (N, ...) float32.
        epochs_per_stage: epochs of each stage.
        batch_size: batch size.
        learning_rate: Adam's learning rate.
        steps_per_execution: passed to ``compile`` (more steps per call run faster on a CPU).

    Returns:
        The final training MSE of each stage.

    Raises:
        ValueError: no pairs, unknown layer names, or fewer than one example.

    Taught in: chapters/ch03_learning_techniques/03_distillation
    """
    if not pairs:
        raise ValueError("pairs is empty: give at least one (student layer, teacher layer) name pair")
    x = np.asarray(x, dtype=np.float32)
    if len(x) < 1:
        raise ValueError("x holds no examples")
    losses = []
    for student_layer, teacher_layer in pairs:
        targets = feature_model(teacher, [teacher_layer]).predict(x, batch_size=256, verbose=0)
        targets = targets.reshape(len(x), -1)
        features = keras.layers.Flatten()(feature_model(student, [student_layer]).output)
        width = int(features.shape[-1])
        if width != targets.shape[1]:
            features = keras.layers.Dense(targets.shape[1], name=f"projection_{student_layer}")(features)
        stage = keras.Model(student.inputs, features)
        stage.compile(
            optimizer=keras.optimizers.Adam(learning_rate), loss="mse", steps_per_execution=steps_per_execution
        )
        history = stage.fit(x, targets, epochs=epochs_per_stage, batch_size=batch_size, verbose=0)
        losses.append(float(history.history["loss"][-1]))
    return losses
