"""Every wording of a load report across library history, and the shapes people paste them in.

Each template is quoted from the library's source at the releases named (the recogniser in
envdoctor/triage/reports.py cites them); the fvcore log is a real run
(tests/triage/data/MANIFEST.toml, scripts/fixture_logs/fvcore_cases.py). The paste shapes
(a sentence, markdown, a `>` quote, rich's wrapped records, Jupyter tracebacks) wrap
those same templates the way public issue threads show them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from envdoctor.triage import extract_reports, normalize, read_log, triage_text
from envdoctor.triage.logs import LogText

DATA = Path(__file__).resolve().parent / "data"


def _report(text: str):  # type: ignore[no-untyped-def]
    [parsed] = extract_reports(normalize(text))
    return parsed


def _ids(text: str) -> list[str]:
    return [f.id for f in triage_text(text, facts={}).findings]


# --- torch ------------------------------------------------------------------------------


def test_torch03_unexpected_key_keyerror() -> None:
    # torch 0.3 load_state_dict(strict=True): raise KeyError('unexpected key "{}" in state_dict')
    parsed = _report("KeyError: 'unexpected key \"module.cnn.conv0.weight\" in state_dict'\n")
    assert parsed.report.unexpected == ("module.cnn.conv0.weight",) and parsed.raised
    result = triage_text("KeyError: 'unexpected key \"module.cnn.conv0.weight\" in state_dict'\n", facts={})
    first = result.findings[0]
    assert first.id == "SD131" and not first.benign
    assert "module." in first.title and "consume_prefix_in_state_dict_if_present" in first.fix.steps[0]


def test_torch03_missing_keys_set_repr() -> None:
    # raise KeyError('missing keys in state_dict: "{}"'.format(missing)); the KeyError repr escapes quotes
    text = "KeyError: 'missing keys in state_dict: \"{\\'fc.bias\\', \\'fc.weight\\'}\"'\n"
    parsed = _report(text)
    assert sorted(parsed.report.missing) == ["fc.bias", "fc.weight"] and parsed.raised


def test_torch_sections_flattened_in_a_sentence() -> None:
    text = (
        "When I load the model the Error occurs: RuntimeError: Error(s) in loading state_dict for TrainModule: "
        '\tMissing key(s) in state_dict: "model.Linear1.weight", "model.Linear1.bias".  '
        '\tUnexpected key(s) in state_dict: "model.Linear4.weight", "model.Linear4.bias". \n'
    )
    parsed = _report(text)
    assert parsed.report.missing == ("model.Linear1.weight", "model.Linear1.bias")
    assert parsed.report.unexpected == ("model.Linear4.weight", "model.Linear4.bias")
    assert parsed.raised and not parsed.truncated


def test_markdown_quote_and_code_span() -> None:
    text = '> RuntimeError: Error(s) in loading state_dict for Net:\n>\tUnexpected key(s) in state_dict: "module.fc.weight".\n'  # noqa: E501
    assert _report(text).report.unexpected == ("module.fc.weight",)
    span = '`RuntimeError: Error(s) in loading state_dict for Net: Unexpected key(s) in state_dict: "module.fc.weight". `\n'  # noqa: E501
    assert _report(span).report.unexpected == ("module.fc.weight",)


def test_one_compile_key_names_the_prefix() -> None:
    text = 'RuntimeError: Error(s) in loading state_dict for GPT:\n\tUnexpected key(s) in state_dict: "_orig_mod.wte.weight". \n'  # noqa: E501
    finding = triage_text(text, facts={}).findings[0]
    assert finding.id == "SD132" and "_orig_mod." in finding.fix.steps[0]


def test_encoder_keys_at_top_level_are_a_prefix() -> None:
    text = (
        "11/22 10:31:02 - mmengine - WARNING - The model and loaded state dict do not match exactly\n\n"
        "unexpected key in source state_dict: cls_token, pos_embed, patch_embed.projection.weight, "
        "layers.0.ln1.weight, layers.1.ln1.weight\n\n"
        "missing keys in source state_dict: backbone.cls_token, backbone.pos_embed, backbone.patch_embed.proj.weight\n"
    )
    first = triage_text(text, facts={}).findings[0]
    assert first.category == "state_dict.prefix"
    assert first.details["rename"] == {"from": "", "to": "backbone."}


# --- a failed run is never harmless ---------------------------------------------------


def test_strict_load_of_a_harmless_key_is_not_benign() -> None:
    text = (
        "RuntimeError: Error(s) in loading state_dict for RamModel:\n"
        '\tUnexpected key(s) in state_dict: "model.embeddings.position_ids"\n'
    )
    result = triage_text(text, facts={})
    [finding] = result.findings
    assert finding.id == "SD102" and not finding.benign and result.has_problems
    assert "constant index buffer" in finding.cause  # still says the difference is harmless
    assert "strict=False" in finding.fix.steps[0]


def test_non_strict_report_of_the_same_key_stays_benign() -> None:
    text = "_IncompatibleKeys(missing_keys=[], unexpected_keys=['bert.embeddings.position_ids'])\n"
    [finding] = triage_text(text, facts={}).findings
    assert finding.id == "SD102" and finding.benign


# --- transformers 2.x/3.0 -------------------------------------------------------------


def test_transformers2_info_messages() -> None:
    # transformers v2.11.0 modeling_utils.py: logger.info("Weights of {} not initialized from pretrained model: {}")
    text = (
        "INFO:transformers.modeling_utils:Weights of BertForSequenceClassification not initialized from "
        "pretrained model: ['classifier.weight', 'classifier.bias']\n"
        "INFO:transformers.modeling_utils:Weights from pretrained model not used in BertForSequenceClassification: "
        "['cls.predictions.bias', 'cls.predictions.transform.dense.weight']\n"
    )
    parsed = _report(text)
    assert parsed.report.missing == ("classifier.weight", "classifier.bias")
    assert parsed.report.unexpected == ("cls.predictions.bias", "cls.predictions.transform.dense.weight")
    assert parsed.report.model_name == "BertForSequenceClassification" and not parsed.raised


# --- fvcore / detectron2 --------------------------------------------------------------


def test_fvcore_checkpointer_real_run() -> None:
    log = read_log(str(DATA / "fvcore-checkpointer-coco-to-3-classes.log"))
    [parsed] = extract_reports(log)
    report = parsed.report
    assert {m.key for m in report.mismatched} == {
        "roi_heads.box_predictor.cls_score.weight",
        "roi_heads.box_predictor.cls_score.bias",
        "roi_heads.box_predictor.bbox_pred.weight",
        "roi_heads.box_predictor.bbox_pred.bias",
    }
    assert sorted(report.missing) == ["roi_heads.keypoint_head.bias", "roi_heads.keypoint_head.weight"]
    assert sorted(report.unexpected) == ["proposal_generator.bias", "proposal_generator.weight"]
    assert not parsed.raised and not parsed.truncated
    assert _ids_of(log)[0] == "SD140"


def _ids_of(log: LogText) -> list[str]:
    from envdoctor.triage import triage_log

    return [f.id for f in triage_log(log, facts={}).findings]


@pytest.mark.parametrize(
    "line",
    [
        # fvcore 2019-10 .. 2020-04
        "'roi_heads.box_predictor.cls_score.weight' has shape (81, 1024) in the checkpoint but (4, 1024) in the model! Skipped.",  # noqa: E501
        # fvcore 2020-05 .. 2020-07
        "Unable to load 'roi_heads.box_predictor.cls_score.weight' to the model due to incompatible shapes: (81, 1024) in the checkpoint but (4, 1024) in the model!",  # noqa: E501
    ],
)
def test_fvcore_old_shape_wordings(line: str) -> None:
    [mismatch] = _report(line + "\n").report.mismatched
    assert (mismatch.checkpoint_shape, mismatch.model_shape) == ((81, 1024), (4, 1024))


# --- paste shapes ---------------------------------------------------------------------


def test_rich_record_continuation_lines() -> None:
    text = (
        "14:16:51-800339 ERROR    Error(s) in loading state_dict for LatentDiffusion:     size mismatch for\n"
        "                         model.diffusion_model.input_blocks.4.1.proj_in.weight: copying a param with shape\n"
        "                         torch.Size([640, 640]) from checkpoint, the shape in current model is torch.Size([640, 640, 1,\n"  # noqa: E501
        "                         1]).\n"
        "14:16:52-236076 WARNING  Model not loaded\n"
    )
    first = triage_text(text, facts={}).findings[0]
    assert first.id == "SD154" and first.category == "state_dict.config_mismatch"


def test_unexplained_jupyter_traceback_names_the_package() -> None:
    text = (
        "---------------------------------------------------------------------------\n"
        "ValueError                                Traceback (most recent call last)\n"
        "<ipython-input-3-1f2e> in <module>\n"
        "----> 1 np.reshape(a, (4,))\n"
        "\n"
        "~/anaconda3/lib/python3.8/site-packages/numpy/core/fromnumeric.py in reshape(a, newshape, order)\n"
        "ValueError: cannot reshape array of size 6 into shape (4,)\n"
    )
    result = triage_text(text, facts={})
    [finding] = result.findings
    assert finding.id == "OT100" and finding.category == "other" and not finding.benign
    assert finding.details["match"]["package"] == "numpy"
    assert "cannot reshape array of size 6" in finding.title and result.has_problems


def test_windows_traceback_names_the_package() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "C:\\Users\\me\\app.py", line 3, in <module>\n'
        '  File "C:\\Users\\me\\miniconda3\\Lib\\site-packages\\PIL\\Image.py", line 3243, in open\n'
        "PIL.UnidentifiedImageError: cannot identify image file 'x.png'\n"
    )
    [finding] = triage_text(text, facts={}).findings
    assert finding.id == "OT100" and finding.details["match"]["package"] == "pillow"


def test_a_log_without_an_error_is_nothing_recognised() -> None:
    result = triage_text("Epoch 1/10: loss 0.31\nSaved checkpoint to out/ckpt.pth\n", facts={})
    assert result.findings == () and not result.has_problems


def test_transformers2_example_script_prefix_and_new_layers() -> None:
    # run_glue.py-style logging (v2.x examples) and task layers named by the model's author
    text = (
        "08/20/2019 11:24:09 - INFO - __main__ -   Weights of BertForRanking not initialized from pretrained "
        "model: ['rank_affine.bias', 'rank_affine.weight', 'rank_dense.bias', 'rank_dense.weight']\n"
        "08/20/2019 11:24:09 - INFO - __main__ -   Weights from pretrained model not used in BertForRanking: "
        "['cls.predictions.bias', 'cls.seq_relationship.weight']\n"
    )
    log = normalize(text)
    assert log.lines[0].text.startswith("Weights of BertForRanking") and log.lines[0].prefixed
    ids = _ids(text)
    assert ids[0] == "SD120" and "SD199" not in ids and "SD111" in ids


@pytest.mark.parametrize(
    "text",
    [
        # cut after the key (a browser wrap), or inside the model's shape (a terminal wrap)
        "RuntimeError: Error(s) in loading state_dict for Net:\n\tsize mismatch for fc.weight:\n"
        "copying a param with shape torch.Size([1000, 512]) from checkpoint, the shape in current model is "
        "torch.Size([10, 512]).\n",
        "RuntimeError: Error(s) in loading state_dict for Net:\n\tsize mismatch for fc.weight: copying a param "
        "with shape torch.Size([1000, 512]) from checkpoint, the shape in current model is torch.Size([10,\n512]).\n",
        # torch 0.4's sentence, cut after the key
        "RuntimeError: While copying the parameter named fc.weight,\nwhose dimensions in the model are "
        "torch.Size([10, 512]) and whose dimensions in the checkpoint are torch.Size([1000, 512]).\n",
    ],
)
def test_size_mismatch_sentence_cut_over_lines(text: str) -> None:
    [mismatch] = _report(text).report.mismatched
    assert (mismatch.key, mismatch.checkpoint_shape, mismatch.model_shape) == ("fc.weight", (1000, 512), (10, 512))
    assert _ids(text)[0] == "SD140"


def test_metric_names_are_not_exceptions() -> None:
    # torchmetrics' MeanSquaredError in a training log is no error; KeyError: 0 is
    assert triage_text("epoch 3 | MeanSquaredError: 0.0123 | val_loss 0.2\n", facts={}).findings == ()
    assert [f.id for f in triage_text("KeyError: 0\n", facts={}).findings] == ["OT100"]


def test_incompatible_keys_introduced_as_an_error_is_a_stopped_run() -> None:
    """``_IncompatibleKeys`` is what a non-strict load returns (the run went on), unless the
    paste says it was the error the run got: then the harmless difference is not harmless."""
    keys = "_IncompatibleKeys(missing_keys=[], unexpected_keys=['bert.embeddings.position_ids'])"
    went_on = triage_text(f"print(model.load_state_dict(sd, strict=False))\n{keys}\n")
    stopped = triage_text(f"When running the code, it shows run time error: {keys}.\n")
    assert went_on.findings and all(f.benign for f in went_on.findings)
    assert stopped.findings and not any(f.benign for f in stopped.findings)
