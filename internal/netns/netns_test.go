package netns

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestDialerReachesOnlyInsideNamespace listens on a loopback port inside a
// fresh namespace and checks that the namespace's dialer reaches it while
// the same address dialled normally, from the root namespace, does not.
func TestDialerReachesOnlyInsideNamespace(t *testing.T) {
	name := fmt.Sprintf("kumo-netns-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v %s", err, out)
	}
	var ln net.Listener
	if err := Do(name, func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:0"); return }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("inside\n"))
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dialer(name)(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial inside: %v", err)
	}
	buf := make([]byte, 7)
	if _, err := c.Read(buf); err != nil || string(buf) != "inside\n" {
		t.Fatalf("read %q, %v", buf, err)
	}
	c.Close()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the namespace's listener was reachable from the root namespace")
	}
	if err := Do("../etc", func() error { return nil }); err == nil {
		t.Fatal("a path-like namespace name was accepted")
	}
}
