"""A MONAI bundle's config files, read as data: nothing in them is imported, evaluated or run.

MONAI's own ConfigParser imports any `_target_` and evaluates every `$` string with Python's
eval, so a bundle's inference.json is code (docs/facts.md, "Models"). Here the JSON is parsed
(its size and nesting bounded first) and each entry RadView needs is *resolved*: `@key`
references are followed (with a depth limit and cycle check), a `{"_target_": ...}` object
becomes a `Target` (a name and literal arguments, not an object), and a `$` string is parsed
with `ast` (never evaluated) and accepted only when it is one of three forms the Model Zoo
writes: a call of a dotted name with literal or `@` arguments
(`$monai.networks.nets.resnet.resnet50(spatial_dims=3, ...)`), a method call on a reference
(`$@detector.set_box_selector_parameters(score_thresh=0.02)`), or a reference plus a string
(`$@bundle_root + '/models/model.pt'`). Whether a target's name is allowed is for
radview.ai.bundle_allowlist to say; anything else is refused with the key path and the value.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from radview.ai.card_schema import nesting_problem

MAX_CONFIG_BYTES = 4 << 20  # the Model Zoo's largest inference.json is under 20 kB
MAX_REFERENCE_DEPTH = 32
_REFERENCE = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*(?:(?:::|#)[A-Za-z0-9_]+)*)")
_IGNORED_KEYS = ("_desc_", "_disabled_")  # MONAI's comments and switches; `_disabled_` entries are dropped


class BundleRefused(Exception):
    """The bundle cannot be imported safely; the message names the key path and the value."""

    def __init__(self, where: str, value: Any, why: str) -> None:
        shown = repr(value)
        super().__init__(f"{where}: {shown if len(shown) <= 160 else shown[:157] + '...'}: {why}")
        self.where, self.value, self.why = where, value, why


@dataclass(frozen=True)
class Target:
    """A `_target_` (or a `$` call) as data: the callable's name and its resolved arguments."""

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    where: str = ""  # the key path it came from, for messages


@dataclass(frozen=True)
class MethodCall:
    """`$@ref.method(...)`: a call of a method of another entry (the detector's settings)."""

    reference: str
    method: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    where: str = ""


def inside(root: Path, relative: str | Path, where: str) -> Path:
    """`relative` under the bundle folder `root`, with symbolic links followed; BundleRefused when
    it points outside (an absolute path, `..`, or a link out of the folder)."""
    root = Path(root).resolve()
    path = (root / relative).resolve()
    if path != root and root not in path.parents:
        raise BundleRefused(where, str(relative), "the path points outside the bundle folder")
    return path


def read_json(root: Path, relative: str) -> dict:
    """A JSON object file of the bundle, bounded in size and nesting, NaN and Infinity refused."""
    path = inside(root, relative, relative)
    if not path.is_file():
        raise BundleRefused(relative, str(path), "the file is missing")
    data = path.read_bytes()[: MAX_CONFIG_BYTES + 1]
    if len(data) > MAX_CONFIG_BYTES:
        raise BundleRefused(relative, str(path), f"the file is larger than {MAX_CONFIG_BYTES >> 20} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleRefused(relative, str(path), f"not UTF-8 text ({exc})") from exc
    deep = nesting_problem(text, 40)
    if deep:
        raise BundleRefused(relative, str(path), deep)
    try:
        raw = json.loads(text, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(f"{name} is not a number")))
    except (ValueError, RecursionError) as exc:
        raise BundleRefused(relative, str(path), f"not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise BundleRefused(relative, type(raw).__name__, "the file should hold a JSON object")
    return raw


class Resolver:
    """Follows a config's references and reads its targets and expressions as data."""

    def __init__(self, config: dict) -> None:
        self.config = config

    def lookup(self, reference: str, where: str) -> tuple[Any, str]:
        """The raw entry a reference (`a`, `a::b`, `a#0`) names, and its key path."""
        node: Any = self.config
        path = ""
        for part in re.split("::|#", reference):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise BundleRefused(where, "@" + reference, "the reference names no entry of the config")
            path = f"{path}.{part}" if path else part
        return node, path

    def resolve(self, value: Any, where: str, depth: int = 0) -> Any:
        """`value` with references followed and targets read: plain JSON data, Targets and MethodCalls."""
        if depth > MAX_REFERENCE_DEPTH:
            raise BundleRefused(where, value, "references nest too deep (a cycle?)")
        if isinstance(value, str):
            return self._string(value, where, depth)
        if isinstance(value, list):
            return [self.resolve(v, f"{where}[{n}]", depth + 1) for n, v in enumerate(value)]
        if isinstance(value, dict):
            if value.get("_disabled_") is True:
                return None
            if "_requires_" in value or "_mode_" in value:
                key = "_requires_" if "_requires_" in value else "_mode_"
                raise BundleRefused(f"{where}.{key}", value[key], "runs other entries or changes how a target is called")
            kwargs = {k: self.resolve(v, f"{where}.{k}", depth + 1) for k, v in value.items()
                      if k != "_target_" and k not in _IGNORED_KEYS}
            if "_target_" not in value:
                return kwargs
            name = value["_target_"]
            if not isinstance(name, str) or name.startswith(("$", "@", "%")):
                raise BundleRefused(f"{where}._target_", name, "a target must be a plain class name")
            return Target(name, (), kwargs, where)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        raise BundleRefused(where, value, "not JSON data")

    def _string(self, text: str, where: str, depth: int) -> Any:
        if text.startswith("%"):
            raise BundleRefused(where, text, "a macro from another file; RadView reads only this bundle's inference config")
        if text.startswith("@"):
            entry, path = self.lookup(text[1:], where)
            return self.resolve(entry, path, depth + 1)
        if text.startswith("$"):
            return self._expression(text[1:], where, depth)
        return text

    def _expression(self, source: str, where: str, depth: int) -> Any:
        """A `$` expression, parsed (never evaluated) and accepted only in the forms the module names."""
        references: dict[str, str] = {}

        def placeholder(match: re.Match) -> str:
            name = f"__radview_ref_{len(references)}"
            references[name] = match.group(1)
            return name

        try:
            tree = ast.parse(_REFERENCE.sub(placeholder, source).strip(), mode="eval")
        except SyntaxError as exc:
            raise BundleRefused(where, "$" + source, f"not an expression RadView reads ({exc.msg})") from exc
        return _Expression(self, references, "$" + source, where, depth).read(tree.body)


class _Expression:
    """The reading of one parsed `$` expression."""

    def __init__(self, resolver: Resolver, references: dict[str, str], source: str, where: str, depth: int) -> None:
        self.resolver, self.references, self.source, self.where, self.depth = resolver, references, source, where, depth

    def refuse(self, why: str) -> BundleRefused:
        return BundleRefused(self.where, self.source, why)

    def read(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.value(node.left), self.value(node.right)
            if isinstance(left, str) and isinstance(right, str):  # a path: @bundle_root + '/models/model.pt'
                return left + right
            raise self.refuse("only text may be added (a path built from @bundle_root)")
        return self.value(node)

    def call(self, node: ast.Call) -> Target | MethodCall:
        args = tuple(self.value(a) for a in node.args)
        if any(k.arg is None for k in node.keywords):
            raise self.refuse("**arguments are not read")
        kwargs = {k.arg: self.value(k.value) for k in node.keywords}
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.references:
            return MethodCall(self.references[func.value.id], func.attr, args, kwargs, self.where)
        return Target(self.dotted(func), args, kwargs, self.where)

    def dotted(self, node: ast.AST) -> str:
        """`monai.networks.nets.resnet.resnet50` from its Attribute chain; nothing else is a callable name."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id.startswith("__"):
            raise self.refuse("only a call of a named class or function is read")
        return ".".join([node.id, *reversed(parts)])

    def value(self, node: ast.AST) -> Any:
        """A literal (numbers, text, lists, tuples, dicts, True/False/None) or an @ reference."""
        if isinstance(node, ast.Name) and node.id in self.references:
            entry, path = self.resolver.lookup(self.references[node.id], self.where)
            return self.resolver.resolve(entry, path, self.depth + 1)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            if isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
                return -node.operand.value
        if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (bool, int, float, str))):
            return node.value
        if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
            return {k.value: self.value(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[union-attr]
        raise self.refuse(f"{type(node).__name__} is not a literal or an @ reference; expressions are never evaluated")
