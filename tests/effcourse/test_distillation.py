"""effcourse.distillation: Hinton's loss, the Distiller, layer-wise imitation (fast, CPU)."""

import numpy as np
import pytest

import effcourse

effcourse.setup(seed=0)
from effcourse import distillation, sealed  # noqa: E402
from effcourse.compat import keras  # noqa: E402


def _reference(y, s, t, temperature, alpha):
    def log_softmax(z):
        z = np.asarray(z, dtype=np.float64)
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    hard = -np.mean(log_softmax(s)[np.arange(len(y)), y])
    log_p, log_q = log_softmax(np.asarray(t) / temperature), log_softmax(np.asarray(s) / temperature)
    return alpha * hard + (1 - alpha) * temperature**2 * np.mean((np.exp(log_p) * (log_p - log_q)).sum(axis=1))


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (4.0, 0.1), (8.0, 0.0), (2.0, 1.0)])
def test_loss_matches_the_formula(temperature, alpha):
    rng = np.random.default_rng(0)
    s, t = rng.normal(0, 3, (20, 6)).astype("float32"), rng.normal(0, 3, (20, 6)).astype("float32")
    y = rng.integers(0, 6, 20)
    value = float(distillation.distillation_loss(y, s, t, temperature, alpha))
    assert value == pytest.approx(_reference(y, s, t, temperature, alpha), rel=1e-4, abs=1e-6)


def test_loss_is_finite_for_huge_logits_and_zero_for_equal_logits():
    rng = np.random.default_rng(1)
    s, t = rng.normal(0, 5000, (8, 5)).astype("float32"), rng.normal(0, 5000, (8, 5)).astype("float32")
    assert np.isfinite(float(distillation.distillation_loss(rng.integers(0, 5, 8), s, t, 2.0, 0.3)))
    assert float(distillation.distillation_loss([0, 1], s[:2], s[:2], 4.0, 0.0)) == pytest.approx(0.0, abs=1e-6)


def test_t_squared_keeps_the_soft_term_at_high_temperature():
    rng = np.random.default_rng(2)
    s, t = rng.normal(0, 1, (10, 4)), rng.normal(0, 1, (10, 4))
    d = (s - s.mean(1, keepdims=True)) - (t - t.mean(1, keepdims=True))
    limit = np.mean((d**2).sum(1) / 8)
    assert float(distillation.distillation_loss(np.zeros(10, int), s, t, 200.0, 0.0)) == pytest.approx(limit, rel=0.02)


@pytest.mark.parametrize(
    "kwargs, error",
    [(dict(temperature=0.0), ValueError), (dict(alpha=1.5), ValueError), (dict(temperature="4"), TypeError)],
)
def test_loss_rejects_bad_hyperparameters(kwargs, error):
    with pytest.raises(error):
        distillation.distillation_loss([0], [[1.0, 0.0]], [[1.0, 0.0]], **kwargs)


def test_loss_rejects_mismatched_logits():
    with pytest.raises(ValueError, match="both be"):
        distillation.distillation_loss([0], [[1.0, 0.0]], [[1.0, 0.0, 2.0]])


def test_loss_is_a_sealed_leaf():
    key = "effcourse.distillation:distillation_loss"
    assert sealed.REGISTRY[key] == "ch03_learning_techniques/03_distillation:distillation_loss"
    import inspect

    source = inspect.getsource(distillation)
    assert source.count("distillation_loss(") == 1 + source.count(">>> round(float(distillation_loss(")


def _toy(seed=0, n=256):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64") + 2 * (x[:, 2] > 0)
    return x, y


def _mlp(width, name):
    return keras.Sequential(
        [
            keras.layers.Input((6,)),
            keras.layers.Dense(width, activation="relu", name="hidden"),
            keras.layers.Dense(4, name="logits"),
        ],
        name=name,
    )


def test_distiller_trains_only_the_student_and_evaluates_it():
    x, y = _toy()
    keras.utils.set_random_seed(0)
    teacher = _mlp(32, "teacher")
    teacher.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    teacher.fit(x, y, epochs=30, verbose=0)
    teacher_weights = [w.copy() for w in teacher.get_weights()]
    student = _mlp(4, "student")
    distiller = distillation.Distiller(student, teacher, temperature=2.0, alpha=0.5)
    distiller.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = distiller.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(np.array_equal(a, b) for a, b in zip(teacher_weights, teacher.get_weights()))
    loss, accuracy = distiller.evaluate(x, y, verbose=0)
    assert accuracy == pytest.approx(np.mean(np.argmax(student.predict(x, verbose=0), 1) == y))
    assert accuracy > 0.6
    np.testing.assert_allclose(distiller.predict(x[:5], verbose=0), student.predict(x[:5], verbose=0), rtol=1e-6)


def test_distiller_with_precomputed_teacher_logits_matches_the_teacher_running():
    x, y = _toy(2, n=128)
    keras.utils.set_random_seed(0)
    teacher = _mlp(16, "teacher")
    teacher.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    teacher.fit(x, y, epochs=5, verbose=0)
    teacher_logits = teacher.predict(x, verbose=0)
    students = []
    for precomputed in (False, True):
        keras.utils.set_random_seed(1)
        student = _mlp(4, "student")
        distiller = distillation.Distiller(student, teacher, temperature=3.0, alpha=0.3)
        distiller.compile(optimizer=keras.optimizers.SGD(0.1))
        targets = (y, teacher_logits) if precomputed else y
        distiller.fit(x, targets, epochs=3, batch_size=32, shuffle=False, verbose=0)
        students.append(student)
    for a, b in zip(students[0].get_weights(), students[1].get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # the logits do matter: a wrong teacher gives a different student
    keras.utils.set_random_seed(1)
    student = _mlp(4, "student")
    distiller = distillation.Distiller(student, teacher, temperature=3.0, alpha=0.3)
    distiller.compile(optimizer=keras.optimizers.SGD(0.1))
    distiller.fit(x, (y, -teacher_logits), epochs=3, batch_size=32, shuffle=False, verbose=0)
    assert not np.allclose(student.get_weights()[0], students[1].get_weights()[0], atol=1e-4)


def test_distiller_rejects_bad_arguments():
    with pytest.raises(TypeError, match="Keras model"):
        distillation.Distiller("student", _mlp(4, "t"))
    with pytest.raises(ValueError, match="alpha"):
        distillation.Distiller(_mlp(4, "s"), _mlp(4, "t"), alpha=-0.1)


def test_feature_model_and_its_errors():
    model = _mlp(8, "m")
    features = distillation.feature_model(model, ["hidden"])
    assert features.output_shape == (None, 8)
    with pytest.raises(ValueError, match="no layer"):
        distillation.feature_model(model, ["nope"])


def test_imitate_layerwise_brings_the_student_features_closer():
    x, y = _toy(1)
    keras.utils.set_random_seed(0)
    teacher = _mlp(16, "teacher")
    student = _mlp(4, "student")
    before = student.get_layer("logits").get_weights()
    losses = distillation.imitate_layerwise(student, teacher, [("hidden", "hidden")], x, epochs_per_stage=1)
    losses_more = distillation.imitate_layerwise(student, teacher, [("hidden", "hidden")], x, epochs_per_stage=10)
    assert len(losses) == 1 and losses_more[0] < losses[0]
    # layers after the matched one are untouched
    assert all(np.array_equal(a, b) for a, b in zip(before, student.get_layer("logits").get_weights()))
    with pytest.raises(ValueError, match="pairs"):
        distillation.imitate_layerwise(student, teacher, [], x)
