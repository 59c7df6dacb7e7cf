"""Command-line drivers beside radview.cli (one module per command group)."""
