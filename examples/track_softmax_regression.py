"""Record a training run with runcard: a softmax regression in plain numpy, tracked end to end.

    python examples/track_softmax_regression.py [--store URL] [--epochs 30]

Needs only runcard's core. It logs the config, a timing per stage, the loss curves, a checkpoint
(with its sha256) and the validation and test predictions tied to that checkpoint; then reads
the run back. Afterwards try `runcard runs`, `runcard show <id>`, and `runcard eval` on the
stored predictions. docs/tracking.md walks through it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import runcard

CLASSES = ["LocalPatch", "TargetedRegenerate", "RefineDecomposition"]


def make_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs in 20 dimensions: a small, honest classification task."""
    y = rng.integers(0, len(CLASSES), n)
    centers = np.random.default_rng(7).normal(size=(len(CLASSES), 20))
    return centers[y] * 0.6 + rng.normal(size=(n, 20)), y


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(-np.log(softmax(x @ w)[np.arange(len(y)), y]).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default=None, help="store URL (default: RUNCARD_STORE or .runcard/)")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    config = {"model": "softmax-regression", "lr": 0.5, "epochs": args.epochs, "seed": 0}

    with runcard.start_run(project="examples", name="softmax-regression", config=config,
                           tags={"seed": "0"}, store=args.store) as run:
        with run.stage("data"):
            rng = np.random.default_rng(config["seed"])
            x_train, y_train = make_data(rng, 2000)
            x_val, y_val = make_data(rng, 500)
            x_test, y_test = make_data(rng, 500)
        with run.stage("train"):
            w = np.zeros((20, len(CLASSES)))
            onehot = np.eye(len(CLASSES))[y_train]
            for epoch in range(config["epochs"]):
                grad = x_train.T @ (softmax(x_train @ w) - onehot) / len(y_train)
                w -= config["lr"] * grad
                run.log_metrics({"train/loss": nll(w, x_train, y_train), "val/loss": nll(w, x_val, y_val)},
                                step=epoch)
        with run.stage("save"), tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "weights.npy"
            np.save(path, w)
            checkpoint = run.log_checkpoint(path)  # copied into the store; returns its sha256
        with run.stage("predict"):
            for split, x, y in (("val", x_val, y_val), ("test", x_test, y_test)):
                run.log_predictions(split, y, softmax(x @ w), classes=CLASSES,
                                    ids=[f"{split}-{i}" for i in range(len(y))], checkpoint=checkpoint)

    stored = runcard.get_run(run.id, store=args.store)
    evaluation = runcard.evaluate_table(stored.predictions("test"))
    print(f"run {stored.id}: {stored.status}; stages {', '.join(f'{k} {v:.2f}s' for k, v in stored.stages.items())}")
    print(f"final val/loss {stored.summary['val/loss']:.4f}; test accuracy {evaluation.accuracy:.4f} "
          f"(95 % CI {evaluation.ci95['accuracy'][0]:.4f}-{evaluation.ci95['accuracy'][1]:.4f})")
    weights = np.load(runcard.load_checkpoint(stored.id, store=args.store))  # re-hashed before use
    print(f"checkpoint {checkpoint[:12]} reloads with shape {weights.shape}")


if __name__ == "__main__":
    main()
