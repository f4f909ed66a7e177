"""State-dict load reports parsed from real logs (tests/fixtures/logs, made by the real
libraries; see its MANIFEST.toml) into exact key lists, clean and with documented noise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from envdoctor.model import ShapeMismatch
from envdoctor.triage import expand_collapsed, extract_reports, normalize, read_log
from envdoctor.triage.reports import ParsedReport, parse_shape
from tests.triage import noise

LOGS = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
DATA = Path(__file__).resolve().parent / "data"

GDINO_UNEXPECTED = (
    "language_model.language_backbone.body.model.pooler.dense.weight",
    "language_model.language_backbone.body.model.pooler.dense.bias",
    "language_model.language_backbone.body.model.embeddings.position_ids",
)
GDINO_MISSING = (
    *(f"bbox_head.cls_branches.{i}.log_scale" for i in range(7)),
    "dn_query_generator.label_embedding.weight",
)
BERT_CLS = (
    "cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
    "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias",
    "cls.predictions.bias", "cls.seq_relationship.weight", "cls.seq_relationship.bias",
)  # fmt: skip
NET = (
    "conv1.weight",
    "conv1.bias",
    "bn1.weight",
    "bn1.bias",
    "bn1.running_mean",
    "bn1.running_var",
    "fc.weight",
    "fc.bias",
)
NET_CKPT = (*NET[:6], "bn1.num_batches_tracked", *NET[6:])
CLASSIFIER = ("classifier.weight", "classifier.bias")
CLS_MISMATCH = {
    "classifier.weight": ((3, 32), (5, 32)),
    "classifier.bias": ((3,), (5,)),
}

# log name -> (format, unexpected, missing, {key: (checkpoint shape, model shape)}, model name)
# Key order is compared as sets where the library prints a set (transformers' Python sets).
EXPECTED: dict[
    str, tuple[str, tuple[str, ...], tuple[str, ...], dict[str, tuple[tuple[int, ...], tuple[int, ...]]], str | None]
] = {
    "mmengine-gdino-keys": ("mmengine", GDINO_UNEXPECTED, GDINO_MISSING, {}, None),
    "mmengine-gdino-keys-strict": ("mmengine", GDINO_UNEXPECTED, GDINO_MISSING, {}, None),
    "mmengine-size-mismatch": (
        "mmengine",
        GDINO_UNEXPECTED[2:],
        (),
        {"class_embed.weight": ((80, 32), (4, 32)), "class_embed.bias": ((80,), (4,))},
        None,
    ),
    "mmengine-size-mismatch-strict": (
        "mmengine",
        GDINO_UNEXPECTED[2:],
        (),
        {"class_embed.weight": ((80, 32), (4, 32)), "class_embed.bias": ((80,), (4,))},
        None,
    ),
    "torch-missing-unexpected": ("torch", CLASSIFIER, ("fc.weight", "fc.bias"), {}, "Net"),
    "torch-strict-false-result": ("torch-incompatible-keys", CLASSIFIER, ("fc.weight", "fc.bias"), {}, None),
    "torch-size-mismatch": ("torch", (), (), {"fc.weight": ((1000, 16), (10, 16)), "fc.bias": ((1000,), (10,))}, "Net"),
    "torch-dataparallel-prefix": ("torch", tuple(f"module.{k}" for k in NET_CKPT), NET, {}, "Net"),
    "torch-compile-prefix": ("torch", tuple(f"_orig_mod.{k}" for k in NET_CKPT), NET, {}, "Net"),
    "torch-training-dict": ("torch", ("epoch", "state_dict", "optimizer"), NET, {}, "Net"),
    "torch-bn-missing-num-batches-tracked": ("torch", (), ("bn1.num_batches_tracked",), {}, "Net"),
    "torch-bn-unexpected-running-stats": (
        "torch",
        ("bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"),
        (),
        {},
        "Net",
    ),
    "torch-pos-embed-257": ("torch", (), (), {"pos_embed": ((1, 197, 768), (1, 257, 768))}, "TinyViT"),
    "torch-pos-embed-4097": ("torch", (), (), {"pos_embed": ((1, 197, 768), (1, 4097, 768))}, "TinyViT"),
    "transformers429-pretraining-as-base": (
        "transformers4",
        (*BERT_CLS, "cls.predictions.decoder.weight", "cls.predictions.decoder.bias"),
        (),
        {},
        "BertModel",
    ),
    "transformers429-pretraining-as-seqcls": (
        "transformers4",
        (*BERT_CLS, "cls.predictions.decoder.weight", "cls.predictions.decoder.bias"),
        CLASSIFIER,
        {},
        "BertForSequenceClassification",
    ),
    "transformers429-base-as-seqcls": ("transformers4", (), CLASSIFIER, {}, "BertForSequenceClassification"),
    "transformers429-num-labels-mismatch-ignore": (
        "transformers4",
        (),
        (),
        CLS_MISMATCH,
        "BertForSequenceClassification",
    ),
    "transformers429-num-labels-mismatch": ("torch", (), (), CLS_MISMATCH, "BertForSequenceClassification"),
    "transformers440-load-state-dict-position-ids": (
        "torch-incompatible-keys",
        ("embeddings.position_ids",),
        (),
        {},
        None,
    ),
    "transformers440-load-state-dict-position-ids-strict": ("torch", ("embeddings.position_ids",), (), {}, "BertModel"),
    "transformers440-mmengine-position-ids": ("mmengine", ("embeddings.position_ids",), (), {}, None),
    "transformers5-pretraining-as-base": ("transformers5", BERT_CLS, (), {}, "BertModel"),
    "transformers5-pretraining-as-seqcls": ("transformers5", BERT_CLS, CLASSIFIER, {}, "BertForSequenceClassification"),
    "transformers5-base-as-seqcls": ("transformers5", (), CLASSIFIER, {}, "BertForSequenceClassification"),
    "transformers5-num-labels-mismatch-ignore": (
        "transformers5",
        (),
        (),
        CLS_MISMATCH,
        "BertForSequenceClassification",
    ),
    "transformers5-num-labels-mismatch": ("transformers5", (), (), CLS_MISMATCH, "BertForSequenceClassification"),
    "lightning-load-strict": ("torch", ("head.weight", "head.bias"), CLASSIFIER, {}, "LitClassifierV2"),
    "lightning-load-strict-false": ("lightning", ("head.weight", "head.bias"), CLASSIFIER, {}, None),
}
#: Logs made by the real libraries that hold no load report at all.
NO_REPORT = (
    "transformers5-position-ids",
    "torch-cuda-not-compiled",
    "torch-cuda-map-location",
    "transformers429-tokenizers-conflict",
)


def _only(reports: list[ParsedReport]) -> ParsedReport:
    assert len(reports) == 1, [r.report for r in reports]
    return reports[0]


def _check(parsed: ParsedReport, name: str, *, ordered: bool = True) -> None:
    fmt, unexpected, missing, mismatched, model = EXPECTED[name]
    report = parsed.report
    assert parsed.format == fmt
    assert not parsed.truncated
    shapes = {m.key: (m.checkpoint_shape, m.model_shape) for m in report.mismatched}
    if ordered and not fmt.startswith("transformers"):
        assert report.unexpected == unexpected
        assert report.missing == missing
    else:  # transformers prints Python sets: the order is the set's
        assert sorted(report.unexpected) == sorted(unexpected)
        assert sorted(report.missing) == sorted(missing)
    assert len(report.unexpected) == len(set(report.unexpected))
    assert shapes == mismatched
    assert report.model_name == model


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_log_parses_into_exact_key_report(name: str) -> None:
    log = read_log(str(LOGS / f"{name}.log"))
    parsed = _only(extract_reports(log))
    _check(parsed, name)
    report = parsed.report
    lines = log.lines
    # every key points at the line that holds it, and the header at the report's first line
    for key in (*report.unexpected, *report.missing):
        assert key in lines[report.lines[key] - 1].text
    for mismatch in report.mismatched:
        assert mismatch.key in lines[report.lines[mismatch.key] - 1].text
    assert report.header_line is not None and report.header_text == lines[report.header_line - 1].text.strip()


@pytest.mark.parametrize("name", NO_REPORT)
def test_logs_without_a_load_report_give_none(name: str) -> None:
    assert extract_reports(read_log(str(LOGS / f"{name}.log"))) == []


def test_transformers4_names_the_checkpoint() -> None:
    parsed = _only(extract_reports(read_log(str(LOGS / "transformers429-pretraining-as-seqcls.log"))))
    assert parsed.report.checkpoint_name == "./bert-tiny-pretraining"
    assert parsed.report.lines["classifier.weight"] == 4


@pytest.mark.parametrize(("layers", "indices"), [(3, range(3)), (12, range(12))])
def test_transformers5_collapsed_indices_are_expanded(layers: int, indices: range) -> None:
    parsed = _only(extract_reports(read_log(str(DATA / f"transformers5-renamed-layers-{layers}.log"))))
    report = parsed.report
    leaves = {k.split(".", 3)[3] for k in report.unexpected}
    assert len(leaves) == 16
    assert set(report.unexpected) == {f"encoder.layers.{i}.{leaf}" for i in indices for leaf in leaves}
    assert set(report.missing) == {f"encoder.layer.{i}.{leaf}" for i in indices for leaf in leaves}
    assert len(report.unexpected) == len(report.missing) == 16 * layers


def test_expand_collapsed() -> None:
    assert expand_collapsed("a.{0, 1}.b") == ["a.0.b", "a.1.b"]
    assert expand_collapsed("a.{0...3}.b") == ["a.0.b", "a.1.b", "a.2.b", "a.3.b"]
    assert expand_collapsed("a.{0, 2}.b.{1, 3}.c") == ["a.0.b.1.c", "a.0.b.3.c", "a.2.b.1.c", "a.2.b.3.c"]
    assert expand_collapsed("a.*.b") == ["a.*.b"]
    assert expand_collapsed("plain.key") == ["plain.key"]
    assert expand_collapsed("a.{ 0 ... 2 }.b") == ["a.0.b", "a.1.b", "a.2.b"]
    # Bounded: past the limit (or past nine digits) a key stays collapsed, as printed.
    assert len(expand_collapsed("a.{0...99}.b.{0...99}.c")) == 10_000
    assert expand_collapsed("a.{0...99}.b.{0...99}.c", limit=9_999) == ["a.{0...99}.b.{0...99}.c"]
    assert expand_collapsed("a.{0...100000000}.b") == ["a.{0...100000000}.b"]
    huge = "a.{0..." + "9" * 5000 + "}.b"
    assert expand_collapsed(huge) == [huge]


def test_parse_shape() -> None:
    assert parse_shape("torch.Size([1, 197, 768])") == (1, 197, 768)
    assert parse_shape("torch.Size([])") == ()
    assert parse_shape("(3, 32)") == (3, 32)
    assert parse_shape("nonsense 3") is None


# --------------------------------------------------------------------------- noise variants

NOISY = ["mmengine-gdino-keys", "mmengine-size-mismatch", "torch-dataparallel-prefix",
         "transformers429-pretraining-as-seqcls", "transformers5-pretraining-as-seqcls", "torch-strict-false-result",
         "lightning-load-strict-false",
         "transformers429-num-labels-mismatch-ignore", "mmengine-gdino-keys-strict"]  # fmt: skip
TRANSFORMS: dict[str, Callable[[str], str]] = {
    "colorize": noise.colorize,
    "crlf": noise.crlf,
    "tqdm": noise.tqdm_noise,
    "wrap80": lambda t: noise.terminal_wrap(t, 80),
    "wrap120": lambda t: noise.terminal_wrap(t, 120),
    "split-lists": noise.split_lists,
    "all": lambda t: noise.crlf(
        noise.tqdm_noise(noise.colorize(noise.terminal_wrap(noise.relabel_prefix(t, "bracketed"), 100)))
    ),
    **{f"prefix-{style}": (lambda s: lambda t: noise.relabel_prefix(t, s))(style) for style in noise.PREFIX_STYLES},
}


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("name", NOISY)
def test_noise_does_not_change_the_report(name: str, transform: str) -> None:
    text = (LOGS / f"{name}.log").read_text(encoding="utf-8")
    damaged = TRANSFORMS[transform](text)
    parsed = _only(extract_reports(normalize(damaged)))
    _check(parsed, name)


def test_prefix_relabel_really_changes_the_mmengine_log() -> None:
    text = (LOGS / "mmengine-gdino-keys.log").read_text(encoding="utf-8")
    for style in noise.PREFIX_STYLES:
        assert noise.relabel_prefix(text, style) != text


def test_wrapped_lines_are_joined_and_numbered_by_their_first_physical_line() -> None:
    text = noise.terminal_wrap((LOGS / "mmengine-gdino-keys.log").read_text(encoding="utf-8"), 61)
    log = normalize(text)
    assert log.physical_lines == len(text.splitlines())
    assert len(log.lines) < log.physical_lines
    report = _only(extract_reports(log)).report
    physical = text.split("\n")
    missing_line = report.lines[GDINO_MISSING[0]]
    assert physical[missing_line - 1].startswith("missing keys in source state_dict: ")
    assert all(report.lines[key] == missing_line for key in GDINO_MISSING)


def test_list_split_by_the_program_keeps_each_fragments_line() -> None:
    text = noise.split_lists((LOGS / "mmengine-gdino-keys.log").read_text(encoding="utf-8"), 3)
    log = normalize(text)
    report = _only(extract_reports(log)).report
    assert report.missing == GDINO_MISSING
    physical = text.split("\n")
    for key in GDINO_MISSING:
        assert key in physical[report.lines[key] - 1]


def test_ellipsis_in_the_middle_marks_the_report_truncated() -> None:
    text = noise.ellipsize((LOGS / "mmengine-gdino-keys.log").read_text(encoding="utf-8"))
    parsed = _only(extract_reports(normalize(text)))
    assert parsed.truncated
    assert parsed.report.missing == (GDINO_MISSING[0], GDINO_MISSING[1], GDINO_MISSING[-2], GDINO_MISSING[-1])
    assert parsed.report.unexpected == GDINO_UNEXPECTED


def test_unicode_ellipsis_in_torch_list() -> None:
    text = (LOGS / "torch-dataparallel-prefix.log").read_text(encoding="utf-8")
    text = text.replace('"bn1.weight", "bn1.bias", "bn1.running_mean", ', "… ")
    parsed = _only(extract_reports(normalize(text)))
    assert parsed.truncated
    assert parsed.report.missing == ("conv1.weight", "conv1.bias", "bn1.running_var", "fc.weight", "fc.bias")


def test_list_cut_at_the_end_of_the_paste_drops_the_partial_key() -> None:
    full = (LOGS / "torch-dataparallel-prefix.log").read_text(encoding="utf-8").rstrip("\n")
    text = noise.cut(full, len(full) - full.rindex('"module.fc.bias') - len('"module.fc.b'))
    assert text.endswith('"module.fc.b')
    parsed = _only(extract_reports(normalize(text)))
    assert parsed.truncated
    assert parsed.report.unexpected == tuple(f"module.{k}" for k in NET_CKPT[:-1])
    assert parsed.report.missing == NET


def test_python_list_cut_at_the_end_is_truncated() -> None:
    text = noise.cut((LOGS / "transformers429-pretraining-as-base.log").read_text(encoding="utf-8").split("\n")[0], 30)
    parsed = _only(extract_reports(normalize(text)))
    assert parsed.truncated
    assert 0 < len(parsed.report.unexpected) < 9
    assert all(k.startswith("cls.") and not k.endswith("'") for k in parsed.report.unexpected)


def test_two_load_attempts_give_two_reports() -> None:
    first = (LOGS / "torch-missing-unexpected.log").read_text(encoding="utf-8")
    second = (LOGS / "mmengine-gdino-keys.log").read_text(encoding="utf-8")
    reports = extract_reports(normalize(first + "\n" + second + "\n" + first))
    assert [r.format for r in reports] == ["torch", "mmengine", "torch"]


def test_shape_lines_from_older_torch() -> None:
    text = (
        "RuntimeError: Error(s) in loading state_dict for ResNet:\n"
        '\tWhile copying the parameter named "fc.weight", whose dimensions in the model are torch.Size([10, 512]) '
        "and whose dimensions in the checkpoint are torch.Size([1000, 512]).\n"
    )
    report = _only(extract_reports(normalize(text))).report
    assert report.mismatched == (ShapeMismatch("fc.weight", (1000, 512), (10, 512)),)


def test_timm_messages() -> None:
    # timm/models/_builder.py load_pretrained: _logger.info / _logger.warning templates
    text = (
        "INFO:timm.models._builder:Missing keys (head.weight, head.bias) discovered while loading pretrained weights."
        " This is expected if model is being adapted.\n"
        "WARNING:timm.models._builder:Unexpected keys (head.fc.weight, head.fc.bias) found while loading pretrained"
        " weights. This may be expected if model is being adapted.\n"
    )
    parsed = _only(extract_reports(normalize(noise.terminal_wrap(text, 80))))
    assert parsed.format == "timm"
    assert parsed.report.missing == ("head.weight", "head.bias")
    assert parsed.report.unexpected == ("head.fc.weight", "head.fc.bias")
    assert not parsed.truncated
