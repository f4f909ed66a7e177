#!/usr/bin/env python3
"""Regenerate tests/fixtures/knowledge/SD154/hit-diffusers-sd2-unet-sd1-config.log (a real run).

diffusers is not a dependency of envdoctor; install it into a throwaway directory and point
DIFFUSERS_PATH at it (the dev venv supplies torch, safetensors and huggingface-hub):

    pip install --target /tmp/difflib --no-deps diffusers==0.30.3
    DIFFUSERS_PATH=/tmp/difflib python scripts/fixture_logs/diffusers_cases.py

A tiny UNet2DConditionModel with the SD 2.x layout (cross_attention_dim 1024, linear
proj_in/proj_out) is saved, and its weights are loaded into the SD 1.x layout (768, 1x1-conv
projections): the strict load_state_dict error that a 2.x checkpoint gives with a 1.x config.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "knowledge" / "SD154" / "hit-diffusers-sd2-unet-sd1-config.log"

CHILD = r"""
import os
import safetensors.torch
from diffusers import UNet2DConditionModel

def unet(context, linear):
    return UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(8, 16), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=context,
        attention_head_dim=2, norm_num_groups=4, use_linear_projection=linear,
    )

unet(1024, True).save_pretrained("sd2-unet")
sd = safetensors.torch.load_file(os.path.join("sd2-unet", "diffusion_pytorch_model.safetensors"))
unet(768, False).load_state_dict(sd)
"""


def main() -> int:
    path = os.environ.get("DIFFUSERS_PATH")
    if not path:
        print("set DIFFUSERS_PATH to a directory holding diffusers (see the docstring)", file=sys.stderr)
        return 2
    work = Path("/tmp/envdoctor-diffusers-case")
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False
    )
    OUT.write_bytes(proc.stdout)
    print(f"{OUT.name}: exit {proc.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
