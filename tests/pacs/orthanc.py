"""A real Orthanc (Debian packages orthanc, orthanc-dicomweb) in a private network namespace.

Orthanc cannot bind to one address and listens on every interface (docs/facts.md), so it runs in a
network namespace of its own (`unshare -n`: only a loopback, nothing reaches it from outside).
The tests join that namespace per thread with setns(2), which needs root (as an ordinary user,
tests/pacs/test_user_namespace.py runs them as root of a user namespace). Tests whose connections
start on threads they do not create (Qt's pool keeps idle threads from earlier tests) go through a
`Bridge` instead: a loopback port of this namespace passed on into Orthanc's.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNET = 0x40000000
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
HTTP_PORT, DICOM_PORT, OUR_PORT = 8042, 4242, 11113
AE_TITLE, OUR_AE_TITLE = "ORTHANC", "RADVIEW"
USER, PASSWORD = "radview", "s3cret-test"


@dataclass
class Orthanc:
    process: subprocess.Popen
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{HTTP_PORT}/dicom-web"


def unavailable_reason() -> str | None:
    """Why Orthanc cannot run here, or None."""
    if shutil.which("Orthanc") is None:
        return "Orthanc is not installed (packaging/debian-packages.sh installs orthanc and orthanc-dicomweb)"
    if not DICOMWEB_PLUGIN.exists():
        return f"{DICOMWEB_PLUGIN} is missing (Debian package orthanc-dicomweb)"
    return None


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns(CLONE_NEWNET) failed")


@contextmanager
def inside(orthanc: Orthanc):
    """Run the block (and the threads it starts) in Orthanc's network namespace."""
    own = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY)
    target = os.open(f"/proc/{orthanc.process.pid}/ns/net", os.O_RDONLY)
    try:
        _setns(target)
        yield
    finally:
        _setns(own)
        os.close(own)
        os.close(target)


class Bridge:
    """A free loopback port here whose connections are passed to `port` in Orthanc's namespace.

    A socket belongs to the namespace of the thread that creates it: the listener is made on the
    caller's thread (here), the onward connections on a thread that joined Orthanc's namespace.
    """

    def __init__(self, orthanc: Orthanc, port: int):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._orthanc, self._target = orthanc, port
        threading.Thread(target=self._serve, name=f"orthanc-bridge-{port}", daemon=True).start()

    def _serve(self) -> None:
        _setns(os.open(f"/proc/{self._orthanc.process.pid}/ns/net", os.O_RDONLY))  # this thread only, for good
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(("127.0.0.1", self._target), timeout=10)
            except OSError:
                client.close()  # the caller sees the PACS drop the connection, as it would
                continue
            upstream.settimeout(None)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self) -> None:
        self.listener.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        for end in (source, sink):
            end.close()


def start(folder: Path) -> Orthanc:
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "Name": "RadViewTestPACS", "StorageDirectory": str(folder / "storage"), "IndexDirectory": str(folder / "index"),
        "HttpPort": HTTP_PORT, "DicomPort": DICOM_PORT, "DicomAet": AE_TITLE, "DicomCheckCalledAet": True,
        "RemoteAccessAllowed": True, "AuthenticationEnabled": True, "RegisteredUsers": {USER: PASSWORD},
        "Plugins": [str(DICOMWEB_PLUGIN)], "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        "DicomModalities": {"radview": [OUR_AE_TITLE, "127.0.0.1", OUR_PORT]},
        "DicomAlwaysAllowEcho": True, "DicomAlwaysAllowStore": True, "DicomCheckModalityHost": False,
        "UnknownSopClassAccepted": True, "StableAge": 1, "HttpTimeout": 60, "LogExportedResources": False,
    }
    (folder / "orthanc.json").write_text(json.dumps(config))
    log = open(folder / "orthanc.log", "wb")
    process = subprocess.Popen(["unshare", "-n", "--", "sh", "-c", 'ip link set lo up && exec Orthanc "$0"',
                                str(folder / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT)
    orthanc = Orthanc(process, folder)
    deadline = time.monotonic() + 30
    # until unshare(2) has run, the child's namespace is still ours
    while os.readlink(f"/proc/{process.pid}/ns/net") == os.readlink("/proc/self/ns/net"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Orthanc did not start in its own network namespace: {(folder / 'orthanc.log').read_text()}")
        time.sleep(0.01)
    with inside(orthanc):
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Orthanc exited: {(folder / 'orthanc.log').read_text(errors='replace')[-2000:]}")
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{HTTP_PORT}/system")
                request.add_header("Authorization", "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
                urllib.request.urlopen(request, timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    return orthanc


def stop(orthanc: Orthanc) -> None:
    orthanc.process.terminate()
    try:
        orthanc.process.wait(10)
    except subprocess.TimeoutExpired:
        orthanc.process.kill()
