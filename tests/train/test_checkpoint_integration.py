"""Checkpoints end to end: a killed save, mismatched shapes, pickle refusal, PyTorch interop."""

import os
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gradstep as gs
from gradstep import nn, optim
from gradstep.io import CheckpointError
from gradstep.train import Trainer


def test_process_killed_mid_save_leaves_previous_checkpoint(tmp_path):
    path = tmp_path / "state.safetensors"
    gs.save({"w": np.arange(4.0)}, path, metadata={"epoch": 1})
    script = textwrap.dedent(
        f"""
        import os, signal
        import numpy as np
        import gradstep as gs
        from gradstep import io

        def die(tmp, target):  # the temporary file is written; the rename has not happened
            os.kill(os.getpid(), signal.SIGKILL)

        io._before_replace = die
        gs.save({{"w": np.full(4, 7.0)}}, {str(path)!r}, metadata={{"epoch": 2}})
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    arrays = gs.load(path)
    meta = arrays.metadata
    np.testing.assert_array_equal(arrays["w"], np.arange(4.0))
    assert meta == {"epoch": 1}
    gs.save({"w": np.ones(4)}, path)  # a leftover temporary file does not get in the way
    np.testing.assert_array_equal(gs.load(path)["w"], np.ones(4))


def test_checkpoint_with_other_shapes_is_refused(tmp_path):
    gs.manual_seed(0)
    a = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    ta = Trainer(a, nn.CrossEntropyLoss(), optim.Adam(a.parameters()))
    x = np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32)
    ta.fit((x, np.arange(8) % 2), epochs=1, verbose=0)
    ta.save(tmp_path / "s.safetensors")
    b = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 2))
    tb = Trainer(b, nn.CrossEntropyLoss(), optim.Adam(b.parameters()))
    before = [p.data.copy() for p in b.parameters()]
    with pytest.raises(ValueError, match=r"shape mismatch for .0\.weight"):
        tb.fit((x, np.arange(8) % 2), epochs=2, resume=tmp_path / "s.safetensors", verbose=0)
    for p, q in zip(b.parameters(), before):
        np.testing.assert_array_equal(p.data, q)


def test_pickle_file_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:
        pickle.dump({"0.weight": np.zeros((2, 2))}, f)
    with pytest.raises(CheckpointError, match="model.pt"):
        gs.load(path)


def test_pytorch_weights_load_into_gradstep_and_back():
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    x = np.random.default_rng(1).standard_normal((5, 4))
    expected = tm(torch.from_numpy(x)).detach().numpy()
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "torch.safetensors")
        save_file({k: v.contiguous() for k, v in tm.state_dict().items()}, p)
        gm = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
        gm.load_state_dict(gs.load(p))
        np.testing.assert_allclose(
            gm(gs.tensor(x, dtype=gs.float64)).numpy(), expected, rtol=1e-12, atol=1e-12
        )
        q = os.path.join(d, "gs.safetensors")
        gs.save(gm.state_dict(), q)
        from safetensors.torch import load_file

        tm2 = torch.nn.Sequential(
            torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
        ).double()
        tm2.load_state_dict(load_file(q))
        np.testing.assert_allclose(
            tm2(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-12, atol=1e-12
        )


def test_same_seed_same_run_bit_for_bit():
    x = np.random.default_rng(2).standard_normal((40, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)

    def run():
        gs.manual_seed(7)
        m = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))
        t = Trainer(m, nn.CrossEntropyLoss(), optim.Adam(m.parameters(), lr=0.01))
        t.fit((x, y), epochs=3, batch_size=8, verbose=0)
        return [p.data.copy() for p in m.parameters()]

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)
