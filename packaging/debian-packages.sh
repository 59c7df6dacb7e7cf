#!/usr/bin/env bash
# System packages RadView and its tests need on Debian 12 / Ubuntu. Run it as root or as a user:
# a user's run asks sudo (a fresh Debian used as root has no sudo, and needs none).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo -- bash "$0" "$@"; fi
  echo "debian-packages.sh: run it as root (su -c 'bash $0'), or install sudo" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
  python3 python3-venv python3-pip make \
  dicom3tools dcmtk \
  libgl1 libegl1 libx11-6 libxkbcommon0 libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3 fonts-dejavu-core \
  xvfb xauth libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
  libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 \
  libxcb-xkb1 libxkbcommon-x11-0 x11-utils poppler-utils \
  orthanc orthanc-dicomweb iproute2 desktop-file-utils
# Debian starts the orthanc service on install where it can; RadView's tests run their own
# Orthanc in a private network namespace and need none listening on the machine.
if command -v service >/dev/null 2>&1; then service orthanc stop >/dev/null 2>&1 || true; fi
