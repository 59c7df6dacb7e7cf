#!/usr/bin/env bash
# Put the RadView bundle in the user's applications menu: its .desktop entry and its icon.
#   bash packaging/install-desktop.sh [BUNDLE_DIR]      (checkout: default dist/RadView)
#   bash RadView/_internal/packaging/install-desktop.sh (from an unpacked bundle)
# Per user, no root needed; remove with --uninstall.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = "--uninstall" ]; then uninstall=1; shift; else uninstall=0; fi
if [ -n "${1:-}" ]; then bundle=$1
elif [ -x "$here/../../radview" ]; then bundle=$here/../..
else bundle=$here/../dist/RadView
fi
data=${XDG_DATA_HOME:-$HOME/.local/share}
entry=$data/applications/radview.desktop
if [ "$uninstall" = 1 ]; then
  rm -f "$entry" "$data/icons/hicolor/256x256/apps/radview.png" "$data/icons/hicolor/scalable/apps/radview.svg"
  echo "RadView removed from the applications menu"
  exit 0
fi
if [ ! -x "$bundle/radview" ]; then
  echo "install-desktop: no RadView bundle at $bundle (build one with: make bundle)" >&2
  exit 1
fi
bundle=$(cd "$bundle" && pwd)
resources=$bundle/_internal/resources
install -D -m 644 "$resources/radview.png" "$data/icons/hicolor/256x256/apps/radview.png"
install -D -m 644 "$resources/radview.svg" "$data/icons/hicolor/scalable/apps/radview.svg"
mkdir -p "$data/applications"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
sed -e "s|^Exec=.*|Exec=\"$bundle/radview\" %F|" -e "s|^TryExec=.*|TryExec=$bundle/radview|" \
  "$here/radview.desktop" > "$staging/radview.desktop"
if command -v desktop-file-validate >/dev/null 2>&1; then desktop-file-validate "$staging/radview.desktop"; fi
mv "$staging/radview.desktop" "$entry"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "RadView is in the applications menu: $entry -> $bundle/radview"
