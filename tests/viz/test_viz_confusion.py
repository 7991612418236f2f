"""The confusion-matrix picture."""

from __future__ import annotations

import numpy as np
import pytest

from gradstep.viz import plot_confusion_matrix

from .pixels import assert_picture


def test_small_matrix_with_names_counts_and_shares(tmp_path):
    cm = np.array([[8, 2, 0], [1, 9, 0], [0, 0, 10]])
    fig = plot_confusion_matrix(
        cm, tmp_path / "cm.png", names=["setosa", "versicolor", "virginica"]
    )
    rgb = assert_picture(tmp_path / "cm.png")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "8\n80%" in texts and "9\n90%" in texts and "10\n100%" in texts
    assert ax.get_title() == "confusion matrix · 30 samples · accuracy 90.0%"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["setosa", "versicolor", "virginica"]
    assert rgb[..., 2].mean() > rgb[..., 0].mean()  # shaded in blues


def test_large_matrix_counts_only(tmp_path):
    rng = np.random.default_rng(0)
    cm = np.diag(rng.integers(20, 30, 10)) + rng.integers(0, 2, (10, 10))
    fig = plot_confusion_matrix(cm, tmp_path / "cm.png")
    assert_picture(tmp_path / "cm.png")
    assert all("%" not in t.get_text() for t in fig.axes[0].texts)


def test_not_square_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="must be square"):
        plot_confusion_matrix(np.zeros((2, 3)), tmp_path / "cm.png")
