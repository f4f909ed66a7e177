"""``envdoctor keys CKPT [--against OTHER]``: a checkpoint's tensors, layout and key differences.

Reads the file with the safe readers (no code from the file runs), lists its tensors grouped
by module, and with ``--against`` explains how its keys differ from another checkpoint, a
``model.safetensors.index.json`` or a text list of expected keys. Exit 1 when the file
references unsafe globals or the comparison has non-benign findings; 2 for unreadable input.
Every text that came from a file (paths, keys, global names, warnings) is escaped before it
reaches the terminal (:mod:`envdoctor.render.safe_text`); ``--json`` keeps it exact (JSON
escapes control characters itself).
"""

from __future__ import annotations

import argparse
import os
import stat
from dataclasses import replace

from rich.table import Table
from rich.text import Text

from envdoctor.errors import EXIT_FINDINGS, EXIT_OK, BadInputError
from envdoctor.model import Evidence, Finding, Fix
from envdoctor.render.console import UI
from envdoctor.render.findings import FindingsView
from envdoctor.render.jsonout import dumps, findings_document
from envdoctor.render.safe_text import escape

_MAX_KEY_LIST = 256 * 1024 * 1024
"""Largest ``--against`` text list read (a million keys is about 60 MB)."""


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
    """``1.2M``-style counts in integer arithmetic (a lying shape can exceed any float)."""
    if count >= 10**15:
        return f"~2^{count.bit_length() - 1}"
    for unit, scale in (("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if count >= scale:
            tenths = (count * 10 + scale // 2) // scale
            return f"{tenths // 10}.{tenths % 10}{unit}"
    return str(count)


def _check_against(path: str) -> None:
    """Refuse ``--against`` inputs that cannot be read in bounded time: pipes, devices, huge lists."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot access: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        return  # the checkpoint reader names the files inside
    if not stat.S_ISREG(info.st_mode):
        raise BadInputError(f"{path}: not a regular file (a pipe or device?)")
    if info.st_size > _MAX_KEY_LIST and path.endswith((".txt", ".keys", ".lst", ".list")):
        raise BadInputError(f"{path}: a key list of {info.st_size:,} bytes is over the {_MAX_KEY_LIST:,}-byte limit")


def _safe_finding(finding: Finding) -> Finding:
    """The finding with every text that came from the file escaped for the terminal."""
    return replace(
        finding,
        title=escape(finding.title),
        cause=escape(finding.cause),
        evidence=tuple(
            Evidence(escape(item.text), item.line, None if item.source is None else escape(item.source))
            for item in finding.evidence
        ),
        fix=Fix(
            tuple(escape(pin) for pin in finding.fix.constraints),
            tuple(escape(step) for step in finding.fix.steps),
            finding.fix.optional,
        ),
    )


def run(args: argparse.Namespace, ui: UI) -> int:
    from envdoctor.ckpt import read_checkpoint
    from envdoctor.statedict.analyze import analyze_keys
    from envdoctor.statedict.checkpoint import (
        checkpoint_summary,
        collapse_groups,
        compare_checkpoint,
        module_groups,
        security_findings,
    )
    from envdoctor.statedict.load import installed_facts
    from envdoctor.statedict.shapes import shape_text

    try:
        if args.against:
            _check_against(args.against)
        checkpoint = read_checkpoint(args.checkpoint)
        findings: list[Finding] = security_findings(checkpoint)
        if args.against:
            report = compare_checkpoint(checkpoint, args.against)
            findings.extend(analyze_keys(report, facts=installed_facts()))
    except BadInputError as exc:
        # Paths and names in the message come from the input: escape them for the terminal.
        raise type(exc)(escape(str(exc))) from None
    code = EXIT_FINDINGS if any(not f.benign for f in findings) else EXIT_OK
    if args.json:
        document = findings_document("envdoctor.keys/1", findings, checkpoint=checkpoint_summary(checkpoint))
        ui.write(dumps(document) + "\n")
        return code

    head = Text(f"{escape(checkpoint.path)}: ", style="bold")
    head.append(f"{checkpoint.format}, layout {checkpoint.layout}")
    if checkpoint.state_dict_path:
        head.append(f" (weights under {escape(repr(checkpoint.state_dict_path))})")
    total = sum(t.numel or 0 for t in checkpoint.tensors)
    head.append(f", {len(checkpoint.tensors)} tensors, {_size(total)} parameters")
    ui.out.print(head)
    if checkpoint.top_level_keys:
        keys = checkpoint.top_level_keys
        shown = ", ".join(escape(key, limit=200) for key in keys[:50]) + (
            f", ... ({len(keys):,} in all)" if len(keys) > 50 else ""
        )
        ui.out.print(Text("top-level keys: " + shown, style="dim"))
    if checkpoint.ema:
        ui.out.print(Text("EMA weights: " + escape(", ".join(checkpoint.ema)), style="dim"))
    for warning in checkpoint.warnings[:50]:
        ui.out.print(Text(f"warning: {escape(warning)}", style="yellow"))
    if len(checkpoint.warnings) > 50:
        ui.out.print(Text(f"... {len(checkpoint.warnings) - 50} more warnings", style="yellow"))
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("module")
    table.add_column("tensors", justify="right")
    table.add_column("parameters", justify="right")
    table.add_column("dtypes")
    for group in collapse_groups(module_groups(checkpoint.tensors)):
        table.add_row(
            escape(group.prefix, limit=200),
            str(group.tensors),
            _size(group.parameters),
            escape(", ".join(group.dtypes)),
        )
    ui.out.print(table)
    if args.verbose:
        for tensor in checkpoint.tensors:
            line = f"  {escape(tensor.name)}  {shape_text(tensor.shape)}  {escape(tensor.dtype or '?')}"
            ui.out.print(Text(line), soft_wrap=True)
    for name, items in checkpoint.containers.items():
        ui.out.print(Text(f"other container {escape(repr(name))}: {len(items)} tensors", style="dim"))
    if findings:
        ui.out.print()
        ui.out.print(FindingsView([_safe_finding(finding) for finding in findings], verbose=args.verbose))
    elif args.against:
        ui.out.print(Text("[✓] every key and shape matches", style="green"))
    return code
