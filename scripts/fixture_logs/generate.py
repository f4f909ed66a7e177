#!/usr/bin/env python3
"""Regenerate tests/fixtures/logs/*.log by running the real libraries.

    python scripts/fixture_logs/generate.py                 # all scenarios
    python scripts/fixture_logs/generate.py --only NAME     # one (repeatable; prefix* globs ok)
    python scripts/fixture_logs/generate.py --list

Each scenario runs in a throwaway venv under $ENVDOCTOR_FIXTURE_VENVS
(default /tmp/envdoctor-fixture-venvs/<venv>, reused when its pinned spec is
unchanged; see venvs.py) or in the repo's dev venv (.venv).  The scenario
script is copied into a fresh work dir /tmp/envdoctor-fixture-work/<scenario>,
optional setup commands run there (output not captured), then the captured
command runs with stdout and stderr merged into one pipe (PYTHONUNBUFFERED=1,
so the interleaving is what a terminal shows) and the bytes are written
unmodified to tests/fixtures/logs/<scenario>.log.  Versions (read back with
importlib.metadata inside the venv), python version, date, command and a
description go to tests/fixtures/logs/MANIFEST.toml, which also carries the
citations of the hand-copied public excerpts under tests/fixtures/logs/public/.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import fnmatch
import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from public_sources import PUBLIC  # noqa: E402
from scenarios_table import SCENARIOS  # noqa: E402
from venvs import REPO, VENVS, ensure_venv  # noqa: E402

LOG_DIR = REPO / "tests" / "fixtures" / "logs"
MANIFEST = LOG_DIR / "MANIFEST.toml"
WORK = Path(os.environ.get("ENVDOCTOR_FIXTURE_WORK", "/tmp/envdoctor-fixture-work"))
SCRIPTS = HERE / "scenarios"

BASE_ENV = {
    "PYTHONUNBUFFERED": "1",
    "HF_HUB_OFFLINE": "1",          # no model hub on this machine; everything is local
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "LANG": "C.UTF-8",
}

VERSIONS_SNIPPET = r"""
import json, sys, platform
from importlib import metadata
out = {"python": platform.python_version()}
for name in sys.argv[1:]:
    try:
        out[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        out[name] = None
print(json.dumps(out))
"""


def scenario_env(sc: dict, py: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP")}
    env.update(BASE_ENV)
    path = env.get("PATH", "/usr/bin:/bin")
    for drop in sc.get("path_drop", []):
        path = os.pathsep.join(p for p in path.split(os.pathsep) if drop not in p)
    env["PATH"] = str(py.parent) + os.pathsep + path
    env["VIRTUAL_ENV"] = str(py.parent.parent)
    for k in sc.get("env_unset", []):
        env.pop(k, None)
    env.update(sc.get("env", {}))
    return env


def read_versions(py: Path, packages: list[str], env: dict) -> dict:
    r = subprocess.run([str(py), "-c", VERSIONS_SNIPPET, *packages], capture_output=True,
                       text=True, env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_scenario(sc: dict) -> dict:
    name = sc["name"]
    py = ensure_venv(sc.get("venv"))
    env = scenario_env(sc, py)
    work = WORK / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for f in sc.get("files", []):
        shutil.copy(SCRIPTS / f, work / f)
    for setup in sc.get("setup", []):
        spy = ensure_venv(setup.get("venv", sc.get("venv")))
        senv = scenario_env({}, spy)
        for f in setup.get("files", []):
            shutil.copy(SCRIPTS / f, work / f)
        r = subprocess.run([str(spy), *setup["args"]], cwd=work, env=senv,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError(f"setup {setup['args']} failed:\n{r.stdout.decode(errors='replace')}")
    proc = subprocess.run([str(py), *sc["args"]], cwd=work, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=sc.get("timeout", 900))
    out = proc.stdout
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    (LOG_DIR / f"{name}.log").write_bytes(out)
    versions = read_versions(py, sc["packages"], env)
    entry = {
        "file": f"{name}.log",
        "description": sc["description"],
        "python": versions.pop("python"),
        "packages": versions,
        "venv": sc.get("venv") or "dev (.venv)",
        "command": "python " + shlex.join(sc["args"]),
        "cwd": str(work),
        "exit_code": proc.returncode,
        "generated": _dt.date.today().isoformat(),
    }
    if sc.get("setup"):
        entry["setup"] = [
            f"[{s.get('venv', sc.get('venv')) or 'dev (.venv)'}] python " + shlex.join(s["args"])
            for s in sc["setup"]]
    if sc.get("env") or sc.get("path_drop") or sc.get("env_unset"):
        entry["env_notes"] = sc.get("env_notes", "")
    if sc.get("venv"):
        entry["venv_spec"] = [" ".join(s["args"]) + (
            f"  (env {s['env']})" if s.get("env") else "") for s in VENVS[sc["venv"]]["steps"]]
    return entry


# ---------------------------------------------------------------- TOML output
def _tv(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if v is None:
        return '"(not installed)"'
    if isinstance(v, list):
        if not v:
            return "[]"
        return "[\n" + "".join(f"    {_tv(x)},\n" for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def write_manifest(entries: dict[str, dict]) -> None:
    lines = [
        "# Fixture logs for envdoctor's log triage.",
        "# Generated by scripts/fixture_logs/generate.py (do not edit [fixtures.*] by hand;",
        "# [public.*] come from scripts/fixture_logs/public_sources.py).",
        "# Every .log file is the byte-exact combined stdout+stderr of `command`, no header,",
        "# run in `cwd` with PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 LANG=C.UTF-8.",
        "# Progress-bar rates, timestamps, set-ordered key lists and tmp paths vary between runs.",
        "",
    ]
    for key in sorted(entries):
        e = entries[key]
        lines.append(f"[fixtures.{json.dumps(key)}]")
        for k, v in e.items():
            if k == "packages":
                continue
            lines.append(f"{k} = {_tv(v)}")
        lines.append(f"[fixtures.{json.dumps(key)}.packages]")
        for k, v in e.get("packages", {}).items():
            lines.append(f"{json.dumps(k)} = {_tv(v)}")
        lines.append("")
    for key in sorted(PUBLIC):
        lines.append(f"[public.{json.dumps(key)}]")
        for k, v in PUBLIC[key].items():
            if k == "excerpt":
                continue
            lines.append(f"{k} = {_tv(v)}")
        lines.append("")
    MANIFEST.write_text("\n".join(lines))
    tomllib.loads(MANIFEST.read_text())  # sanity


def write_public() -> None:
    d = LOG_DIR / "public"
    d.mkdir(parents=True, exist_ok=True)
    for key, meta in PUBLIC.items():
        (d / f"{key}.log").write_text(meta["excerpt"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="scenario name or glob (repeatable)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--keep-going", action="store_true", default=True)
    args = ap.parse_args(argv)
    if args.list:
        for sc in SCENARIOS:
            print(f"{sc['name']:45s} [{sc.get('venv') or 'dev'}] {sc['description']}")
        return 0
    chosen = [sc for sc in SCENARIOS
              if not args.only or any(fnmatch.fnmatch(sc["name"], pat) for pat in args.only)]
    if not chosen:
        print("no scenario matches", args.only, file=sys.stderr)
        return 2
    entries = {}
    if MANIFEST.exists():
        entries = tomllib.loads(MANIFEST.read_text()).get("fixtures", {})
    # keep entries of scenarios still defined, and of any other fixture whose log still exists
    known = {sc["name"] for sc in SCENARIOS}
    entries = {k: v for k, v in entries.items()
               if k in known or (LOG_DIR / str(v.get("file", ""))).exists()}
    failed = []
    for sc in chosen:
        print(f"[run] {sc['name']}", flush=True)
        try:
            entries[sc["name"]] = run_scenario(sc)
            print(f"      exit={entries[sc['name']]['exit_code']} -> {sc['name']}.log", flush=True)
        except Exception as exc:  # keep going: one broken venv must not stop the rest
            failed.append(sc["name"])
            print(f"[FAILED] {sc['name']}: {exc}", file=sys.stderr, flush=True)
    write_public()
    write_manifest(entries)
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
