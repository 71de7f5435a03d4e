"""The Keras functional-API tutorial as one script, over two graphspec files.

Builds ``examples/mlp.yaml`` (784-500-500-10, sigmoid, softmax output) and
``examples/branch.yaml`` (the same net with a relu branch merged back by
concatenation) with ``graphspec.build``, trains both with the recipe in their
``compile`` sections (SGD 0.1, MSE) on batches of 100, evaluates them on the
test set, prints a table, and saves both models' learning curves in one PNG.

    python examples/tutorial/train.py                  # Fashion-MNIST, local files, 5 epochs
    python examples/tutorial/train.py --epochs 1 --quiet
    python examples/tutorial/train.py --dataset mnist  # MNIST via keras.datasets (downloads)

Preprocessing as in the tutorial: images flattened to 784 values scaled to
[0, 1], labels one-hot (the MSE loss compares them with the softmax output).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(EXAMPLES))

import idx  # noqa: E402
import trainutil  # noqa: E402

SPECS = {"mlp": EXAMPLES / "mlp.yaml", "branch": EXAMPLES / "branch.yaml"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=5, help="epochs per model (default 5)")
    p.add_argument("--batch-size", type=int, default=100, help="default 100, as in the tutorial")
    p.add_argument("--models", nargs="+", choices=sorted(SPECS), default=list(SPECS),
                   help="which specs to train (default: both)")
    p.add_argument("--quiet", action="store_true", help="no Keras progress bar")
    p.add_argument("--plot", default="tutorial_curves.png",
                   help="PNG for the learning curves (default tutorial_curves.png); '' for none")
    p.add_argument("--seed", type=int, default=1, help="weights and shuffling seed (default 1)")
    idx.add_arguments(p)
    return p.parse_args(argv)


def load_data(dataset: str, data_dir):
    (x_train, y_train), (x_test, y_test) = idx.load(dataset, data_dir)
    x_train = trainutil.scale(x_train.reshape(len(x_train), 784))
    x_test = trainutil.scale(x_test.reshape(len(x_test), 784))
    return (x_train, trainutil.one_hot(y_train)), (x_test, trainutil.one_hot(y_test))


def train(name, path, data, args):
    import keras

    import graphspec

    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(args.seed)
    model = graphspec.build(str(path))
    timer = trainutil.make_timer()
    print(f"\n== {name}: {path.name}, {model.count_params():,} parameters", flush=True)
    start = time.perf_counter()
    history = model.fit(
        x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
        validation_data=(x_test, y_test), callbacks=[timer], verbose=0 if args.quiet else 1,
    )
    wall = time.perf_counter() - start
    results = model.evaluate(x_test, y_test, batch_size=1000, verbose=0, return_dict=True)
    return {
        "model": name,
        "parameters": model.count_params(),
        "epochs": args.epochs,
        "s_per_epoch": timer.per_epoch,
        "first_epoch_s": timer.times[0] if timer.times else float("nan"),
        "wall_s": wall,
        "test_loss": float(results["loss"]),
        "test_accuracy": float(results.get("accuracy", float("nan"))),
        "history": history.history,
    }


def plot_curves(results, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, r in enumerate(results):
        h = r["history"]
        epochs = range(1, len(h["loss"]) + 1)
        color = f"C{i}"
        for ax, key in zip(axes, ("loss", "accuracy")):
            if key in h:
                ax.plot(epochs, h[key], "-o", color=color, ms=3, label=f"{r['model']} train")
            if "val_" + key in h:
                ax.plot(epochs, h["val_" + key], "--s", color=color, ms=3,
                        label=f"{r['model']} test")
    for ax, label in zip(axes, ("loss (the spec's compile loss)", "accuracy")):
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        data = load_data(args.dataset, args.data_dir)
    except idx.DataNotFound as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{args.dataset}: {len(data[0][0]):,} training and {len(data[1][0]):,} test images")
    results = [train(name, SPECS[name], data, args) for name in args.models]

    print(f"\n{args.dataset}, batch {args.batch_size}, recipe from each spec's compile section")
    print(trainutil.format_table(
        ["model", "parameters", "epochs", "s/epoch", "test accuracy"],
        [[r["model"], r["parameters"], r["epochs"], r["s_per_epoch"], r["test_accuracy"]]
         for r in results],
    ))
    print(trainutil.timing_note(max(r["epochs"] for r in results)))
    if args.plot:
        plot_curves(results, args.plot, f"tutorial models on {args.dataset}, batch "
                                        f"{args.batch_size}")
        print(f"learning curves: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
