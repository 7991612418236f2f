"""Pictures of training: loss, metric and learning-rate curves, and optimizer comparisons.

matplotlib is optional (``pip install 'gradstep[plot]'``) and imported only when a figure is
drawn; figures are rendered off-screen (Agg) and written to files.
"""

from .curves import plot_compare, plot_history

__all__ = ["plot_compare", "plot_history"]
