#!/usr/bin/env bash
# The GPU acceptance check: on a CUDA machine with Node and a libtorch (a CUDA one found, named by
# LIBTORCH..., or downloaded by the build), one command
#   1. builds the addon and the TypeScript, and checks the build is a CUDA one that sees a device;
#   2. runs the CUDA test cases (jest, test/native) and the device smoke check (scripts/gpu-smoke.js);
#   3. runs the bench's speed and memory section with the PyTorch eager reference (the published
#      loops, with the machine's Python torch) on the same cells in the same call;
#   4. trains Fashion-MNIST experts, then distils Fashion-MNIST IPC 1 with MCT and with MTT, each
#      evaluated with the published protocol (5 networks x 1000 epochs);
# and writes every figure to one JSON file.
#
#   bash scripts/gpu-acceptance.sh [--reference SCRIPT] [--out gpu-acceptance.json]
#        [--work gpu-acceptance] [--data-path DIR] [--dry-run]
#
# --reference replaces the bundled scripts/reference/eager_iteration.py with another script that
# reads the same JSON job.
#
# --dry-run prints every step's command and checks it without running it: the scripts and test
# files exist, the npm scripts are defined, and every flag of every trajmatch command is one that
# command accepts (from its --help). It needs no GPU.
#
# Sizing (meant to finish within 10 minutes on one H200; an estimate, not yet measured on one):
# experts 4 x 12 epochs on the full training set, 200 distillation iterations per method with
# evaluations at iterations 0, 100 and 200, each 5 networks x 1000 epochs. Override with
# TRAJMATCH_ACCEPTANCE_EXPERTS, _EXPERT_EPOCHS, _ITERATIONS, _EVAL_IT.
set -euo pipefail
cd "$(dirname "$0")/.."

dry=0
out=gpu-acceptance.json
work=gpu-acceptance
reference=scripts/reference/eager_iteration.py
data_path=
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry=1 ;;
    --out) out=$2; shift ;;
    --work) work=$2; shift ;;
    --reference) reference=$2; shift ;;
    --data-path) data_path=$2; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "gpu-acceptance: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

experts=${TRAJMATCH_ACCEPTANCE_EXPERTS:-4}
expert_epochs=${TRAJMATCH_ACCEPTANCE_EXPERT_EPOCHS:-12}
iterations=${TRAJMATCH_ACCEPTANCE_ITERATIONS:-200}
eval_it=${TRAJMATCH_ACCEPTANCE_EVAL_IT:-100}
max_start=$((expert_epochs - 4 > 1 ? expert_epochs - 4 : 1))
# How trajmatch is run; the dry-run test points it at the TypeScript sources.
cli=${TRAJMATCH_CLI:-node dist/cli/main.js}
data=(--dataset fashion-mnist)
if [ -n "$data_path" ]; then data+=(--data-path "$data_path"); else data+=(--download); fi

if [ -d node_modules ]; then build="npm run build"; else build="npm ci --foreground-scripts"; fi
steps=(
  "build|$build"
  "backend|node -e 'console.log(JSON.stringify(require(\"./dist\").backendInfo()))' > $work/backend.json"
  "cuda tests|npx jest --ci --json --outputFile=$work/jest.json test/native"
  "smoke|node scripts/gpu-smoke.js cuda > $work/smoke.jsonl"
  "bench speed and memory|$cli bench --preset full --sections timing,reference --device cuda --reference $reference --out-dir $work/bench --json > $work/bench-report.json"
  "experts|$cli buffer ${data[*]} --device cuda --num-experts $experts --train-epochs $expert_epochs --form both --buffer-path $work/buffers --quiet"
  "distill mct|$cli distill ${data[*]} --device cuda --preset fashion-mnist-ipc1 --method mct --iterations $iterations --eval-it $eval_it --num-eval 5 --eval-epochs 1000 --max-experts $experts --max-start-epoch $max_start --buffer-path $work/buffers --no-train-experts --run-dir $work/runs/mct --json > $work/distill-mct.json"
  "distill mtt|$cli distill ${data[*]} --device cuda --preset fashion-mnist-ipc1 --method mtt --iterations $iterations --eval-it $eval_it --num-eval 5 --eval-epochs 1000 --max-experts $experts --max-start-epoch $max_start --buffer-path $work/buffers --no-train-experts --run-dir $work/runs/mtt --json > $work/distill-mtt.json"
)

# Checks of a step's command that need no GPU.
declare -A helps
check() {
  local cmd=$1 problems=()
  case $cmd in
    npm\ run\ *) node -e "process.exit(require('./package.json').scripts['${cmd#npm run }'] ? 0 : 1)" || problems+=("no npm script '${cmd#npm run }'") ;;
  esac
  for f in $(grep -oE '(scripts|test)/[A-Za-z0-9_./-]+' <<<"$cmd"); do [ -e "$f" ] || problems+=("$f does not exist"); done
  [[ $cmd != *"--reference"* ]] || [ -f "$reference" ] || problems+=("the reference $reference does not exist")
  if [[ $cmd == "$cli "* ]]; then
    local rest=${cmd#"$cli "} sub help
    sub=${rest%% *}
    if [ -z "${helps[$sub]:-}" ]; then
      helps[$sub]=$($cli "$sub" --help 2>&1) || problems+=("'$cli $sub --help' failed: ${helps[$sub]}")
    fi
    help=${helps[$sub]}
    for flag in $(grep -oE '(^| )--[a-z][a-z0-9-]*' <<<"$rest" | tr -d ' ' | sort -u); do
      grep -qE -- "(^|[ ,])$flag( |,|$)" <<<"$help" || problems+=("'$sub' has no option $flag")
    done
  fi
  if [ ${#problems[@]} -eq 0 ]; then echo "  ok"; else printf '  FAIL: %s\n' "${problems[@]}"; return 1; fi
}

if [ $dry = 1 ]; then
  failed=0
  for s in "${steps[@]}"; do
    echo "[${s%%|*}] ${s#*|}"
    check "${s#*|}" || failed=1
  done
  echo "[report] node scripts/acceptance-report.js $work $out"
  check "node scripts/acceptance-report.js" || failed=1
  [ $failed = 0 ] && echo "dry run: every step's command checks out" || echo "dry run: some steps would fail (see FAIL above)"
  exit $failed
fi

mkdir -p "$work"
: > "$work/steps.jsonl"
status=0
for s in "${steps[@]}"; do
  name=${s%%|*} cmd=${s#*|}
  echo "[$name] $cmd"
  t0=$(date +%s.%N)
  if bash -c "$cmd"; then rc=0; else rc=$?; status=1; fi
  t1=$(date +%s.%N)
  node -e 'const [n, c, rc, t0, t1] = process.argv.slice(1); console.log(JSON.stringify({ name: n, command: c, exitCode: Number(rc), seconds: Number(t1) - Number(t0) }))' \
    "$name" "$cmd" "$rc" "$t0" "$t1" >> "$work/steps.jsonl"
  echo "[$name] exit $rc"
  # Without a CUDA build that sees a device nothing after this is worth running.
  if [ "$name" = backend ] && ! node -e 'const b = require(process.argv[1]); process.exit(b.builtWithCuda && b.cudaAvailable ? 0 : 1)' "$PWD/$work/backend.json"; then
    echo "gpu-acceptance: the engine is not a CUDA build that sees a device ($(cat "$work/backend.json")): point LIBTORCH at a CUDA libtorch or let the build download one (see binding.gyp.md)" >&2
    status=1
    break
  fi
done
node scripts/acceptance-report.js "$work" "$out"
exit $status
