"""actlab.plots: matplotlib figures, imported only when a plot is asked for.

``gallery`` draws each activation with its first and second derivative (read from the
registry); ``experiments`` draws each lab experiment's figures from its result's ``data``.
Both use the non-interactive Agg backend and write PNG and SVG.
"""
