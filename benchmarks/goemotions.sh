#!/usr/bin/env bash
# GoEmotions benchmark for one configuration: train on the embedded train/valid split, then
# evaluate on the test split at the tuned thresholds and at 0.5. Results (JSON metrics and the
# per-epoch history with training seconds) go to benchmarks/results/NAME.*.
# Usage: benchmarks/goemotions.sh NAME [train options...]
#   e.g. benchmarks/goemotions.sh bilstm --arch bilstm
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1; shift
out=benchmarks/results
mkdir -p "$out"
start=$SECONDS
mltc-keras train --output "models/$name.keras" --run-name "$name" --overwrite "$@"
echo "$((SECONDS - start))" > "$out/$name.train_wall_seconds"
cp "logs/$name/history.csv" "$out/$name.history.csv"
mltc-keras evaluate --model "models/$name.keras" --data data/goemotions/test.csv --json "$out/$name.tuned.json" --overwrite >/dev/null
mltc-keras evaluate --model "models/$name.keras" --data data/goemotions/test.csv --threshold 0.5 --json "$out/$name.t05.json" --overwrite >/dev/null
python - "$out/$name" <<'PY'
import csv, json, sys
base = sys.argv[1]
tuned, half = (json.load(open(f"{base}.{k}.json")) for k in ("tuned", "t05"))
rows = list(csv.DictReader(open(f"{base}.history.csv")))
secs = [float(r["train_seconds"]) for r in rows]
print(f"{base}: test micro-F1 {half['micro_f1']:.3f} / {tuned['micro_f1']:.3f}, macro-F1 {half['macro_f1']:.3f} / "
      f"{tuned['macro_f1']:.3f} (0.5 / tuned); {len(rows)} epochs, {sum(secs) / len(secs):.0f} s an epoch; "
      f"train command {open(f'{base}.train_wall_seconds').read().strip()} s wall")
PY
