"""The Orthanc PACS fixture (tests/pacs/orthanc.py)."""

from __future__ import annotations

import pytest

from tests.pacs import orthanc as peer


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory):
    reason = peer.unavailable_reason()
    if reason:
        pytest.fail(reason)  # CI installs Orthanc and runs as root: a missing peer is a broken setup, not a skip
    server = peer.start(tmp_path_factory.mktemp("orthanc"))
    yield server
    peer.stop(server)


@pytest.fixture
def in_pacs_network(orthanc):
    """The test body runs inside Orthanc's private network namespace."""
    with peer.inside(orthanc):
        yield orthanc
