#!/usr/bin/env python3
"""Regenerate tests/triage/data/fvcore-*.log: real fvcore Checkpointer loads (detectron2's loader).

fvcore is not a dependency of envdoctor; install it into a throwaway directory first and
point FVCORE_PATH at it (the dev venv supplies torch and numpy):

    pip install --target /tmp/fvlib --no-deps fvcore==0.1.5.post20221221 iopath==0.1.10 \
        yacs portalocker tabulate
    FVCORE_PATH=/tmp/fvlib python scripts/fixture_logs/fvcore_cases.py

The model mimics detectron2's key names (roi_heads.box_predictor.cls_score ...): a COCO
checkpoint (81 classes) loaded into a 4-class model, with one module missing from the
checkpoint and one the model does not have. fvcore logs through `logging`; the handler
prints detectron2's format (``[MM/DD HH:MM:SS name]: ``) without colours.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "triage" / "data"

CHILD = r"""
import logging, sys
import torch, torch.nn as nn
from fvcore.common.checkpoint import Checkpointer

logging.basicConfig(stream=sys.stdout, level=logging.INFO,
                    format="[%(asctime)s %(name)s]: %(message)s", datefmt="%m/%d %H:%M:%S")

def detector(classes, extra):
    m = nn.Module()
    m.roi_heads = nn.Module()
    m.roi_heads.box_predictor = nn.Module()
    m.roi_heads.box_predictor.cls_score = nn.Linear(16, classes + 1)
    m.roi_heads.box_predictor.bbox_pred = nn.Linear(16, 4 * classes)
    m.backbone = nn.Module()
    m.backbone.stem = nn.Conv2d(3, 8, 3)
    if extra == "model":
        m.roi_heads.keypoint_head = nn.Linear(16, 17)
    if extra == "checkpoint":
        m.proposal_generator = nn.Linear(16, 3)
    return m

torch.save({"model": detector(80, "checkpoint").state_dict()}, "model_final.pth")
Checkpointer(detector(3, "model")).load("model_final.pth")
"""


def main() -> int:
    path = os.environ.get("FVCORE_PATH")
    if not path:
        print("set FVCORE_PATH to a directory holding fvcore (see the docstring)", file=sys.stderr)
        return 2
    work = Path("/tmp/envdoctor-fvcore-case")
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": path, "NO_COLOR": "1", "TERM": "dumb"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False
    )
    (OUT / "fvcore-checkpointer-coco-to-3-classes.log").write_bytes(proc.stdout)
    print(proc.stdout.decode(), f"exit {proc.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
