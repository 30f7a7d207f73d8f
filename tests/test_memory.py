"""`memory.keep_freed_memory`: glibc agrees on Linux; anywhere it cannot be asked, nothing
happens and training goes on."""

from __future__ import annotations

import ctypes
import sys

import pytest

from forecaster import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_glibc_keeps_freed_memory_when_asked() -> None:
    assert memory.keep_freed_memory() is True


def test_without_mallopt_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_library(name: object) -> object:
        raise OSError("no C library")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    assert memory.keep_freed_memory() is False
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory.keep_freed_memory() is False
