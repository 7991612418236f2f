"""Convolutional networks from the config: layer tables whose channels and linear inputs come
from the data's shape (model.input_shape), their errors, data reshaped to that shape, and a
CNN trained, evaluated and used for predictions from a CSV of flattened images."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

import gradstep as gs
from gradstep import config as C
from gradstep.cli import _build as B
from gradstep.cli import _dataset as DS
from gradstep.cli import main
from gradstep.cli._trained import load_trained

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
QUICK = ["--train.verbose", "0", "--output.plot", "false"]
SIGNALS = DS.Data("s", "classification", list(range(100)), [0], None, 40, 10, 10)
IMAGES = DS.Data("i", "classification", list(range(100)), [0], None, 64, 10, 10)
IMAGES.input_shape = (1, 8, 8)

MNIST1D_CNN = """
[model]
input_shape = [1, 40]
[[model.layer]]
type = "conv1d"
out_channels = 25
kernel_size = 5
stride = 2
padding = 1
[[model.layer]]
type = "relu"
[[model.layer]]
type = "conv1d"
out_channels = 25
kernel_size = 3
stride = 2
padding = 1
[[model.layer]]
type = "relu"
[[model.layer]]
type = "conv1d"
out_channels = 25
kernel_size = 3
stride = 2
padding = 1
[[model.layer]]
type = "relu"
[[model.layer]]
type = "flatten"
[[model.layer]]
type = "linear"
"""


def layers_of(text: str, data: DS.Data = IMAGES) -> list[dict]:
    cfg, _ = C.resolve(None, [("model.layer", text)])
    return B.architecture(cfg, data)


def error_of(text: str, data: DS.Data = IMAGES) -> str:
    with pytest.raises(C.ConfigError) as err:
        layers_of(text, data)
    return str(err.value)


def test_the_mnist1d_cnn_takes_its_channels_and_head_width_from_the_signal_shape():
    cfg, _ = C.resolve(tomllib.loads(MNIST1D_CNN))
    signals = DS.Data("s", "classification", [0], None, None, 40, 10, 10, input_shape=(1, 40))
    layers = B.architecture(cfg, signals)
    convs = [layer for layer in layers if layer["type"] == "conv1d"]
    assert [c["in_channels"] for c in convs] == [1, 25, 25]
    assert layers[-1] == {"type": "linear", "bias": True, "out": 10, "in": 125}  # 25 x 5
    model = B.build_model(layers)
    assert type(model[0]) is gs.nn.Conv1d and model[0].stride == (2,)
    assert sum(p.data.size for p in model.parameters()) == 150 + 2 * 1900 + 1260
    assert model(gs.zeros(3, 1, 40)).shape == (3, 10)


def test_the_weights_of_a_configured_cnn_load_into_pytorchs_network():
    torch = pytest.importorskip("torch")
    text = (
        '[{type="conv2d", out_channels=6, kernel_size=3, padding=1}, {type="batchnorm"}, '
        '{type="relu"}, {type="maxpool2d", kernel_size=2}, {type="flatten"}, {type="linear"}]'
    )
    layers = layers_of(text)
    assert layers[1]["type"] == "batchnorm2d" and layers[1]["num_features"] == 6
    assert layers[-1]["in"] == 6 * 4 * 4
    model = B.build_model(layers)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 3, padding=1),
        torch.nn.BatchNorm2d(6),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(96, 10),
    )
    net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()})
    model.eval()
    net.eval()
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(
        model(gs.tensor(x)).numpy(), net(torch.from_numpy(x)).detach().numpy(), atol=1e-5
    )


def test_global_pooling_and_unflatten_from_flat_rows():
    text = (
        '[{type="unflatten", dim=1, unflattened_size=[1, 8, 8]}, '
        '{type="conv2d", out_channels=10, kernel_size=3, padding="same"}, '
        '{type="adaptive_avgpool", output_size=1}, {type="flatten"}]'
    )
    flat = DS.Data("f", "classification", [0], None, None, 64, 10, 10)
    layers = layers_of(text, flat)
    assert layers[1]["in_channels"] == 1 and layers[1]["padding"] == "same"
    assert layers[2] == {"type": "adaptive_avgpool2d", "output_size": 1}
    model = B.build_model(layers)
    assert model(gs.zeros(2, 64)).shape == (2, 10)


def test_the_mlp_shorthand_flattens_shaped_samples_first():
    cfg, _ = C.resolve(None, [("model.hidden", "16")])
    layers = B.architecture(cfg, IMAGES)
    assert layers[0] == {"type": "flatten", "start_dim": 1, "end_dim": -1}
    assert layers[1]["in"] == 64
    assert B.build_model(layers)(gs.zeros(2, 1, 8, 8)).shape == (2, 10)


@pytest.mark.parametrize(
    ("text", "data", "message"),
    [
        (
            '[{type="conv2d", out_channels=4, kernel_size=3}, {type="flatten"}, {type="linear"}]',
            SIGNALS,
            r"model.layer[0] (conv2d) takes (C, H, W) samples but receives shape (40,) "
            r"(dataset 's'); set model.input_shape (e.g. [1, 8, 8] for 8x8 images) or add an "
            "unflatten layer before it.",
        ),
        (
            '[{type="conv1d", out_channels=4, kernel_size=3}, {type="linear"}]',
            IMAGES,
            "model.layer[0] (conv1d) takes (C, L) samples but receives shape (1, 8, 8) "
            "(dataset 'i'); use the 2d form of the layer or add a flatten layer before it.",
        ),
        (
            '[{type="conv2d", in_channels=3, out_channels=4, kernel_size=3}, {type="flatten"}, '
            '{type="linear"}]',
            IMAGES,
            "model.layer[0] (conv2d) has in_channels = 3 but receives 1 channels (samples of "
            "shape (1, 8, 8) (dataset 'i')); set in_channels = 1 or leave it out.",
        ),
        (
            '[{type="conv2d", out_channels=4, kernel_size=3}, {type="maxpool2d", kernel_size=2},'
            ' {type="conv2d", out_channels=4, kernel_size=5}, {type="flatten"}, {type="linear"}]',
            IMAGES,
            "model.layer[2] (conv2d) receives samples of shape (4, 3, 3): its kernel spans 5 "
            "positions along H (kernel_size 5, dilation 1) but the input has only 3 + 0 padding "
            "there; use a smaller kernel, more padding, or less downsampling before this layer.",
        ),
        (
            '[{type="conv2d", out_channels=4, kernel_size=3}, {type="linear"}]',
            IMAGES,
            "the layers give each sample the shape (4, 6, 10), but dataset 'i' needs (10,) (10 "
            'classes); add {type = "flatten"} before the linear head.',
        ),
        (
            '[{type="conv2d", out_channels=4, kernel_size=3}, {type="flatten"}, '
            '{type="linear", in=100}]',
            IMAGES,
            "model.layer[2] (linear) has in = 100 but receives 144 values (samples of shape "
            "(144,)); set in = 144 or leave it out.",
        ),
        (
            '[{type="conv2d", kernel_size=3}, {type="flatten"}, {type="linear"}]',
            IMAGES,
            "model.layer[0] (conv2d) needs out_channels = <width>; only the last layer that sets "
            "a width (model.layer[2], linear) may leave it to the data.",
        ),
        (
            '[{type="unflatten", dim=1, unflattened_size=[3, 3]}, {type="flatten"}, '
            '{type="linear"}]',
            SIGNALS,
            "model.layer[0] (unflatten) receives samples of shape (40,) (dataset 's'): "
            "unflattened_size [3, 3] does not split dim 1 of size 40; give sizes whose product "
            "is 40.",
        ),
        (
            '[{type="batchnorm"}, {type="linear"}]',
            DS.Data("q", "classification", [0], None, None, 16, 10, 10, input_shape=(1, 2, 2, 4)),
            "model.layer[0] (batchnorm) receives samples of shape (1, 2, 2, 4) but takes (C,) or "
            "(C, L) or (C, H, W) samples; add a flatten layer before it.",
        ),
    ],
)
def test_shape_errors_name_the_layer_the_shapes_and_the_fix(text, data, message):
    assert error_of(text, data) == message


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ('{type="conv2d", out_channels=4, kernel_size=0}', "kernel_size must be an integer >= 1"),
        ('{type="conv1d", out_channels=4, kernel_size=3, padding="full"}', '"same" or "valid"'),
        ('{type="maxpool2d", kernel_size=[2, true]}', "kernel_size must be an integer >= 1"),
        ('{type="unflatten", dim=1, unflattened_size=[-1, -1]}', "one may be -1"),
        ('{type="unflatten", dim=1, unflattened_size=4}', "must be a list of integers"),
    ],
)
def test_layer_fields_of_the_size_kinds_are_checked_when_the_config_is_read(layer, message):
    with pytest.raises(C.ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        C.resolve(None, [("model.layer", f"[{layer}]")])


def test_size_fields_keep_ints_lists_and_padding_words():
    text = (
        '[{type="conv2d", out_channels=4, kernel_size=[3, 5], padding="SAME"}, '
        '{type="maxpool2d", kernel_size=2, stride=[1, 2]}]'
    )
    cfg, _ = C.resolve(None, [("model.layer", text)])
    conv, pool = cfg["model"]["layer"]
    assert conv["kernel_size"] == [3, 5] and conv["padding"] == "same"
    assert pool["kernel_size"] == 2 and pool["stride"] == [1, 2]


def test_builtin_data_reaches_the_model_in_the_configured_shape():
    cfg, _ = C.resolve(None, [("model.input_shape", "1,8,8")])
    data = DS.load_data(cfg)
    assert data.input_shape == (1, 8, 8) and data.n_features == 64
    for part in (data.train, data.val, data.test):
        assert part.arrays[0].shape[1:] == (1, 8, 8)
    cfg, _ = C.resolve(None, [("model.input_shape", "2,40")])
    with pytest.raises(C.ConfigError) as err:
        DS.load_data(cfg)
    assert str(err.value) == (
        "model.input_shape [2, 40] holds 80 values per sample but dataset 'digits' has 64 "
        "features; give a shape whose product is 64, e.g. [1, 64] for a one-channel signal (or [] "
        "for flat features)."
    )


def test_an_npz_of_images_is_reshaped_to_the_configured_shape(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((40, 2, 3, 3)).astype(np.float32)
    path = tmp_path / "images.npz"
    np.savez(path, x=x, y=rng.integers(0, 2, 40))
    cfg, _ = C.resolve(
        None,
        [("data.path", str(path)), ("data.standardize", "false"), ("model.input_shape", "2,3,3")],
    )
    data = DS.load_data(cfg)
    assert data.n_features == 18 and data.sample_shape == (2, 3, 3)
    rows = np.concatenate([p.arrays[0] for p in (data.train, data.val, data.test)])
    assert {tuple(r.ravel()) for r in rows} == {tuple(r.ravel()) for r in x}


def _image_csv(path: Path, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """6x6 images with a bright 2x2 block in the top half (class 0) or the bottom half (1)."""
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 0.1, (n, 6, 6))
    y = np.arange(n) % 2
    for i in range(n):
        r = rng.integers(0, 2) + 3 * y[i]
        c = rng.integers(0, 5)
        x[i, r : r + 2, c : c + 2] += 1.0
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"p{i}" for i in range(36)] + ["label"])
        for row, label in zip(x.reshape(n, 36), y):
            w.writerow([f"{v:.5f}" for v in row] + [int(label)])
    return x.reshape(n, 36), y


CNN_TOML = """
[data]
path = "{path}"
batch_size = 16
[model]
input_shape = [1, 6, 6]
[[model.layer]]
type = "conv2d"
out_channels = 4
kernel_size = 3
padding = 1
[[model.layer]]
type = "relu"
[[model.layer]]
type = "maxpool2d"
kernel_size = 2
[[model.layer]]
type = "flatten"
[[model.layer]]
type = "linear"
[optimizer]
lr = 0.01
[train]
epochs = 8
"""


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory) -> dict:
    """A CNN trained from a CSV whose rows are flattened 6x6 images."""
    tmp = tmp_path_factory.mktemp("cnn")
    x, y = _image_csv(tmp / "images.csv")
    config = tmp / "cnn.toml"
    config.write_text(CNN_TOML.format(path=tmp / "images.csv"))
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert (
            main(["train", str(config), *QUICK, "--output.dir", str(tmp / "runs"), "--json"]) == 0
        )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    return {"summary": summary, "x": x, "y": y, "csv": tmp / "images.csv", "tmp": tmp}


def test_a_cnn_trains_from_a_csv_of_flattened_images(cnn_run):
    summary = cnn_run["summary"]
    assert summary["test"]["accuracy"] >= 0.85  # the block's half is easy to see
    run = Path(summary["run_dir"])
    resolved = tomllib.loads((run / "config.toml").read_text())
    assert resolved["model"]["input_shape"] == [1, 6, 6]
    assert resolved["meta"]["input_shape"] == [1, 6, 6]
    assert resolved["meta"]["architecture"][0]["in_channels"] == 1
    assert resolved["meta"]["architecture"][-1]["in"] == 4 * 3 * 3


def test_evaluate_reads_the_csv_in_the_models_shape(cnn_run, capsys):
    run = cnn_run["summary"]["run_dir"]
    capsys.readouterr()
    assert main(["evaluate", run, "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["metrics"]["accuracy"] == pytest.approx(cnn_run["summary"]["test"]["accuracy"])
    trained = load_trained(run)
    assert trained.input_shape == (1, 6, 6)
    assert trained.data.test.arrays[0].shape[1:] == (1, 6, 6)


def test_predict_reshapes_rows_of_flattened_images(cnn_run, capsys):
    run = cnn_run["summary"]["run_dir"]
    out = cnn_run["tmp"] / "predictions.csv"
    assert main(["predict", run, "--input", str(cnn_run["csv"]), "--output", str(out)]) == 0
    with open(out) as f:
        predicted = np.array([int(r["class"]) for r in csv.DictReader(f)])
    trained = load_trained(run, need_data=False)
    scaling = trained.meta["standardize"]
    x = (cnn_run["x"] - np.asarray(scaling["mean"])) / np.asarray(scaling["scale"])
    trained.model.eval()
    logits = trained.model(gs.tensor(x.reshape(-1, 1, 6, 6).astype(np.float32))).numpy()
    np.testing.assert_array_equal(predicted, logits.argmax(axis=1))


@pytest.mark.parametrize("name", ["digits-cnn.toml", "mnist1d-cnn.toml"])
def test_the_example_cnn_configs_build_for_their_datasets(name):
    from gradstep.data.datasets.registry import get_spec

    cfg, _ = C.resolve(C.load_file(EXAMPLES / name), source=name)
    info = get_spec(cfg["data"]["name"]).info  # the dataset's sizes, without generating it
    shape = tuple(cfg["model"]["input_shape"])
    data = DS.Data(info.name, info.task, [0], None, None, info.n_features, info.n_classes,
                  info.n_classes, input_shape=shape)  # fmt: skip
    model = B.build_model(B.architecture(cfg, data))
    assert model(gs.zeros(4, *shape)).shape == (4, info.n_classes)
