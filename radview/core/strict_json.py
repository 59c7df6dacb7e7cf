"""JSON that strict parsers accept: Python's json writes NaN and Infinity, which are not JSON.

Every JSON RadView prints or writes goes through `dumps`: a non-finite number becomes null (with
the reason left to the field's own warning), and anything else non-finite fails loudly.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(data: Any) -> Any:
    """`data` with every NaN or infinite float replaced by None (dicts, lists and tuples walked)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite(value) for value in data]
    return data


def dumps(data: Any, **options: Any) -> str:
    """json.dumps of `finite(data)` with allow_nan=False (options as json.dumps takes them)."""
    return json.dumps(finite(data), allow_nan=False, **options)
