"""Accuracy audits against the mpmath oracle (``pip install actlab[audit]``)."""
