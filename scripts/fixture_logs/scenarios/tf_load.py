"""transformers from_pretrained key-mismatch reports, for any transformers version.

Usage: python tf_load.py ACTION
  save-pretraining   tiny BertForPreTraining -> ./bert-tiny-pretraining
  save-base          tiny BertModel          -> ./bert-tiny-base
  save-seqcls3       tiny BertForSequenceClassification(num_labels=3) -> ./bert-tiny-seqcls3
  add-position-ids   add bert.embeddings.position_ids to ./bert-tiny-seqcls3 (-> ./bert-tiny-seqcls3-posids)
  load-*             see below
"""
import os
import shutil
import sys

import torch
from transformers import BertConfig, BertForPreTraining, BertForSequenceClassification, BertModel

CFG = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
           intermediate_size=37, max_position_embeddings=64)

action = sys.argv[1]
if action == "save-pretraining":
    torch.manual_seed(0)
    BertForPreTraining(BertConfig(**CFG)).save_pretrained("bert-tiny-pretraining")
elif action == "save-base":
    torch.manual_seed(0)
    BertModel(BertConfig(**CFG)).save_pretrained("bert-tiny-base")
elif action == "save-seqcls3":
    torch.manual_seed(0)
    BertForSequenceClassification(BertConfig(num_labels=3, **CFG)).save_pretrained("bert-tiny-seqcls3")
elif action == "add-position-ids":
    src, dst = "bert-tiny-seqcls3", "bert-tiny-seqcls3-posids"
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    pos = torch.arange(CFG["max_position_embeddings"]).expand((1, -1)).contiguous()
    if os.path.exists(os.path.join(dst, "model.safetensors")):
        from safetensors.torch import load_file, save_file
        sd = load_file(os.path.join(dst, "model.safetensors"))
        sd["bert.embeddings.position_ids"] = pos
        save_file(sd, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
    else:
        sd = torch.load(os.path.join(dst, "pytorch_model.bin"))
        sd["bert.embeddings.position_ids"] = pos
        torch.save(sd, os.path.join(dst, "pytorch_model.bin"))
elif action == "load-pretraining-as-base":
    model = BertModel.from_pretrained("./bert-tiny-pretraining")
elif action == "load-pretraining-as-seqcls":
    model = BertForSequenceClassification.from_pretrained("./bert-tiny-pretraining")
elif action == "load-base-as-seqcls":
    model = BertForSequenceClassification.from_pretrained("./bert-tiny-base")
elif action == "load-seqcls3-as-seqcls5-ignore":
    model = BertForSequenceClassification.from_pretrained(
        "./bert-tiny-seqcls3", num_labels=5, ignore_mismatched_sizes=True)
elif action == "load-seqcls3-as-seqcls5":
    model = BertForSequenceClassification.from_pretrained("./bert-tiny-seqcls3", num_labels=5)
elif action == "load-position-ids":
    model = BertForSequenceClassification.from_pretrained("./bert-tiny-seqcls3-posids")
elif action == "load-state-dict-position-ids":
    # a pytorch_model.bin written by transformers<4.31 loaded with plain torch into a newer BertModel
    sd = torch.load("bert-tiny-base/pytorch_model.bin")
    model = BertModel(BertConfig(**CFG))
    print(model.load_state_dict(sd, strict=False))
elif action == "load-state-dict-position-ids-strict":
    sd = torch.load("bert-tiny-base/pytorch_model.bin")
    model = BertModel(BertConfig(**CFG))
    model.load_state_dict(sd)
elif action == "mmengine-position-ids":
    from mmengine.runner.checkpoint import load_state_dict
    sd = torch.load("bert-tiny-base/pytorch_model.bin")
    model = BertModel(BertConfig(**CFG))
    load_state_dict(model, sd, strict=False, logger="current")
else:
    raise SystemExit(f"unknown action {action}")
