"""A bundle's weights, read without running anything, and converted to safetensors with a sha256.

models/model.pt is a pickle, and unpickling runs whatever callables the file names (a `__reduce__`
payload such as os.system). It is read only by torch.load(weights_only=True), whose unpickler
builds tensors and plain containers and refuses every other global; the pickle's globals are
listed first (pickletools reads the opcodes, it does not run them) so a refusal names what the
file asked for. TorchScript (models/model.ts, or a .pt that is a TorchScript archive) is code and
is refused. A .safetensors file is read with safetensors. The network's own state dict, once it
has taken the weights with every name and shape matching, is what is written.
"""

from __future__ import annotations

import pickletools
import zipfile
from pathlib import Path

from radview.ai.bundle_config import BundleRefused

MAX_WEIGHTS_BYTES = 8 << 30  # the Model Zoo's largest model.pt is about 1 GB
# what torch.save writes for a state dict: tensor rebuilders, storages, OrderedDict
_SAFE_GLOBAL_PREFIXES = ("torch._utils._rebuild_", "torch.serialization._get_layout", "collections.OrderedDict",
                         "torch.device", "torch.Size", "torch._tensor._rebuild_from_type_v2")
_DTYPES = {f"torch.{name}" for name in ("float32", "float", "float16", "half", "bfloat16", "float64", "double", "int64",
                                         "long", "int32", "int", "int16", "short", "int8", "uint8", "bool")}


def _safe_global(name: str) -> bool:
    """A global torch.save writes for tensors: rebuilders, storage classes (torch.FloatStorage), dtypes."""
    return name.startswith(_SAFE_GLOBAL_PREFIXES) or name in _DTYPES or (
        name.startswith("torch.") and name.endswith("Storage") and name.count(".") == 1)


def weights_file(root: Path) -> tuple[Path, str]:
    """The bundle's weights file and its kind ("torch" or "safetensors"); TorchScript refused."""
    models = root / "models"
    found = {name: models / name for name in ("model.safetensors", "model.pt", "model.ts")
             if (models / name).exists() or (models / name).is_symlink()}
    if "model.safetensors" in found:
        return found["model.safetensors"], "safetensors"
    if "model.pt" in found:
        return found["model.pt"], "torch"
    if "model.ts" in found:
        raise BundleRefused("models/model.ts", str(found["model.ts"]),
                            "a TorchScript file is a program, not weights; RadView never runs one (ask the publisher "
                            "for models/model.pt, the state dict)")
    raise BundleRefused("models", str(models), "no weights found (models/model.pt or models/model.safetensors)")


def _pickle_globals(data: bytes) -> list[str]:
    """The module.name of every global a pickle refers to, read from its opcodes without loading it."""
    found, strings = [], []
    for opcode, arg, _pos in pickletools.genops(data):
        if opcode.name == "GLOBAL":
            found.append(str(arg).replace(" ", "."))
        elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
            found.append(f"{strings[-2]}.{strings[-1]}")
        elif isinstance(arg, str):
            strings.append(arg)
    return found


def _unsafe_globals(path: Path) -> list[str]:
    """Globals of the file's pickle(s) that a state dict never needs."""
    pickles: list[bytes] = []
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if any("/code/" in n or n.endswith("constants.pkl") for n in names):
                raise BundleRefused("models/" + path.name, str(path), "a TorchScript archive is a program, not weights; "
                                    "RadView never runs one")
            pickles = [archive.read(n) for n in names if n.endswith("data.pkl")]
    else:
        pickles = [path.read_bytes()]
    unsafe = []
    for data in pickles:
        try:
            names = _pickle_globals(data)
        except Exception:  # a legacy or damaged file: torch's own loader below gives the verdict
            continue
        unsafe += [n for n in names if not _safe_global(n)]
    return unsafe


def read_state(path: Path, kind: str) -> dict:
    """{name: tensor} from the weights file, never unpickling anything but tensors."""
    if path.stat().st_size > MAX_WEIGHTS_BYTES:
        raise BundleRefused("models/" + path.name, str(path), f"larger than {MAX_WEIGHTS_BYTES >> 30} GB")
    if kind == "safetensors":
        from safetensors.torch import load_file

        return load_file(str(path), device="cpu")
    unsafe = _unsafe_globals(path)
    if unsafe:
        raise BundleRefused("models/" + path.name, sorted(set(unsafe))[:5],
                            "the pickle asks to run code beyond rebuilding tensors; it is not loaded")
    import torch

    try:
        # weights_only=True always passed: TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD only changes calls that omit it
        loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except Exception as exc:  # UnpicklingError, RuntimeError (TorchScript), ...: the file is refused, never retried unsafely
        raise BundleRefused("models/" + path.name, str(path), f"not a plain state dict ({str(exc).splitlines()[0][:200]})") from exc
    return _state_dict(loaded, path)


def _state_dict(loaded: object, path: Path) -> dict:
    """The tensors of a state dict, or of one saved inside a checkpoint ({"model": ...}); "module."
    prefixes (DataParallel) removed."""
    import torch

    if isinstance(loaded, dict) and not any(isinstance(v, torch.Tensor) for v in loaded.values()):
        inner = [v for k, v in loaded.items() if k in ("model", "state_dict", "network", "net") and isinstance(v, dict)]
        if len(inner) == 1:
            loaded = inner[0]
    if not isinstance(loaded, dict) or not loaded or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise BundleRefused("models/" + path.name, str(path), "holds no state dict of tensors")
    names = list(loaded)
    if all(str(n).startswith("module.") for n in names):
        return {str(n)[len("module."):]: v for n, v in loaded.items()}
    return {str(n): v for n, v in loaded.items()}


def fit_network(network, state: dict, where: str) -> None:
    """Load `state` into `network`; refused unless every tensor's name and shape match."""
    own = network.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(n for n in set(own) & set(state) if tuple(own[n].shape) != tuple(state[n].shape))
    if missing or unexpected or wrong:
        detail = "; ".join(f"{what} {len(names)} (e.g. {names[0]})" for what, names in
                           (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)) if names)
        raise BundleRefused(where, "models/model.pt", f"the weights do not fit the network ({detail})")
    network.load_state_dict(state, strict=True)


def write_safetensors(network, folder: Path, name: str = "weights.safetensors") -> tuple[Path, str]:
    """The network's state dict as safetensors in `folder`, and its sha256."""
    import hashlib

    from safetensors.torch import save_file

    path = Path(folder) / name
    tensors = {k: v.detach().to("cpu").clone().contiguous() for k, v in network.state_dict().items()}
    save_file(tensors, str(path), metadata={"format": "pt", "source": "radview models import"})
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return path, digest
