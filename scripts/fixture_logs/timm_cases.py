#!/usr/bin/env python3
"""Regenerate the timm adaptation fixtures (tests/fixtures/knowledge/SD15*/hit-*.log, miss-*.log).

    python scripts/fixture_logs/timm_cases.py --setup     # build the throwaway venv (once)
    python scripts/fixture_logs/timm_cases.py             # every case
    python scripts/fixture_logs/timm_cases.py SD150       # the cases of some entries

Each case is a real timm load on the CPU, with no network: a model is built with
``pretrained=False``, its state dict saved to a local file, and that file loaded through
timm's own pretrained path (``create_model(..., pretrained=True)`` with the file put into the
pretrained config, so ``load_pretrained`` and the model's ``checkpoint_filter_fn`` run) into a
model built for another image size, channel count or class count. Logging is set up the way
timm's train.py does (``timm.utils.setup_default_logging()``) or with Python's
``logging.basicConfig(level=logging.INFO)``, so the INFO lines appear as users see them.

The cases run in a venv outside the repository (the dev venv's torch has no matching
torchvision on this machine): ``ENVDOCTOR_TIMM_PYTHON`` (default
/tmp/envdoctor-timm-venv/bin/python) with torch 2.14.1 + torchvision 0.29.1 and timm 1.0.29;
older timm releases are installed with ``pip install --no-deps --target`` beside it and put
first on ``PYTHONPATH`` for the cases that name them. Each case runs in a fresh directory,
stdout and stderr merged into one pipe, and the bytes are written unmodified. Each entry
directory gets a SOURCE.txt naming the case, the exit status and the versions used.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "knowledge"
WORK = Path(os.environ.get("ENVDOCTOR_FIXTURE_WORK", "/tmp/envdoctor-timm-cases"))
VENV = Path(os.environ.get("ENVDOCTOR_TIMM_VENV", "/tmp/envdoctor-timm-venv"))
PYTHON = Path(os.environ.get("ENVDOCTOR_TIMM_PYTHON", str(VENV / "bin" / "python")))
#: The timm installed in the venv itself; other versions live in --target directories.
CURRENT_TIMM = "1.0.29"
OLD_TIMMS = ("0.6.13", "0.9.16")
TORCH_PINS = ("torch==2.14.1", "torchvision==0.29.1")
SMALL_DEPS = ("pyyaml", "huggingface_hub", "safetensors")


def target_dir(version: str) -> Path:
    return Path(f"/tmp/envdoctor-timm-{version}")


PRELUDE = r'''
import logging, os, sys
import torch
import timm

torch.manual_seed(0)
CKPT = os.path.abspath("checkpoint.pth")

def save_weights(name, **kwargs):
    """A checkpoint of model `name` at its default config, saved to a local file."""
    torch.save(timm.create_model(name, pretrained=False, **kwargs).state_dict(), CKPT)

def pretrained_from_file(name, **kwargs):
    """timm's own pretrained path (load_pretrained + checkpoint_filter_fn), weights from CKPT."""
    if hasattr(timm.models, "get_pretrained_cfg") and timm.__version__.startswith("0.6."):
        cfg = dict(timm.models.get_pretrained_cfg(name))
        cfg.update(file=CKPT, url="")
        return timm.create_model(name, pretrained=True, pretrained_cfg=cfg, **kwargs)
    return timm.create_model(name, pretrained=True, pretrained_cfg_overlay=dict(file=CKPT), **kwargs)
'''

TIMM_LOGGING = "from timm.utils import setup_default_logging\nsetup_default_logging()\n"
BASIC_LOGGING = "logging.basicConfig(level=logging.INFO)\n"


@dataclass(frozen=True)
class Case:
    entry: str
    kind: str
    slug: str
    timm: str
    code: str


CASES: tuple[Case, ...] = (
    # SD150: timm resampled the position embedding to a new patch grid.
    Case(
        "SD150",
        "hit",
        "timm1029-deit-img256",
        CURRENT_TIMM,
        TIMM_LOGGING
        + """
save_weights("deit_tiny_patch16_224")
model = pretrained_from_file("deit_tiny_patch16_224", img_size=256)
print("pos_embed", tuple(model.pos_embed.shape))
""",
    ),
    Case(
        "SD150",
        "hit",
        "timm1029-basicconfig-deit-img384",
        CURRENT_TIMM,
        BASIC_LOGGING
        + """
save_weights("deit_tiny_patch16_224")
model = pretrained_from_file("deit_tiny_patch16_224", img_size=384)
""",
    ),
    Case(
        "SD150",
        "hit",
        "timm0916-deit-img384",
        "0.9.16",
        TIMM_LOGGING
        + """
save_weights("deit_tiny_patch16_224")
model = pretrained_from_file("deit_tiny_patch16_224", img_size=384)
""",
    ),
    Case(
        "SD150",
        "hit",
        "timm0613-deit-img384",
        "0.6.13",
        TIMM_LOGGING
        + """
save_weights("deit_tiny_patch16_224")
model = pretrained_from_file("deit_tiny_patch16_224", img_size=384)
print("pos_embed", tuple(model.pos_embed.shape))
""",
    ),
    Case(
        "SD150",
        "hit",
        "timm1029-deit-img256-in-chans4-classes10",
        CURRENT_TIMM,
        TIMM_LOGGING
        + """
save_weights("deit_tiny_patch16_224")
model = pretrained_from_file("deit_tiny_patch16_224", img_size=256, in_chans=4, num_classes=10)
""",
    ),
    Case(
        "SD150",
        "miss",
        "torch-load-state-dict-img256",
        CURRENT_TIMM,
        TIMM_LOGGING
        + """
save_weights("deit_tiny_patch16_224")
model = timm.create_model("deit_tiny_patch16_224", pretrained=False, img_size=256)
model.load_state_dict(torch.load(CKPT, map_location="cpu"))
""",
    ),
    Case(
        "SD150",
        "miss",
        "timm1029-input-size-assert",
        CURRENT_TIMM,
        TIMM_LOGGING
        + """
model = timm.create_model("deit_tiny_patch16_224", pretrained=False).eval()
with torch.no_grad():
    model(torch.zeros(1, 3, 256, 256))
""",
    ),
    # SD151: timm adapted the pretrained input conv to in_chans != 3.
    Case(
        "SD151",
        "hit",
        "timm1029-resnet18-in-chans1",
        CURRENT_TIMM,
        TIMM_LOGGING
        + """
save_weights("resnet18")
model = pretrained_from_file("resnet18", in_chans=1)
print("conv1", tuple(model.conv1.weight.shape))
""",
    ),
    Case(
        "SD151",
        "hit",
        "timm0613-deit-in-chans4",
        "0.6.13",
        BASIC_LOGGING
        + """
save_weights("deit_tiny_patch16_224")
model = pretrained_from_file("deit_tiny_patch16_224", in_chans=4)
""",
    ),
    Case(
        "SD151",
        "miss",
        "torch-grayscale-into-rgb-model",
        CURRENT_TIMM,
        TIMM_LOGGING
        + """
save_weights("resnet18")
model = pretrained_from_file("resnet18").eval()
with torch.no_grad():
    model(torch.zeros(1, 1, 64, 64))
""",
    ),
    # SD152: timm could not adapt the input conv and left it randomly initialised.
    Case(
        "SD152",
        "hit",
        "timm1029-tresnet-in-chans4",
        CURRENT_TIMM,
        TIMM_LOGGING
        + """
save_weights("tresnet_m")
model = pretrained_from_file("tresnet_m", in_chans=4)
""",
    ),
)

#: Cases of one entry reused verbatim as another entry's fixture: (entry, kind, source case).
REUSE: tuple[tuple[str, str, str], ...] = (
    ("SD151", "miss", "SD152/hit-timm1029-tresnet-in-chans4"),
    ("SD152", "miss", "SD151/hit-timm1029-resnet18-in-chans1"),
)


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, check=False, timeout=1800, **kwargs)  # type: ignore[call-overload,no-any-return]


def setup() -> int:
    """Create the venv: torch + torchvision in one pip command, then timm without its deps."""
    if not PYTHON.exists():
        _run([sys.executable, "-m", "venv", str(VENV)])
    pip = [str(PYTHON), "-m", "pip", "install", "-q"]
    steps = [
        [*pip, *TORCH_PINS],
        [*pip, *SMALL_DEPS],
        [*pip, "--no-deps", f"timm=={CURRENT_TIMM}"],
        *([*pip, "--no-deps", "--target", str(target_dir(v)), f"timm=={v}"] for v in OLD_TIMMS),
    ]
    for argv in steps:
        print("+", " ".join(argv))
        if _run(argv).returncode != 0:
            return 1
    return 0


def _env(timm_version: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP", "VIRTUAL_ENV")}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",
            "LANG": "C.UTF-8",
            "NO_COLOR": "1",
            "TORCH_HOME": str(WORK / "torch-home"),
        }
    )
    if timm_version != CURRENT_TIMM:
        env["PYTHONPATH"] = str(target_dir(timm_version))
    return env


def versions(timm_version: str) -> str:
    code = (
        "import platform, torch, timm; "
        "print(f'python {platform.python_version()}, torch {torch.__version__}, timm {timm.__version__}')"
    )
    proc = _run([str(PYTHON), "-c", code], env=_env(timm_version), capture_output=True)
    if proc.returncode != 0:
        return f"timm {timm_version} not importable"
    return proc.stdout.decode().strip().splitlines()[-1]


def run_case(case: Case) -> tuple[Path, int]:
    work = WORK / f"{case.entry}-{case.kind}-{case.slug}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "case.py").write_text(PRELUDE + case.code)
    proc = _run(
        [str(PYTHON), "case.py"],
        cwd=work,
        env=_env(case.timm),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    target = OUT / case.entry / f"{case.kind}-{case.slug}.log"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(proc.stdout)
    return target, proc.returncode


def main(argv: list[str]) -> int:
    if "--setup" in argv:
        return setup()
    wanted = set(argv)
    sources: dict[str, list[str]] = {}
    today = _dt.date.today().isoformat()
    stamps = {v: versions(v) for v in {c.timm for c in CASES}}
    for case in CASES:
        if wanted and case.entry not in wanted:
            continue
        target, code_rc = run_case(case)
        sources.setdefault(case.entry, []).append(
            f"{target.name}: case {case.slug!r} in scripts/fixture_logs/timm_cases.py (exit {code_rc});"
            f" generated {today}; {stamps[case.timm]}"
        )
        print(f"{case.entry} {case.kind:4s} {case.slug} -> exit {code_rc}")
    for entry, kind, source in REUSE:
        if wanted and entry not in wanted:
            continue
        source_path = OUT / f"{source}.log"
        target = OUT / entry / f"{kind}-{source_path.stem.removeprefix('hit-')}.log"
        shutil.copyfile(source_path, target)
        sources.setdefault(entry, []).append(
            f"{target.name}: verbatim copy of tests/fixtures/knowledge/{source}.log (see that entry's SOURCE.txt)"
        )
    for entry, lines in sources.items():
        (OUT / entry / "SOURCE.txt").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
