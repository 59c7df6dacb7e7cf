"""The mouse tools of the views."""

from __future__ import annotations

from enum import Enum


class Tool(str, Enum):
    """What the left mouse button does."""

    CROSSHAIR = "crosshair"
    PAN = "pan"
    ZOOM = "zoom"
    DISTANCE = "distance"
    ANGLE = "angle"
    ELLIPSE = "ellipse"
    RECTANGLE = "rectangle"
