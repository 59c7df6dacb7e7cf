"""Local AI: model packages, networks, training, evaluation and inference.

torch and MONAI are imported only inside this package, and lazily (inside functions), so the
window appears before torch loads.
"""
