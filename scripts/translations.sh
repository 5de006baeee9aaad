#!/usr/bin/env bash
# The customer copy's catalogues (backend/i18n.py reads them; no compile step):
#   1. extract the message ids of backend/texts/ into backend/locale/messages.pot;
#   2. update each language's backend/locale/<code>/LC_MESSAGES/messages.po from it (created
#      when missing). A changed id comes back marked fuzzy with the old translation as a hint:
#      it reads as English until a translator checks it and removes the flag.
# Then translate what is new or fuzzy, and run tests/backend/test_i18n.py.
# Usage: bash scripts/translations.sh [language ...]   (default: de fr es)
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel=.venv/bin/pybabel
locale_dir=backend/locale
pot="$locale_dir/messages.pot"
languages=("$@")
if [ ${#languages[@]} -eq 0 ]; then
  languages=(de fr es)
fi
mkdir -p "$locale_dir"
"$pybabel" extract \
  --mapping-file babel.cfg \
  --no-default-keywords --keyword _ --keyword gettext --keyword ngettext:1,2 --keyword N_ \
  --add-comments NOTE: --strip-comment-tags \
  --add-location file --sort-by-file \
  --project "TMS customer copy" --copyright-holder "the operator" \
  --msgid-bugs-address "" \
  --output-file "$pot" \
  backend/texts
for code in "${languages[@]}"; do
  po="$locale_dir/$code/LC_MESSAGES/messages.po"
  if [ -f "$po" ]; then
    "$pybabel" update --input-file "$pot" --output-dir "$locale_dir" --locale "$code" \
      --ignore-obsolete
  else
    # A new catalogue: set its Plural-Forms to the two forms backend/i18n.py reads (Babel
    # gives French and Spanish a third, "many", for millions); test_i18n.py checks.
    "$pybabel" init --input-file "$pot" --output-dir "$locale_dir" --locale "$code"
  fi
done
# What is left to translate, per language.
.venv/bin/python - "$pot" "${languages[@]}" <<'PY'
import sys
from pathlib import Path

from babel.messages.pofile import read_po

pot, codes = Path(sys.argv[1]), sys.argv[2:]
with pot.open("rb") as handle:
    total = sum(1 for message in read_po(handle) if message.id)
print(f"translations: {total} message ids in {pot}")
for code in codes:
    path = pot.parent / code / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        messages = [message for message in read_po(handle, locale=code) if message.id]
    fuzzy = sum(1 for message in messages if message.fuzzy)
    strings = [m.string if isinstance(m.string, (tuple, list)) else (m.string,) for m in messages]
    empty = sum(1 for m, forms in zip(messages, strings) if not m.fuzzy and not all(forms))
    done = len(messages) - fuzzy - empty
    print(f"  {code}: {done} translated, {fuzzy} fuzzy, {empty} untranslated ({path})")
PY
