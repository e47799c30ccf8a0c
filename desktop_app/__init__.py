"""CNN Lens: see, live, what convolutional networks see."""

__version__ = "0.1.0"
