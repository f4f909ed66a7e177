"""timm's weight-adaptation messages (SD150-SD152) across the timm versions people run.

The logs are the real ones in tests/fixtures/knowledge/SD15*/ (made by
scripts/fixture_logs/timm_cases.py with timm 0.6.13, 0.9.16 and 1.0.29); here we check what
the entries read out of them (grid sizes, token counts, conv names, channel counts) and how
they rank beside the state-dict findings of the same log. Templates that no installable timm
prints with today's torch are rendered from the source text at the tag named beside them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from envdoctor.kb.loader import load_knowledge
from envdoctor.model import Finding
from envdoctor.triage import normalize, read_log, triage_log

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "knowledge"


def _findings_of_file(relative: str) -> list[Finding]:
    return list(triage_log(read_log(str(FIXTURES / relative)), facts={}, knowledge=load_knowledge()).findings)


def _findings_of_text(text: str) -> list[Finding]:
    return list(triage_log(normalize(text), facts={}, knowledge=load_knowledge()).findings)


def _only(findings: list[Finding], entry_id: str) -> Finding:
    matching = [f for f in findings if f.id == entry_id]
    assert len(matching) == 1, [f.id for f in findings]
    return matching[0]


@pytest.mark.parametrize(
    ("relative", "groups"),
    [
        # timm 1.0.29, timm's own logging setup (bare message)
        ("SD150/hit-timm1029-deit-img256.log", {"old_h": "14", "old_w": "14", "new_h": "16", "new_w": "16"}),
        # timm 1.0.29 with logging.basicConfig: "INFO:timm.layers.pos_embed:" is stripped
        ("SD150/hit-timm1029-basicconfig-deit-img384.log", {"old_h": "14", "new_h": "24"}),
        # timm 0.9.16 prints the same template as 1.0
        ("SD150/hit-timm0916-deit-img384.log", {"old_h": "14", "new_h": "24"}),
        # timm 0.6.13: shapes on one line, the grid on the next
        (
            "SD150/hit-timm0613-deit-img384.log",
            {"old_tokens": "197", "new_tokens": "577", "embed_dim": "192", "old_h": "14", "new_h": "24"},
        ),
    ],
)
def test_pos_embed_resample_reads_the_grid_in_every_version(relative: str, groups: dict[str, str]) -> None:
    finding = _only(_findings_of_file(relative), "SD150")
    assert finding.benign and finding.severity == "info"
    for name, value in groups.items():
        assert finding.details["match"][name] == value, (name, finding.details["match"])
    assert f"{groups['old_h']} x" in finding.cause and f"to {groups['new_h']} x" in finding.cause


def test_old_timm_log_explains_token_counts() -> None:
    finding = _only(_findings_of_file("SD150/hit-timm0613-deit-img384.log"), "SD150")
    assert "from 197 to 577 tokens" in finding.cause
    assert [e.line for e in finding.evidence] == [5, 6]


@pytest.mark.parametrize(
    ("line", "old", "new"),
    [
        # timm v0.9.16 timm/models/vision_transformer.py resize_pos_embed (legacy helper)
        (
            "Resized position embedding: torch.Size([1, 197, 768]) ([14, 14]) to torch.Size([1, 577, 768]) ((24, 24)).",
            "14",
            "24",
        ),
        # timm v0.9.16 / v1.0.28 timm/layers/pos_embed.py resample_abs_pos_embed_nhwc
        ("Resized position embedding: torch.Size([32, 32]) to [64, 64].", "32", "64"),
        # resample_abs_pos_embed called with an explicit old_size list (e.g. eva, non-square grids)
        ("Resized position embedding: [16, 12] to (24, 18).", "16", "24"),
    ],
)
def test_other_pos_embed_templates(line: str, old: str, new: str) -> None:
    finding = _only(_findings_of_text(line + "\n"), "SD150")
    assert (finding.details["match"]["old_h"], finding.details["match"]["new_h"]) == (old, new)


def test_pos_embed_size_mismatch_is_the_failure_not_the_resample() -> None:
    ids = [f.id for f in _findings_of_file("SD150/miss-torch-load-state-dict-img256.log")]
    assert ids[0] == "SD142" and "SD150" not in ids


@pytest.mark.parametrize(
    ("relative", "conv", "in_chans", "note"),
    [
        ("SD151/hit-timm1029-resnet18-in-chans1.log", "conv1", "1", "summed filters"),
        ("SD151/hit-timm0613-deit-in-chans4.log", "patch_embed.proj", "4", "scaled by 3/4"),
    ],
)
def test_input_conv_adaptation(relative: str, conv: str, in_chans: str, note: str) -> None:
    findings = _findings_of_file(relative)
    assert [f.id for f in findings] == ["SD151"]
    finding = findings[0]
    assert finding.title == f"timm adapted the pretrained input conv {conv} from 3 to {in_chans} channel(s)"
    assert finding.benign and note in finding.cause


def test_unconvertible_input_conv_ranks_before_the_unexplained_key_it_causes() -> None:
    findings = _findings_of_file("SD152/hit-timm1029-tresnet-in-chans4.log")
    ids = [f.id for f in findings]
    assert ids[0] == "SD152", ids
    assert "SD151" not in ids
    assert not findings[0].benign and "`body.conv1.conv`" in findings[0].cause


def test_fine_tuning_log_with_new_size_channels_and_classes() -> None:
    findings = _findings_of_file("SD150/hit-timm1029-deit-img256-in-chans4-classes10.log")
    assert [f.id for f in findings] == ["SD120", "SD150", "SD151"]
    assert [f.benign for f in findings] == [False, True, True]
