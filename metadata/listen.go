package metadata

import (
	"fmt"
	"net"
	"os/exec"
	"strings"

	"kumo/internal/netns"
)

// Address is where guests reach the service, as on EC2.
const Address = "169.254.169.254"

// Listen opens the service's socket for one guest network: on the
// network's gateway address, port 80, inside the data-plane namespace, with
// a DNAT rule there that sends guests' connections to Address:80 arriving
// on the network's bridge to that socket. Each network thus has its own
// listener, and two control planes on one host, each with its own network,
// do not collide over Address. The rule is added only if missing, so
// restarts do not stack copies.
func Listen(ns, bridge, gateway string) (net.Listener, error) {
	rule := []string{"PREROUTING", "-i", bridge, "-d", Address + "/32", "-p", "tcp", "--dport", "80",
		"-j", "DNAT", "--to-destination", gateway + ":80"}
	if err := iptables(ns, append([]string{"-C"}, rule...)); err != nil {
		if err := iptables(ns, append([]string{"-A"}, rule...)); err != nil {
			return nil, fmt.Errorf("metadata: redirect %s on %s: %w", Address, bridge, err)
		}
	}
	var ln net.Listener
	err := netns.Do(ns, func() (err error) {
		ln, err = net.Listen("tcp", net.JoinHostPort(gateway, "80"))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("metadata: listen on %s in namespace %s: %w", gateway, ns, err)
	}
	return ln, nil
}

func iptables(ns string, args []string) error {
	argv := append([]string{"netns", "exec", ns, "iptables", "-w", "-t", "nat"}, args...)
	out, err := exec.Command("ip", argv...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}
