"""The model card's JSON Schema, and the checks around it that a schema cannot state.

A card comes from anyone (a site's retrained model, an imported package), so it is read as
untrusted input: its size and nesting are bounded before it is parsed, its shape is checked
against the schema (jsonschema, Draft 2020-12), and the fields that must agree with each other
(channels, strides, labels) are checked after. Every problem is one sentence that names the
field by its JSON path, e.g. "thresholds should be an object, not a list".
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

MAX_CARD_BYTES = 1 << 20  # the shipped cards are under 10 kB; a megabyte is no card
MAX_DEPTH = 20  # the shipped cards nest 5 deep; json.loads recurses once per level
MAX_OUTPUTS = 64  # output labels (the label maps are uint8, and a finding list of 64 kinds is plenty)
MAX_CONTEXT_SLICES = 16
MAX_CHANNELS = 512  # widest layer of the U-Net
# one image through the network's layers, in float32 elements: 2**28 is 1 GiB, far above the shipped
# models (about 9 million) and far below what a 100,000-channel or 4096-wide 512-channel net asks
MAX_ACTIVATION_ELEMENTS = 1 << 28

_NAME = {"type": "string", "minLength": 1, "maxLength": 200}
_NAMES = {"type": "array", "maxItems": 32, "items": _NAME}
_RANGE = {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number", "minimum": 0}}
# a file inside the package folder: no separators, so a card cannot point outside its folder
_FILE = {"type": "string", "pattern": r"^(?!\.\.?$)[^/\\]{1,200}$", "description": "a file name inside the model folder"}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "64 lowercase hex digits"}
_POSITIVE = {"type": "number", "exclusiveMinimum": 0}

# monai.UNet's arguments (radview.ai.networks.build_network), each bounded so that no card can
# ask for a network that does not fit in memory; unknown arguments are refused, not passed on
_UNET_ARGS = {
    "type": "object",
    "required": ["spatial_dims", "in_channels", "out_channels", "channels", "strides"],
    "additionalProperties": False,
    "properties": {
        "spatial_dims": {"enum": [2]},  # the engine runs slices (2D, with 2.5D context)
        "in_channels": {"type": "integer", "minimum": 1, "maximum": 2 * MAX_CONTEXT_SLICES + 1},
        "out_channels": {"type": "integer", "minimum": 2, "maximum": MAX_OUTPUTS + 1},
        "channels": {"type": "array", "minItems": 2, "maxItems": 6,
                     "items": {"type": "integer", "minimum": 1, "maximum": MAX_CHANNELS}},
        "strides": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"type": "integer", "minimum": 1, "maximum": 4}},
        "num_res_units": {"type": "integer", "minimum": 0, "maximum": 8},
        "norm": {"enum": ["batch", "instance"]},
        "dropout": {"type": "number", "minimum": 0, "maximum": 1},
    },
}

_OUTPUT = {
    "type": "object",
    "required": ["value", "name", "code"],
    "properties": {
        "value": {"type": "integer", "minimum": 1, "maximum": MAX_OUTPUTS},
        "name": _NAME,
        "code": {"type": "array", "minItems": 3, "maxItems": 3, "items": _NAME,
                 "description": "[code value, coding scheme, code meaning]"},
        "color": {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "integer", "minimum": 0, "maximum": 255}},
    },
}

_CONFORMANCE = {
    "type": "object",
    "required": ["method", "layers", "threshold", "profile_threshold", "statistics_file", "sha256"],
    "properties": {
        "method": _NAME,
        "layers": {"type": "array", "minItems": 1, "maxItems": 32, "items": _NAME},
        "threshold": _POSITIVE,
        "profile_threshold": _POSITIVE,
        "statistics_file": _FILE,
        "sha256": _SHA256,
        "body_extent_mm": {"type": "object", "required": ["low", "high", "training_min", "training_max"],
                           "properties": {k: _POSITIVE for k in ("low", "high", "training_min", "training_max")}},
    },
}


BUNDLE_ARCHITECTURE = "monai.bundle"
_IS_BUNDLE = {"properties": {"architecture": {"properties": {"name": {"const": BUNDLE_ARCHITECTURE}}}}}
# an imported bundle's card (radview.ai.bundle_card): its network spec and steps are checked by the
# bundle allow-lists (radview.ai.bundle_allowlist), and it states that it has no input check
_BUNDLE_CARD = {
    "required": ["bundle"],
    "properties": {"architecture": {"properties": {"args": {"type": "object", "required": ["class", "args"]}}},
                   "bundle": {"type": "object", "required": ["preprocessing", "inferer", "postprocessing", "source"]},
                   "conformance": {"type": "object", "required": ["method", "reason"],
                                   "properties": {"method": {"const": "none"}, "reason": {"type": "string"}}}},
}
_OWN_CARD = {"properties": {"architecture": {"properties": {"args": _UNET_ARGS}}, "conformance": _CONFORMANCE}}


def card_schema(tasks: tuple[str, ...], normalisations: tuple[str, ...], postprocessing: tuple[str, ...]) -> dict:
    """The JSON Schema of model.json; the enums come from radview.ai.card, which owns them."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["id", "version", "task", "applies_to", "input", "architecture", "postprocessing", "outputs", "weights"],
        "properties": {
            # the id names findings and the networks' cache: a short plain name
            "id": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                   "description": "a name of letters, digits, '.', '_' and '-' (at most 64)"},
            "version": {"type": "string", "minLength": 1, "maxLength": 32},
            "task": {"enum": list(tasks)},
            "evaluation": _NAME,
            "applies_to": {
                "type": "object",
                "required": ["modalities", "dimensions"],
                "properties": {
                    "modalities": {**_NAMES, "minItems": 1},
                    "body_parts": _NAMES,
                    "dimensions": {"enum": ["2d", "3d"]},
                    # low <= high and which ranges a card must name: radview.ai.input_spec
                    **{key: _RANGE for key in ("pixel_spacing_mm", "slice_spacing_mm", "slice_thickness_mm", "matrix", "slices")},
                    **{key: _NAMES for key in ("sequences", "planes", "view_positions", "ct_kernels")},
                    "contrast": {"enum": ["any", "with", "without"]},
                    "note": {"type": "string"},
                },
            },
            "input": {
                "type": "object",
                "required": ["size", "normalisation"],
                "properties": {
                    "size": {"type": "array", "minItems": 2, "maxItems": 2,
                             "items": {"type": "integer", "minimum": 16, "maximum": 4096}},
                    "context_slices": {"type": "integer", "minimum": 0, "maximum": MAX_CONTEXT_SLICES},
                    "pixel_spacing_mm": _POSITIVE,
                    "normalisation": {
                        "type": "object",
                        "required": ["method"],
                        "properties": {"method": {"enum": list(normalisations)},
                                       "low_hu": {"type": "number"}, "high_hu": {"type": "number"}},
                    },
                },
            },
            "architecture": {
                "type": "object",
                "required": ["name", "args"],
                # the name is checked against radview.ai.networks.ARCHITECTURES by the registry;
                # the arguments are monai.UNet's, the one architecture there is
                "properties": {"name": _NAME, "args": {"type": "object"}},
            },
            "postprocessing": {"enum": list(postprocessing)},
            "outputs": {"type": "array", "minItems": 1, "maxItems": MAX_OUTPUTS, "items": _OUTPUT},
            "thresholds": {"type": "object", "maxProperties": 32, "propertyNames": {"maxLength": 64},
                           "additionalProperties": {"type": "number"}},
            "weights": {"type": "object", "required": ["file", "sha256"], "properties": {"file": _FILE, "sha256": _SHA256}},
            "training": {"type": "object"},
            "metrics": {"type": "object", "properties": {"headline": {
                "type": "object", "additionalProperties": {"type": ["number", "string", "null"]}}}},
            "intended_use": {"type": "string"},
            "limitations": {"type": "string"},
            "notice": {"type": "string"},
            "conformance": {"type": "object"},
            "bundle": {"type": "object"},
        },
        "if": _IS_BUNDLE, "then": _BUNDLE_CARD, "else": _OWN_CARD,
    }


def _strict_integer(checker: Any, instance: Any) -> bool:
    """An integer is a JSON integer: not 2.0 (which jsonschema would accept) and not true."""
    return isinstance(instance, int) and not isinstance(instance, bool)


@functools.cache
def card_validator(tasks: tuple[str, ...], normalisations: tuple[str, ...], postprocessing: tuple[str, ...]) -> Any:
    """A validator for the schema, built once. jsonschema is imported here, not at the top: it
    takes about 70 ms, and every module that names a ModelCard imports this one."""
    from jsonschema import Draft202012Validator, validators

    strict = Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer)
    validator_class = validators.extend(Draft202012Validator, type_checker=strict)
    schema = card_schema(tasks, normalisations, postprocessing)
    validator_class.check_schema(schema)
    return validator_class(schema)


def nesting_problem(text: str, limit: int = MAX_DEPTH) -> str | None:
    """Where `text` nests objects and lists deeper than `limit`, scanned without parsing (a deep
    enough document makes json.loads raise RecursionError); None when it does not."""
    depth, in_string, escaped = 0, False, False
    for position, char in enumerate(text):
        if in_string:  # brackets inside strings do not nest
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                line = text.count("\n", 0, position) + 1
                column = position - (text.rfind("\n", 0, position) + 1) + 1
                return f"the card nests objects and lists deeper than {limit} levels (line {line}, column {column})"
        elif char in "]}":
            depth -= 1
    return None


def _where(path: Any) -> str:
    """A JSON path as a reader writes it: outputs[0].code, input.context_slices."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (("." if text else "") + _short(str(part), 40))
    return text or "the card"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_TYPE_WORDS = {"object": "an object", "array": "a list", "string": "a string", "number": "a number",
               "integer": "an integer", "boolean": "true or false", "null": "null"}


def _json_type(value: Any) -> str:
    """The JSON type of a parsed value, in words."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "an integer"
    for kind, words in ((float, "a number"), (str, "a string"), (list, "a list"), (dict, "an object")):
        if isinstance(value, kind):
            return words
    return "null"


_BOUNDS = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than", "exclusiveMaximum": "less than"}
_SIZES = {"minItems": ("at least", "entries"), "maxItems": ("at most", "entries"),
          "minProperties": ("at least", "entries"), "maxProperties": ("at most", "entries"),
          "minLength": ("at least", "characters"), "maxLength": ("at most", "characters")}


def _sentence(error: ValidationError) -> str:
    """One schema error as a sentence that names the field."""
    where, keyword, expected, value = _where(error.absolute_path), error.validator, error.validator_value, error.instance
    if keyword == "type":
        kinds = [expected] if isinstance(expected, str) else list(expected)
        return f"{where} should be {' or '.join(_TYPE_WORDS[k] for k in kinds)}, not {_json_type(value)}"
    if keyword == "required":
        missing = next(key for key in expected if key not in value)
        return f"the card has no '{missing}'" if where == "the card" else f"{where} has no '{missing}'"
    if keyword == "enum":  # "unknown task 'x'", as the messages read before the schema
        return f"unknown {where} {_short(repr(value))} (known: {', '.join(map(str, expected))})"
    if keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        extra = sorted(set(value) - set(known))
        return f"{where} has unexpected entries {_short(', '.join(extra))} (known: {', '.join(known)})"
    if keyword in _BOUNDS:
        return f"{where} should be {_BOUNDS[keyword]} {expected}, not {_short(repr(value))}"
    if keyword in _SIZES:
        least_one = keyword.startswith("min") and expected == 1
        return f"{where} should not be empty" if least_one else \
            f"{where} should have {_SIZES[keyword][0]} {expected} {_SIZES[keyword][1]}, not {len(value)}"
    if keyword == "pattern" and "description" in error.schema:
        return f"{where} should be {error.schema['description']}, not {_short(repr(value))}"
    return f"{where}: {_short(error.message, 200)}"  # a keyword without its own wording


def schema_problem(raw: Any, validator: Any) -> str | None:
    """The most relevant way `raw` breaks the schema, in words (and how many more); None if none."""
    from jsonschema.exceptions import best_match

    errors = list(validator.iter_errors(raw))
    if not errors:
        return None
    first = best_match(errors)
    more = len(errors) - 1
    return _sentence(first) + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")


def consistency_problem(raw: dict) -> str | None:
    """What the schema cannot state: the fields that must agree with each other. `raw` has passed
    the schema, so every field read here exists with its type."""
    args, model_input = raw["architecture"]["args"], raw["input"]
    bundle = raw["architecture"]["name"] == BUNDLE_ARCHITECTURE
    if bundle != (model_input["normalisation"]["method"] == "bundle"):
        return "input.normalisation.method 'bundle' goes with architecture.name 'monai.bundle' only, and only it"
    if bundle:
        values = [out["value"] for out in raw["outputs"]]
        return "outputs should have a different value each" if len(set(values)) != len(values) else None
    context = model_input.get("context_slices", 0)
    if args["in_channels"] != 2 * context + 1:  # the engine stacks the slice and its context as channels
        return (f"architecture.args.in_channels should be {2 * context + 1} "
                f"(the slice and input.context_slices {context} either side)")
    if len(args["strides"]) != len(args["channels"]) - 1:
        return "architecture.args.strides should have one entry fewer than architecture.args.channels"
    stride = math.prod(args["strides"])
    if any(side % stride for side in model_input["size"]):
        return f"input.size should be divisible by {stride} (the product of architecture.args.strides)"
    values = [out["value"] for out in raw["outputs"]]
    if len(set(values)) != len(values):
        return "outputs should have a different value each"
    for n, value in enumerate(values):
        if value >= args["out_channels"]:  # label value v is the network's output channel v
            return f"outputs[{n}].value {value} has no channel: architecture.args.out_channels is {args['out_channels']}"
    if _activation_elements(args, model_input["size"]) > MAX_ACTIVATION_ELEMENTS:
        return (f"architecture.args.channels {args['channels']} on input.size {model_input['size']} would need more than "
                f"{MAX_ACTIVATION_ELEMENTS * 4 >> 30} GiB per image")
    return None


def _activation_elements(args: dict, size: list[int]) -> int:
    """Float elements one image occupies in the U-Net (its input and output, and each level's
    channels on that level's grid): a lower bound on what the network needs, enough to refuse absurd ones."""
    area = size[0] * size[1]
    total = (args["in_channels"] + args["out_channels"]) * area
    scale = 1  # how much each side has shrunk by this level
    for level, channels in enumerate(args["channels"]):
        total += channels * area // (scale * scale)
        if level < len(args["strides"]):
            scale *= args["strides"][level]
    return total
