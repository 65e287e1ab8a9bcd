"""Pretrain the course's SimCLR encoder on the unlabelled ``images`` training split (seeded).

Contrastive pretraining needs far more steps than a 90-second notebook holds, so it runs once,
here, and the notebook ``chapters/ch06_advanced_learning/01_contrastive_learning`` loads the
result (``effcourse.contrastive.load_encoder()``); that notebook also runs a short live
pretraining, and a setting there runs this full one for learners with time.

What it does: the offline ``images`` training split (5000 generated 32x32 images; labels never
read), ``effcourse.contrastive.build_encoder()`` and ``build_projection_head()``, two augmented
views per image (``contrastive.augment``), the NT-Xent loss (``contrastive.nt_xent_loss``),
Adam with a cosine-decayed learning rate, batch 128. Everything is seeded; the same machine
gives the same weights (other CPUs may differ in the last bits of their float kernels).
It writes ``effcourse/weights/simclr_images.npz`` (about 350 KB; the projection head is
dropped, as SimCLR does) with the settings stored in the file.

Usage (about 8 CPU-minutes, 17 wall-minutes on a loaded 2-core machine; `nice` it when shared)::

    EFFCOURSE_DATA=offline nice python scripts/pretrain_simclr.py            # the shipped weights
    python scripts/pretrain_simclr.py --steps 200 --out /tmp/enc.npz          # a quick try

Taught in: chapters/ch06_advanced_learning/01_contrastive_learning
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import effcourse

DEFAULTS = dict(steps=3000, batch_size=128, temperature=0.5, learning_rate=2e-3, seed=0)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=DEFAULTS["steps"])
    parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    parser.add_argument("--temperature", type=float, default=DEFAULTS["temperature"])
    parser.add_argument("--learning-rate", type=float, default=DEFAULTS["learning_rate"])
    parser.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    parser.add_argument("--out", type=Path, default=None, help="default: effcourse/weights/simclr_images.npz")
    args = parser.parse_args(argv)

    effcourse.setup(seed=args.seed)
    from effcourse import contrastive, data
    from effcourse.compat import keras

    dataset = data.load("images")
    (x_train, _), _ = dataset  # the labels are never used
    keras.utils.set_random_seed(args.seed)
    encoder = contrastive.build_encoder()
    head = contrastive.build_projection_head()
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, decay_steps=args.steps)
    start, cpu = time.perf_counter(), time.process_time()
    losses = contrastive.pretrain(
        encoder,
        head,
        x_train,
        loss_fn=contrastive.nt_xent_loss,
        num_steps=args.steps,
        batch_size=args.batch_size,
        temperature=args.temperature,
        learning_rate=schedule,
        seed=args.seed,
    )
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    info = {
        "script": "scripts/pretrain_simclr.py",
        "data": f"images ({dataset.source}), training split, {len(x_train)} images, labels unused",
        "steps": args.steps,
        "epochs": round(args.steps * args.batch_size / len(x_train), 2),
        "batch_size": args.batch_size,
        "temperature": args.temperature,
        "learning_rate": f"Adam, cosine decay from {args.learning_rate}",
        "seed": args.seed,
        "first_loss": losses[0],
        "last_loss_mean_of_50": sum(losses[-50:]) / len(losses[-50:]),
        "wall_seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
    }
    out = contrastive.save_encoder(encoder, args.out or contrastive.WEIGHTS_PATH, info=info)
    print(f"wrote {out} ({out.stat().st_size / 1000:.0f} kB): {info}")
    return out


if __name__ == "__main__":
    main()
