"""``envdoctor keys CKPT [--against OTHER]``: a checkpoint's tensors, layout and key differences.

Reads the file with the safe readers (no code from the file runs), lists its tensors grouped
by module, and with ``--against`` explains how its keys differ from another checkpoint, a
``model.safetensors.index.json`` or a text list of expected keys. Exit 1 when the file
references unsafe globals or the comparison has non-benign findings; 2 for unreadable input.
"""

from __future__ import annotations

import argparse

from rich.table import Table
from rich.text import Text

from envdoctor.errors import EXIT_FINDINGS, EXIT_OK
from envdoctor.model import Finding
from envdoctor.render.console import UI
from envdoctor.render.findings import FindingsView
from envdoctor.render.jsonout import dumps, findings_document


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint", metavar="CKPT", help="checkpoint file (.pth/.pt/.ckpt/.bin/.safetensors/.npz, HF index)"
    )
    parser.add_argument(
        "--against",
        metavar="OTHER",
        help="the model's keys: another checkpoint, a model.safetensors.index.json, or a text file "
        "with one key per line (optionally 'KEY 2304,768')",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (schema envdoctor.keys/1)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every tensor and every piece of evidence")


def _size(count: int) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f}{unit}"
    return str(count)


def run(args: argparse.Namespace, ui: UI) -> int:
    from envdoctor.ckpt import read_checkpoint
    from envdoctor.statedict.analyze import analyze_keys
    from envdoctor.statedict.checkpoint import (
        checkpoint_summary,
        compare_checkpoint,
        module_groups,
        security_findings,
    )
    from envdoctor.statedict.load import installed_facts
    from envdoctor.statedict.shapes import shape_text

    checkpoint = read_checkpoint(args.checkpoint)
    findings: list[Finding] = security_findings(checkpoint)
    if args.against:
        report = compare_checkpoint(checkpoint, args.against)
        findings.extend(analyze_keys(report, facts=installed_facts()))
    code = EXIT_FINDINGS if any(not f.benign for f in findings) else EXIT_OK
    if args.json:
        document = findings_document("envdoctor.keys/1", findings, checkpoint=checkpoint_summary(checkpoint))
        ui.write(dumps(document) + "\n")
        return code

    head = Text(f"{checkpoint.path}: ", style="bold")
    head.append(f"{checkpoint.format}, layout {checkpoint.layout}")
    if checkpoint.state_dict_path:
        head.append(f" (weights under {checkpoint.state_dict_path!r})")
    total = sum(t.numel or 0 for t in checkpoint.tensors)
    head.append(f", {len(checkpoint.tensors)} tensors, {_size(total)} parameters")
    ui.out.print(head)
    if checkpoint.top_level_keys:
        ui.out.print(Text("top-level keys: " + ", ".join(checkpoint.top_level_keys), style="dim"))
    if checkpoint.ema:
        ui.out.print(Text("EMA weights: " + ", ".join(checkpoint.ema), style="dim"))
    for warning in checkpoint.warnings:
        ui.out.print(Text(f"warning: {warning}", style="yellow"))
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("module")
    table.add_column("tensors", justify="right")
    table.add_column("parameters", justify="right")
    table.add_column("dtypes")
    for group in module_groups(checkpoint.tensors):
        table.add_row(group.prefix, str(group.tensors), _size(group.parameters), ", ".join(group.dtypes))
    ui.out.print(table)
    if args.verbose:
        for tensor in checkpoint.tensors:
            ui.out.print(Text(f"  {tensor.name}  {shape_text(tensor.shape)}  {tensor.dtype or '?'}"), soft_wrap=True)
    for name, items in checkpoint.containers.items():
        ui.out.print(Text(f"other container {name!r}: {len(items)} tensors", style="dim"))
    if findings:
        ui.out.print()
        ui.out.print(FindingsView(findings, verbose=args.verbose))
    elif args.against:
        ui.out.print(Text("[✓] every key and shape matches", style="green"))
    return code
