#!/usr/bin/env bash
# The package build (`npm run build`; `npm pack` and `npm publish` run it as prepack, so a tarball always ships fresh
# JavaScript): tsconfig.build.json compiles the library and the CLI to dist/, then the CLI gets its shebang so
# npm's `slipway` bin runs it with node.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# A clean folder: a source file removed since the last build must not linger in the tarball.
rm -rf dist
tsc -p tsconfig.build.json

cli=dist/tools/main.js
{
    printf '#!/usr/bin/env node\n'
    cat "$cli"
} >"$cli.tmp"
mv "$cli.tmp" "$cli"
chmod +x "$cli"
# `slipway init` adapts this repository's own workflows for a user's project: ship them as its templates (the
# tarball carries no .github/ folder).
mkdir -p dist/templates/github/workflows dist/templates/github/scripts
cp .github/workflows/main.yml .github/workflows/pr.yml .github/workflows/rollback.yml dist/templates/github/workflows/
cp .github/scripts/kube-context.sh dist/templates/github/scripts/

echo "built dist/ ($(find dist -name '*.js' | wc -l) modules; CLI $cli)" >&2
