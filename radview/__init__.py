"""RadView: a radiologist's review workstation."""

__version__ = "0.1.0"
