// Command kind-validate checks a kind cluster config the way kind itself reads it: strictly
// (an unknown or misspelt field is an error) into sigs.k8s.io/kind's v1alpha4.Cluster, then
// checks the node roles. It prints the decoded cluster as JSON for further checks.
//
//	go run ./tools/kind-validate kind-config.yaml
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: kind-validate <kind-config.yaml>")
		os.Exit(2)
	}
	cluster, err := load(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	out, err := json.MarshalIndent(cluster, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

func load(path string) (*v1alpha4.Cluster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cluster v1alpha4.Cluster
	if err := yaml.UnmarshalStrict(data, &cluster); err != nil {
		return nil, fmt.Errorf("not a valid kind config: %w", err)
	}
	if cluster.Kind != "Cluster" || cluster.APIVersion != "kind.x-k8s.io/v1alpha4" {
		return nil, fmt.Errorf("want kind: Cluster, apiVersion: kind.x-k8s.io/v1alpha4; got kind %q, apiVersion %q",
			cluster.Kind, cluster.APIVersion)
	}
	if err := checkRoles(cluster.Nodes); err != nil {
		return nil, err
	}
	return &cluster, nil
}

// checkRoles accepts what kind can create: at least one control-plane node (a node without a
// role is one, as kind defaults it), every other node a worker.
func checkRoles(nodes []v1alpha4.Node) error {
	controlPlanes := 0
	for i, node := range nodes {
		switch node.Role {
		case v1alpha4.ControlPlaneRole, "":
			controlPlanes++
		case v1alpha4.WorkerRole:
		default:
			return fmt.Errorf("nodes[%d]: unknown role %q (want %q or %q)", i, node.Role,
				v1alpha4.ControlPlaneRole, v1alpha4.WorkerRole)
		}
	}
	if controlPlanes == 0 {
		return fmt.Errorf("no %s node", v1alpha4.ControlPlaneRole)
	}
	return nil
}
