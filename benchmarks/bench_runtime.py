"""A graphspec model runs like the same model written by hand: same speed, same numbers.

    mlp       examples/mlp.yaml (the tutorial's 784-500-500-10 MLP, compiled by its spec:
              SGD 0.1, MSE, accuracy) against the same model written by hand and compiled
              the same way, with the graphspec model's weights copied into it. Training:
              `fit` epochs of 10,000 random samples in batches of 100 (no shuffling),
              alternating; inference: `predict_on_batch` on 100 samples.
    resnet50  graphspec.build("examples/resnet50.yaml") (flat blocks: the layers of
              keras.applications.ResNet50), the same spec with `model: true` blocks
              (16 nested block models), and keras.applications.ResNet50(weights=None),
              weights copied; inference with `predict_on_batch` on a small batch of
              224x224 images, and training with `train_on_batch` (SGD, sparse
              categorical cross-entropy), alternating, ratios against keras.applications.

Before copying, every BatchNormalization statistic and scale of the source model is set
to random values, so that a weight copied to the wrong place shows in the outputs (fresh
BatchNormalization weights are all ones and zeros and would hide it).

Prints seconds per epoch / per call of each, the ratio graphspec / by hand, the max
absolute difference of outputs (and of the training losses). Runs on whichever Keras
backend is selected (KERAS_BACKEND).

Usage, from the project root (about 3 minutes here with the defaults):

    python benchmarks/bench_runtime.py
    python benchmarks/bench_runtime.py --epochs 3 --resnet-batch 2 --resnet-rounds 2
    KERAS_BACKEND=jax python benchmarks/bench_runtime.py --only mlp
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from _specs import copy_weights, leaf_layers, resnet50_nested  # noqa: E402

import graphspec  # noqa: E402

EXAMPLES = ROOT / "examples"


# --------------------------------------------------------------------------- helpers


def randomize_batchnorm(model, rng: np.random.Generator) -> int:
    """Random gamma, beta, moving mean and variance in every BatchNormalization; how many."""
    count = 0
    for layer in leaf_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.0, gamma.shape).astype(gamma.dtype),
                    rng.normal(0.0, 0.1, beta.shape).astype(beta.dtype),
                    rng.normal(0.0, 0.1, mean.shape).astype(mean.dtype),
                    rng.uniform(0.5, 1.5, var.shape).astype(var.dtype),
                ]
            )
            count += 1
    return count


def mlp_by_hand(hidden: int = 500) -> keras.Model:
    """examples/mlp.yaml written by hand, compiled as its `compile` section says."""
    x = keras.Input(shape=(784,), name="x")
    h_1 = keras.layers.Dense(hidden, activation="sigmoid", name="h_1")(x)
    h_2 = keras.layers.Dense(hidden, activation="sigmoid", name="h_2")(h_1)
    y = keras.layers.Dense(10, activation="softmax", name="y")(h_2)
    model = keras.Model(x, y, name="mlp_by_hand")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse", metrics=["accuracy"])
    return model


class EpochTimer(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.start)


def _calls(model, batch, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        model.predict_on_batch(batch)  # returns numpy: waits for the result
    return (time.perf_counter() - start) / calls


# --------------------------------------------------------------------------- benchmarks


def bench_mlp(args) -> dict:
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x = rng.uniform(0, 1, (args.samples, 784)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, args.samples)]
    built = graphspec.build(EXAMPLES / "mlp.yaml")
    hand = mlp_by_hand()
    how = copy_weights(built, hand)
    models = {"graphspec": built, "by hand": hand}
    before = {k: np.asarray(m.predict_on_batch(x[:100])) for k, m in models.items()}

    timers = {k: EpochTimer() for k in models}
    losses: dict[str, list[float]] = {k: [] for k in models}
    for epoch in range(args.epochs + 1):  # epoch 0 traces and compiles the step: not timed
        for name in (list(models) if epoch % 2 == 0 else list(models)[::-1]):
            history = models[name].fit(x, y, batch_size=100, epochs=1, shuffle=False, verbose=0, callbacks=[timers[name]])
            losses[name].append(float(history.history["loss"][0]))
    train_s = {k: statistics.median(t.times[1:]) for k, t in timers.items()}

    batch = x[:100]
    infer: dict[str, list[float]] = {k: [] for k in models}
    for i in range(args.rounds):  # alternating, the order flipped each round
        for name in (list(models) if i % 2 == 0 else list(models)[::-1]):
            infer[name].append(_calls(models[name], batch, args.calls))
    infer_s = {k: statistics.median(v) for k, v in infer.items()}
    after = {k: np.asarray(m.predict_on_batch(x[:1000])) for k, m in models.items()}
    row = {
        "weights_copied": how,
        "samples": args.samples,
        "epochs_timed": args.epochs,
        "train_s_per_epoch": train_s,
        "train_ratio": train_s["graphspec"] / train_s["by hand"],
        "predict_s_per_call": infer_s,
        "predict_ratio": infer_s["graphspec"] / infer_s["by hand"],
        "max_abs_output_diff_before_training": float(np.max(np.abs(before["graphspec"] - before["by hand"]))),
        "max_abs_output_diff_after_training": float(np.max(np.abs(after["graphspec"] - after["by hand"]))),
        "max_abs_loss_diff": float(np.max(np.abs(np.subtract(losses["graphspec"], losses["by hand"])))),
        "losses": losses,
    }
    print(f"mlp (examples/mlp.yaml), {args.samples:,} random samples, batch 100; weights copied {how}")
    print(f"  {'':<24} {'graphspec':>10} {'by hand':>10} {'ratio':>7}")
    print(f"  {'train s/epoch (median)':<24} {train_s['graphspec']:>10.3f} {train_s['by hand']:>10.3f} {row['train_ratio']:>7.3f}")
    print(f"  {'predict ms/call (100)':<24} {infer_s['graphspec'] * 1e3:>10.3f} {infer_s['by hand'] * 1e3:>10.3f} {row['predict_ratio']:>7.3f}")
    print(f"  max |diff| outputs before training {row['max_abs_output_diff_before_training']:.3g}, after "
          f"{args.epochs + 1} epochs {row['max_abs_output_diff_after_training']:.3g}; losses {row['max_abs_loss_diff']:.3g}", flush=True)
    return row


def _train_steps(model, images, labels, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, labels)  # returns numpy: waits for the step
    return (time.perf_counter() - start) / steps


def bench_resnet50(args) -> dict:
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    reference = keras.applications.ResNet50(weights=None)
    randomized = randomize_batchnorm(reference, rng)
    models = {"flat": graphspec.build(EXAMPLES / "resnet50.yaml"), "nested": resnet50_nested(), "keras.applications": reference}
    how = {name: copy_weights(reference, model) for name, model in models.items() if name != "keras.applications"}
    images = rng.uniform(-1.0, 1.0, (args.resnet_batch, 224, 224, 3)).astype("float32")
    labels = rng.integers(0, 1000, args.resnet_batch)
    outputs = {k: np.asarray(m.predict_on_batch(images)) for k, m in models.items()}  # also traces
    names = list(models)
    infer: dict[str, list[float]] = {k: [] for k in models}
    for i in range(args.resnet_rounds):  # rotated order each round
        for name in names[i % 3:] + names[: i % 3]:
            infer[name].append(_calls(models[name], images, args.resnet_calls))
    for model in models.values():
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-3), loss="sparse_categorical_crossentropy")
        model.train_on_batch(images, labels)  # traces the step: not timed
    train: dict[str, list[float]] = {k: [] for k in models}
    for i in range(args.resnet_rounds):
        for name in names[i % 3:] + names[: i % 3]:
            train[name].append(_train_steps(models[name], images, labels, args.resnet_train_steps))
    infer_s = {k: statistics.median(v) for k, v in infer.items()}
    train_s = {k: statistics.median(v) for k, v in train.items()}
    ref = outputs["keras.applications"]
    row = {
        "weights_copied": how,
        "batchnorm_randomized": randomized,
        "batch": args.resnet_batch,
        "layers": {k: len(m.layers) for k, m in models.items()},
        "predict_s_per_call": infer_s,
        "train_s_per_step": train_s,
        "predict_ratio": {k: infer_s[k] / infer_s["keras.applications"] for k in ("flat", "nested")},
        "train_ratio": {k: train_s[k] / train_s["keras.applications"] for k in ("flat", "nested")},
        "max_abs_output_diff": {k: float(np.max(np.abs(outputs[k] - ref))) for k in ("flat", "nested")},
        "output_range": [float(ref.min()), float(ref.max())],
    }
    # Backward compatible keys: "graphspec" is the default (flat) build.
    row["ratio"] = row["predict_ratio"]["flat"]
    print(f"\nresnet50, batch {args.resnet_batch}, {args.resnet_rounds} rounds (order rotated) of {args.resnet_calls} predict calls "
          f"and {args.resnet_train_steps} train steps each; weights copied ({randomized} BatchNormalization layers randomized first)")
    print(f"  {'':<26} {'flat':>9} {'nested':>9} {'keras.app':>10} {'flat/app':>9} {'nested/app':>11}")
    for label, times, ratios in (("predict s/call (median)", infer_s, row["predict_ratio"]), ("train s/step (median)", train_s, row["train_ratio"])):
        print(f"  {label:<26} {times['flat']:>9.3f} {times['nested']:>9.3f} {times['keras.applications']:>10.3f} {ratios['flat']:>9.3f} {ratios['nested']:>11.3f}")
    print(f"  layers {row['layers']}; max |diff| of outputs flat {row['max_abs_output_diff']['flat']:.3g}, nested "
          f"{row['max_abs_output_diff']['nested']:.3g} (softmax outputs range {ref.min():.3g}..{ref.max():.3g})", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("mlp", "resnet50"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=10_000, help="MLP training samples per epoch")
    parser.add_argument("--epochs", type=int, default=5, help="timed MLP epochs each (after one untimed)")
    parser.add_argument("--rounds", type=int, default=10, help="MLP inference rounds each, alternating")
    parser.add_argument("--calls", type=int, default=100, help="predict_on_batch calls per MLP round")
    parser.add_argument("--resnet-batch", type=int, default=8)
    parser.add_argument("--resnet-rounds", type=int, default=5)
    parser.add_argument("--resnet-calls", type=int, default=3)
    parser.add_argument("--resnet-train-steps", type=int, default=2, help="timed train_on_batch steps per ResNet50 round")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}\n")
    results = {"keras": keras.__version__, "backend": keras.backend.backend()}
    if args.only in (None, "mlp"):
        results["mlp"] = bench_mlp(args)
    if args.only in (None, "resnet50"):
        results["resnet50"] = bench_resnet50(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
