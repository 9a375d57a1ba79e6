# Sourced by scripts/test.sh (after scripts/build-tools.sh): where the control-plane binaries are.
# NFC_TOOLS_BIN holds symlinks to etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, kwok (+ kwok-stages.yaml) and helm; test/support/control-plane.ts starts them from there.
export NFC_TOOLS_CACHE="${NFC_TOOLS_CACHE:-$HOME/.cache/nfc-tools}"
export NFC_TOOLS_BIN="${NFC_TOOLS_BIN:-$NFC_TOOLS_CACHE/bin}"
