#!/usr/bin/env bash
# The package as users get it, every ordinary way (`npm run test:package`, part of `npm test`):
#   tarball  npm pack, installed into a fresh project: what ships, what it pulls in, every entry
#            point imported on Node and on Deno, a file type-checked against the published
#            declarations, `tradewire --version`
#   folder   npm install <path of a checkout> (a link; npm runs its prepare, which builds dist/)
#   git      npm install git+file://<this repository>#<HEAD> (npm clones, installs the devDependencies,
#            runs prepare, packs): the committed HEAD, not the working tree
#   Deno     deno.json "links" to this folder (the sources, as JSR would serve them), and
#            deno publish --dry-run
# Registry access: only for the dependencies, from npm's cache when it has them (--prefer-offline).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/package"
deno="$root/node_modules/.bin/deno"
tsc="$root/node_modules/.bin/tsc"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tradewire-package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
version=$(node -p "require('$root/package.json').version")
step() { printf '\n== %s (at %ss)\n' "$*" "$SECONDS"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
install() { npm install --prefer-offline --no-audit --no-fund --loglevel=error "$@" >/dev/null; }

# A fresh project: package.json and a tsconfig as strict as ours, without @types/node.
project() {
  mkdir -p "$tmp/$1" && cd "$tmp/$1"
  echo "{\"name\":\"$1\",\"private\":true,\"type\":\"module\"}" > package.json
  cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "lib": ["ES2023", "DOM"],
  "types": [], "strict": true, "noUncheckedIndexedAccess": true, "skipLibCheck": false, "noEmit": true }, "files": ["typecheck.ts"] }
JSON
}

# Imports every entry point and runs the CLI in the current project (smoke.mjs is copied there:
# bare imports resolve from the importing file, and from test/package they would find this repository).
use() {
  cp "$here/smoke.mjs" .
  node smoke.mjs 2>&1 | sed 's/^/  /'
  [ "$(./node_modules/.bin/tradewire --version)" = "$version" ] || fail "tradewire --version is not $version"
  echo "  tradewire --version: $version"
}

step "tarball: npm pack (prepare builds dist/)"
(cd "$root" && npm pack --silent --pack-destination "$tmp" >/dev/null)
tarball="$tmp/tradewire-$version.tgz"
mkdir "$tmp/unpacked" && tar xzf "$tarball" -C "$tmp/unpacked"
node "$here/contents.mjs" "$tmp/unpacked/package"
echo "  $(du -k "$tarball" | cut -f1) kB packed"

step "tarball: installed into a fresh project"
project tarball
install "$tarball"
# The native addon and the TypeScript loader are optional peers (CURVE; .ts strategies for backtest).
for heavy in zeromq tsx esbuild; do
  [ ! -e "node_modules/$heavy" ] || fail "installing tradewire pulled in $heavy"
done
echo "  node_modules: $(du -sk node_modules | cut -f1) kB ($(ls node_modules | tr '\n' ' '))"
use
"$deno" run -A smoke.mjs 2>&1 | sed 's/^/  /'
cp "$here/typecheck.ts" . && "$tsc" -p . && echo "  tsc: typecheck.ts compiles against the published declarations"
./node_modules/.bin/tradewire keygen | node -e 'const k = JSON.parse(require("fs").readFileSync(0, "utf8")); if (k.publicKey?.length !== 40) process.exit(1)' \
  || fail "tradewire keygen did not print a key pair"
echo "  tradewire keygen: a CURVE key pair, without the native addon"

step "folder: npm install $root"
project folder
install "$root"
use

step "git: npm install git+file://$root#HEAD"
project git
install "git+file://$root#$(git -C "$root" rev-parse HEAD)"
[ -d node_modules/tradewire/dist ] || fail "npm did not run prepare for the git dependency"
use

step "Deno: deno.json links to $root (the sources), and deno publish --dry-run"
mkdir -p "$tmp/deno" && cd "$tmp/deno"
echo "{ \"imports\": { \"tradewire\": \"jsr:@tradewire/tradewire@^$version\", \"tradewire/\": \"jsr:/@tradewire/tradewire@^$version/\" }, \"links\": [\"$root\"] }" > deno.json
cp "$here/smoke.mjs" .
# (Deno fetches npm:zeromq for the native engine's file and warns that it ignored its build
# script: harmless, the native engine is refused under Deno. The warning is shown only on failure.)
out=$(NO_COLOR=1 "$deno" run -A smoke.mjs "$root/package.json" 2>&1) || { echo "$out"; fail "Deno could not use tradewire through links"; }
echo "$out" | grep '^Deno:' | sed 's/^/  /'
(cd "$root" && NO_COLOR=1 "$deno" publish --dry-run --allow-dirty --quiet 2>&1 | sed 's/^/  /')
echo
echo "package: every way works, in ${SECONDS}s"
