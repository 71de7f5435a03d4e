"""Train the Fashion-MNIST benchmark specs and set our test accuracy beside the reported one.

    python examples/fashion_mnist/train.py                         # both, full recipe
    python examples/fashion_mnist/train.py --model mlp_256_128_100 --epochs 5
    python examples/fashion_mnist/train.py --model conv_pool --epochs 2 --quiet

The data are the local gzipped IDX files (Debian's dataset-fashion-mnist, or
``--data-dir`` / ``$GRAPHSPEC_DATA``); nothing is downloaded. Preprocessing:
pixels scaled to [0, 1], images shaped (28, 28, 1), integer labels (the specs'
loss is sparse categorical crossentropy). The optimizer and loss come from
each spec's ``compile`` section; epochs and batch size from ``RECIPES`` below
unless given. Training uses all 60,000 training images; the test set is only
evaluated after the last epoch. See README.md for the recipe and our numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import idx  # noqa: E402
import trainutil  # noqa: E402

# name -> the spec, our recipe (the parts a spec's compile section cannot hold),
# and the benchmark table's row in the dataset's README.
RECIPES = {
    "mlp_256_128_100": {
        "spec": HERE / "mlp_256_128_100.yaml",
        "epochs": 40,
        "batch_size": 100,
        "row": "MLP 256-128-100",
        "reported": 0.8833,
    },
    "conv_pool": {
        "spec": HERE / "conv_pool.yaml",
        "epochs": 12,
        "batch_size": 100,
        "row": "2 Conv+pooling",
        "reported": 0.916,
    },
}


def load_data(data_dir=None):
    """((x_train, y_train), (x_test, y_test)): float32 (n, 28, 28, 1) in [0, 1], int labels."""
    (x_train, y_train), (x_test, y_test) = idx.load_fashion_mnist(data_dir)
    x_train = trainutil.scale(x_train)[..., None]
    x_test = trainutil.scale(x_test)[..., None]
    return (x_train, y_train.astype("int32")), (x_test, y_test.astype("int32"))


def train_one(name, data, epochs=None, batch_size=None, seed=1, verbose=1):
    """Build one spec, train it on all training images, evaluate on the test set; a dict."""
    import keras

    import graphspec

    recipe = RECIPES[name]
    epochs = recipe["epochs"] if epochs is None else epochs
    batch_size = recipe["batch_size"] if batch_size is None else batch_size
    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(seed)
    model = graphspec.build(str(recipe["spec"]))
    timer = trainutil.make_timer()
    start = time.perf_counter()
    history = model.fit(
        trainutil.for_model(x_train, model), y_train, batch_size=batch_size, epochs=epochs,
        callbacks=[timer], verbose=verbose,
    )
    wall = time.perf_counter() - start
    results = model.evaluate(trainutil.for_model(x_test, model), y_test, batch_size=1000,
                             verbose=0, return_dict=True)
    return {
        "model": name,
        "parameters": model.count_params(),
        "epochs": epochs,
        "batch_size": batch_size,
        "s_per_epoch": timer.per_epoch,
        "epoch_times_s": timer.times,
        "wall_s": wall,
        "train_accuracy": float(history.history.get("accuracy", [float("nan")])[-1]),
        "test_loss": float(results["loss"]),
        "test_accuracy": float(results.get("accuracy", float("nan"))),
        "reported": recipe["reported"],
        "row": recipe["row"],
    }


def table(results) -> str:
    return trainutil.format_table(
        ["model", "parameters", "epochs", "batch", "s/epoch", "test accuracy", "reported",
         "benchmark row"],
        [[r["model"], r["parameters"], r["epochs"], r["batch_size"], r["s_per_epoch"],
          r["test_accuracy"], r["reported"], r["row"]] for r in results],
    )


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=[*RECIPES, "all"], default="all",
                   help="which spec to train (default: all)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs (default: the recipe's, " +
                        ", ".join(f"{k} {v['epochs']}" for k, v in RECIPES.items()) + ")")
    p.add_argument("--batch-size", type=int, default=None,
                   help="batch size (default: the recipe's, 100)")
    p.add_argument("--seed", type=int, default=1, help="weights, dropout and shuffling seed")
    p.add_argument("--quiet", action="store_true", help="no Keras progress bar")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    idx.add_arguments(p, datasets=False)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        data = load_data(args.data_dir)
    except idx.DataNotFound as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    names = list(RECIPES) if args.model == "all" else [args.model]
    results = []
    for name in names:
        print(f"\n== {name}", flush=True)
        results.append(train_one(name, data, args.epochs, args.batch_size, args.seed,
                                 verbose=0 if args.quiet else 1))
    print("\nFashion-MNIST test accuracy, ours beside the dataset README's benchmark table")
    print(table(results))
    print(trainutil.timing_note(max(r["epochs"] for r in results)))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
