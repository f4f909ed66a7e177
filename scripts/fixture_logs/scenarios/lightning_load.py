"""Lightning checkpoint with non-matching keys. Usage: python lightning_load.py save|strict|strict-false"""
import sys

import lightning as L
import torch
import torch.nn as nn


class LitClassifier(L.LightningModule):
    def __init__(self, head_name="head", num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        self.backbone = nn.Sequential(nn.Linear(32, 64), nn.ReLU())
        setattr(self, head_name, nn.Linear(64, num_classes))

    def forward(self, x):
        return getattr(self, self.hparams.head_name)(self.backbone(x))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class LitClassifierV2(LitClassifier):
    """Renamed the head to `classifier` after the checkpoint was written."""
    def __init__(self, head_name="classifier", num_classes=10):
        super().__init__(head_name="classifier", num_classes=num_classes)


case = sys.argv[1]
if case == "save":
    ds = torch.utils.data.TensorDataset(torch.randn(8, 32), torch.randint(0, 10, (8,)))
    trainer = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(LitClassifier(), torch.utils.data.DataLoader(ds, batch_size=4))
    trainer.save_checkpoint("epoch=0-step=1.ckpt")
elif case == "strict-false":
    model = LitClassifierV2.load_from_checkpoint("epoch=0-step=1.ckpt", strict=False)
elif case == "strict":
    model = LitClassifierV2.load_from_checkpoint("epoch=0-step=1.ckpt")
