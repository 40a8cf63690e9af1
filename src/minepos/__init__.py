"""minepos: underground mine personnel positioning and dispatch."""

__version__ = "0.1.0"
