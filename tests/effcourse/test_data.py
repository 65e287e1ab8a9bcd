"""effcourse.data: the offline stand-ins (no network), load()'s contract and log-mel features."""

import time

import numpy as np
import pytest

from effcourse import data

NAMES = ["digits", "images", "news", "pets", "photo", "speech"]


@pytest.fixture(scope="module")
def sets():
    """Each offline set once (seed 0), with its generation time."""
    out = {}
    for name in ["digits", "images", "speech", "news", "pets"]:
        start = time.perf_counter()
        out[name] = data.load(name, "offline")
        out[name].info["_seconds"] = time.perf_counter() - start
        print(f"{name}: generated in {out[name].info['_seconds']:.2f} s: {out[name]!r}")
    return out


def test_names_and_unknown_name_lists_choices():
    assert data.names() == NAMES
    with pytest.raises(ValueError, match="unknown dataset 'mnist'.*'digits'.*'speech'"):
        data.load("mnist")


def test_unknown_source_and_bad_environment(monkeypatch):
    with pytest.raises(ValueError, match="unknown source 'web'.*'offline'.*'real'"):
        data.load("digits", source="web")
    monkeypatch.setenv("EFFCOURSE_DATA", "sometimes")
    with pytest.raises(ValueError, match="EFFCOURSE_DATA.*'offline' or 'real'"):
        data.load("digits")


def test_auto_is_offline_when_unset(monkeypatch):
    monkeypatch.delenv("EFFCOURSE_DATA", raising=False)
    assert data.load("digits").source == "offline"
    monkeypatch.setenv("EFFCOURSE_DATA", "offline")
    assert data.load("digits").source == "offline"


def test_auto_follows_environment_to_real(monkeypatch, tmp_path):
    monkeypatch.setenv("EFFCOURSE_DATA", "real")

    def no_network(url, destination, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(data._cache, "download", no_network)
    with pytest.raises(data.DownloadError, match="could not download.*EFFCOURSE_DATA=offline"):
        data.load("digits", cache_dir=tmp_path)


def test_unknown_option_and_bad_values():
    with pytest.raises(TypeError, match="unknown option.*colour.*image_size"):
        data.load("digits", colour=True)
    with pytest.raises(ValueError, match="image_size"):
        data.load("digits", image_size=3)
    with pytest.raises(ValueError, match="seed"):
        data.load("digits", seed=-1)
    with pytest.raises(ValueError, match="sample_rate"):
        data.load("speech", sample_rate=100)
    with pytest.raises(ValueError, match="unknown photo 'moon'.*'china'"):
        data.load("photo", which="moon")


def test_dataset_is_a_tuple_with_metadata(sets):
    import copy
    import pickle

    ds = sets["digits"]
    for clone in (pickle.loads(pickle.dumps(ds)), copy.deepcopy(ds)):
        assert clone.class_names == ds.class_names and clone.source == "offline"
        assert np.array_equal(clone[0][0], ds[0][0])
    (x_train, y_train), (x_test, y_test) = ds
    assert isinstance(ds, tuple) and len(ds) == 2
    assert ds.name == "digits" and ds.source == "offline"
    assert ds.class_names == [str(d) for d in range(10)]
    assert "digits" in repr(ds) and "uint8" in repr(ds)


def test_digits_shapes_dtypes_balance_and_split(sets):
    ds = sets["digits"]
    (x_train, y_train), (x_test, y_test) = ds
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert x_train.shape[1:] == (16, 16) and x_test.shape[1:] == (16, 16)
    assert 4000 <= len(x_train) <= 6000 and 900 <= len(x_test) <= 1200
    assert y_train.shape == (len(x_train),)
    assert x_train.max() == 255 and x_train.min() == 0
    counts = np.bincount(y_train, minlength=10)
    assert counts.min() >= 0.85 * counts.max()
    # split by original image: no test example comes from a training source digit
    assert not set(ds.info["source_index_train"]) & set(ds.info["source_index_test"])


def test_digits_image_size_option():
    (x_train, _), (x_test, _) = data.load("digits", "offline", image_size=28)
    assert x_train.shape[1:] == (28, 28) and x_test.shape[1:] == (28, 28)


def test_images_shapes_dtypes_balance(sets):
    ds = sets["images"]
    (x_train, y_train), (x_test, y_test) = ds
    assert x_train.shape == (5000, 32, 32, 3) and x_test.shape == (1000, 32, 32, 3)
    assert y_train.shape == (5000, 1) and y_train.dtype == np.uint8 and x_train.dtype == np.uint8
    assert np.array_equal(np.bincount(y_train[:, 0]), [500] * 10)
    assert np.array_equal(np.bincount(y_test[:, 0]), [100] * 10)
    assert len(ds.class_names) == 10
    assert x_train.std() > 30  # varied colours, not a blank canvas


def test_speech_shapes_dtypes_range(sets):
    ds = sets["speech"]
    (x_train, y_train), (x_test, y_test) = ds
    assert ds.info["sample_rate"] == 8000
    assert x_train.dtype == np.float32 and x_train.shape == (2000, 8000) and x_test.shape == (400, 8000)
    assert y_train.dtype == np.int64 and set(np.unique(y_train)) == set(range(8))
    assert np.abs(x_train).max() <= 1.0 and np.abs(x_train).max() > 0.2
    assert ds.class_names[:8] == ["yes", "no", "up", "down", "left", "right", "on", "off"]
    assert np.array_equal(np.bincount(y_train), [250] * 8)


def test_speech_sample_rate_option(monkeypatch):
    from effcourse.data import speech

    monkeypatch.setattr(speech, "TRAIN_PER_WORD", 2)  # a small set: the option, not the size, is under test
    monkeypatch.setattr(speech, "TEST_PER_WORD", 1)
    monkeypatch.setattr(data, "_MEMORY", type(data._MEMORY)())  # keep the small set out of the shared cache
    (x_train, y_train), (x_test, _) = ds = data.load("speech", "offline", sample_rate=16000, seed=3)
    assert x_train.shape == (16, 16000) and x_test.shape == (8, 16000) and ds.info["sample_rate"] == 16000


def test_news_shapes_lengths_vocabulary(sets):
    ds = sets["news"]
    (x_train, y_train), (x_test, y_test) = ds
    assert x_train.shape == (4000,) and x_test.shape == (800,) and y_train.dtype == np.int64
    assert all(isinstance(t, str) for t in x_train[:50])
    lengths = [len(t.split()) for t in x_train]
    assert min(lengths) >= 40 and max(lengths) <= 120
    vocab = ds.info["vocabulary"]
    assert vocab[0] == "the" and len(vocab) == len(set(vocab)) > 100
    assert ds.class_names == ["World", "Sports", "Business", "Sci/Tech"]
    assert np.array_equal(np.bincount(y_train), [1000] * 4)
    # shared words: an ambiguous word appears in documents of two topics
    has_market = np.array(["market" in t.lower().split() for t in x_train])
    assert len(set(y_train[has_market])) >= 2


def test_pets_shapes_trimap_convention(sets):
    ds = sets["pets"]
    (x_train, y_train), (x_test, y_test) = ds
    assert x_train.shape == (1000, 64, 64, 3) and y_train.shape == (1000, 64, 64, 1)
    assert x_test.shape == (200, 64, 64, 3) and y_train.dtype == np.uint8
    assert set(np.unique(y_train)) == {1, 2, 3}
    # every image has a pet surrounded by a border band, and background
    per_image = [set(np.unique(m)) for m in y_train[:50]]
    assert all(s == {1, 2, 3} for s in per_image)
    assert np.array_equal(np.bincount(ds.info["species_train"]), [500, 500])
    assert len(ds.info["species_test"]) == 200
    assert ds.class_names == ["pet", "background", "border"]


def test_pets_image_size_option():
    (x, y), _ = data.load("pets", "offline", image_size=32, seed=1)
    assert x.shape[1:] == (32, 32, 3) and y.shape[1:] == (32, 32, 1)


def test_photo_is_one_image():
    photo = data.load("photo")
    assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3
    flower = data.load("photo", which="flower")
    assert flower.shape == photo.shape and not np.array_equal(flower, photo)
    assert np.array_equal(data.load("photo", "real"), photo)


@pytest.mark.parametrize("name", ["digits", "images", "news", "pets"])
def test_deterministic_for_a_seed_and_different_for_another(name, sets):
    again = data.load(name, "offline", seed=0)
    other = data.load(name, "offline", seed=1)
    ref = sets[name]
    for a, b in zip((ref[0][0], ref[1][0], ref[0][1]), (again[0][0], again[1][0], again[0][1])):
        assert np.array_equal(a, b)
    assert not np.array_equal(ref[0][0], other[0][0])


def test_speech_deterministic_for_a_seed(monkeypatch):
    from effcourse.data import speech

    monkeypatch.setattr(speech, "TRAIN_PER_WORD", 3)
    monkeypatch.setattr(speech, "TEST_PER_WORD", 1)
    first = speech.offline(seed=5)
    again = speech.offline(seed=5)
    other = speech.offline(seed=6)
    assert np.array_equal(first[0][0], again[0][0]) and np.array_equal(first[1][1], again[1][1])
    assert not np.array_equal(first[0][0], other[0][0])


def test_returns_copies():
    (x_train, y_train), _ = first = data.load("digits", "offline")
    x_train[:] = 0
    y_train[:] = 0
    first.info["source_index_train"][:] = -1
    (x2, y2), _ = second = data.load("digits", "offline")
    assert x2.max() == 255 and y2.max() == 9
    assert second.info["source_index_train"].min() >= 0
    photo = data.load("photo")
    photo[:] = 0
    assert data.load("photo").max() > 0


# ---- a small baseline learns each set: well above chance, below 100% ----------------------------


def _logistic(x_train, y_train, x_test, y_test, **kwargs):
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    # one BLAS thread: on a busy 2-core machine OpenBLAS threads make lbfgs ~20x slower
    with threadpool_limits(1):
        clf = LogisticRegression(max_iter=kwargs.pop("max_iter", 300), **kwargs).fit(x_train, y_train)
        return clf.score(x_test, y_test)


def test_digits_baseline(sets):
    (x_train, y_train), (x_test, y_test) = sets["digits"]
    acc = _logistic(
        x_train.reshape(len(x_train), -1) / 255.0,
        y_train,
        x_test.reshape(len(x_test), -1) / 255.0,
        y_test,
        max_iter=500,
    )
    print(f"digits: logistic regression on pixels: {acc:.3f}")
    assert 0.6 < acc < 0.97


def test_news_baseline(sets):
    from sklearn.feature_extraction.text import CountVectorizer

    (x_train, y_train), (x_test, y_test) = sets["news"]
    vectorizer = CountVectorizer().fit(x_train)
    acc = _logistic(vectorizer.transform(x_train), y_train, vectorizer.transform(x_test), y_test, max_iter=1000)
    print(f"news: bag-of-words logistic regression: {acc:.3f}")
    assert 0.6 < acc < 0.97


def test_speech_baseline(sets):
    ds = sets["speech"]
    (x_train, y_train), (x_test, y_test) = ds
    f_train = data.log_mel_spectrogram(x_train, ds.info["sample_rate"])
    f_test = data.log_mel_spectrogram(x_test, ds.info["sample_rate"])

    def coarse(f):  # average into 7 time blocks x 10 mel bands: 70 features, quick to fit
        return f[:, :49].reshape(len(f), 7, 7, 10, 4).mean(axis=(2, 4)).reshape(len(f), -1)

    c_train, c_test = coarse(f_train), coarse(f_test)
    mean, std = c_train.mean(axis=0), c_train.std(axis=0) + 1e-6
    acc = _logistic((c_train - mean) / std, y_train, (c_test - mean) / std, y_test, max_iter=300)
    print(f"speech: logistic regression on coarse log-mel: {acc:.3f}")
    assert 0.5 < acc < 0.99


def test_images_baseline(sets):
    import effcourse

    effcourse.setup(seed=0, style=False)
    from effcourse.compat import keras

    (x_train, y_train), (x_test, y_test) = sets["images"]
    model = keras.Sequential(
        [
            keras.layers.Input((32, 32, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPool2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPool2D(),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        keras.optimizers.Adam(2e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    model.fit(x_train, y_train, epochs=3, batch_size=32, verbose=0)
    acc = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"images: small CNN, 3 epochs: {acc:.3f}")
    assert 0.3 < acc < 0.99


def test_pets_baseline(sets):
    """A per-pixel colour classifier (pet or not) beats the majority class but is far from perfect."""
    from sklearn.preprocessing import PolynomialFeatures

    (x_train, y_train), (x_test, y_test) = sets["pets"]
    rng = np.random.default_rng(0)
    pixels = x_train.reshape(-1, 3) / 255.0
    is_pet = y_train.reshape(-1) == 1
    pick = rng.choice(len(pixels), 50_000, replace=False)
    poly = PolynomialFeatures(2)
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        clf = LogisticRegression(max_iter=500).fit(poly.fit_transform(pixels[pick]), is_pet[pick])
    pred = clf.predict(poly.transform(x_test.reshape(-1, 3) / 255.0))
    truth = y_test.reshape(-1) == 1
    accuracy = (pred == truth).mean()
    majority = max(truth.mean(), 1 - truth.mean())
    iou = (pred & truth).sum() / (pred | truth).sum()
    print(f"pets: per-pixel colour classifier: pixel accuracy {accuracy:.3f} (majority {majority:.3f}), IoU {iou:.3f}")
    assert majority + 0.01 < accuracy < 1.0
    assert 0.05 < iou < 0.9


# ---- log-mel spectrogram ------------------------------------------------------------------------


def test_log_mel_shapes_and_single_waveform():
    rng = np.random.default_rng(0)
    batch = rng.uniform(-1, 1, (3, 8000)).astype(np.float32)
    spec = data.log_mel_spectrogram(batch, 8000)
    assert spec.shape == (3, 49, 40) and spec.dtype == np.float32
    single = data.log_mel_spectrogram(batch[1], 8000)
    np.testing.assert_allclose(single, spec[1], rtol=1e-5, atol=1e-5)
    assert np.array_equal(data.log_mel_spectrogram(batch, 8000), spec)  # deterministic
    assert data.log_mel_spectrogram(batch, 8000, num_mel_bins=20, frame_step_ms=10).shape == (3, 98, 20)


def test_log_mel_puts_a_tone_in_the_right_band():
    t = np.arange(8000) / 8000
    low = data.log_mel_spectrogram(np.sin(2 * np.pi * 300 * t), 8000).mean(axis=0)
    high = data.log_mel_spectrogram(np.sin(2 * np.pi * 3000 * t), 8000).mean(axis=0)
    assert np.argmax(low) < np.argmax(high)
    assert np.argmax(low) < 15 and np.argmax(high) > 30


def test_log_mel_matches_tensorflow_filterbank():
    from effcourse.compat import tf
    from effcourse.data.audio import mel_filterbank

    ours = mel_filterbank(40, 129, 8000, 20.0, 4000.0)
    theirs = tf.signal.linear_to_mel_weight_matrix(40, 129, 8000, 20.0, 4000.0).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(waveforms=np.zeros((2, 2, 8000)), sample_rate=8000), "1-D .* or 2-D"),
        (dict(waveforms=np.zeros(100), sample_rate=8000), "fewer than one frame"),
        (dict(waveforms=np.zeros(8000), sample_rate=0), "sample_rate"),
        (dict(waveforms=np.zeros(8000), sample_rate=8000, fmax=6000.0), "fmax"),
        (dict(waveforms=np.array(["a"] * 8000), sample_rate=8000), "numeric"),
    ],
)
def test_log_mel_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.log_mel_spectrogram(**kwargs)
