#!/usr/bin/env bash
# Installs room3d into .venv. With --test: every extra (torch CPU, transformers, open3d, the web app), the system
# tools the tests drive (Chromium, Blender, fonts, the libraries open3d needs) and
# the viewer's npm packages (three, esbuild, the Khronos glTF validator).
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"

if [ "$want_test" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -q
  $sudo_cmd apt-get install -y -q --no-install-recommends \
    chromium blender python3-numpy fonts-dejavu-core libusb-1.0-0 libvulkan1 mesa-vulkan-drivers >/dev/null
  command -v npm >/dev/null || $sudo_cmd apt-get install -y -q nodejs npm >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# pip's build warnings go to a log; it is shown only when the install fails
pip_install() {
  .venv/bin/pip install -q --disable-pip-version-check "$@" > .venv/pip.log 2>&1 || { cat .venv/pip.log; exit 1; }
}
pip_install --upgrade pip
if [ "$want_test" = 1 ]; then
  pip_install -e '.[test]'
  (cd viewer && npm ci --no-audit --no-fund --loglevel=error)
else
  pip_install -e .
fi
