# ruff: noqa: E501, W291  (excerpts are verbatim log lines)
"""Hand-copied excerpts of public reports for failures that cannot be produced on
this CPU-only machine (no GPU, no driver, no CUDA toolkit).  Each excerpt is the
error output as posted in the cited GitHub thread, trimmed to the relevant lines
(the reporter's prose is left out).  generate.py writes them to
tests/fixtures/logs/public/<name>.log and their citations to MANIFEST.toml.
Retrieved through the project's issue-search mirror; `where` says which post."""

PUBLIC: dict[str, dict] = {
    "cuda-driver-too-old-assert": {
        "file": "public/cuda-driver-too-old-assert.log",
        "description": "old torch (AssertionError form): 'The NVIDIA driver on your system is too old (found version 9000)'",
        "repo": "wuhuikai/FastFCN", "issue": 37,
        "url": "https://github.com/wuhuikai/FastFCN/issues/37",
        "where": "issue description, 2019-08-13 (tail of the traceback)",
        "excerpt": '''    of the CUDA driver.""".format(str(torch._C._cuda_getDriverVersion())))
AssertionError: 
The NVIDIA driver on your system is too old (found version 9000).
Please update your GPU driver by downloading and installing a new
version from the URL: http://www.nvidia.com/Download/index.aspx
Alternatively, go to: https://pytorch.org to install
a PyTorch version that has been compiled with your version
of the CUDA driver.
''',
    },
    "cuda-driver-too-old-warning": {
        "file": "public/cuda-driver-too-old-warning.log",
        "description": "newer torch (UserWarning at CUDA init): driver too old (found version 11000), triggered in CUDAFunctions.cpp",
        "repo": "IEIT-Yuan/Yuan-2.0", "issue": 65,
        "url": "https://github.com/IEIT-Yuan/Yuan-2.0/issues/65",
        "where": "issue description, 2023-12-21",
        "excerpt": '''/usr/local/lib/python3.10/dist-packages/torch/cuda/__init__.py:124: UserWarning: CUDA initialization: The NVIDIA driver on your system is too old (found version 11000). Please update your GPU driver by downloading and installing a new version from the URL: http://www.nvidia.com/Download/index.aspx Alternatively, go to: https://pytorch.org to install a PyTorch version that has been compiled with your version of the CUDA driver. (Triggered internally at /opt/pytorch/pytorch/c10/cuda/CUDAFunctions.cpp:108.)
''',
    },
    "cuda-sm86-not-compatible": {
        "file": "public/cuda-sm86-not-compatible.log",
        "description": "UserWarning: GPU with CUDA capability sm_86 is not compatible with the current PyTorch installation (wheel supports sm_37..sm_70)",
        "repo": "meituan/YOLOv6", "issue": 350,
        "url": "https://github.com/meituan/YOLOv6/issues/350",
        "where": "issue description, 2022-07-20",
        "excerpt": '''.venv/lib/python3.7/site-packages/torch/cuda/__init__.py:146: UserWarning: 
NVIDIA GeForce RTX 3080 Laptop GPU with CUDA capability sm_86 is not compatible with the current PyTorch installation.
The current PyTorch install supports CUDA capabilities sm_37 sm_50 sm_60 sm_70.
If you want to use the NVIDIA GeForce RTX 3080 Laptop GPU GPU with PyTorch, please check the instructions at https://pytorch.org/get-started/locally/
''',
    },
    "cuda-no-kernel-image": {
        "file": "public/cuda-no-kernel-image.log",
        "description": "RuntimeError: CUDA error: no kernel image is available for execution on the device (RTX 2060, torch 2.7.1+cu128)",
        "repo": "Comfy-Org/ComfyUI", "issue": 10326,
        "url": "https://github.com/Comfy-Org/ComfyUI/issues/10326",
        "where": "issue description (log block; reporter lists RTX2060, 2.7.1+cu128)",
        "excerpt": '''RuntimeError: CUDA error: no kernel image is available for execution on the device
CUDA kernel errors might be asynchronously reported at some other API call, so the stacktrace below might be incorrect.
For debugging consider passing CUDA_LAUNCH_BLOCKING=1
Compile with `TORCH_USE_CUDA_DSA` to enable device-side assertions.
''',
    },
    "mmcv-ext-undefined-symbol": {
        "file": "public/mmcv-ext-undefined-symbol.log",
        "description": "ImportError: mmcv/_ext.cpython-38-x86_64-linux-gnu.so: undefined symbol (mmcv built against another torch)",
        "repo": "mit-han-lab/bevfusion", "issue": 420,
        "url": "https://github.com/mit-han-lab/bevfusion/issues/420",
        "where": "issue description, 2023-05-24",
        "excerpt": '''ImportError: /home/klfy/anaconda3/envs/bevfusion/lib/python3.8/site-packages/mmcv/_ext.cpython-38-x86_64-linux-gnu.so: undefined symbol: _ZN2at5sliceERKNS_6TensorElN3c108optionalIlEES5_l
''',
    },
    "flash-attn-undefined-symbol": {
        "file": "public/flash-attn-undefined-symbol.log",
        "description": "ImportError: flash_attn_2_cuda...so: undefined symbol _ZN3c104cuda9SetDeviceEi (flash-attn 2.5.9.post1 wheel vs torch 2.3.1+cu121)",
        "repo": "Dao-AILab/flash-attention", "issue": 853,
        "url": "https://github.com/Dao-AILab/flash-attention/issues/853",
        "where": "comment by taka-nscc, 2024-06-07 (Python 3.11.7, PyTorch 2.3.1+cu121, flash-attn 2.5.9.post1)",
        "excerpt": '''Traceback (most recent call last):
  File "<stdin>", line 1, in <module>
ImportError: /XXXXX/lib/python3.11/site-packages/flash_attn_2_cuda.cpython-311-x86_64-linux-gnu.so: undefined symbol: _ZN3c104cuda9SetDeviceEi
''',
    },
    "cuda-out-of-memory": {
        "file": "public/cuda-out-of-memory.log",
        "description": "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 22.00 MiB (GPU 0 total 23.65 GiB, 11.06 MiB free)",
        "repo": "pytorch/pytorch", "issue": 16417,
        "url": "https://github.com/pytorch/pytorch/issues/16417",
        "where": "comment by WangFengtu1996, 2024-03-13",
        "excerpt": '''torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 22.00 MiB. GPU 0 has a total capacity of 23.65 GiB of which 11.06 MiB is free. Including non-PyTorch memory, this process has 23.60 GiB memory in use. Of the allocated memory 22.90 GiB is allocated by PyTorch, and 194.87 MiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)
''',
    },
    "cuda-device-side-assert": {
        "file": "public/cuda-device-side-assert.log",
        "description": "ClassNLLCriterion 'Assertion `t >= 0 && t < n_classes` failed' then RuntimeError: CUDA error: device-side assert triggered (label out of range)",
        "repo": "layumi/Person_reID_baseline_pytorch", "issue": 372,
        "url": "https://github.com/layumi/Person_reID_baseline_pytorch/issues/372",
        "where": "issue description, 2023-06-19",
        "excerpt": '''Epoch 0/59
----------
train Loss: 2.7186 Acc: 0.4082
/pytorch/aten/src/THCUNN/ClassNLLCriterion.cu:108: cunn_ClassNLLCriterion_updateOutput_kernel: block: [0,0,0], thread: [0,0,0] Assertion `t >= 0 && t < n_classes` failed.
/pytorch/aten/src/THCUNN/ClassNLLCriterion.cu:108: cunn_ClassNLLCriterion_updateOutput_kernel: block: [0,0,0], thread: [8,0,0] Assertion `t >= 0 && t < n_classes` failed.
/pytorch/aten/src/THCUNN/ClassNLLCriterion.cu:108: cunn_ClassNLLCriterion_updateOutput_kernel: block: [0,0,0], thread: [11,0,0] Assertion `t >= 0 && t < n_classes` failed.
/pytorch/aten/src/THCUNN/ClassNLLCriterion.cu:108: cunn_ClassNLLCriterion_updateOutput_kernel: block: [0,0,0], thread: [20,0,0] Assertion `t >= 0 && t < n_classes` failed.
/pytorch/aten/src/THCUNN/ClassNLLCriterion.cu:108: cunn_ClassNLLCriterion_updateOutput_kernel: block: [0,0,0], thread: [31,0,0] Assertion `t >= 0 && t < n_classes` failed.
Traceback (most recent call last):
  File "train.py", line 577, in <module>
    num_epochs=opt.total_epoch)
  File "train.py", line 379, in train_model
    running_loss += loss.item() * now_batch_size
RuntimeError: CUDA error: device-side assert triggered
''',
    },
    "cuda-no-nvidia-driver": {
        "file": "public/cuda-no-nvidia-driver.log",
        "description": "RuntimeError: Found no NVIDIA driver on your system (CUDA torch build on a machine/container without a driver)",
        "repo": "princeton-nlp/SimCSE", "issue": 244,
        "url": "https://github.com/princeton-nlp/SimCSE/issues/244",
        "where": "issue description, 2023-05-29",
        "excerpt": '''RuntimeError: Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx
''',
    },
    "cuda-home-not-set": {
        "file": "public/cuda-home-not-set.log",
        "description": "pip building a CUDAExtension (bmtrain 0.1.8.post1) without a CUDA toolkit: OSError: CUDA_HOME environment variable is not set",
        "repo": "OpenBMB/CPM-Live", "issue": 244,
        "url": "https://github.com/OpenBMB/CPM-Live/issues/244",
        "where": "issue description, 2022-11-21 (pip output)",
        "excerpt": '''Collecting bmtrain==0.1.8.post1
  Using cached bmtrain-0.1.8.post1.tar.gz (48 kB)
  Preparing metadata (setup.py) ... error
  error: subprocess-exited-with-error

  × python setup.py egg_info did not run successfully.
  │ exit code: 1
  ╰─> [12 lines of output]
      Traceback (most recent call last):
        File "<string>", line 2, in <module>
        File "<pip-setuptools-caller>", line 34, in <module>
        File "/tmp/pip-install-c0_v5dr2/bmtrain_c0a1c88cbb974a93b109264909d72dd8/setup.py", line 52, in <module>
          CUDAExtension('bmtrain.nccl._C', [
        File "/home/bmxm/anaconda3/envs/apm-ant-plus/lib/python3.8/site-packages/torch/utils/cpp_extension.py", line 932, in CUDAExtension
          library_dirs += library_paths(cuda=True)
        File "/home/bmxm/anaconda3/envs/apm-ant-plus/lib/python3.8/site-packages/torch/utils/cpp_extension.py", line 1040, in library_paths
          if (not os.path.exists(_join_cuda_home(lib_dir)) and
        File "/home/bmxm/anaconda3/envs/apm-ant-plus/lib/python3.8/site-packages/torch/utils/cpp_extension.py", line 2058, in _join_cuda_home
          raise EnvironmentError('CUDA_HOME environment variable is not set. '
      OSError: CUDA_HOME environment variable is not set. Please set it to your CUDA install root.
      [end of output]
''',
    },
    "libcudart-so-11-missing": {
        "file": "public/libcudart-so-11-missing.log",
        "description": "ImportError: libcudart.so.11.0: cannot open shared object file (binary built for CUDA 11 on a CUDA 12 machine)",
        "repo": "Meize0729/RSBuilding", "issue": 19,
        "url": "https://github.com/Meize0729/RSBuilding/issues/19",
        "where": "issue title/description, 2025-02-16 (reporter uses CUDA 12.0)",
        "excerpt": '''ImportError: libcudart.so.11.0: cannot open shared object file: No such file or directory
''',
    },
    "cudnn-version-incompatibility": {
        "file": "public/cudnn-version-incompatibility.log",
        "description": "RuntimeError: cuDNN version incompatibility: PyTorch was compiled against (8, 5, 0) but found runtime version (8, 4, 1) (LD_LIBRARY_PATH cudnn)",
        "repo": "gladiaio/gladia", "issue": 928,
        "url": "https://github.com/gladiaio/gladia/issues/928",
        "where": "issue description, 2022-11-30",
        "excerpt": '''>>> import torch
>>> print(torch.backends.cudnn.version())
Traceback (most recent call last):
  File "<stdin>", line 1, in <module>
  File "/opt/conda/envs/server/lib/python3.8/site-packages/torch/backends/cudnn/__init__.py", line 68, in version
    if not _init():
  File "/opt/conda/envs/server/lib/python3.8/site-packages/torch/backends/cudnn/__init__.py", line 50, in _init
    raise RuntimeError(f'{base_error_msg}'
RuntimeError: cuDNN version incompatibility: PyTorch was compiled  against (8, 5, 0) but found runtime version (8, 4, 1). PyTorch already comes bundled with cuDNN. One option to resolving this error is to ensure PyTorch can find the bundled cuDNN.Looks like your LD_LIBRARY_PATH contains incompatible version of cudnnPlease either remove it from the path or install cudnn (8, 5, 0)
''',
    },
}
