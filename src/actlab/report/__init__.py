"""actlab.report: one self-contained HTML page with every function and every experiment."""
