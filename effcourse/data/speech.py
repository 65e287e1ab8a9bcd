"""``speech``: a Speech Commands stand-in of synthesised keywords.

Offline: eight words (yes, no, up, down, left, right, on, off) built from formant-like voiced
segments (a glottal sawtooth through three resonators whose frequencies glide), nasals,
fricative noise bands and plosive bursts. Every example varies the speaker's pitch and
vocal-tract length, the speaking rate, the segment durations, the start time, the loudness
and the background noise (white to brown-ish, 5-30 dB SNR). "on"/"off" share their vowel, "up"/"down" share a
vowel region and "left"/"right" share the final /t/, so a teacher's soft labels carry
information. x float32 (N, sample_rate) in [-1, 1] (1 s), y int64 (N,).

Real: Speech Commands v0.02 (``speech_commands_v0.02.tar.gz``), the same eight words, WAV
files read with the standard library, resampled from 16 kHz to ``sample_rate``, padded or
cropped to 1 s; split by the archive's ``testing_list.txt`` (files in
``validation_list.txt`` are left out).
"""

from __future__ import annotations

import io
import tarfile
import wave

import numpy as np

from effcourse.data import _cache
from effcourse.data._base import Dataset

WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off"]
TRAIN_PER_WORD = 250
TEST_PER_WORD = 50
SPEECH_COMMANDS_URL = "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz"

# Segments: ("v", (F1, F2, F3) start, (F1, F2, F3) end, seconds) voiced; ("n", seconds) nasal;
# ("f", low Hz, high Hz, seconds, gain) fricative; ("b", seconds, gain) burst; ("s", seconds) silence.
_WORD_SEGMENTS = {
    "yes": [
        ("v", (300, 2200, 3000), (480, 1850, 2600), 0.10),
        ("v", (480, 1850, 2600), (520, 1750, 2500), 0.16),
        ("f", 2800, 3900, 0.16, 0.45),
    ],
    "no": [
        ("n", 0.08),
        ("v", (450, 1000, 2400), (550, 900, 2400), 0.12),
        ("v", (550, 900, 2400), (350, 750, 2300), 0.16),
    ],
    "up": [("v", (650, 1250, 2500), (600, 1150, 2450), 0.18), ("s", 0.06), ("b", 0.025, 0.7)],
    "down": [
        ("b", 0.02, 0.5),
        ("v", (700, 1250, 2500), (750, 1150, 2450), 0.12),
        ("v", (750, 1150, 2450), (400, 850, 2300), 0.14),
        ("n", 0.08),
    ],
    "left": [
        ("v", (380, 1000, 2500), (420, 1150, 2500), 0.06),
        ("v", (550, 1800, 2500), (600, 1700, 2450), 0.14),
        ("f", 1200, 3500, 0.10, 0.25),
        ("s", 0.03),
        ("b", 0.02, 0.5),
    ],
    "right": [
        ("v", (400, 1100, 1600), (450, 1200, 1750), 0.07),
        ("v", (750, 1200, 2400), (750, 1300, 2400), 0.10),
        ("v", (750, 1300, 2400), (400, 2000, 2600), 0.12),
        ("s", 0.04),
        ("b", 0.02, 0.5),
    ],
    "on": [("v", (600, 950, 2450), (600, 1000, 2450), 0.16), ("n", 0.10)],
    "off": [("v", (600, 950, 2450), (600, 1000, 2450), 0.16), ("f", 1000, 3500, 0.14, 0.3)],
}
_BANDWIDTHS = (90.0, 120.0, 170.0)
_FORMANT_GAINS = (1.0, 0.6, 0.3)


def _resonate(x: np.ndarray, freq: float, bandwidth: float, sample_rate: int) -> np.ndarray:
    """A two-pole resonator (one formant) at ``freq`` Hz with ``bandwidth`` Hz."""
    from scipy.signal import lfilter

    r = np.exp(-np.pi * bandwidth / sample_rate)
    a = [1.0, -2.0 * r * np.cos(2.0 * np.pi * min(freq, 0.45 * sample_rate) / sample_rate), r * r]
    return lfilter([1.0 - r], a, x)


def _ramp(length: int, sample_rate: int) -> np.ndarray:
    """A raised-cosine attack and release of up to 12 ms."""
    env = np.ones(length)
    k = min(length // 2, int(0.012 * sample_rate))
    if k > 0:
        rise = 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
        env[:k] = rise
        env[length - k :] = rise[::-1]
    return env


def _bandpass_noise(rng, length, low, high, sample_rate):
    from scipy.fft import next_fast_len

    padded = next_fast_len(length, real=True)  # FFTs of prime lengths are slow
    spectrum = np.fft.rfft(rng.standard_normal(padded))
    freqs = np.fft.rfftfreq(padded, 1.0 / sample_rate)
    spectrum[(freqs < low) | (freqs > high)] = 0.0
    out = np.fft.irfft(spectrum, n=padded)[:length]
    return out / (np.std(out) + 1e-9)


def _synthesise(word: str, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """One spoken ``word`` (at most 0.95 s, no padding), float64 with peak 1."""
    pitch = rng.uniform(85.0, 250.0)
    tract = rng.uniform(0.87, 1.17)  # formant scale: shorter vocal tract -> higher formants
    rate = rng.uniform(0.8, 1.25)  # speaking rate: durations are divided by it
    nyquist = sample_rate / 2.0
    pieces = []
    for seg in _WORD_SEGMENTS[word]:
        kind = seg[0]
        seconds = (seg[3] if kind in ("v", "f") else seg[1]) / rate * rng.uniform(0.85, 1.15)
        n = max(8, int(seconds * sample_rate))
        if kind in ("v", "n"):
            start, end = (seg[1], seg[2]) if kind == "v" else ((260, 1000, 2300), (260, 1000, 2300))
            f0 = pitch * (1.0 + 0.03 * np.sin(2 * np.pi * rng.uniform(4, 6) * np.arange(n) / sample_rate))
            f0 *= np.linspace(1.0, rng.uniform(0.9, 1.05), n)
            phase = np.cumsum(f0) / sample_rate + rng.uniform()
            source = 2.0 * (phase % 1.0) - 1.0  # a glottal sawtooth: all harmonics of f0
            glide = np.linspace(0.0, 1.0, n)
            out = np.zeros(n)
            for k in range(3):  # formant k glides from start to end: cross-fade two resonators
                y_start = _resonate(source, tract * start[k], _BANDWIDTHS[k], sample_rate)
                if start[k] == end[k]:
                    out += _FORMANT_GAINS[k] * y_start
                else:
                    y_end = _resonate(source, tract * end[k], _BANDWIDTHS[k], sample_rate)
                    out += _FORMANT_GAINS[k] * (y_start + glide * (y_end - y_start))
            out *= (0.35 if kind == "n" else 1.0) / (np.std(out) + 1e-9)
        elif kind == "f":
            low, high = seg[1] * tract, min(seg[2] * tract, 0.97 * nyquist)
            out = seg[4] * _bandpass_noise(rng, n, low, high, sample_rate)
        elif kind == "b":
            out = seg[2] * rng.standard_normal(n) * np.exp(-np.arange(n) / (0.3 * n))
        else:
            out = np.zeros(n)
        pieces.append(out * _ramp(n, sample_rate))
    word_signal = np.concatenate(pieces)[: int(0.95 * sample_rate)]
    return word_signal / (np.max(np.abs(word_signal)) + 1e-9)


def _coloured_noise(rng: np.random.Generator, n: int, sample_rate: int) -> np.ndarray:
    """(n, sample_rate) float32 noise, unit std, power spectrum ~ 1/f^alpha with alpha in [0, 1.5]
    (white to brown-ish: hiss to rumble)."""
    out = np.empty((n, sample_rate), dtype=np.float32)
    freqs = np.maximum(np.fft.rfftfreq(sample_rate, 1.0 / sample_rate), 20.0)
    alpha = rng.uniform(0.0, 1.5, n)
    for i in range(0, n, 256):
        white = rng.standard_normal((min(256, n - i), sample_rate), dtype=np.float32)
        shaped = np.fft.irfft(
            np.fft.rfft(white, axis=1) * freqs[None, :] ** (-alpha[i : i + 256, None] / 2.0), n=sample_rate, axis=1
        )
        out[i : i + 256] = shaped / shaped.std(axis=1, keepdims=True)
    return out


def _clips(labels: np.ndarray, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """1 s clips: each word at a random time and loudness, over noise at 5-30 dB SNR."""
    n = len(labels)
    x = np.zeros((n, sample_rate), dtype=np.float32)
    gain = rng.uniform(0.25, 0.8, n)
    speech_power = np.empty(n)
    for i, label in enumerate(labels):
        word_signal = gain[i] * _synthesise(WORDS[label], rng, sample_rate)
        start = int(rng.integers(0, sample_rate - len(word_signal) + 1))
        x[i, start : start + len(word_signal)] = word_signal
        speech_power[i] = np.mean(word_signal**2)
    snr_db = rng.uniform(5.0, 30.0, n)
    x += _coloured_noise(rng, n, sample_rate) * np.sqrt(speech_power / 10 ** (snr_db / 10)).astype(np.float32)[:, None]
    return np.clip(x, -1.0, 1.0)


def _check_sample_rate(sample_rate) -> int:
    if (
        isinstance(sample_rate, bool)
        or not isinstance(sample_rate, (int, np.integer))
        or not 4000 <= sample_rate <= 48000
    ):
        raise ValueError(f"sample_rate must be an int between 4000 and 48000 Hz, got {sample_rate!r}")
    return int(sample_rate)


def offline(*, seed: int = 0, sample_rate: int = 8000) -> Dataset:
    """2000 train / 400 test synthesised keywords, balanced, 1 s at ``sample_rate``."""
    sample_rate = _check_sample_rate(sample_rate)
    rng = np.random.default_rng([seed, 3])
    splits = []
    for per_word in (TRAIN_PER_WORD, TEST_PER_WORD):
        labels = rng.permutation(np.repeat(np.arange(len(WORDS)), per_word)).astype(np.int64)
        splits.append((_clips(labels, rng, sample_rate), labels))
    return Dataset(
        splits[0],
        splits[1],
        name="speech",
        source="offline",
        class_names=list(WORDS),
        info={"sample_rate": sample_rate, "origin": "synthesised keywords (effcourse.data.speech)"},
    )


def read_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode a PCM WAV file's bytes with :mod:`wave`: (float32 mono samples in [-1, 1], sample rate)."""
    with wave.open(io.BytesIO(data)) as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        frames = w.readframes(w.getnframes())
    if width == 2:
        samples = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 1:
        samples = (np.frombuffer(frames, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 4:
        samples = np.frombuffer(frames, dtype="<i4").astype(np.float32) / 2147483648.0
    else:
        raise ValueError(f"unsupported WAV sample width {width} bytes")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def _fit(samples: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    """Resample to ``sample_rate`` and pad with zeros or crop to exactly 1 s."""
    if rate != sample_rate:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(rate, sample_rate)
        samples = resample_poly(samples, sample_rate // g, rate // g).astype(np.float32)
    out = np.zeros(sample_rate, dtype=np.float32)
    out[: min(len(samples), sample_rate)] = samples[:sample_rate]
    return np.clip(out, -1.0, 1.0)


def _member_key(name: str) -> str:
    return name[2:] if name.startswith("./") else name


def _verify_archive(path) -> None:
    with tarfile.open(path, "r:gz") as archive:
        names = {_member_key(m) for m in archive.getnames()}
    if "testing_list.txt" not in names or "validation_list.txt" not in names:
        raise ValueError("testing_list.txt or validation_list.txt missing: not a Speech Commands archive")
    if not any(n.startswith("yes/") for n in names):
        raise ValueError("no yes/*.wav files: not a Speech Commands archive")


def _decode_archive(path, sample_rate: int) -> dict:
    """All clips of the eight words, decoded and fitted to 1 s: x/y for train and test."""
    clips: dict[str, bytes] = {}
    lists: dict[str, set[str]] = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            key = _member_key(member.name)
            if key in ("testing_list.txt", "validation_list.txt"):
                text = archive.extractfile(member).read().decode("utf-8")
                lists[key] = {line.strip() for line in text.splitlines() if line.strip()}
            elif member.isfile() and key.endswith(".wav") and key.split("/")[0] in WORDS:
                clips[key] = archive.extractfile(member).read()
    test_names = lists.get("testing_list.txt", set())
    validation_names = lists.get("validation_list.txt", set())
    arrays = {}
    for split, in_split in (
        ("train", lambda k: k not in test_names and k not in validation_names),
        ("test", lambda k: k in test_names),
    ):
        keys = sorted(k for k in clips if in_split(k))
        x = np.zeros((len(keys), sample_rate), dtype=np.float32)
        for i, k in enumerate(keys):
            x[i] = _fit(*read_wav(clips.pop(k)), sample_rate)
        arrays[f"x_{split}"] = x
        arrays[f"y_{split}"] = np.array([WORDS.index(k.split("/")[0]) for k in keys], dtype=np.int64)
    return arrays


def real(*, seed: int = 0, cache_dir=None, sample_rate: int = 8000, max_per_word: int | None = None) -> Dataset:
    """Speech Commands v0.02, the eight words; ``max_per_word`` limits each word's clips per split
    (chosen with ``seed``), to save memory (the full eight-word subset is ~31k clips)."""
    sample_rate = _check_sample_rate(sample_rate)
    if max_per_word is not None and (
        isinstance(max_per_word, bool) or not isinstance(max_per_word, int) or max_per_word < 1
    ):
        raise ValueError(f"max_per_word must be a positive int or None, got {max_per_word!r}")
    # No published SHA-256 is known to us: integrity is checked by opening the archive and
    # finding its split lists and word folders.
    path = _cache.fetch(
        "speech_commands_v0.02.tar.gz", SPEECH_COMMANDS_URL, verify=_verify_archive, cache_dir=cache_dir
    )
    arrays = _cache.derived_arrays(
        f"speech_commands_8words_{sample_rate}hz.npz",
        lambda: _decode_archive(path, sample_rate),
        sources=[path],
        cache_dir=cache_dir,
    )
    rng = np.random.default_rng([seed, 33])
    splits = []
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if max_per_word is not None:
            keep = np.sort(
                np.concatenate([rng.permutation(np.flatnonzero(y == w))[:max_per_word] for w in range(len(WORDS))])
            )
            x, y = x[keep], y[keep]
        splits.append((x, y))
    return Dataset(
        splits[0],
        splits[1],
        name="speech",
        source="real",
        class_names=list(WORDS),
        info={"sample_rate": sample_rate, "origin": SPEECH_COMMANDS_URL},
    )
