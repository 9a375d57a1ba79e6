// Command etcd is etcd's server built from its Go module (go.etcd.io/etcd/server/v3), for the
// test control plane (scripts/build-tools.sh). The server module's own go.mod has replace
// directives, so `go install go.etcd.io/etcd/server/v3@vX` refuses it; this wrapper pins it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
