"""torch load_state_dict failure modes. Usage: python torch_load.py CASE"""
import sys

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, num_classes=10, head_name="fc", track=True):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16, track_running_stats=track)
        self.pool = nn.AdaptiveAvgPool2d(1)
        setattr(self, head_name, nn.Linear(16, num_classes))
        self.head_name = head_name

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x)))).flatten(1)
        return getattr(self, self.head_name)(x)


class TinyViT(nn.Module):
    def __init__(self, num_patches=196, dim=768):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, dim))
        self.patch_embed = nn.Conv2d(3, dim, 16, 16)
        self.head = nn.Linear(dim, 1000)


case = sys.argv[1]

if case == "missing-unexpected":
    torch.save(Net(head_name="classifier").state_dict(), "checkpoint.pth")
    model = Net(head_name="fc")
    model.load_state_dict(torch.load("checkpoint.pth"))
elif case == "strict-false-result":
    torch.save(Net(head_name="classifier").state_dict(), "checkpoint.pth")
    model = Net(head_name="fc")
    result = model.load_state_dict(torch.load("checkpoint.pth"), strict=False)
    print(result)
elif case == "size-mismatch":
    torch.save(Net(num_classes=1000).state_dict(), "checkpoint.pth")
    model = Net(num_classes=10)
    model.load_state_dict(torch.load("checkpoint.pth"))
elif case == "dataparallel-prefix":
    torch.save(nn.DataParallel(Net()).state_dict(), "checkpoint.pth")
    model = Net()
    model.load_state_dict(torch.load("checkpoint.pth"))
elif case == "compile-prefix":
    torch.save(torch.compile(Net()).state_dict(), "checkpoint.pth")
    model = Net()
    model.load_state_dict(torch.load("checkpoint.pth"))
elif case == "training-dict":
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    torch.save({"epoch": 12, "state_dict": net.state_dict(), "optimizer": opt.state_dict()},
               "checkpoint.pth")
    model = Net()
    model.load_state_dict(torch.load("checkpoint.pth"))
elif case == "bn-missing-num-batches-tracked":
    sd = Net().state_dict()
    del sd["bn1.num_batches_tracked"]
    torch.save(sd, "checkpoint.pth")
    model = Net()
    print(model.load_state_dict(torch.load("checkpoint.pth")))
elif case == "bn-unexpected-running-stats":
    torch.save(Net(track=True).state_dict(), "checkpoint.pth")
    model = Net(track=False)
    model.load_state_dict(torch.load("checkpoint.pth"))
elif case in ("pos-embed-257", "pos-embed-4097"):
    torch.save(TinyViT(num_patches=196).state_dict(), "vit_base_patch16_224.pth")
    n = 256 if case == "pos-embed-257" else 4096
    model = TinyViT(num_patches=n)
    model.load_state_dict(torch.load("vit_base_patch16_224.pth"))
elif case == "cuda-not-compiled":
    x = torch.zeros(1).cuda()
elif case == "cuda-map-location":
    # checkpoint whose tensors are tagged as CUDA tensors, loaded on a CPU-only build
    sd = {"weight": torch.zeros(2)}
    torch.save(sd, "cuda_checkpoint.pth")
    import shutil
    import zipfile
    # rewrite the storage location tag 'cpu' -> 'cuda:0' in the pickle (as if saved on a GPU)
    with zipfile.ZipFile("cuda_checkpoint.pth") as zin, zipfile.ZipFile("tmp.pth", "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith("data.pkl"):
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            zout.writestr(item, data)
    shutil.move("tmp.pth", "cuda_checkpoint.pth")
    state = torch.load("cuda_checkpoint.pth")
else:
    raise SystemExit(f"unknown case {case}")
