#!/usr/bin/env bash
# Adds nndesk to the desktop's application menu for the current user: run it from the
# unpacked nndesk folder (it points the menu entry at this folder, so run it again
# after moving the folder). Remove with: install-desktop-entry.sh --uninstall
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
ENTRY="$DATA/applications/nndesk.desktop"
ICON="$DATA/icons/hicolor/256x256/apps/nndesk.png"
if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$ENTRY" "$ICON"
    echo "nndesk: removed $ENTRY and $ICON"
    exit 0
fi
mkdir -p "$(dirname "$ENTRY")" "$(dirname "$ICON")"
cp "$HERE/nndesk.png" "$ICON"
# The packaged entry runs `nndesk` from PATH; this one runs the program in this folder.
sed -e "s|^Exec=.*|Exec=\"$HERE/nndesk\" %f|" "$HERE/nndesk.desktop" > "$ENTRY"
command -v update-desktop-database >/dev/null 2>&1 \
    && update-desktop-database -q "$DATA/applications" || true
echo "nndesk: added $ENTRY (icon $ICON)"
