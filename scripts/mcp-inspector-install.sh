#!/usr/bin/env bash
# Install the MCP Inspector (npm @modelcontextprotocol/inspector, the reference third-party MCP client),
# whose CLI mode the tests drive against the gateway's /mcp. Cached outside the clone and reused while
# its stamp matches. Prints the install directory on stdout; progress goes to stderr.
#
#   scripts/mcp-inspector-install.sh                 # install (or reuse) into $MCP_INSPECTOR_CACHE_DIR
#
# Layout of $MCP_INSPECTOR_CACHE_DIR (default ~/.cache/gpt-orchestrator/mcp-inspector):
#   node22/node_modules/node/bin/node            node 22 from the npm package `node@22` (the inspector
#                                                wants node >= 22.19; the system node may be older)
#   node_modules/@modelcontextprotocol/inspector the inspector
#   stamp                                        "<inspector version> node<node major>"
set -euo pipefail

INSPECTOR_VERSION="${MCP_INSPECTOR_VERSION:-2.12.0}"
NODE_MAJOR=22
DIR="${MCP_INSPECTOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gpt-orchestrator/mcp-inspector}"
STAMP="$INSPECTOR_VERSION node$NODE_MAJOR"
CLI="$DIR/node_modules/@modelcontextprotocol/inspector/cli/build/cli.js"
NODE_BIN="$DIR/node22/node_modules/node/bin/node"

if [ -f "$DIR/stamp" ] && [ "$(cat "$DIR/stamp")" = "$STAMP" ] && [ -x "$NODE_BIN" ] && [ -d "$DIR/node_modules/@modelcontextprotocol/inspector" ]; then
  echo "$DIR"
  exit 0
fi

command -v npm >/dev/null || { echo "mcp-inspector-install: npm is missing (apt-get install npm)" >&2; exit 1; }
echo "mcp-inspector-install: installing @modelcontextprotocol/inspector $INSPECTOR_VERSION with node $NODE_MAJOR into $DIR" >&2
mkdir -p "$DIR/node22"
rm -f "$DIR/stamp"
cd "$DIR"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
npm install --prefix "$DIR/node22" --loglevel=error "node@$NODE_MAJOR" >&2
"$NODE_BIN" --version >&2
cat > package.json <<JSON
{"name": "gpt-orchestrator-mcp-inspector-cache", "private": true,
 "dependencies": {"@modelcontextprotocol/inspector": "$INSPECTOR_VERSION"}}
JSON
PATH="$(dirname "$NODE_BIN"):$PATH" npm install --loglevel=error --omit=dev >&2
echo "$STAMP" > stamp
echo "$DIR"
