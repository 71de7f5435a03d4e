"""One GPU check of graphspec models, for Keras 3 on the JAX backend (no TensorFlow needed).

    (a) fashion: both Fashion-MNIST specs trained to their full recipe
        (examples/fashion_mnist/train.py's RECIPES): test accuracy, s/epoch.
    (b) tutorial: the tutorial MLP (examples/mlp.yaml; MSE, SGD 0.1, batch 100)
        built by graphspec and written by hand with the same weights, trained
        side by side (epochs alternating): s/epoch of each and their ratio.
    (c) resnet50: inference throughput of graphspec.build("examples/resnet50.yaml")
        (flat blocks, the default), the same spec with `model: true` blocks (nested
        block models) and keras.applications.ResNet50(weights=None) with the same
        weights, batch 128, predict_on_batch: images/s, ratios, max |difference| of
        outputs; then training throughput (train_on_batch, SGD), batch 32, ratios.

On the lent GPU machine (see ../shared/gpu/README.md), from the project root:

    KERAS_BACKEND=jax PYTHONPATH=/tmp/site:$PWD python3 benchmarks/gpu_check.py

Try it on a CPU first with tiny sizes: ``python benchmarks/gpu_check.py --small``.
Data come from ``.data/`` (``../shared/gpu/fetch-wheels.sh --data``) or ``--data-dir``.
Prints a table at the end; writes it as JSON to ``$OUT/gpu_check.json`` when OUT is set.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import idx  # noqa: E402
import trainutil  # noqa: E402
from _specs import copy_weights, resnet50_nested  # noqa: E402

SECTIONS = ("fashion", "tutorial", "resnet50")


def _load_fashion_train():
    """examples/fashion_mnist/train.py as a module (its RECIPES, load_data, train_one)."""
    path = EXAMPLES / "fashion_mnist" / "train.py"
    spec = importlib.util.spec_from_file_location("fashion_mnist_train", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def device_name() -> str:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        d = jax.devices()[0]
        return f"{d.platform}: {getattr(d, 'device_kind', d)}"
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return "gpu: " + tf.config.experimental.get_device_details(gpus[0]).get(
                "device_name", gpus[0].name)
    return f"cpu: {platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def data_dir(arg):
    if arg is not None:
        return arg
    local = ROOT / ".data"
    return str(local) if idx.available(local) else None  # else idx's usual places


# ---------------------------------------------------------------- (a) Fashion-MNIST

def check_fashion(args):
    fm = _load_fashion_train()
    (x_train, y_train), (x_test, y_test) = fm.load_data(data_dir(args.data_dir))
    if args.small:
        x_train, y_train, x_test, y_test = x_train[:2000], y_train[:2000], x_test[:1000], y_test[:1000]
    rows = []
    for name, recipe in fm.RECIPES.items():
        epochs = 1 if args.small else recipe["epochs"]
        print(f"\n-- (a) {name}: {epochs} epochs, batch {recipe['batch_size']}", flush=True)
        r = fm.train_one(name, ((x_train, y_train), (x_test, y_test)), epochs=epochs,
                         batch_size=recipe["batch_size"], seed=args.seed, verbose=2)
        print(f"   test accuracy {r['test_accuracy']:.4f} (reported {r['reported']}), "
              f"{r['s_per_epoch']:.2f} s/epoch, first epoch {r['epoch_times_s'][0]:.2f} s",
              flush=True)
        rows.append({k: r[k] for k in ("model", "parameters", "epochs", "batch_size",
                                       "s_per_epoch", "epoch_times_s", "test_accuracy",
                                       "reported", "wall_s")})
    return rows


# ---------------------------------------------------------------- (b) tutorial MLP

def tutorial_by_hand(hidden=500):
    import keras

    x = keras.Input(shape=(784,), name="x")
    h_1 = keras.layers.Dense(hidden, activation="sigmoid", name="h_1")(x)
    h_2 = keras.layers.Dense(hidden, activation="sigmoid", name="h_2")(h_1)
    y = keras.layers.Dense(10, activation="softmax", name="y")(h_2)
    model = keras.Model(x, y, name="mlp_by_hand")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse",
                  metrics=["accuracy"])
    return model


def check_tutorial(args):
    import keras

    import graphspec

    (x_train, y_train), (x_test, y_test) = idx.load_fashion_mnist(data_dir(args.data_dir))
    x_train = trainutil.scale(x_train.reshape(len(x_train), 784))
    x_test = trainutil.scale(x_test.reshape(len(x_test), 784))
    y_train, y_test = trainutil.one_hot(y_train), trainutil.one_hot(y_test)
    epochs = 2 if args.small else args.tutorial_epochs
    if args.small:
        x_train, y_train = x_train[:2000], y_train[:2000]

    keras.utils.set_random_seed(args.seed)
    built = graphspec.build(str(EXAMPLES / "mlp.yaml"))
    hand = tutorial_by_hand()
    hand.set_weights(built.get_weights())
    models = {"graphspec": built, "by hand": hand}
    timers = {k: trainutil.make_timer() for k in models}
    losses = {k: [] for k in models}
    print(f"\n-- (b) tutorial MLP, {epochs} epochs each, alternating, batch 100", flush=True)
    for epoch in range(epochs):  # alternate, so drift in clocks or load hits both alike
        for name, model in models.items():
            h = model.fit(x_train, y_train, batch_size=100, epochs=1, shuffle=False, verbose=0,
                          callbacks=[timers[name]])
            losses[name].append(float(h.history["loss"][0]))
        print(f"   epoch {epoch + 1}: " + ", ".join(
            f"{n} {timers[n].times[-1]:.3f} s loss {losses[n][-1]:.6f}" for n in models),
            flush=True)
    accuracy = {n: float(m.evaluate(x_test, y_test, batch_size=1000, verbose=0,
                                    return_dict=True)["accuracy"]) for n, m in models.items()}
    s = {n: timers[n].per_epoch for n in models}
    return {
        "epochs": epochs,
        "graphspec_s_per_epoch": s["graphspec"],
        "hand_s_per_epoch": s["by hand"],
        "ratio": s["graphspec"] / s["by hand"],
        "graphspec_epoch_times_s": timers["graphspec"].times,
        "hand_epoch_times_s": timers["by hand"].times,
        "graphspec_test_accuracy": accuracy["graphspec"],
        "hand_test_accuracy": accuracy["by hand"],
        "max_abs_loss_difference": float(np.max(np.abs(
            np.array(losses["graphspec"]) - np.array(losses["by hand"])))),
    }


# ---------------------------------------------------------------- (c) ResNet50

def _throughput(model, batch, rounds):
    start = time.perf_counter()
    for _ in range(rounds):
        model.predict_on_batch(batch)  # returns numpy: waits for the device
    return time.perf_counter() - start


def _train_throughput(model, images, labels, rounds):
    start = time.perf_counter()
    for _ in range(rounds):
        model.train_on_batch(images, labels)  # returns numpy: waits for the device
    return time.perf_counter() - start


def check_resnet50(args):
    import keras

    import graphspec

    spec = EXAMPLES / "resnet50.yaml"
    if not spec.exists():
        raise FileNotFoundError(f"{spec} not found")
    batch_size = 2 if args.small else args.resnet_batch
    train_batch = 2 if args.small else args.resnet_train_batch
    rounds = 2 if args.small else args.resnet_rounds
    keras.utils.set_random_seed(args.seed)
    reference = keras.applications.ResNet50(weights=None)
    models = {"graphspec": graphspec.build(str(spec)), "nested": resnet50_nested(), "keras.applications": reference}
    how = {name: copy_weights(reference, model) for name, model in models.items() if model is not reference}
    print(f"\n-- (c) ResNet50: {models['graphspec'].count_params():,} vs {reference.count_params():,} "
          f"parameters, weights copied {how}; batch {batch_size}, {rounds} x "
          f"{args.resnet_repeats} timed calls each, order rotated", flush=True)
    rng = np.random.default_rng(args.seed)
    images = rng.uniform(-1.0, 1.0, size=(batch_size, 224, 224, 3)).astype("float32")
    outputs = {k: np.asarray(m.predict_on_batch(images)) for k, m in models.items()}  # also compiles
    for _ in range(2):  # warm up all
        for model in models.values():
            model.predict_on_batch(images)
    names = list(models)
    times = dict.fromkeys(models, 0.0)
    for repeat in range(args.resnet_repeats):  # rotate the order
        for name in names[repeat % 3:] + names[: repeat % 3]:
            times[name] += _throughput(models[name], images, rounds)
    n_images = batch_size * rounds * args.resnet_repeats
    ips = {k: n_images / t for k, t in times.items()}
    train_images = images[:train_batch] if train_batch <= batch_size else rng.uniform(-1.0, 1.0, size=(train_batch, 224, 224, 3)).astype("float32")
    labels = rng.integers(0, 1000, train_batch)
    for model in models.values():
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-3), loss="sparse_categorical_crossentropy")
        model.train_on_batch(train_images, labels)  # compiles the step: not timed
    train_times = dict.fromkeys(models, 0.0)
    for repeat in range(args.resnet_repeats):
        for name in names[repeat % 3:] + names[: repeat % 3]:
            train_times[name] += _train_throughput(models[name], train_images, labels, rounds)
    train_ips = {k: train_batch * rounds * args.resnet_repeats / t for k, t in train_times.items()}
    out_ref = outputs["keras.applications"]
    result = {
        "batch_size": batch_size,
        "images_timed": n_images,
        "graphspec_images_per_s": ips["graphspec"],
        "nested_images_per_s": ips["nested"],
        "keras_images_per_s": ips["keras.applications"],
        "ratio": ips["graphspec"] / ips["keras.applications"],
        "nested_ratio": ips["nested"] / ips["keras.applications"],
        "train_batch_size": train_batch,
        "train_images_per_s": train_ips,
        "train_ratio": train_ips["graphspec"] / train_ips["keras.applications"],
        "nested_train_ratio": train_ips["nested"] / train_ips["keras.applications"],
        "max_abs_output_difference": float(np.max(np.abs(outputs["graphspec"] - out_ref))),
        "nested_max_abs_output_difference": float(np.max(np.abs(outputs["nested"] - out_ref))),
        # Not a constant output (a zero difference would then prove little).
        "output_range": [float(out_ref.min()), float(out_ref.max())],
        "weights_copied": how,
        "parameters": models["graphspec"].count_params(),
        "layers": {k: len(m.layers) for k, m in models.items()},
    }
    print(f"   inference: flat {ips['graphspec']:.1f}, nested {ips['nested']:.1f}, keras.applications "
          f"{ips['keras.applications']:.1f} images/s; training: flat {train_ips['graphspec']:.1f}, nested "
          f"{train_ips['nested']:.1f}, keras.applications {train_ips['keras.applications']:.1f} images/s; max |diff| "
          f"{result['max_abs_output_difference']:.3g} (outputs range over "
          f"{out_ref.min():.3g}..{out_ref.max():.3g})", flush=True)
    return result


# ---------------------------------------------------------------- main

def summary(report) -> str:
    rows = []
    for r in report.get("fashion") or []:
        rows.append([f"(a) {r['model']}", f"{r['epochs']} ep, batch {r['batch_size']}",
                     r["s_per_epoch"], None,
                     f"acc {r['test_accuracy']:.4f} (reported {r['reported']})"])
    t = report.get("tutorial")
    if t:
        rows.append(["(b) tutorial MLP graphspec", f"{t['epochs']} ep, batch 100",
                     t["graphspec_s_per_epoch"], f"{t['ratio']:.3f}",
                     f"acc {t['graphspec_test_accuracy']:.4f}"])
        rows.append(["(b) tutorial MLP by hand", f"{t['epochs']} ep, batch 100",
                     t["hand_s_per_epoch"], "1",
                     (f"acc {t['hand_test_accuracy']:.4f}; max |loss diff| "
                      f"{t['max_abs_loss_difference']:.2g}")])
    r = report.get("resnet50")
    if r:
        rows.append(["(c) ResNet50 graphspec (flat)", f"batch {r['batch_size']}", None,
                     f"{r['ratio']:.3f}",
                     (f"{r['graphspec_images_per_s']:.1f} images/s; max |out diff| "
                      f"{r['max_abs_output_difference']:.2g}")])
        if "nested_ratio" in r:
            rows.append(["(c) ResNet50 nested blocks", f"batch {r['batch_size']}", None,
                         f"{r['nested_ratio']:.3f}", f"{r['nested_images_per_s']:.1f} images/s"])
        rows.append(["(c) ResNet50 keras.applications", f"batch {r['batch_size']}", None, "1",
                     f"{r['keras_images_per_s']:.1f} images/s"])
        if "train_ratio" in r:
            rows.append(["(c) ResNet50 training flat / nested", f"batch {r['train_batch_size']}", None,
                         f"{r['train_ratio']:.3f} / {r['nested_train_ratio']:.3f}",
                         f"keras.applications {r['train_images_per_s']['keras.applications']:.1f} images/s"])
    for section, error in report["errors"].items():
        rows.append([f"{section}: FAILED", "", None, None, error.splitlines()[-1][:80]])
    table = trainutil.format_table(["check", "size", "s/epoch", "ratio", "result"], rows)
    return (f"{report['device']}; Keras {report['keras']} on {report['backend']}"
            f"{' (--small)' if report['small'] else ''}\n{table}\n"
            "s/epoch: training only, median over epochs 2..N; ratio: graphspec time / hand "
            "time for (b), graphspec images/s / keras images/s for (c)")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--small", action="store_true",
                   help="tiny sizes (2,000 images, 1-2 epochs, ResNet50 batch 2), for a CPU trial")
    p.add_argument("--data-dir", default=None, help="Fashion-MNIST IDX folder (default .data/)")
    p.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                   help="run only these checks (default: all)")
    p.add_argument("--tutorial-epochs", type=int, default=6,
                   help="epochs per model in (b) (default 6; the first is left out of s/epoch)")
    p.add_argument("--resnet-batch", type=int, default=128)
    p.add_argument("--resnet-train-batch", type=int, default=32)
    p.add_argument("--resnet-rounds", type=int, default=10,
                   help="timed predict_on_batch calls per model per repeat (default 10)")
    p.add_argument("--resnet-repeats", type=int, default=3,
                   help="alternating repeats of the timed calls (default 3)")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import keras

    start = time.perf_counter()
    report = {
        "device": device_name(),
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "small": args.small,
        "errors": {},
    }
    if report["backend"] == "jax":
        import jax

        report["jax"] = jax.__version__
    print(f"gpu_check: {report['device']}, Keras {report['keras']} on {report['backend']}",
          flush=True)
    checks = {"fashion": check_fashion, "tutorial": check_tutorial, "resnet50": check_resnet50}
    for section in args.only:
        try:
            report[section] = checks[section](args)
        except Exception:
            report["errors"][section] = traceback.format_exc()
            print(f"\n-- {section} FAILED\n{report['errors'][section]}", flush=True)
    report["wall_s"] = time.perf_counter() - start
    text = summary(report)
    print("\n" + text + f"\ntotal {report['wall_s']:.0f} s")
    out = os.environ.get("OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {Path(out) / 'gpu_check.json'}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
