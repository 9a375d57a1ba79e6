//go:build tools

// Package tools pins the Kubernetes control-plane commands that scripts/build-tools.sh builds
// (`go build k8s.io/kubernetes/cmd/...`), so `go mod tidy` keeps every module they need.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
