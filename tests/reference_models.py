"""The shipped examples, written by hand with the Keras 3 functional API.

One function per file in ``examples/``; each builds the model that the example's YAML
describes, with the same layer sizes, so that ``tests/test_examples.py`` can compare
``graphspec.build(example)`` with it: parameter counts, weight shapes, input and output
shapes. Layer names follow the YAML nodes where that is cheap, but the comparison does
not rely on them.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

# ---------------------------------------------------------------------------
# The functional-API tutorial: an MLP, and the same net with a branch.
# ---------------------------------------------------------------------------


def mlp(hidden: int = 500) -> keras.Model:
    """examples/mlp.yaml: 784-500-500-10, sigmoid hidden layers; 648,010 params."""
    x = keras.Input(shape=(784,), name="x")
    h_1 = layers.Dense(hidden, activation="sigmoid", name="h_1")(x)
    h_2 = layers.Dense(hidden, activation="sigmoid", name="h_2")(h_1)
    y = layers.Dense(10, activation="softmax", name="y")(h_2)
    return keras.Model(x, y, name="mlp")


def branch(hidden: int = 500) -> keras.Model:
    """examples/branch.yaml: the MLP with a relu branch concatenated back; 903,510 params."""
    x = keras.Input(shape=(784,), name="x")
    h_1 = layers.Dense(hidden, activation="sigmoid", name="h_1")(x)
    h_2 = layers.Dense(hidden, activation="sigmoid", name="h_2")(h_1)
    z = layers.Dense(hidden, activation="relu", name="z")(h_1)
    u = layers.concatenate([h_2, z], name="u")
    y = layers.Dense(10, activation="softmax", name="y")(u)
    return keras.Model(x, y, name="branch_and_merge")


# ---------------------------------------------------------------------------
# The functional-API guide: ticket classifier, toy ResNet.
# ---------------------------------------------------------------------------


def ticket_classifier(
    num_tags: int = 12, num_words: int = 10000, num_departments: int = 4
) -> keras.Model:
    """examples/ticket_classifier.yaml: three inputs, outputs {priority, department}."""
    title = keras.Input(shape=(None,), dtype="int32", name="title")
    body = keras.Input(shape=(None,), dtype="int32", name="body")
    tags = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 64, name="title_embedding")(title)
    body_features = layers.Embedding(num_words, 64, name="body_embedding")(body)
    title_features = layers.LSTM(128, name="title_lstm")(title_features)
    body_features = layers.LSTM(32, name="body_lstm")(body_features)
    features = layers.concatenate([title_features, body_features, tags], name="features")
    priority = layers.Dense(1, name="priority_head")(features)
    department = layers.Dense(num_departments, name="department_head")(features)
    return keras.Model(
        [title, body, tags],
        {"priority": priority, "department": department},
        name="ticket_classifier",
    )


def toy_resnet() -> keras.Model:
    """examples/toy_resnet.yaml: the guide's toy ResNet for CIFAR-10; 223,242 params."""
    img = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(img)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1 = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2 = layers.add([x, block_1])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3 = layers.add([x, block_2])
    x = layers.Conv2D(64, 3, activation="relu")(block_3)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(img, outputs, name="toy_resnet")


# ---------------------------------------------------------------------------
# Sharing, named call arguments, wrappers, multi-output layers.
# ---------------------------------------------------------------------------


def siamese(vocab: int = 5000, dim: int = 64) -> keras.Model:
    """examples/siamese.yaml: one nested encoder model (embedding, LSTM, Dense) used on both inputs."""
    left = keras.Input(shape=(None,), dtype="int32", name="left")
    right = keras.Input(shape=(None,), dtype="int32", name="right")
    tokens = keras.Input(shape=(None,), dtype="int32", name="tokens")
    h = layers.Embedding(vocab, dim, name="embed")(tokens)
    h = layers.LSTM(64, name="lstm")(h)
    encoder = keras.Model(tokens, layers.Dense(32, activation="tanh", name="enc")(h), name="enc_left")
    enc_left = encoder(left)
    enc_right = encoder(right)
    diff = layers.subtract([enc_left, enc_right], name="diff")
    prod = layers.multiply([enc_left, enc_right], name="prod")
    both = layers.concatenate([diff, prod], name="both")
    score = layers.Dense(1, activation="sigmoid", name="score")(both)
    return keras.Model([left, right], score, name="siamese")


def keywords_wrapper(vocab: int = 1000, dim: int = 32, classes: int = 5) -> keras.Model:
    """examples/keywords_wrapper.yaml: MultiHeadAttention, Bidirectional, LSTM states."""
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target = keras.Input(shape=(None,), dtype="int32", name="target")
    src_emb = layers.Embedding(vocab, dim, name="src_emb")(source)
    tgt_emb = layers.Embedding(vocab, dim * 2, name="tgt_emb")(target)
    bi = layers.Bidirectional(layers.LSTM(dim, return_sequences=True), name="bi")(src_emb)
    seq, state_h, state_c = layers.LSTM(
        dim * 2, return_sequences=True, return_state=True, name="enc"
    )(bi)
    att = layers.MultiHeadAttention(num_heads=2, key_dim=16, name="att")(
        query=tgt_emb, value=seq
    )
    pooled = layers.GlobalAveragePooling1D(name="pooled")(att)
    state = layers.concatenate([state_h, state_c], name="state")
    joined = layers.concatenate([pooled, state], name="joined")
    hidden = layers.Dense(
        64,
        activation="relu",
        kernel_initializer=keras.initializers.HeNormal(seed=1),
        name="hidden",
    )(joined)
    logits = layers.Dense(classes, name="logits")(hidden)
    return keras.Model([source, target], logits, name="keywords_wrapper")


# ---------------------------------------------------------------------------
# Blocks: ResNet50, U-Net, Inception, CycleGAN, and the shared conv-block library.
# ---------------------------------------------------------------------------

BN_EPSILON = 1.001e-5  # what keras.applications.ResNet50 uses


def _bottleneck(x: Any, filters: int, stride: int, project: bool, name: str) -> keras.Model:
    """One ResNet v1 bottleneck as its own keras.Model, as a graphspec block becomes."""
    inp = keras.Input(shape=x.shape[1:])
    if project:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride)(inp)
        shortcut = layers.BatchNormalization(epsilon=BN_EPSILON)(shortcut)
    else:
        shortcut = inp
    h = layers.Conv2D(filters, 1, strides=stride)(inp)
    h = layers.BatchNormalization(epsilon=BN_EPSILON)(h)
    h = layers.Activation("relu")(h)
    h = layers.Conv2D(filters, 3, padding="same")(h)
    h = layers.BatchNormalization(epsilon=BN_EPSILON)(h)
    h = layers.Activation("relu")(h)
    h = layers.Conv2D(4 * filters, 1)(h)
    h = layers.BatchNormalization(epsilon=BN_EPSILON)(h)
    out = layers.Activation("relu")(layers.add([shortcut, h]))
    return keras.Model(inp, out, name=name)


def resnet50(classes: int = 1000) -> keras.Model:
    """examples/resnet50.yaml by hand, with one nested model per bottleneck block.

    Same weights, in number and shape, as ``keras.applications.ResNet50(weights=None)``:
    25,636,712 params.
    """
    image = keras.Input(shape=(224, 224, 3), name="image")
    x = layers.ZeroPadding2D(((3, 3), (3, 3)), name="conv1_pad")(image)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    stages = [(2, 64, 3, 1), (3, 128, 4, 2), (4, 256, 6, 2), (5, 512, 3, 2)]
    for stage, filters, blocks, stride in stages:
        x = _bottleneck(x, filters, stride, True, f"conv{stage}_proj")(x)
        for i in range(1, blocks):
            x = _bottleneck(x, filters, 1, False, f"conv{stage}_{i}")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(image, x, name="resnet50")


def keras_resnet50() -> keras.Model:
    """The model examples/resnet50.yaml must match, as Keras itself builds it."""
    return keras.applications.ResNet50(weights=None)


def _conv_bn_relu(x: Any, filters: int, kernel_size: int = 3, strides: int = 1) -> Any:
    """lib/conv_blocks.yaml `conv_bn_relu`: Conv2D without bias, BatchNorm, ReLU."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def _double_conv(x: Any, filters: int) -> Any:
    """lib/conv_blocks.yaml `double_conv`: two conv_bn_relu."""
    return _conv_bn_relu(_conv_bn_relu(x, filters), filters)


def conv_blocks() -> keras.Model:
    """examples/lib/conv_blocks.yaml: the library's own small demo model."""
    image = keras.Input(shape=(32, 32, 3), name="image")
    x = _double_conv(image, 16)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(10)(x)
    return keras.Model(image, x, name="conv_blocks")


def unet(base: int = 16, classes: int = 1) -> keras.Model:
    """examples/unet.yaml: two down blocks, a bottom, two up blocks, a 1x1 head."""
    image = keras.Input(shape=(64, 64, 3), name="image")
    skip1 = _double_conv(image, base)
    x = layers.MaxPooling2D(2)(skip1)
    skip2 = _double_conv(x, base * 2)
    x = layers.MaxPooling2D(2)(skip2)
    x = _double_conv(x, base * 4)
    for filters, skip in [(base * 2, skip2), (base, skip1)]:
        x = layers.Conv2DTranspose(filters, 2, strides=2, padding="same")(x)
        x = layers.concatenate([x, skip])
        x = _double_conv(x, filters)
    mask = layers.Conv2D(classes, 1, activation="sigmoid")(x)
    return keras.Model(image, mask, name="unet")


def _inception(x: Any, f1: int, f3r: int, f3: int, f5r: int, f5: int, fp: int) -> Any:
    """examples/inception.yaml `inception`: four parallel branches, concatenated."""
    b1 = _conv_bn_relu(x, f1, 1)
    b3 = _conv_bn_relu(_conv_bn_relu(x, f3r, 1), f3, 3)
    b5 = _conv_bn_relu(_conv_bn_relu(x, f5r, 1), f5, 5)
    pool = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    bp = _conv_bn_relu(pool, fp, 1)
    return layers.concatenate([b1, b3, b5, bp])


def inception(classes: int = 10) -> keras.Model:
    """examples/inception.yaml: a stem and two Inception (GoogLeNet 3a, 3b) blocks."""
    image = keras.Input(shape=(32, 32, 3), name="image")
    x = _conv_bn_relu(image, 64, 3)
    x = _inception(x, 64, 96, 128, 16, 32, 32)
    x = _inception(x, 128, 128, 192, 32, 96, 64)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    x = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(image, x, name="mini_inception")


def _generator(filters: int, name: str) -> keras.Model:
    """examples/cyclegan.yaml `generator`: down, two residual blocks, up; 32x32x3 -> same."""
    image = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(filters, 7, padding="same", activation="relu")(image)
    x = layers.Conv2D(filters * 2, 3, strides=2, padding="same", activation="relu")(x)
    for _ in range(2):
        h = layers.Conv2D(filters * 2, 3, padding="same", activation="relu")(x)
        h = layers.Conv2D(filters * 2, 3, padding="same")(h)
        x = layers.add([x, h])
    x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2D(3, 7, padding="same", activation="tanh")(x)
    return keras.Model(image, x, name=name)


def cyclegan(filters: int = 16) -> keras.Model:
    """examples/cyclegan.yaml: two generators, each called three times (twice shared)."""
    real_a = keras.Input(shape=(32, 32, 3), name="real_a")
    real_b = keras.Input(shape=(32, 32, 3), name="real_b")
    g_ab = _generator(filters, "g_ab")
    g_ba = _generator(filters, "g_ba")
    fake_b = g_ab(real_a)
    fake_a = g_ba(real_b)
    outputs = {
        "fake_b": fake_b,
        "fake_a": fake_a,
        "cycled_a": g_ba(fake_b),
        "cycled_b": g_ab(fake_a),
        "identity_a": g_ba(real_a),
        "identity_b": g_ab(real_b),
    }
    return keras.Model([real_a, real_b], outputs, name="cyclegan")


#: example file stem -> reference builder
REFERENCES = {
    "mlp": mlp,
    "branch": branch,
    "ticket_classifier": ticket_classifier,
    "toy_resnet": toy_resnet,
    "siamese": siamese,
    "keywords_wrapper": keywords_wrapper,
    "resnet50": resnet50,
    "unet": unet,
    "inception": inception,
    "cyclegan": cyclegan,
    "conv_blocks": conv_blocks,
}
