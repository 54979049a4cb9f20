// etcd for the end-to-end test's control planes, at the server version kube-apiserver's own module
// graph pins: the same entry point as the upstream etcd binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
