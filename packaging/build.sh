#!/usr/bin/env bash
# Builds dist/nndesk/ (PyInstaller one-folder) and dist/nndesk-VERSION-OS-ARCH.tar.gz
# in a clean virtual environment that has exactly one Qt binding and no Numba.
# Usage: packaging/build.sh   (or `make package`); PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=build/package-venv
SECONDS=0
scripts/system_deps.sh  # the bundle copies the X/xcb libraries present at build time
# setuptools reuses build/lib between builds, so a module deleted from the source
# would otherwise still ship.
rm -rf "$VENV" build/lib build/bdist.* build/pyinstaller dist/nndesk
"$PYTHON" -m venv "$VENV"
# The onnx extra: File > Export > ONNX and opening .onnx models work in the bundle.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check ".[package,onnx]"
"$VENV/bin/python" - <<'PY'
import importlib.util
import sys

bindings = [m for m in ("PySide6", "PyQt6", "PyQt5", "PySide2")
            if importlib.util.find_spec(m) is not None]
if bindings != ["PySide6"]:
    sys.exit(f"package: the build environment must hold PySide6 only, found {bindings}")
if importlib.util.find_spec("numba") is not None:
    sys.exit("package: numba is in the build environment; the bundle must not need it")
PY
echo "package: environment ready after ${SECONDS} s"
VERSION=$("$VENV/bin/python" -c "import nndesk; print(nndesk.__version__)")
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/nndesk.spec
# Some Python builds (pyenv's) ship the interpreter with debug symbols: 25 of the
# bundle's MB that nothing reads at run time. Only the interpreter's libraries are
# stripped; wheels' libraries (numpy's, Qt's) come stripped already.
if command -v strip >/dev/null 2>&1; then
    find dist/nndesk/_internal -maxdepth 1 -name 'libpython3*.so*' -type f \
        -exec strip --strip-debug {} +
    find dist/nndesk/_internal -path '*/lib-dynload/*.so' -type f \
        -exec strip --strip-debug {} +
fi
echo "package: PyInstaller done after ${SECONDS} s"
# Desktop integration: the .desktop entry, the icon rendered from the package SVG,
# and a script that registers both for the current user.
cp packaging/nndesk.desktop packaging/install-desktop-entry.sh dist/nndesk/
QT_QPA_PLATFORM=offscreen "$VENV/bin/python" - <<'PY'
from importlib import resources

from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

app = QGuiApplication([])
data = resources.files("nndesk.ui.icons").joinpath("nndesk.svg").read_bytes()
img = QImage(256, 256, QImage.Format.Format_ARGB32)
img.fill(0)
painter = QPainter(img)
QSvgRenderer(data).render(painter)
painter.end()
assert img.save("dist/nndesk/nndesk.png"), "could not write dist/nndesk/nndesk.png"
PY
PLATFORM="$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)"
ARCHIVE="dist/nndesk-$VERSION-$PLATFORM.tar.gz"
rm -f "$ARCHIVE"
tar -C dist -czf "$ARCHIVE" nndesk
echo "package: built dist/nndesk ($(du -sh dist/nndesk | cut -f1)) and $ARCHIVE" \
     "($(du -h "$ARCHIVE" | cut -f1)) in ${SECONDS} s"
