import pytest
import torch

from desktop_app.core.errors import ModelError
from desktop_app.core.models import device as dev


@pytest.fixture
def machine(monkeypatch):
    """Pretend the machine has the given accelerators."""
    def configure(cuda: int = 0, mps: bool = False):
        monkeypatch.setattr(dev, "cuda_available", lambda: cuda > 0)
        monkeypatch.setattr(dev, "mps_available", lambda: mps)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
    return configure


@pytest.mark.parametrize("cuda, mps, expected", [
    (1, True, "cuda:0"),
    (0, True, "mps"),
    (0, False, "cpu"),
])
def test_auto_prefers_cuda_then_mps_then_cpu(machine, cuda, mps, expected):
    machine(cuda=cuda, mps=mps)
    assert dev.select_device("auto") == expected
    assert dev.select_device(None) == expected


@pytest.mark.parametrize("requested, expected", [
    ("cpu", "cpu"), ("CPU", "cpu"), ("cuda", "cuda:0"), ("cuda:1", "cuda:1"), ("1", "cuda:1"), (0, "cuda:0"),
    ("mps", "mps"),
])
def test_explicit_devices_present_on_the_machine(machine, requested, expected):
    machine(cuda=2, mps=True)
    assert dev.select_device(requested) == expected


@pytest.mark.parametrize("requested, message", [
    ("cuda", "no CUDA GPU"),
    ("cuda:0", "no CUDA GPU"),
    ("mps", "MPS is not available"),
    ("gpu", "choose one of"),
    ("cuda:x", "choose one of"),
])
def test_unavailable_or_unknown_device_is_a_clear_error(machine, requested, message):
    machine(cuda=0, mps=False)
    with pytest.raises(ModelError, match=message):
        dev.select_device(requested)


def test_cuda_index_beyond_the_installed_gpus(machine):
    machine(cuda=1)
    with pytest.raises(ModelError, match="has 1 CUDA GPU"):
        dev.select_device("cuda:1")


@pytest.mark.parametrize("device, precision", [("cuda:0", "fp16"), ("cpu", "fp32"), ("mps", "fp32")])
def test_half_precision_only_on_cuda(device, precision):
    assert dev.precision_for(device) == precision


def test_this_machine_resolves_auto_to_a_real_device():
    assert dev.select_device("auto") in {"cpu", "mps"} | {f"cuda:{i}" for i in range(8)}


def test_out_of_memory_is_recognised():
    assert dev.is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert not dev.is_out_of_memory(RuntimeError("shape mismatch"))


def test_torch_threads_follow_the_environment_override_on_cpu_only(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.delenv(dev.TORCH_THREADS_ENV, raising=False)
        dev.use_cpu_threads("cpu")
        assert torch.get_num_threads() == before  # no override: Ultralytics' choice stands
        wanted = 1 if before != 1 else 2
        monkeypatch.setenv(dev.TORCH_THREADS_ENV, str(wanted))
        dev.use_cpu_threads("cuda:0")
        assert torch.get_num_threads() == before
        dev.use_cpu_threads("cpu")
        assert torch.get_num_threads() == wanted
        monkeypatch.setenv(dev.TORCH_THREADS_ENV, "zero")
        assert dev.cpu_inference_threads() is None
    finally:
        torch.set_num_threads(before)
