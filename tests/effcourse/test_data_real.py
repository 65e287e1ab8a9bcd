"""effcourse.data real loaders, without network: tiny fake files in the real formats in a tmp cache."""

import io
import pickle
import tarfile
import wave

import numpy as np
import pytest

from effcourse import data
from effcourse.data import _cache, digits


@pytest.fixture
def offline_network(monkeypatch):
    """Any download attempt fails (and is recorded), so a test proves nothing is fetched."""
    attempts = []

    def fail(url, destination, **kwargs):
        attempts.append(url)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(_cache, "download", fail)
    return attempts


def _add(archive: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    archive.addfile(info, io.BytesIO(payload))


def _fake_mnist(path, n_train=6, n_test=4):
    rng = np.random.default_rng(0)
    np.savez(
        path,
        x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        y_train=np.arange(n_train, dtype=np.uint8) % 10,
        x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        y_test=np.arange(n_test, dtype=np.uint8) % 10,
    )


def test_mnist_from_cache_with_known_hash(tmp_path, monkeypatch, offline_network):
    _fake_mnist(tmp_path / "mnist.npz")
    monkeypatch.setattr(digits, "MNIST_SHA256", _cache.sha256_of(tmp_path / "mnist.npz"))
    ds = data.load("digits", "real", cache_dir=tmp_path)
    (x_train, y_train), (x_test, y_test) = ds
    assert ds.source == "real" and x_train.shape == (6, 28, 28) and x_test.shape == (4, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8 and list(y_test) == [0, 1, 2, 3]
    (small, _), _ = data.load("digits", "real", cache_dir=tmp_path, image_size=16)
    assert small.shape == (6, 16, 16)
    assert offline_network == []


def test_environment_cache_folder(tmp_path, monkeypatch, offline_network):
    _fake_mnist(tmp_path / "mnist.npz")
    monkeypatch.setattr(digits, "MNIST_SHA256", _cache.sha256_of(tmp_path / "mnist.npz"))
    monkeypatch.setenv("EFFCOURSE_CACHE", str(tmp_path))
    monkeypatch.setenv("EFFCOURSE_DATA", "real")
    assert data.load("digits").source == "real"
    assert offline_network == []


def test_corrupt_cache_is_refetched(tmp_path, monkeypatch):
    good = tmp_path / "good.npz"
    _fake_mnist(good)
    monkeypatch.setattr(digits, "MNIST_SHA256", _cache.sha256_of(good))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "mnist.npz").write_bytes(b"not an npz file")
    fetched = []

    def fake_download(url, destination, **kwargs):
        fetched.append(url)
        destination.write_bytes(good.read_bytes())

    monkeypatch.setattr(_cache, "download", fake_download)
    (x_train, _), _ = data.load("digits", "real", cache_dir=tmp_path / "cache")
    assert fetched == [digits.MNIST_URL] and x_train.shape == (6, 28, 28)
    assert _cache.sha256_of(tmp_path / "cache" / "mnist.npz") == digits.MNIST_SHA256
    data.load("digits", "real", cache_dir=tmp_path / "cache")
    assert len(fetched) == 1  # now verified: not fetched again


def test_corrupt_cache_offline_is_a_clear_error(tmp_path, offline_network):
    (tmp_path / "mnist.npz").write_bytes(b"truncated")
    with pytest.raises(
        data.DownloadError,
        match="mnist.npz is corrupt.*network is unavailable.*delete it or set EFFCOURSE_DATA=offline",
    ):
        data.load("digits", "real", cache_dir=tmp_path)
    assert offline_network == [digits.MNIST_URL]


def test_wrong_hash_download_is_discarded(tmp_path, monkeypatch):
    def bad_download(url, destination, **kwargs):
        destination.write_bytes(b"a captive portal page")

    monkeypatch.setattr(_cache, "download", bad_download)
    with pytest.raises(data.DownloadError, match="not valid.*SHA-256"):
        data.load("digits", "real", cache_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == []  # nothing half-written left behind


def test_missing_file_offline_says_what_to_do(tmp_path, offline_network):
    with pytest.raises(data.DownloadError, match="could not download .*mnist.npz.*source='offline'"):
        data.load("digits", "real", cache_dir=tmp_path)


def test_fetch_refuses_unchecked_files(tmp_path):
    with pytest.raises(ValueError, match="sha256 or a verify"):
        _cache.fetch("x.bin", "http://example.invalid/x.bin", cache_dir=tmp_path)


def _pickled_batch(n, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    return images, {b"data": images.reshape(n, -1), b"labels": list(np.arange(n) % 10)}


def test_cifar10_archive(tmp_path, monkeypatch, offline_network):
    from effcourse.data import images

    path = tmp_path / "cifar-10-python.tar.gz"
    first = None
    with tarfile.open(path, "w:gz") as archive:
        for i, member in enumerate(images._BATCHES):
            raw, batch = _pickled_batch(3, i)
            first = raw if first is None else first
            _add(archive, member, pickle.dumps(batch))
    monkeypatch.setattr(images, "CIFAR10_SHA256", _cache.sha256_of(path))
    ds = data.load("images", "real", cache_dir=tmp_path)
    (x_train, y_train), (x_test, y_test) = ds
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1) and x_test.shape == (3, 32, 32, 3)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.array_equal(x_train[0], first[0].transpose(1, 2, 0))  # channels last, as Keras
    assert list(y_test[:, 0]) == [0, 1, 2] and ds.class_names[0] == "airplane"
    assert offline_network == []


def _wav(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def test_speech_commands_archive(tmp_path, offline_network):
    path = tmp_path / "speech_commands_v0.02.tar.gz"
    t = np.arange(16000) / 16000
    with tarfile.open(path, "w:gz") as archive:
        for word in ["yes", "no", "up", "on", "marvin"]:
            for k in range(3):
                length = 12000 if k == 0 else 16000  # a short clip is padded to 1 s
                _add(archive, f"./{word}/spk{k}_nohash_0.wav", _wav(0.5 * np.sin(2 * np.pi * 440 * t[:length]), 16000))
        _add(archive, "./testing_list.txt", b"yes/spk2_nohash_0.wav\nno/spk2_nohash_0.wav\n")
        _add(archive, "./validation_list.txt", b"up/spk1_nohash_0.wav\n")
    ds = data.load("speech", "real", cache_dir=tmp_path)
    (x_train, y_train), (x_test, y_test) = ds
    assert ds.info["sample_rate"] == 8000 and x_train.dtype == np.float32 and y_train.dtype == np.int64
    # 4 keywords x 3 clips = 12; 2 test, 1 validation left out, "marvin" is not a keyword
    assert x_train.shape == (9, 8000) and x_test.shape == (2, 8000)
    assert sorted(y_test.tolist()) == [0, 1]
    assert np.bincount(y_train, minlength=8).tolist() == [2, 2, 2, 0, 0, 0, 3, 0]
    assert np.abs(x_train).max() <= 1.0 and 0.4 < np.abs(x_train).max()
    spec = data.log_mel_spectrogram(x_train, 8000)
    assert spec.shape == (9, 49, 40)
    (x16, _), _ = data.load("speech", "real", cache_dir=tmp_path, sample_rate=16000, max_per_word=1)
    assert x16.shape == (4, 16000)
    assert offline_network == []


def test_speech_archive_without_lists_is_rejected(tmp_path, offline_network):
    with tarfile.open(tmp_path / "speech_commands_v0.02.tar.gz", "w:gz") as archive:
        _add(archive, "yes/a.wav", _wav(np.zeros(100), 16000))
    with pytest.raises(data.DownloadError, match="corrupt.*testing_list"):
        data.load("speech", "real", cache_dir=tmp_path)


def test_ag_news_csv(tmp_path, offline_network):
    folder = tmp_path / "ag_news"
    folder.mkdir()
    (folder / "train.csv").write_text(
        '"3","Wall St. Bears Claw Back","Short-sellers, Wall Street\'s dwindling band, are seeing green."\n'
        '"4","New chip","A faster chip, said the firm."\n"1","Talks","Leaders met on Monday."\n'
        '"2","Cup final","The team won the cup."\n',
        encoding="utf-8",
    )
    (folder / "test.csv").write_text('"2","Match","A late goal won the match."\n', encoding="utf-8")
    ds = data.load("news", "real", cache_dir=tmp_path)
    (x_train, y_train), (x_test, y_test) = ds
    assert y_train.tolist() == [2, 3, 0, 1] and y_test.tolist() == [1] and y_train.dtype == np.int64
    assert x_train[0].startswith("Wall St. Bears Claw Back Short-sellers")
    assert ds.info["vocabulary"][0] == "the" and ds.class_names[2] == "Business"
    assert offline_network == []


def test_ag_news_bad_label_is_corrupt(tmp_path, offline_network):
    folder = tmp_path / "ag_news"
    folder.mkdir()
    (folder / "train.csv").write_text('"7","x","y"\n')
    with pytest.raises(data.DownloadError, match="train.csv is corrupt.*class"):
        data.load("news", "real", cache_dir=tmp_path)


def test_oxford_pets_archives(tmp_path, monkeypatch, offline_network):
    from PIL import Image

    folder = tmp_path / "oxford_iiit_pet"
    folder.mkdir()
    names = {"Abyssinian_1": 1, "beagle_2": 2, "Bengal_3": 1}
    with tarfile.open(folder / "images.tar.gz", "w:gz") as archive:
        for name in names:
            buf = io.BytesIO()
            Image.fromarray(np.full((50, 70, 3), 120, np.uint8)).save(buf, format="JPEG")
            _add(archive, f"images/{name}.jpg", buf.getvalue())
    with tarfile.open(folder / "annotations.tar.gz", "w:gz") as archive:
        for name in names:
            trimap = np.full((50, 70), 2, np.uint8)
            trimap[10:40, 20:50] = 3
            trimap[12:38, 22:48] = 1
            buf = io.BytesIO()
            Image.fromarray(trimap).save(buf, format="PNG")
            _add(archive, f"annotations/trimaps/{name}.png", buf.getvalue())
        _add(
            archive,
            "annotations/trainval.txt",
            b"#Image CLASS-ID SPECIES BREED ID\nAbyssinian_1 1 1 1\nbeagle_2 2 2 1\n",
        )
        _add(archive, "annotations/test.txt", b"Bengal_3 3 1 2\n")
    ds = data.load("pets", "real", cache_dir=tmp_path, image_size=32)
    (x_train, y_train), (x_test, y_test) = ds
    assert x_train.shape == (2, 32, 32, 3) and y_train.shape == (2, 32, 32, 1) and x_test.shape == (1, 32, 32, 3)
    assert set(np.unique(y_train)) == {1, 2, 3}  # nearest-neighbour resize keeps the trimap values
    assert ds.info["species_train"].tolist() == [0, 1] and ds.info["species_test"].tolist() == [0]
    assert offline_network == []
    # the decoded arrays are kept next to the archives and reused ...
    from effcourse.data import pets

    derived = folder / "pets_32.npz"
    assert derived.exists()

    def must_not_decode(*args):
        raise AssertionError("decoded the archives again instead of reusing pets_32.npz")

    monkeypatch.setattr(pets, "_decode_archives", must_not_decode)
    again = data.load("pets", "real", cache_dir=tmp_path, image_size=32)
    assert np.array_equal(again[0][0], x_train) and np.array_equal(again[1][1], y_test)
    # ... and an unreadable derived file is rebuilt from the archives, not used
    monkeypatch.undo()
    monkeypatch.setattr(_cache, "download", lambda *a, **k: (_ for _ in ()).throw(OSError("no network")))
    derived.write_bytes(b"garbage")
    rebuilt = data.load("pets", "real", cache_dir=tmp_path, image_size=32)
    assert np.array_equal(rebuilt[0][0], x_train)
