// Command benchlb measures kumo's load balancer against HAProxy, side by
// side in one run: the same two loopback HTTP backends, wrk with keep-alive
// and with a new connection per request, and the memory each proxy holds
// for idle connections. It prints the figures, then one summary line.
//
// Everything runs on loopback. The proxies and backends run as child
// processes of this one (the same binary, in another role), so no two of
// them share a Go runtime.
package main

import (
	"fmt"
	"os"
)

func main() {
	role := "run"
	if len(os.Args) > 1 {
		role = os.Args[1]
	}
	var err error
	switch role {
	case "backend":
		err = serveBackends(os.Args[2:])
	case "proxy":
		err = serveProxy(os.Args[2:])
	case "run":
		err = run()
	default:
		err = fmt.Errorf("unknown role %q: want run, backend or proxy", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchlb:", err)
		os.Exit(1)
	}
}
