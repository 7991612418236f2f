"""Pictures of training: curves, optimizer paths on 2-D test surfaces, gradient health, decision
boundaries, the confusion matrix and the self-contained HTML run report.

matplotlib is optional (``pip install 'gradstep[plot]'``) and imported only when a picture is
drawn; figures are rendered off-screen (Agg) and written to files. The data behind the pictures
(optimizer paths, boundary snapshots, run files) needs only NumPy.

>>> paths = gs.viz.optimizer_paths("rosenbrock", ["sgd", "momentum", "adam"], steps=500)
>>> gs.viz.plot_paths(paths, "paths.png")
"""

from .boundary import BoundaryRecorder, plot_decision_boundaries
from .confusion import plot_confusion_matrix
from .curves import plot_compare, plot_history, plot_run, plot_runs
from .gradient_health import load_gradient_health, plot_gradient_health
from .paths import OPTIMIZERS, OptimizerPath, optimizer_path, optimizer_paths, surface_grid
from .paths_plot import animate_paths, plot_paths
from .report import ReportFigure, render_report, run_report
from .run_files import RunRecord, describe_run, load_run
from .surfaces import SURFACES, Surface, get_surface

__all__ = [
    "OPTIMIZERS",
    "SURFACES",
    "BoundaryRecorder",
    "OptimizerPath",
    "ReportFigure",
    "RunRecord",
    "Surface",
    "animate_paths",
    "describe_run",
    "get_surface",
    "load_gradient_health",
    "load_run",
    "optimizer_path",
    "optimizer_paths",
    "plot_compare",
    "plot_confusion_matrix",
    "plot_decision_boundaries",
    "plot_gradient_health",
    "plot_history",
    "plot_paths",
    "plot_run",
    "plot_runs",
    "render_report",
    "run_report",
    "surface_grid",
]
