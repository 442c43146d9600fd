"""trm-edge: train the Tiny Recursive Model and ship it to phones."""
__version__ = "0.1.0"
