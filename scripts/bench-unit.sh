#!/usr/bin/env bash
# Wall time of the unit-test suite (mocha under Pulumi mocks, transpile-only) and of the typecheck,
# each the median of N runs (default 5). Prints a Markdown table for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_of() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    awk -v ns="$((end - start))" 'BEGIN { printf "%.1f\n", ns / 1e9 }'
}
export PATH="$PWD/node_modules/.bin:$PATH"
tests=$(mocha --reporter json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).stats.passes))')
unit=$(for _ in $(seq "$runs"); do time_of mocha; done | median)
tsc=$(for _ in $(seq "$runs"); do time_of tsc --noEmit -p tsconfig.json; done | median)
echo "| what | median of $runs runs |"
echo "|---|---|"
echo "| unit tests (\`npm run test:unit\`, $tests tests) | ${unit} s |"
echo "| typecheck (\`npm run typecheck\`) | ${tsc} s |"
echo
echo "node $(node --version), $(nproc) cores, $(date -u +%Y-%m-%d)"
