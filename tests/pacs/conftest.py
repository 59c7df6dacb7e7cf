"""The Orthanc PACS fixture (tests/pacs/orthanc.py)."""

from __future__ import annotations

import os

import pytest

from tests.pacs import orthanc as peer


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("not root: tests/pacs/test_user_namespace.py runs these tests inside a user namespace")
    reason = peer.unavailable_reason()
    if reason:
        pytest.fail(reason)  # CI installs Orthanc: a missing peer is a broken setup, not a skip
    server = peer.start(tmp_path_factory.mktemp("orthanc"))
    yield server
    peer.stop(server)


@pytest.fixture
def in_pacs_network(orthanc):
    """The test body runs inside Orthanc's private network namespace."""
    with peer.inside(orthanc):
        yield orthanc


@pytest.fixture(scope="session")
def orthanc_dicom_bridge(orthanc):
    """Orthanc's DICOM port seen from this namespace, for threads that cannot join Orthanc's."""
    bridge = peer.Bridge(orthanc, peer.DICOM_PORT)
    yield bridge.port
    bridge.close()
