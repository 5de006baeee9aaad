#!/usr/bin/env bash
# Trains the Rasa model only when the training data, domain or config changed.
# The model is named by the hash of its inputs: models/tms-<hash>.tar.gz. Prints its path.
# One training at a time: a second caller (the tests, while `make test` trains in the
# background) waits for the first and finds the model made.
set -euo pipefail
cd "$(dirname "$0")/.."
hash=$(cat config.yml domain.yml $(find data -type f -name '*.yml' | sort) addons/*.py | sha256sum | cut -c1-16)
model="models/tms-$hash.tar.gz"
mkdir -p models
exec 9>models/.training.lock
flock 9
if [ ! -f "$model" ]; then
  echo "train: data changed, training $model" >&2
  start=$(date +%s)
  bash scripts/rasa.sh train --fixed-model-name "tms-$hash" --out models --quiet >&2
  echo "train: took $(( $(date +%s) - start )) s" >&2
else
  echo "train: $model is up to date" >&2
fi
echo "$model"
