"""The toolkit's version, written into every file it makes."""

__version__ = "0.1.0"
