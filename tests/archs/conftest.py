"""Shared fixtures for the architecture tests."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """Small nets: one thread avoids OpenMP spin-waits on a shared 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
