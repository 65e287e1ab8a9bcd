"""Audio features: the log-mel spectrogram the keyword-spotting chapters use."""

from __future__ import annotations

import numpy as np


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_filterbank(num_mel_bins: int, num_fft_bins: int, sample_rate: int, fmin: float, fmax: float) -> np.ndarray:
    """Triangular mel filters, shape (num_fft_bins, num_mel_bins), HTK mel scale.

    The same construction as ``tf.signal.linear_to_mel_weight_matrix`` (the DC bin gets no
    weight; triangles between equally spaced mel edges).
    """
    fft_hz = np.linspace(0.0, sample_rate / 2.0, num_fft_bins)[1:]
    fft_mel = _hz_to_mel(fft_hz)[:, None]
    edges = np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), num_mel_bins + 2)
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (fft_mel - lower) / (centre - lower)
    falling = (upper - fft_mel) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.pad(weights, ((1, 0), (0, 0)))


def log_mel_spectrogram(
    waveforms: np.ndarray,
    sample_rate: int,
    *,
    num_mel_bins: int = 40,
    frame_length_ms: float = 30,
    frame_step_ms: float = 20,
    fmin: float = 20.0,
    fmax: float | None = None,
) -> np.ndarray:
    """Log-mel spectrogram of one waveform or a batch, in NumPy (deterministic).

    Frames of ``frame_length_ms`` every ``frame_step_ms`` (no padding: a 1 s clip at the
    defaults gives 49 frames, as TFLM's micro_speech example), a periodic Hann window, the
    power spectrum of an FFT of the next power of two, ``num_mel_bins`` triangular mel filters
    from ``fmin`` to ``fmax`` (default: half the sample rate), then ``log(mel + 1e-6)``.

    Example:
        >>> import numpy as np
        >>> from effcourse.data import log_mel_spectrogram
        >>> t = np.arange(8000) / 8000
        >>> spec = log_mel_spectrogram(np.sin(2 * np.pi * 440 * t), 8000)
        >>> spec.shape, spec.dtype
        ((49, 40), dtype('float32'))

    Args:
        waveforms: float array (num_samples,) or (N, num_samples), values about [-1, 1].
        sample_rate: samples per second of the waveforms (e.g. ``ds.info["sample_rate"]``).
        num_mel_bins: number of mel bands.
        frame_length_ms: window length in milliseconds.
        frame_step_ms: hop between windows in milliseconds.
        fmin: lowest band edge in Hz.
        fmax: highest band edge in Hz (default ``sample_rate / 2``).

    Returns:
        float32 array (frames, num_mel_bins) for one waveform, or (N, frames, num_mel_bins).

    Raises:
        ValueError: a waveform shorter than one frame, a bad sample rate or band edges.

    Taught in: chapters/ch03_learning_techniques
    """
    x = np.asarray(waveforms)
    if x.ndim not in (1, 2):
        raise ValueError(f"waveforms must be 1-D (num_samples,) or 2-D (N, num_samples), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"waveforms must be numeric, got dtype {x.dtype}")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive int (samples per second), got {sample_rate!r}")
    fmax = sample_rate / 2.0 if fmax is None else float(fmax)
    if not 0.0 <= fmin < fmax <= sample_rate / 2.0:
        raise ValueError(f"need 0 <= fmin < fmax <= sample_rate/2 = {sample_rate / 2}, got fmin={fmin}, fmax={fmax}")
    if num_mel_bins < 1:
        raise ValueError(f"num_mel_bins must be >= 1, got {num_mel_bins}")
    single = x.ndim == 1
    batch = x[None, :] if single else x
    frame_length = int(round(sample_rate * frame_length_ms / 1000.0))
    frame_step = int(round(sample_rate * frame_step_ms / 1000.0))
    if frame_length < 2 or frame_step < 1:
        raise ValueError(
            f"frame_length_ms/frame_step_ms give {frame_length}/{frame_step} samples at {sample_rate} Hz: too short"
        )
    num_samples = batch.shape[1]
    if num_samples < frame_length:
        raise ValueError(f"waveforms have {num_samples} samples, fewer than one frame ({frame_length}); pad them first")
    num_frames = 1 + (num_samples - frame_length) // frame_step
    fft_length = 1 << (frame_length - 1).bit_length()
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(frame_length) / frame_length)).astype(np.float32)
    starts = np.arange(num_frames) * frame_step
    index = starts[:, None] + np.arange(frame_length)[None, :]
    filters = mel_filterbank(num_mel_bins, fft_length // 2 + 1, sample_rate, fmin, fmax).astype(np.float32)
    out = np.empty((len(batch), num_frames, num_mel_bins), dtype=np.float32)
    chunk = 256
    for i in range(0, len(batch), chunk):
        frames = batch[i : i + chunk].astype(np.float32)[:, index] * window
        power = np.abs(np.fft.rfft(frames, n=fft_length, axis=-1)).astype(np.float32) ** 2
        out[i : i + chunk] = np.log(power @ filters + 1e-6)
    return out[0] if single else out
