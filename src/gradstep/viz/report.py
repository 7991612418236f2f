"""The run report: one self-contained HTML page (styles inline, pictures embedded as data: URIs,
no script, nothing fetched) with a run's summary, curves, confusion matrix, gradient health,
decision boundaries and configuration — a file to attach to a question or a lab report.

>>> run_report("runs/20250101-120000-abc123")     # writes runs/.../report.html
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .run_files import RunRecord, load_run

__all__ = ["ReportFigure", "render_report", "run_report"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 1.5rem; color: #222; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ddd;
     padding-bottom: .2rem; }
.sub { color: #666; margin: 0; font-size: .9rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: .5rem 0 1rem; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .85rem; margin-top: .25rem; }
pre { background: #f7f7f7; padding: .75rem; overflow-x: auto; font-size: .8rem; }
.warn { color: #a00; font-weight: 600; }
footer { margin-top: 2rem; color: #888; font-size: .8rem; }
"""


@dataclass
class ReportFigure:
    """One picture of the report: a heading, the PNG's bytes and a sentence saying what it shows."""

    heading: str
    png: bytes
    caption: str = ""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _e(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.4e}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{_num(c)}</td>'
            if isinstance(c, int | float) and not isinstance(c, bool)
            else f"<td>{_e(c)}</td>"
            for c in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_report(
    title: str,
    subtitle: str = "",
    facts: Sequence[tuple[str, Any]] = (),
    metrics: dict[str, dict[str, float]] | None = None,
    figures: Sequence[ReportFigure] = (),
    config_text: str = "",
    warning: str = "",
    footer: str = "",
) -> str:
    """The report page as one HTML string: ``facts`` as a two-column table, ``metrics`` as a
    split × metric table, each figure as an embedded PNG, the config verbatim."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<header><h1>{_e(title)}</h1>",
        f'<p class="sub">{_e(subtitle)}</p></header>' if subtitle else "</header>",
    ]
    if warning:
        parts.append(f'<p class="warn">{_e(warning)}</p>')
    parts.append("<section><h2>Summary</h2>")
    if facts:
        parts.append(
            _table(["", ""], [[k, v] for k, v in facts]).replace(
                "<thead><tr><th></th><th></th></tr></thead>", ""
            )
        )
    if metrics:
        names = list(dict.fromkeys(k for m in metrics.values() for k in m))
        rows = [[split, *(m.get(k, "—") for k in names)] for split, m in metrics.items()]
        parts.append(_table(["split", *names], rows))
    parts.append("</section>")
    for fig in figures:
        data = base64.b64encode(fig.png).decode("ascii")
        parts.append(
            f"<section><h2>{_e(fig.heading)}</h2><figure>"
            f'<img alt="{_e(fig.heading)}" src="data:image/png;base64,{data}">'
            + (f"<figcaption>{_e(fig.caption)}</figcaption>" if fig.caption else "")
            + "</figure></section>"
        )
    if config_text:
        parts.append(f"<section><h2>Configuration</h2><pre>{_e(config_text)}</pre></section>")
    if footer:
        parts.append(f"<footer>{_e(footer)}</footer>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _png(draw: Callable[[io.BytesIO], None]) -> bytes:
    buf = io.BytesIO()
    draw(buf)
    return buf.getvalue()


def _facts(rec: RunRecord) -> list[tuple[str, Any]]:
    s = rec.summary
    facts: list[tuple[str, Any]] = [("run", str(rec.path))]
    for key, label in (
        ("dataset", "dataset"),
        ("task", "task"),
        ("epochs", "epochs trained"),
        ("stop_reason", "why it stopped"),
        ("best_epoch", "best epoch (best.safetensors)"),
        ("best_val_loss", "best val loss"),
        ("seconds", "seconds"),
        ("seed", "seed"),
    ):
        if key in s:
            facts.append((label, s[key]))
    return facts


def run_report(
    run: str | Path | RunRecord,
    target: str | Path | None = None,
    confusion: Any = None,
    class_names: Sequence[str] | None = None,
    confusion_split: str = "test",
) -> Path:
    """Write the report of a run directory (default: its report.html) and return its path.

    ``confusion`` is the confusion matrix of a classification run (the command line computes it
    from the saved model on ``confusion_split``); the other pictures come from the run's files."""
    from .boundary import plot_decision_boundaries
    from .confusion import plot_confusion_matrix
    from .curves import plot_run
    from .gradient_health import plot_gradient_health

    rec = run if isinstance(run, RunRecord) else load_run(run)
    figures = [
        ReportFigure(
            "Training curves",
            _png(lambda b: plot_run(rec, b)),
            "Loss, metrics and learning rate; the x axis is in epochs, faint lines are single "
            "steps, the dotted line marks the best epoch (lowest validation loss).",
        )
    ]
    if confusion is not None:
        figures.append(
            ReportFigure(
                "Confusion matrix",
                _png(lambda b: plot_confusion_matrix(confusion, b, class_names)),
                f"Final weights on the {confusion_split} split; rows are the true classes, "
                "columns the predicted ones.",
            )
        )
    if rec.gradient_health and rec.gradient_health.get("steps"):
        figures.append(
            ReportFigure(
                "Gradient health",
                _png(lambda b: plot_gradient_health(rec.gradient_health, b)),
                "Per-layer gradient norms and update ratios ‖ΔW‖/‖W‖ over training; norms "
                "shrinking by orders of magnitude towards layer 1 are vanishing gradients.",
            )
        )
    bd = rec.boundary
    if bd is not None and len(bd.get("probs", [])) and "x" in bd and "y" in bd:
        figures.append(
            ReportFigure(
                "Decision boundaries",
                _png(lambda b: plot_decision_boundaries(bd, bd["x"], bd["y"], b, class_names)),
                "The predicted class over the input plane at several epochs (paler where the "
                "model is unsure), with the training points.",
            )
        )
    metrics = {
        split: rec.summary[split]
        for split in ("train", "val", "test")
        if isinstance(rec.summary.get(split), dict)
    }
    stop = str(rec.summary.get("stop_reason", ""))
    warning = f"This run diverged: {stop}." if "became" in stop else ""
    from .. import __version__

    page = render_report(
        title=rec.title(),
        subtitle=f"gradstep run {rec.name}",
        facts=_facts(rec),
        metrics=metrics,
        figures=figures,
        config_text=rec.config_text,
        warning=warning,
        footer=f"gradstep {__version__} · repeat this run with: gradstep train "
        f"{rec.path / 'config.toml'}",
    )
    out = Path(target) if target is not None else rec.path / "report.html"
    out.write_text(page, encoding="utf-8")
    return out
