#!/usr/bin/env bash
# The catalogues backend/i18n.py reads (no compile step), in two domains:
#   messages  the WhatsApp copy: the ids of backend/texts/ (babel.cfg);
#   pages     the customer's web pages and e-mails: backend/templates/web, mail, the page code
#             in backend/web and backend/services/emails.py (babel-pages.cfg).
# For each: 1. extract the message ids into backend/locale/<domain>.pot;
#   2. update each language's backend/locale/<code>/LC_MESSAGES/<domain>.po from it (created
#      when missing). A changed id comes back marked fuzzy with the old translation as a hint:
#      it reads as English until a translator checks it and removes the flag.
# Then translate what is new or fuzzy, and run tests/backend/test_i18n.py.
# Usage: bash scripts/translations.sh [--domain messages|pages] [language ...]
#        (default: both domains; de fr es)
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel=.venv/bin/pybabel
locale_dir=backend/locale
domains=(messages pages)
if [ "${1:-}" = "--domain" ]; then
  domains=("$2")
  shift 2
fi
languages=("$@")
if [ ${#languages[@]} -eq 0 ]; then
  languages=(de fr es)
fi
mkdir -p "$locale_dir"

extract() {  # domain
  case "$1" in
    messages)
      "$pybabel" extract \
        --mapping-file babel.cfg \
        --no-default-keywords --keyword _ --keyword gettext --keyword ngettext:1,2 --keyword N_ \
        --add-comments NOTE: --strip-comment-tags \
        --add-location file --sort-by-file \
        --project "TMS customer copy" --copyright-holder "the operator" \
        --msgid-bugs-address "" \
        --output-file "$locale_dir/messages.pot" \
        backend/texts
      ;;
    pages)
      "$pybabel" extract \
        --mapping-file babel-pages.cfg \
        --no-default-keywords --keyword _ --keyword gettext --keyword ngettext:1,2 --keyword N_ \
        --add-comments NOTE: --strip-comment-tags \
        --add-location file --sort-by-file \
        --project "TMS customer pages and e-mails" --copyright-holder "the operator" \
        --msgid-bugs-address "" \
        --output-file "$locale_dir/pages.pot" \
        backend
      ;;
    *)
      echo "unknown domain: $1 (messages or pages)" >&2
      exit 2
      ;;
  esac
}

for domain in "${domains[@]}"; do
  extract "$domain"
  for code in "${languages[@]}"; do
    po="$locale_dir/$code/LC_MESSAGES/$domain.po"
    if [ -f "$po" ]; then
      "$pybabel" update --input-file "$locale_dir/$domain.pot" --output-dir "$locale_dir" \
        --domain "$domain" --locale "$code" --ignore-obsolete
    else
      # A new catalogue: set its Plural-Forms to the two forms backend/i18n.py reads (Babel
      # gives French and Spanish a third, "many", for millions); test_i18n.py checks.
      "$pybabel" init --input-file "$locale_dir/$domain.pot" --output-dir "$locale_dir" \
        --domain "$domain" --locale "$code"
    fi
  done
done
# What is left to translate, per domain and language.
.venv/bin/python - "$locale_dir" "${#domains[@]}" "${domains[@]}" "${languages[@]}" <<'PY'
import sys
from pathlib import Path

from babel.messages.pofile import read_po

locale_dir, count = Path(sys.argv[1]), int(sys.argv[2])
domains, codes = sys.argv[3 : 3 + count], sys.argv[3 + count :]
for domain in domains:
    pot = locale_dir / f"{domain}.pot"
    with pot.open("rb") as handle:
        total = sum(1 for message in read_po(handle) if message.id)
    print(f"translations: {total} message ids in {pot}")
    for code in codes:
        path = locale_dir / code / "LC_MESSAGES" / f"{domain}.po"
        with path.open("rb") as handle:
            messages = [message for message in read_po(handle, locale=code) if message.id]
        fuzzy = sum(1 for message in messages if message.fuzzy)
        strings = [m.string if isinstance(m.string, (tuple, list)) else (m.string,) for m in messages]
        empty = sum(1 for m, forms in zip(messages, strings) if not m.fuzzy and not all(forms))
        done = len(messages) - fuzzy - empty
        print(f"  {code}: {done} translated, {fuzzy} fuzzy, {empty} untranslated ({path})")
PY
