"""Differential fuzzing of the checkpoint verdict against CPython's own unpickler.

Seeds are real files (``torch.save`` zip and legacy, ``pickle.dumps`` protocols 0-5, NumPy
``.npy``/``.npz`` with object arrays, safetensors, the polyglot and attack files of
:mod:`tests.ckpt.attacks`); :func:`mutate` changes bytes, splices pickle fragments that name
globals, call, ``BUILD`` and look things up, and for archives mutates and renames members and
repacks them (so the archive stays readable). Each mutant is judged twice:

* the **oracle**: the loaders' own code paths, run in a forked child of a worker process
  under memory and time limits. Every pickle a loader would unpickle (``pickle.load`` and
  the legacy ``torch.load`` chain for any non-zip file; each ``<folder>/data.pkl`` in any
  case for a torch zip; ``np.load(allow_pickle=True)[name]`` for every member, through
  NumPy's own ``read_array``) goes through a real ``pickle.Unpickler`` subclass whose
  ``find_class`` and ``persistent_load`` hand out *recording stand-ins*: nothing is imported,
  a call of a global off the allowlist touches the marker file (where the payload would have
  run), and the child reports every global resolved, every call of a non-global value,
  every ``BUILD`` or attribute set on a global and every dunder set by ``BUILD``;
* **envdoctor**: :func:`envdoctor.ckpt.read_checkpoint` in this process, mapped to the
  exit code ``keys`` would give (1 for findings, 2 for unreadable input, 3 for a bug).

A *miss* is a mutant the oracle calls unsafe (a non-allowlisted global resolved, the marker
touched, or one of the unsafe steps) that envdoctor passes with exit 0. A *bug* is any
exception other than :class:`~envdoctor.errors.CheckpointError`. Both must stay at zero.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import random
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Oracle", "Outcome", "build_seeds", "envdoctor_exit", "mutate", "run_campaign"]

_ZIP_MAGIC = b"PK\x03\x04"
_NPY_MAGIC = b"\x93NUMPY"
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch/serialization.py MAGIC_NUMBER
_LEGACY_PROTOCOL = 1001  # torch/serialization.py PROTOCOL_VERSION

GADGETS = (
    b"cos\nsystem\n",
    b"cposix\nsystem\n",
    b"cbuiltins\neval\n",
    b"cbuiltins\ngetattr\n",
    b"cargparse\nNamespace\n",
    b"ccopyreg\n_reconstructor\n",
    b"ccollections\nOrderedDict\n",
    b"ctorch._utils\n_rebuild_tensor_v2\n",
    b"\x8c\x02os\x8c\x06system\x93",
    b"\x8c\x08argparse\x8c\tNamespace\x93",
    b"(X\x0b\x00\x00\x00touch /tmp/tR",
    b"R",
    b"b",
    b"\x81",
    b"\x92",
    b"o",
    b"ios\nsystem\n",
    b"(",
    b")",
    b"t",
    b"N",
    b"}",
    b"]",
    b"\x85",
    b"\x86",
    b"s",
    b"u",
    b"a",
    b"e",
    b"0",
    b"2",
    b"h\x00",
    b"h\x01",
    b"q\x01",
    b"\x94",
    b"N}X\x08\x00\x00\x00__call__Ns\x86b",
    b"}X\x09\x00\x00\x00__class__Nsb",
    b"\x82\x01",
    b".",
)


# --- seeds ---------------------------------------------------------------------------------


def build_seeds(folder: Path) -> list[Path]:
    """Real checkpoints of every layout (written by the real libraries) plus the attack files."""
    import argparse
    import datetime

    import numpy as np
    import torch
    from safetensors.torch import save_file

    from tests.ckpt import attacks

    folder.mkdir(parents=True, exist_ok=True)
    state = OrderedDict(
        [("conv.weight", torch.zeros(2, 3)), ("conv.bias", torch.ones(2)), ("bn.num_batches_tracked", torch.tensor(3))]
    )
    training = {
        "state_dict": state,
        "epoch": 3,
        "args": argparse.Namespace(lr=0.1, name="run"),
        "when": datetime.date(2024, 1, 2),
    }
    seeds: list[Path] = []

    def add(name: str, data: bytes | None = None) -> Path:
        path = folder / name
        if data is not None:
            path.write_bytes(data)
        seeds.append(path)
        return path

    torch.save(training, add("train.pt"))
    torch.save(state, add("state_p4.pt"), pickle_protocol=4)
    torch.save(training, add("legacy.pt"), _use_new_zipfile_serialization=False)
    plain = {
        "w": np.zeros((2, 2), np.float32),
        "names": ["a", "b"],
        "ids": {1, 2},
        "frozen": frozenset({3}),
        "c": complex(1, 2),
        "raw": b"\x00\x01",
        "buf": bytearray(b"xy"),
        "nested": OrderedDict(a=(1, 2.5, None, True)),
        "ns": argparse.Namespace(a=1),
    }
    for protocol in range(6):
        add(f"plain_p{protocol}.pkl", pickle.dumps(plain, protocol=protocol))
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3, np.float32))
    add("plain.npy", buffer.getvalue())
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}, [2]], dtype=object), allow_pickle=True)
    add("object.npy", buffer.getvalue())
    np.savez(add("arrays.npz"), w=np.zeros(4, np.float32), objects=np.array([None, "x"], dtype=object))
    np.savez_compressed(add("compressed.npz"), w=np.ones(2, np.int64))
    save_file({k: v.contiguous().float() for k, v in state.items()}, add("model.safetensors"))
    marker = folder / "SEED_MARKER"
    add("chain.pkl", attacks.namespace_getattr_chain(marker))
    attacks.case_variant_zip(add("case.pt"), marker, payload_first=False)
    attacks.object_field_npz(add("objects.npz"), marker, member="weights", dtype="field")
    # Members over 4 KB on average: each member's first bytes are looked at, not the whole file.
    torch.save({"embed.weight": torch.zeros(128, 128), "step": 1}, add("big.pt"))
    attacks.object_field_npz(add("big_objects.npz"), marker, member="plain", dtype="subarray", clean_side=64)
    add("polyglot.bin", attacks.safetensors_pickle_polyglot(marker))
    return seeds


# --- mutation -------------------------------------------------------------------------------


def _mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        position = rng.randint(0, len(buffer)) if buffer else 0
        if choice < 0.45:
            gadget = rng.choice(GADGETS)
            buffer[position:position] = gadget
        elif choice < 0.6 and buffer:
            buffer[min(position, len(buffer) - 1)] = rng.randrange(256)
        elif choice < 0.7:
            buffer[position:position] = bytes([rng.randrange(256)])
        elif choice < 0.8 and buffer:
            del buffer[position : position + rng.randint(1, 8)]
        elif choice < 0.9 and buffer:
            start = rng.randrange(len(buffer))
            buffer[position:position] = buffer[start : start + rng.randint(1, 32)]
        elif buffer:
            # Replace the final STOP with a fragment and a new STOP: code that runs at the end.
            stop = buffer.rfind(b".")
            if stop > 0:
                buffer[stop:stop] = rng.choice(GADGETS) + rng.choice((b"", b"R", b"b", b"(tR"))
    return bytes(buffer)


def _rename(name: str, rng: random.Random) -> str:
    folder, _, base = name.rpartition("/")
    choice = rng.random()
    if choice < 0.4:
        base = base.upper()
    elif choice < 0.7:
        base = base.removesuffix(".npy").removesuffix(".pkl")
    else:
        base = base.replace("data", "DATA")
    return f"{folder}/{base}" if folder else base


def _mutate_zip(data: bytes, rng: random.Random) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, KeyError):
        return _mutate_bytes(data, rng)
    if not members:
        return data
    interesting = [i for i, (name, _) in enumerate(members) if name.lower().endswith((".pkl", ".npy"))]
    index = rng.choice(interesting or range(len(members)))
    name, content = members[index]
    choice = rng.random()
    if choice < 0.6:
        members[index] = (name, _mutate_bytes(content, rng))
    elif choice < 0.8:
        members.insert(index + rng.randint(0, 1), (_rename(name, rng), _mutate_bytes(content, rng)))
    else:
        members[index] = (_rename(name, rng), content)
    output = io.BytesIO()
    compression = zipfile.ZIP_DEFLATED if rng.random() < 0.2 else zipfile.ZIP_STORED
    with zipfile.ZipFile(output, "w", compression) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point
        for member_name, member_data in members:
            archive.writestr(member_name, member_data)
    return output.getvalue()


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One mutant of ``data``: archive members edited and repacked, or raw bytes edited."""
    if data.startswith(_ZIP_MAGIC) and rng.random() < 0.9:
        return _mutate_zip(data, rng)
    return _mutate_bytes(data, rng)


# --- the oracle (runs only in a forked child of the worker) ----------------------------------


class _Record:
    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.globals: list[str] = []
        self.unsafe: list[str] = []
        self.getattr_objects: list[object] = []

    def flag(self, what: str) -> None:
        if len(self.unsafe) < 50:
            self.unsafe.append(what)

    def ran(self, qualname: str) -> None:
        with open(self.marker, "a") as handle:
            handle.write(qualname + "\n")


def _dunders(state: object) -> list[str]:
    parts = list(state) if isinstance(state, tuple) and len(state) == 2 else [state]
    return [
        key
        for part in parts
        if isinstance(part, dict)
        for key in part
        if isinstance(key, str) and key.startswith("__") and key.endswith("__") and len(key) > 4
    ]


def _safe_lookup(args: tuple[object, ...]) -> bool:
    from envdoctor.ckpt.allowlist import SAFE_GETATTR

    if len(args) != 2:
        return False
    target, name = args
    target_name = target.__dict__.get("qualname") if isinstance(target, type) else None
    return isinstance(target_name, str) and isinstance(name, str) and name in SAFE_GETATTR.get(target_name, ())


def _stand_ins(record: _Record) -> tuple[Any, Any]:
    """(make_global, Instance): permissive recording stand-ins for the oracle's unpickler."""

    class Instance:
        def __init__(self, origin: str) -> None:
            self.origin = origin

        def __call__(self, *args: object, **kwargs: object) -> object:
            record.flag(f"call of a value built by the pickle ({self.origin})")
            return Instance(f"result of calling {self.origin}")

        def __setstate__(self, state: object) -> None:
            for name in _dunders(state):
                record.flag(f"BUILD sets {name}")

        def append(self, item: object) -> None:
            return None

        def extend(self, items: object) -> None:
            return None

        def add(self, item: object) -> None:
            return None

        def __setitem__(self, key: object, value: object) -> None:
            return None

    def make_global(qualname: str, allowed: bool) -> type:
        def call(cls: type, args: tuple[object, ...]) -> object:
            if not allowed:
                if qualname == "builtins.getattr" and _safe_lookup(args):
                    # mmengine's HistoryBuffer statistics: a data lookup, the allowlist's one exception.
                    return Instance("a HistoryBuffer statistics method")
                record.ran(qualname)
                if qualname == "builtins.getattr":
                    record.flag("getattr called with something other than a known data lookup")
                return Instance(f"result of {qualname}")
            # The allowlisted functions that call what they are given.
            if (
                qualname in ("torch._tensor._rebuild_from_type", "torch._tensor._rebuild_from_type_v2")
                and len(args) == 4
            ):
                function, _, inner, state = args
                if callable(function) and isinstance(inner, tuple):
                    function(*inner)
                for name in _dunders(state):
                    record.flag(f"tensor state sets {name}")
            if qualname == "torch._utils._rebuild_parameter_with_state" and len(args) == 4:
                for name in _dunders(args[3]):
                    record.flag(f"parameter state sets {name}")
            if qualname == "copyreg._reconstructor" and len(args) == 3:
                base = args[1]
                if not isinstance(base, type):
                    record.flag("copyreg._reconstructor with a base that is not a class")
            return Instance(f"result of {qualname}")

        def new(cls: type, *args: object, **kwargs: object) -> object:
            if not allowed:
                record.ran(qualname)
            return Instance(f"new {qualname}")

        class Meta(type):
            def __call__(cls, *args: object, **kwargs: object) -> object:
                return call(cls, args)

            def __setstate__(cls, state: object) -> None:
                record.flag(f"BUILD on the global {qualname}")

            def __setattr__(cls, name: str, value: object) -> None:
                record.flag(f"attribute {name} set on the global {qualname}")

        return Meta(qualname, (), {"__new__": new, "qualname": qualname})

    return make_global, Instance


def _oracle_unpickler(record: _Record) -> type[pickle.Unpickler]:
    import _compat_pickle

    from envdoctor.ckpt.allowlist import is_allowed_global

    make_global, instance = _stand_ins(record)

    class OracleUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
            qualname = f"{module}.{name}"
            allowed = is_allowed_global(module, name)
            record.globals.append(qualname)
            if not allowed and qualname != "builtins.getattr":
                record.flag(f"resolves {qualname}")
            stand_in = make_global(qualname, allowed)
            if qualname == "builtins.getattr":
                record.getattr_objects.append(stand_in)
            return stand_in

        def persistent_load(self, pid: object) -> object:
            return instance("storage")

    return OracleUnpickler


def _reaches(root: object, targets: list[object]) -> bool:
    wanted = {id(target) for target in targets}
    seen: set[int] = set()
    work = [root]
    while work and len(seen) < 1_000_000:
        obj = work.pop()
        if id(obj) in wanted:
            return True
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, dict):
            work.extend(obj.keys())
            work.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            work.extend(obj)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            work.extend(vars(obj).values())
    return False


def _unpickle(record: _Record, stream: io.BufferedIOBase | io.BytesIO) -> tuple[bool, object]:
    unpickler = _oracle_unpickler(record)(stream)
    try:
        return True, unpickler.load()
    except Exception:
        return False, None


def oracle_verdict(path: str, marker: str) -> dict[str, Any]:
    """Everything the loaders would unpickle from ``path``, judged (runs in a throwaway child)."""
    record = _Record(marker)
    with open(path, "rb") as handle:
        head = handle.read(8)
    results: list[object] = []
    if head.startswith(_ZIP_MAGIC):
        try:
            archive = zipfile.ZipFile(path)
            infos = archive.infolist()
        except Exception:
            infos = []
        if infos:
            wanted = infos[0].filename.split("/", 1)[0].lower() + "/data.pkl"
            for info in infos:
                if info.filename.lower() == wanted:
                    try:
                        data = archive.read(info)
                    except Exception:
                        continue
                    ok, value = _unpickle(record, io.BytesIO(data))
                    results.append(value)
            _numpy_members(path, record)
    elif head.startswith(_NPY_MAGIC):
        _numpy_file(path, record)
    else:
        # torch.load on a non-zip file: the legacy chain (magic number, protocol version,
        # sys_info, the object, storage keys), stopping at the first error or at a magic
        # number or protocol version that torch refuses; pickle.load reads the first pickle.
        with open(path, "rb") as handle:
            for index in range(5):
                ok, value = _unpickle(record, handle)
                results.append(value)
                if not ok:
                    break
                if index == 0 and not (type(value) is int and value == _LEGACY_MAGIC):
                    break
                if index == 1 and not (type(value) is int and value == _LEGACY_PROTOCOL):
                    break
    if record.getattr_objects and _reaches(results, record.getattr_objects):
        record.flag("builtins.getattr kept in the loaded object")
    marker_hit = os.path.exists(marker)
    unsafe = list(record.unsafe)
    if marker_hit:
        ran = sorted(set(Path(marker).read_text().split()))
        unsafe.append(f"marker: {', '.join(ran)} would run")
    return {"unsafe": unsafe, "globals": record.globals[:50]}


def _numpy_members(path: str, record: _Record) -> None:
    import numpy as np

    _patch_numpy_pickle(record)
    try:
        with np.load(path, allow_pickle=True) as npz:
            for name in npz.files:
                try:
                    npz[name]
                except Exception:
                    continue
    except Exception:
        return


def _numpy_file(path: str, record: _Record) -> None:
    import numpy as np

    _patch_numpy_pickle(record)
    try:
        np.load(path, allow_pickle=True)
    except Exception:
        return


def _patch_numpy_pickle(record: _Record) -> None:
    import types

    import numpy.lib._format_impl as format_impl

    unpickler = _oracle_unpickler(record)
    fake = types.SimpleNamespace(load=lambda stream, **kwargs: unpickler(stream).load())
    format_impl.pickle = fake  # type: ignore[attr-defined]


def oracle_worker() -> None:
    """Serve oracle verdicts: one path per stdin line, one JSON line back, each in a fresh fork."""
    import numpy  # noqa: F401 - imported once, before forking

    for line in sys.stdin:
        path = line.rstrip("\n")
        marker = path + ".marker"
        if os.path.exists(marker):
            os.unlink(marker)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            status = 1
            try:
                limit = 2 << 30
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
                signal.alarm(20)
                verdict = oracle_verdict(path, marker)
                os.write(write_fd, json.dumps(verdict).encode())
                status = 0
            except BaseException:
                status = 1
            os._exit(status)
        os.close(write_fd)
        chunks = []
        deadline = time.monotonic() + 25
        while True:
            ready, _, _ = select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
        reply = b"".join(chunks)
        if status != 0 or not reply:
            reply = json.dumps({"error": f"oracle child ended with status {status}"}).encode()
        sys.stdout.write(reply.decode() + "\n")
        sys.stdout.flush()


class Oracle:
    """A worker process serving :func:`oracle_verdict` (the real unpickler never runs here)."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from tests.ckpt.fuzz import oracle_worker; oracle_worker()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
        )

    def judge(self, path: Path) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{path}\n")
        self.process.stdin.flush()
        result: dict[str, Any] = json.loads(self.process.stdout.readline())
        return result

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


# --- envdoctor's side and the campaign ------------------------------------------------------


def envdoctor_exit(path: Path) -> tuple[int, str]:
    """The exit code ``envdoctor keys`` would give (1 findings, 2 bad input, 3 bug) and why."""
    from envdoctor.ckpt import read_checkpoint
    from envdoctor.errors import CheckpointError

    try:
        checkpoint = read_checkpoint(path)
    except CheckpointError as exc:
        return 2, str(exc)[:200]
    except Exception as exc:
        return 3, f"{type(exc).__name__}: {exc}"[:300]
    if checkpoint.security:
        return 1, ", ".join(issue.global_name for issue in checkpoint.security[:3])
    return 0, ""


@dataclass
class Outcome:
    """Figures of one campaign."""

    iterations: int = 0
    oracle_unsafe: int = 0
    envdoctor_unsafe: int = 0
    agreed_unsafe: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)
    bugs: list[dict[str, Any]] = field(default_factory=list)
    oracle_errors: int = 0
    exits: dict[int, int] = field(default_factory=dict)
    stricter: int = 0
    """Mutants envdoctor calls unsafe that the oracle passes (stricter rules; not failures)."""
    seconds: float = 0.0


def _mutants(seeds: list[Path], rng: random.Random, count: int) -> Iterator[tuple[Path, bytes]]:
    originals = [(seed, seed.read_bytes()) for seed in seeds]
    for index in range(count):
        seed, data = originals[index % len(originals)] if index < len(originals) else rng.choice(originals)
        rounds = 0 if index < len(originals) else rng.randint(1, 3)
        for _ in range(rounds):
            data = mutate(data, rng)
        yield seed, data


def run_campaign(
    count: int, seed: int = 0, folder: Path | None = None, keep: Path | None = None, progress: int = 0
) -> Outcome:
    """``count`` mutants (the unmutated seeds first), each judged by the oracle and by envdoctor."""
    rng = random.Random(seed)
    outcome = Outcome()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fuzz_ckpt_", dir=folder) as temp:
        work = Path(temp)
        seeds = build_seeds(work / "seeds")
        oracle = Oracle()
        try:
            for index, (seed_path, data) in enumerate(_mutants(seeds, rng, count)):
                suffix = (
                    ".bin" if seed_path.suffix in (".safetensors", ".pkl") and rng.random() < 0.5 else seed_path.suffix
                )
                path = work / f"m{index}{suffix}"
                path.write_bytes(data)
                verdict = oracle.judge(path)
                code, why = envdoctor_exit(path)
                outcome.iterations += 1
                outcome.exits[code] = outcome.exits.get(code, 0) + 1
                if "error" in verdict:
                    outcome.oracle_errors += 1
                unsafe = bool(verdict.get("unsafe"))
                outcome.oracle_unsafe += unsafe
                outcome.envdoctor_unsafe += code == 1
                outcome.agreed_unsafe += unsafe and code == 1
                outcome.stricter += code == 1 and not unsafe and "error" not in verdict
                case = {"seed": seed_path.name, "index": index, "exit": code, "why": why, "oracle": verdict}
                if code == 3:
                    outcome.bugs.append(case)
                if unsafe and code == 0:
                    outcome.misses.append(case)
                if (code == 3 or (unsafe and code == 0)) and keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / path.name).write_bytes(data)
                path.unlink()
                if progress and outcome.iterations % progress == 0:
                    print(
                        f"  {outcome.iterations:,} judged, {time.perf_counter() - started:.0f}s: oracle unsafe "
                        f"{outcome.oracle_unsafe:,}, misses {len(outcome.misses)}, bugs {len(outcome.bugs)}",
                        flush=True,
                    )
                marker = Path(f"{path}.marker")
                if marker.exists():
                    marker.unlink()
        finally:
            oracle.close()
    outcome.seconds = time.perf_counter() - started
    return outcome


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Differential fuzzing of envdoctor's checkpoint verdict")
    parser.add_argument("-n", "--iterations", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write misses and bugs here")
    options = parser.parse_args(argv)
    outcome = run_campaign(options.iterations, options.seed, keep=options.keep, progress=500)
    print(f"mutants judged:                {outcome.iterations:,} in {outcome.seconds:.0f}s (seed {options.seed})")
    print(f"oracle: unsafe                 {outcome.oracle_unsafe:,}")
    print(f"envdoctor: unsafe (exit 1)     {outcome.envdoctor_unsafe:,}")
    print(f"both unsafe                    {outcome.agreed_unsafe:,}")
    print(f"envdoctor stricter than oracle {outcome.stricter:,}")
    print(f"envdoctor exit codes           {dict(sorted(outcome.exits.items()))}")
    print(f"oracle children that failed    {outcome.oracle_errors:,}")
    print(f"MISSES (oracle unsafe, exit 0) {len(outcome.misses):,}")
    print(f"BUGS (exit 3)                  {len(outcome.bugs):,}")
    for case in (outcome.misses + outcome.bugs)[:20]:
        print("  ", json.dumps(case)[:400])
    return 1 if outcome.misses or outcome.bugs else 0
