"""The suite's report: the markdown table and footer, its section of BENCHMARKS.md, the recorded
ranges (``suite_ranges.json``) that flag a row which got worse, and the machine's idle check.

The section sits between ``<!-- suite:begin -->`` and ``<!-- suite:end -->``; a run rewrites only
what lies between them (and adds them before the first ``## `` heading the first time)::

    write_section(Path("BENCHMARKS.md"), render(lines, meta))
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from suite_rows import COLUMNS, Line

BEGIN, END = "<!-- suite:begin -->", "<!-- suite:end -->"
BUSY_SHARE = 0.15  # other jobs using more than this share of all cores: the machine was busy
HEAD = [
    "row",
    "workload",
    *COLUMNS,
    "other",
    "ratio (range)",
    "capture/torch",
    "jax/torch",
    "target",
    "status",
]


def cpu_busy_fraction(seconds: float = 2.0) -> float | None:
    """Share of all cores busy over ``seconds`` (from /proc/stat), measured while the suite runs
    nothing: what other jobs take. None where /proc/stat is missing."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


# -- ranges -------------------------------------------------------------------------------------
def load_ranges(path: Path, quick: bool) -> dict:
    """The recorded ranges of runs of this mode (--quick or not), by row."""
    data = json.loads(path.read_text()) if path.exists() else {}
    return data.get("quick" if quick else "full", {})


def flag(line: Line, ranges: dict) -> str:
    """ "worse than recorded (lo–hi)" when the median left the recorded range the wrong way."""
    rec = ranges.get(line.key)
    if not rec or not line.ratio.values:
        return ""
    m = line.ratio.median
    worse = m > rec["high"] if line.ratio.better == "lower" else m < rec["low"]
    return f"⚠ worse than recorded ({rec['low']:.2f}–{rec['high']:.2f})" if worse else ""


def record_ranges(path: Path, lines: list[Line], meta: dict) -> list[str]:
    """Store each line's per-round range (keeping other rows' records); the keys written."""
    data = json.loads(path.read_text()) if path.exists() else {}
    mode = "quick" if meta["quick"] else "full"
    metrics = data.setdefault(mode, {})
    written = []
    for line in lines:
        if line.ratio.values:
            metrics[line.key] = {
                "label": line.ratio.label,
                "low": round(min(line.ratio.values), 4),
                "median": round(line.ratio.median, 4),
                "high": round(max(line.ratio.values), 4),
                "better": line.ratio.better,
                "rounds": len(line.ratio.values),
                "date": meta["date"],
                "cpu": meta["cpu"],
            }
            written.append(line.key)
    about = (
        "Per-round ranges of each suite row's main ratio, written by "
        "`benchmarks/suite.py --record` under 'full' or 'quick' (runs with --quick); a later run "
        "of the same mode flags a row whose median is worse than its range."
    )
    data["about"] = about
    ordered = {k: data[k] for k in ("about", "full", "quick") if k in data}
    path.write_text(json.dumps(ordered, indent=2, ensure_ascii=False) + "\n")
    return written


# -- markdown -----------------------------------------------------------------------------------
def _status(line: Line, ranges: dict) -> str:
    met = line.ratio.met()
    text = "—" if met is None else ("met" if met and line.extra_ok else "**not met**")
    worse = flag(line, ranges)
    return f"{text} · {worse}" if worse else text


def table(lines: list[Line], ranges: dict) -> str:
    out = ["| " + " | ".join(HEAD) + " |", "|---|---|" + "---:|" * (len(HEAD) - 4) + "---|---|"]
    for line in lines:
        ratio = f"{line.ratio.label} {line.ratio.text()}" if line.ratio.values else "—"
        row = [line.key, line.workload, *(line.cells.get(c, "—") for c in COLUMNS)]
        row += [line.other or "—", ratio, line.peers.get("gradstep-capture", "—")]
        row += [line.peers.get("jax", "—"), line.target, _status(line, ranges)]
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def _blas(info: dict) -> str:
    """Each BLAS loaded in a worker, named by the package that ships it (numpy.libs, ...)."""
    pools = [
        f"{Path(b.get('filepath') or '?').parent.name or b['prefix']}: {b['internal_api']} "
        f"{b['version']}, {b['architecture']} kernel, {b['num_threads']} threads"
        for b in info.get("numpy_blas", [])
    ]
    return "; ".join(pools) or "none reported"


def method(lines: list[Line], s: dict) -> str:
    """The paragraph under the table: how the cells and ratios were made."""
    text = (
        f"Each system in its own fresh process, {s['threads']} threads each, order alternating "
        f"every round; {s['rounds']} rounds of ~{s['seconds']:g} s of timing per process"
    )
    if any(line.key in ("W5", "W6") for line in lines):
        seeds = f"{s['recipe_rounds']} seed{'s' if s['recipe_rounds'] > 1 else ''}"
        text += f" (recipes: {seeds}, one per round, {s['recipe_steps']} steps each)"
    return text + (
        ". Cells: the median over rounds of each process's median (recipes: the time to train, "
        "and the mean test accuracy). Ratio: the median over rounds of the ratio within each "
        "round, with its range. Guard: before timing, every worker ran its first steps from the "
        "shared weights and batch; their losses (OPT: parameter checksums) matched PyTorch's "
        "(W4: NumPy's float64 loss) in every round, or the run would have stopped there."
    )


def render(lines: list[Line], meta: dict, ranges: dict) -> str:
    """The whole section body: heading, how to run it, table, footer."""
    info = meta["info"]
    jax = f"JAX {info['jax']} + optax {info['optax']}" if info.get("jax") else "JAX not installed"
    busy = meta["busy"]
    busy_text = " / ".join(f"{100 * b:.0f} %" if b is not None else "n/a" for b in busy)
    verdict = "busy" if any(b is not None and b > BUSY_SHARE for b in busy) else "idle"
    parts = [
        "## The suite: one step, recipes and captured steps (`suite.py`)",
        "",
        "Written by `benchmarks/suite.py` (rerun it to refresh this section; "
        "[benchmarks/README.md](benchmarks/README.md) says how it measures).",
        "",
        "```sh",
        meta["command"],
        "```",
        "",
        f"{meta['date']} · {meta['cpu']}, {meta['cores']} logical cores · Python {info['python']} "
        f"· NumPy {info['numpy']} ({_blas(info)}) · PyTorch {info.get('torch', '—')} "
        f"({info.get('torch_blas', '—')}, {info.get('torch_threads', '—')} threads) · {jax} · "
        f"scikit-learn {info.get('scikit-learn') or '—'} · machine **{verdict}**: other jobs "
        f"used {busy_text} of the cores just before / after the run; load average "
        f"{meta['load']}.",
        "",
        table(lines, ranges),
        "",
        method(lines, meta["settings"]),
        "",
    ]
    if verdict == "busy":
        parts.append(
            "- The machine was busy: a worker whose threads wait for a core that another job "
            "holds stalls, PyTorch's OpenMP pool most of all (see BUSY), so ratios swing widely "
            "between rounds (mostly in gradstep's favour) and every figure is noisier. Rerun on "
            "an idle machine before judging a target."
        )
    parts += [f"- {note}" for note in meta["notes"]]
    for line in lines:
        parts += [f"- {note}" for note in line.notes]
    return "\n".join(parts)


def write_section(path: Path, body: str) -> None:
    """Replace the text between the suite's markers in ``path`` (add them if missing)."""
    text = path.read_text()
    block = f"{BEGIN}\n{body}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        at = text.find("\n## ")
        at = len(text) if at < 0 else at + 1
        text = text[:at] + block + "\n\n" + text[at:]
    path.write_text(text)
