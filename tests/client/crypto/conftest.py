from __future__ import annotations

import pytest

from kabar.client.crypto.testing import FakeClock, FakeServer


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
