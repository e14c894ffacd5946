"""Checkpoints: save a running model to a file, load it back, copy it in memory.

``model.save(path)`` writes one ``.npz`` file (a zip of ``.npy`` arrays) that holds:

* ``__header__``: UTF-8 JSON (as ``uint8`` bytes) with the format name ``qunsim-checkpoint``,
  the format ``version``, the resolved config, Mesa's counters (steps, time, running), the
  generator's bit-generator state, the stdlib generator's state, and a tree describing every
  attribute of the model, its member state, its social graph, its metrics rows, its
  DataCollector's records and each policy's state. Numbers, strings, lists and dicts are
  written in the JSON; every array is a reference ``{"__array__": "a12"}`` to a member of the
  zip, listed in the header with its dtype, shape and SHA-256.
* ``__digest__``: the SHA-256 of the header bytes.
* ``a0``, ``a1``, ...: the arrays.

Loading (:func:`load`, ``qs.CommunityModel.load(path)``) never unpickles:
``np.load(..., allow_pickle=False)`` reads plain arrays only, and objects are re-created only
for qunsim's own classes (by setting their attributes). A file that is not a zip, lacks the
header, names another format, a newer version, or whose digest or any array checksum does
not match is refused with a :class:`CheckpointError`. (Checksums detect damage and edits;
they are not a signature: a file forged with matching checksums can describe a wrong state
but cannot run code.)

Policies: a policy's state is, by default, all its attributes except ``params`` (which the
config rebuilds); they must be arrays, numbers, strings, lists, tuples, dicts or None. A
policy may instead declare ``state_attrs = ("a", "b")`` (only those are saved) or define
``state_dict()`` returning such data and ``load_state_dict(state)``. On load each policy is
built from the config, ``setup(model)`` runs on the restored model, then its saved state is
put back. Scheduled policies save their schedule too (and are set up only if they had been).

Mesa agent views (``run.agent_views``) are re-created for the active members; their
``unique_id`` may differ from the original's. A model built from a user ``graph`` keeps its
graph (it is in the file) and its node labels.

Examples
--------
>>> import qunsim as qs, numpy as np, tempfile, os
>>> kw = {"community.n_seed": 40, "community.n_prospects": 300}
>>> a = qs.CommunityModel(rng=5, **kw); a.run_for(10)
>>> path = os.path.join(tempfile.mkdtemp(), "day10.npz")
>>> _ = a.save(path)
>>> b = qs.CommunityModel.load(path)
>>> a.run_for(10); b.run_for(10)
>>> a.timeseries().equals(b.timeseries())
True
"""

from __future__ import annotations

import enum
import hashlib
import importlib
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CheckpointError", "save", "load", "copy", "to_bytes", "from_bytes", "FORMAT", "VERSION"]

FORMAT = "qunsim-checkpoint"
VERSION = 1

# rebuilt from the config or re-created on load, or scratch of one day
_REBUILT = {"config", "p", "policies", "datacollector", "_views", "ctx", "_adj", "_adj_for",
            # which policy takes part in which hook: derived from `policies` every day
            "_hook_order", "_curates", "_referral_boosts", "_metric_policies",
            # the generator's addresses for compiled code: re-read from the generator
            "_gen_cache", "_fused_cache"}
_MESA_KEYS: set[str] | None = None


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read. The message is one paragraph."""


def _mesa_keys() -> set[str]:
    global _MESA_KEYS
    if _MESA_KEYS is None:
        import mesa

        _MESA_KEYS = set(vars(mesa.Model(rng=0)))
    return _MESA_KEYS


# ------------------------------------------------------------------------------ encoding


def _class_path(obj_or_cls) -> str:
    cls = obj_or_cls if isinstance(obj_or_cls, type) else type(obj_or_cls)
    return f"{cls.__module__}:{cls.__qualname__}"


def _import_class(path: str, where: str) -> type:
    mod, _, name = path.partition(":")
    if not (mod == "qunsim" or mod.startswith("qunsim.")) or not name or "<" in name:
        raise CheckpointError(f"refused checkpoint: {where} names class {path!r}; a checkpoint may "
                              f"only re-create qunsim's own classes")
    try:
        obj: Any = importlib.import_module(mod)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise CheckpointError(f"refused checkpoint: {where} names class {path!r}, which this "
                              f"qunsim does not have") from None
    if not isinstance(obj, type):
        raise CheckpointError(f"refused checkpoint: {where} names {path!r}, which is not a class")
    return obj


class _Encoder:
    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def array(self, a: np.ndarray, where: str) -> dict:
        if a.dtype.hasobject:
            raise CheckpointError(f"cannot checkpoint {where}: an array of Python objects")
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.ascontiguousarray(a)
        return {"__array__": key}

    def enc(self, v: Any, where: str) -> Any:
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, enum.Enum):
            return {"__enum__": _class_path(v), "v": v.value}
        if isinstance(v, (int, float)):
            return v
        if isinstance(v, np.generic):
            return {"__np__": v.dtype.str, "v": v.item()}
        if isinstance(v, np.ndarray):
            return self.array(v, where)
        if isinstance(v, tuple):
            return {"__tuple__": [self.enc(x, f"{where}[{i}]") for i, x in enumerate(v)]}
        if isinstance(v, list):
            return [self.enc(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if isinstance(v, dict):
            return {"__dict__": [[self.enc(k, f"{where} key"), self.enc(x, f"{where}[{k!r}]")]
                                 for k, x in v.items()]}
        mod = type(v).__module__
        if (mod == "qunsim" or mod.startswith("qunsim.")) and hasattr(v, "__dict__") and not isinstance(v, type):
            return {"__object__": _class_path(v), "attrs": self.enc(dict(vars(v)), where)}
        raise CheckpointError(
            f"cannot checkpoint {where}: a {type(v).__module__}.{type(v).__qualname__} (a checkpoint "
            f"stores arrays, numbers, strings, lists, tuples, dicts and qunsim's own state objects)")


class _Decoder:
    def __init__(self, arrays: dict[str, np.ndarray]):
        self.arrays = arrays

    def dec(self, v: Any, where: str = "header") -> Any:
        if v is None or isinstance(v, (bool, str, int, float)):
            return v
        if isinstance(v, list):
            return [self.dec(x, where) for x in v]
        if not isinstance(v, dict) or len(v) not in (1, 2):
            raise CheckpointError(f"refused checkpoint: malformed entry in {where}")
        if "__array__" in v:
            key = v["__array__"]
            if key not in self.arrays:
                raise CheckpointError(f"refused checkpoint: array {key!r} referenced in {where} is missing")
            return self.arrays[key]
        if "__np__" in v:
            return np.dtype(v["__np__"]).type(v["v"])
        if "__tuple__" in v:
            return tuple(self.dec(x, where) for x in v["__tuple__"])
        if "__dict__" in v:
            return {self.dec(k, where): self.dec(x, where) for k, x in v["__dict__"]}
        if "__enum__" in v:
            return _import_class(v["__enum__"], where)(v["v"])
        if "__object__" in v:
            cls = _import_class(v["__object__"], where)
            obj = cls.__new__(cls)
            attrs = self.dec(v["attrs"], where)
            if not isinstance(attrs, dict):
                raise CheckpointError(f"refused checkpoint: malformed object in {where}")
            obj.__dict__.update(attrs)
            return obj
        raise CheckpointError(f"refused checkpoint: malformed entry in {where}")


# ------------------------------------------------------------------------------ policies


def _policy_names(cfg) -> dict[str, list[str]]:
    from qunsim.policies.base import FAMILIES

    data = cfg.to_dict()
    return {f: [n for n, t in (data.get(f) or {}).items() if t.get("enabled", True)] for f in FAMILIES}


def _own_state(pol, where: str, enc: _Encoder) -> dict:
    if callable(getattr(pol, "state_dict", None)):
        return {"kind": "state_dict", "v": enc.enc(pol.state_dict(), where)}
    names = getattr(pol, "state_attrs", None)
    if names is None:
        attrs = {k: v for k, v in vars(pol).items() if k not in ("params", "schedule")}
    else:
        missing = [n for n in names if not hasattr(pol, n)]
        if missing:
            raise CheckpointError(f"cannot checkpoint {where}: `state_attrs` names {missing}, which it does not have")
        attrs = {n: getattr(pol, n) for n in names}
    try:
        return {"kind": "attrs", "v": enc.enc(attrs, where)}
    except CheckpointError as e:
        raise CheckpointError(f"{e}. Declare the policy's state with `state_attrs = (...)` or "
                              f"`state_dict()` / `load_state_dict(state)`") from None


def _load_own(pol, model, saved: dict, dec: _Decoder, where: str) -> None:
    v = dec.dec(saved["v"], where)
    if saved["kind"] == "state_dict":
        if not callable(getattr(pol, "load_state_dict", None)):
            raise CheckpointError(f"refused checkpoint: {where} was saved with state_dict() but its "
                                  f"class has no load_state_dict()")
        pol.load_state_dict(v)
    else:
        for k, x in v.items():
            setattr(pol, k, x)


# ------------------------------------------------------------------------------ save


def _model_tree(model, enc: _Encoder) -> dict:
    skip = _mesa_keys() | _REBUILT
    attrs = {k: v for k, v in vars(model).items() if k not in skip}
    return enc.enc(attrs, "the model")


def _datacollector_tree(model, enc: _Encoder):
    dc = getattr(model, "datacollector", None)
    if dc is None:
        return None
    keep = {k: getattr(dc, k) for k in ("model_vars", "_collection_steps", "_agent_records",
                                         "_agenttype_records") if hasattr(dc, k)}
    return enc.enc(keep, "the DataCollector")


def _header(model, enc: _Encoder) -> dict:
    import qunsim

    names = _policy_names(model.config)
    pols = {}
    for fam, lst in model.policies.items():
        if len(lst) != len(names.get(fam, [])):
            raise CheckpointError(f"cannot checkpoint: the model's {fam} policies do not match its config")
        out = []
        for name, pol in zip(names[fam], lst, strict=True):
            where = f"policy `{fam}.{name}` ({_class_path(pol)})"
            entry = {"name": name, "class": _class_path(pol)}
            sched = getattr(pol, "schedule", None)
            if getattr(pol, "scheduled", False):
                entry["schedule"] = sched.state()
                entry["state"] = _own_state(pol, where, enc) if sched.ready else None
            else:
                entry["state"] = _own_state(pol, where, enc)
            out.append(entry)
        pols[fam] = out
    bg = model.rng.bit_generator
    return {
        "format": FORMAT,
        "version": VERSION,
        "qunsim_version": qunsim.__version__,
        "model_class": _class_path(model),
        "config": model.config.to_dict(),
        "config_source": model.config.source,
        "mesa": {"steps": int(model.steps), "time": float(model.time), "running": bool(model.running),
                 "agent_id_counter": int(getattr(model, "agent_id_counter", 1)),
                 "_seed": enc.enc(getattr(model, "_seed", None), "mesa seed"),
                 "random": enc.enc(model.random.getstate(), "the stdlib generator")},
        "rng": {"bit_generator": type(bg).__name__, "state": enc.enc(bg.state, "the generator")},
        "model": _model_tree(model, enc),
        "datacollector": _datacollector_tree(model, enc),
        "policies": pols,
    }


def to_bytes(model) -> bytes:
    """The checkpoint file's bytes (see the module docstring)."""
    enc = _Encoder()
    header = _header(model, enc)
    header["arrays"] = {k: {"dtype": a.dtype.str, "shape": list(a.shape),
                            "sha256": hashlib.sha256(a.tobytes()).hexdigest()} for k, a in enc.arrays.items()}
    try:
        hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as e:  # pragma: no cover - the encoder only emits JSON data
        raise CheckpointError(f"cannot checkpoint: {e}") from None
    buf = io.BytesIO()
    np.savez(buf, __header__=np.frombuffer(hbytes, dtype=np.uint8),
             __digest__=np.frombuffer(hashlib.sha256(hbytes).hexdigest().encode("ascii"), dtype=np.uint8),
             **enc.arrays)
    return buf.getvalue()


def save(model, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (atomically: a crash leaves the old file or none)."""
    path = Path(path)
    data = to_bytes(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ------------------------------------------------------------------------------ load


def _read(source, where: str) -> tuple[dict, dict[str, np.ndarray]]:
    try:
        with np.load(source, allow_pickle=False) as z:
            files = set(z.files)
            if "__header__" not in files or "__digest__" not in files:
                raise CheckpointError(f"refused checkpoint ({where}): not a qunsim checkpoint (no "
                                      f"header; it may be another program's .npz)")
            arrays = {k: z[k] for k in files}
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        if isinstance(e, FileNotFoundError):
            raise CheckpointError(f"refused checkpoint ({where}): file not found") from None
        raise CheckpointError(f"refused checkpoint ({where}): not a qunsim checkpoint or damaged "
                              f"({type(e).__name__}: {e})") from None
    hbytes = arrays.pop("__header__").tobytes()
    digest = arrays.pop("__digest__").tobytes().decode("ascii", "replace")
    if hashlib.sha256(hbytes).hexdigest() != digest:
        raise CheckpointError(f"refused checkpoint ({where}): the header's checksum does not match "
                              f"(the file was damaged or edited)")
    try:
        header = json.loads(hbytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CheckpointError(f"refused checkpoint ({where}): the header is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"refused checkpoint ({where}): not a qunsim checkpoint (format "
                              f"{header.get('format') if isinstance(header, dict) else None!r}, expected {FORMAT!r})")
    v = header.get("version")
    if not isinstance(v, int) or v < 1 or v > VERSION:
        raise CheckpointError(f"refused checkpoint ({where}): format version {v!r}; this qunsim reads "
                              f"versions 1 to {VERSION}")
    listed = header.get("arrays")
    if not isinstance(listed, dict) or set(listed) != set(arrays):
        raise CheckpointError(f"refused checkpoint ({where}): its arrays do not match the header's list")
    for k, meta in listed.items():
        a = arrays[k]
        if (a.dtype.str != meta.get("dtype") or list(a.shape) != meta.get("shape")
                or hashlib.sha256(a.tobytes()).hexdigest() != meta.get("sha256")):
            raise CheckpointError(f"refused checkpoint ({where}): array {k} does not match its checksum "
                                  f"(the file was damaged or edited)")
    return header, arrays


def _fresh(cls, cfg):
    """A model of ``cls`` built on a tiny graph (cheap; every attribute is then overwritten)."""
    import networkx as nx

    com = cfg.community
    k = max(8, int(com.n_leaders) + int(com.moderators) + 4)
    return cls(cfg, rng=0, graph=nx.path_graph(k))


def _restore(header: dict, arrays: dict, where: str, cls=None):
    from qunsim.config import Config, ConfigError
    from qunsim.model import CommunityModel

    dec = _Decoder(arrays)
    path = header.get("model_class", "")
    saved_cls = _import_class(path, "the header") if path else CommunityModel
    cls = cls or saved_cls
    if not (isinstance(cls, type) and issubclass(cls, CommunityModel)):
        raise CheckpointError(f"refused checkpoint ({where}): {path!r} is not a CommunityModel")
    try:
        cfg = Config(header["config"], source=header.get("config_source", where))
    except ConfigError as e:
        raise CheckpointError(f"refused checkpoint ({where}): its config does not validate: {e}") from None
    model = _fresh(cls, cfg)
    for v in list(getattr(model, "_views", {}).values()):
        v.remove()
    # the model's own attributes (state arrays, graph, metrics rows, counters, ...), each of
    # the kind the constructor makes (a foreign file cannot swap in other objects)
    attrs = dec.dec(header["model"], "the model")
    if not isinstance(attrs, dict):
        raise CheckpointError(f"refused checkpoint ({where}): malformed model attributes")
    for k, v in attrs.items():
        if hasattr(model, k):
            _check_like(getattr(model, k), v, k, where)
        setattr(model, k, v)
    from qunsim.metrics import MetricsCollector

    mc = getattr(model, "metrics", None)
    if isinstance(mc, MetricsCollector) and "data" not in vars(mc):  # saved before the columnar store
        model.metrics = MetricsCollector.from_legacy(vars(mc))
    n = model.state.n
    bad = [k for k, a in model.state.arrays().items() if len(a) != n]
    if bad or model.social.n != n or len(model.social.indptr) != n + 1:
        raise CheckpointError(f"refused checkpoint ({where}): its member arrays and graph disagree on "
                              f"the population size")
    mz = header["mesa"]
    model.steps = int(mz["steps"])
    model.time = float(mz["time"])
    model.running = bool(mz["running"])
    model._seed = dec.dec(mz["_seed"])
    rs = dec.dec(mz["random"])
    model.random.setstate((rs[0], tuple(rs[1]), rs[2]))
    # the day's event: Mesa schedules the next step at time + 1
    sched = getattr(model, "_default_schedule", None)
    if sched is not None:
        sched.pause()
        sched.resume()
        sched._execution_count = model.steps
    model.agent_id_counter = max(int(mz["agent_id_counter"]), int(getattr(model, "agent_id_counter", 1)))
    # agent views of the active members
    model._views = {}
    if getattr(model, "_agent_views", False):
        from qunsim.agents import Member

        for i in model.state.active_ids().tolist():
            model._views[i] = Member(model, i)
    # DataCollector records
    dc_saved = header.get("datacollector")
    if dc_saved is not None and getattr(model, "datacollector", None) is not None:
        for k, v in dec.dec(dc_saved, "the DataCollector").items():
            setattr(model.datacollector, k, v)
    # policies: built from the config by the constructor; set up on the restored state, then
    # their saved state put back
    names = _policy_names(cfg)
    for fam, entries in header["policies"].items():
        lst = model.policies.get(fam, [])
        if [e["name"] for e in entries] != names.get(fam, []) or len(lst) != len(entries):
            raise CheckpointError(f"refused checkpoint ({where}): its {fam} policies do not match its config")
        for pol, e in zip(lst, entries, strict=True):
            pw = f"policy `{fam}.{e['name']}`"
            if _class_path(pol) != e["class"]:
                raise CheckpointError(f"refused checkpoint ({where}): {pw} was {e['class']}, the config "
                                      f"now builds {_class_path(pol)}")
            if getattr(pol, "scheduled", False):
                pol.schedule.load(e["schedule"])
                if pol.schedule.ready:
                    pol._base_setup(model)
                    _load_own(pol, model, e["state"], dec, pw)
            else:
                pol.setup(model)
                _load_own(pol, model, e["state"], dec, pw)
    if hasattr(model, "_index_policies"):
        model._index_policies()
    # the generator last: nothing above may draw from it
    r = header["rng"]
    state = dec.dec(r["state"], "the generator")
    bg_cls = getattr(np.random, r["bit_generator"], None)
    if not (isinstance(bg_cls, type) and issubclass(bg_cls, np.random.BitGenerator)):
        raise CheckpointError(f"refused checkpoint ({where}): unknown bit generator {r['bit_generator']!r}")
    if type(model.rng.bit_generator) is not bg_cls:
        model.rng = np.random.Generator(bg_cls())
    try:
        model.rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(f"refused checkpoint ({where}): the generator state is invalid ({e})") from None
    return model


def _check_like(ref: Any, new: Any, what: str, where: str) -> None:
    """``new`` must be of the kind the constructor made for ``ref`` (same class; arrays of the
    same dtype and number of dimensions; qunsim objects attribute by attribute)."""
    def refuse(msg):
        raise CheckpointError(f"refused checkpoint ({where}): the model attribute `{what}` {msg}")

    if ref is None or new is None:
        return
    if isinstance(ref, np.ndarray):
        if not isinstance(new, np.ndarray) or new.dtype != ref.dtype or new.ndim != ref.ndim:
            refuse(f"should be a {ref.ndim}-d {ref.dtype} array, got {type(new).__name__} "
                   f"{getattr(new, 'dtype', '')}")
        return
    if isinstance(ref, (bool, int, float, str)) and not isinstance(ref, enum.Enum):
        kinds = (bool,) if isinstance(ref, bool) else (int, float) if isinstance(ref, (int, float)) else (str,)
        if not isinstance(new, kinds) or (isinstance(new, bool) and not isinstance(ref, bool)):
            refuse(f"should be a {type(ref).__name__}, got {type(new).__name__}")
        return
    if type(new) is not type(ref) and not (isinstance(ref, (list, tuple, dict)) and isinstance(new, (list, tuple, dict))):
        refuse(f"should be a {type(ref).__name__}, got {type(new).__name__}")
    mod = type(ref).__module__
    if (mod == "qunsim" or mod.startswith("qunsim.")) and hasattr(ref, "__dict__"):
        for k, v in vars(ref).items():
            if k in vars(new):
                _check_like(v, vars(new)[k], f"{what}.{k}", where)


def load(path: str | Path, cls=None):
    """Read a checkpoint written by :func:`save`; return the model, ready to run on."""
    where = str(path)
    header, arrays = _read(path if not isinstance(path, Path) else str(path), where)
    try:
        return _restore(header, arrays, where, cls)
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        raise CheckpointError(f"refused checkpoint ({where}): its content is malformed "
                              f"({type(e).__name__}: {e})") from None


def from_bytes(data: bytes, cls=None, where: str = "memory"):
    """Load a checkpoint from :func:`to_bytes` output."""
    header, arrays = _read(io.BytesIO(data), where)
    return _restore(header, arrays, where, cls)


def copy(model):
    """An independent copy of ``model`` (a checkpoint written and read in memory)."""
    return from_bytes(to_bytes(model), cls=type(model))

