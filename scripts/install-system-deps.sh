#!/usr/bin/env bash
# Debian packages the project needs: PostgreSQL (server and client) for the real database,
# venv support for the backend's Python, libfaketime for running the suite on other dates
# (scripts/test-at.sh), Chromium and fonts for the browser tests (Playwright drives Debian's
# build; its own browser download cannot reach the internet here), poppler's pdftotext for
# the PDF tests. Installs only what is
# missing; needs root for that.
set -euo pipefail
missing=()
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v faketime >/dev/null 2>&1 || missing+=(faketime)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The pages' fonts in the browser tests and the PDF guide (DejaVu), and the emoji a phone shows.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
# Reading the PDFs the product makes (the incident dossier's text, pages as images).
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "system packages missing: ${missing[*]} (run as root or install them)" >&2
  exit 1
fi
echo "setup: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
