"""The schema-check tests (test_check_*.py) run offline: opening a network connection
fails the test. Other modules in this folder (test_ray_serve.py) are left alone."""

from __future__ import annotations

import socket

import pytest


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if not request.node.module.__name__.rsplit(".", 1)[-1].startswith("test_check_"):
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("tests/check must not use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
