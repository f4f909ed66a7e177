"""Time ``triage`` on a large realistic log and report lines per second (run by hand).

Usage: python benchmarks/bench_triage.py [LINES] [KEYS]

The log is built from real messages (tests/fixtures/logs): mmengine-prefixed training lines,
tqdm bars redrawn with carriage returns, ANSI colours, the Grounding DINO load report, and
a torch ``load_state_dict`` error whose key lists hold KEYS keys each, wrapped at 120
columns. Every knowledge entry's patterns run over every line. Anchor: the scan must stay
linear, so doubling LINES should roughly double the time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from envdoctor.kb.loader import load_knowledge  # noqa: E402
from envdoctor.triage import normalize, triage_log  # noqa: E402

LOGS = ROOT / "tests" / "fixtures" / "logs"
_BAR_END = "\r100%|██████████| 100/100 [00:20<00:00,  4.95it/s]"


def build_log(lines: int, keys: int) -> str:
    gdino = (LOGS / "mmengine-gdino-keys.log").read_text(encoding="utf-8")
    missing = ", ".join(f'"backbone.stages.{i // 40}.blocks.{i % 40}.attn.qkv.weight"' for i in range(keys))
    unexpected = ", ".join(f'"module.backbone.stages.{i // 40}.blocks.{i % 40}.attn.qkv.weight"' for i in range(keys))
    torch_error = (
        "RuntimeError: Error(s) in loading state_dict for SwinTransformer:\n"
        f"\tMissing key(s) in state_dict: {missing}. \n\tUnexpected key(s) in state_dict: {unexpected}. \n"
    )
    wrapped = "\n".join(line[i : i + 120] for line in torch_error.split("\n") for i in range(0, max(len(line), 1), 120))
    out: list[str] = []
    step = 0
    while len(out) < lines:
        step += 1
        out.append(
            f"\x1b[32m11/22 10:31:{step % 60:02d} - mmengine - INFO - Epoch(train) [1][{step}/5000]  lr: 1.0000e-04"
            f"  eta: 1:02:03  time: 0.4321  data_time: 0.0123  memory: 10240  loss: 0.{step % 97:02d}\x1b[0m"
        )
        out.append(f"\r{step % 100:3d}%|█████     | {step % 100}/100 [00:10<00:12,  4.50it/s]" + _BAR_END)
        if step % 5000 == 0:
            out.extend(gdino.split("\n"))
            out.extend(wrapped.split("\n"))
    return "\n".join(out[:lines]) + "\n"


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    keys = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    knowledge = load_knowledge()
    text = build_log(lines, keys)
    cpu_start = time.process_time()
    start = time.perf_counter()
    log = normalize(text, source="bench")
    normalized = time.perf_counter()
    result = triage_log(log, facts={}, knowledge=knowledge)
    done = time.perf_counter()
    cpu = time.process_time() - cpu_start
    total = done - start
    size = len(text) / 1e6
    print(f"entries: {len(knowledge.entries)} ({len(knowledge.symptoms)} symptoms); log: {lines} lines, {size:.1f} MB")
    print(f"key reports: {len(result.reports)}; findings: {[f.id for f in result.findings]}")
    rate = lines / total
    print(
        f"normalise {normalized - start:.3f}s, triage {done - normalized:.3f}s, total {total:.3f}s: {rate:,.0f} lines/s"
    )
    print(f"CPU time {cpu:.3f}s (wall times inflate when other work shares the cores)")


if __name__ == "__main__":
    main()
