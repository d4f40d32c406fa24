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
echo "built dist/ ($(find dist -name '*.js' | wc -l) modules; CLI $cli)" >&2
