"""The lab's experiments, one module each; importing this package registers them all."""
