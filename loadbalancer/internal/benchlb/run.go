package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Knobs of the run, overridable from the environment for quick looks.
var (
	rounds    = envInt("BENCH_LB_ROUNDS", 3)
	duration  = envInt("BENCH_LB_SECONDS", 10)
	idleConns = envInt("BENCH_LB_IDLE_CONNS", 10000)
)

const (
	backendA, backendB = 19101, 19102
	kumoPort           = 19110
	haproxyPort        = 19111
)

func run() error {
	// A relayed connection holds two descriptors in the proxy, so the
	// open-files limit (inherited by the children) caps the idle test.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raise the open files limit: %w", err)
	}
	if most := int(lim.Max-200) / 2; idleConns > most {
		fmt.Printf("idle test capped at %d connections by the open-files limit of %d\n", most, lim.Max)
		idleConns = most
	}
	dir, err := os.MkdirTemp("", "benchlb")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	backends, err := startChild("backend", self(), "backend", strconv.Itoa(backendA), strconv.Itoa(backendB))
	if err != nil {
		return err
	}
	defer backends.stop()
	kumo, err := startChild("kumo", self(), "proxy", strconv.Itoa(kumoPort), strconv.Itoa(backendA), strconv.Itoa(backendB))
	if err != nil {
		return err
	}
	defer kumo.stop()
	haproxy, err := startHAProxy(dir)
	if err != nil {
		return err
	}
	defer haproxy.stop()

	fmt.Printf("wrk -t2 -c64 -d%ds, %d rounds, alternating; median of rounds\n", duration, rounds)
	type result struct{ rps, p99 []float64 }
	res := map[string]*result{}
	for _, mode := range []string{"keepalive", "close"} {
		for r := 0; r < rounds; r++ {
			for _, target := range []struct {
				name string
				port int
			}{{"direct", backendA}, {"haproxy", haproxyPort}, {"kumo", kumoPort}} {
				if target.name == "direct" && r > 0 {
					continue
				}
				pid := map[string]int{"kumo": kumo.cmd.Process.Pid, "haproxy": haproxy.cmd.Process.Pid}[target.name]
				cpuBefore, _ := cpuTime(pid)
				rps, p99, err := wrk(target.port, mode == "close")
				if err != nil {
					return fmt.Errorf("%s %s: %w", target.name, mode, err)
				}
				cpuAfter, _ := cpuTime(pid)
				perReq := float64(cpuAfter-cpuBefore) / (rps * float64(duration))
				key := target.name + " " + mode
				if res[key] == nil {
					res[key] = &result{}
				}
				res[key].rps = append(res[key].rps, rps)
				res[key].p99 = append(res[key].p99, p99)
				line := fmt.Sprintf("  %-8s %-9s round %d: %8.0f req/s  p99 %6.2f ms", target.name, mode, r+1, rps, p99)
				if pid != 0 {
					line += fmt.Sprintf("  proxy cpu %5.1f us/req", perReq/1e3)
				}
				fmt.Println(line)
			}
		}
	}
	med := func(key string) (float64, float64) { return median(res[key].rps), median(res[key].p99) }
	for _, key := range []string{"direct keepalive", "haproxy keepalive", "kumo keepalive", "direct close", "haproxy close", "kumo close"} {
		rps, p99 := med(key)
		fmt.Printf("%-18s %8.0f req/s  p99 %6.2f ms\n", key, rps, p99)
	}

	for _, p := range []struct {
		name string
		c    *child
		port int
	}{{"kumo", kumo, kumoPort}, {"haproxy", haproxy, haproxyPort}} {
		base, at, err := idleMemory(p.c.cmd.Process.Pid, p.port, idleConns)
		if err != nil {
			return fmt.Errorf("%s idle memory: %w", p.name, err)
		}
		per := float64(at-base) / float64(idleConns)
		fmt.Printf("%-8s rss %6.1f MiB idle, %6.1f MiB with %d idle connections: %.1f KiB per connection, %.0f MiB at 10 000\n",
			p.name, mib(base), mib(at), idleConns, per/1024, mib(base+int64(per*10000)))
	}

	kr, kp := med("kumo keepalive")
	hr, hp := med("haproxy keepalive")
	kc, _ := med("kumo close")
	hc, _ := med("haproxy close")
	fmt.Printf("rps_ratio_vs_haproxy=%.2f p99_ratio_vs_haproxy=%.2f close_rps_ratio_vs_haproxy=%.2f\n", kr/hr, kp/hp, kc/hc)
	return nil
}

func self() string {
	exe, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return exe
}

// child is a process of the run, killed at its end.
type child struct {
	name string
	cmd  *exec.Cmd
}

// startChild runs a command and waits for it to print "ready".
func startChild(name string, argv ...string) (*child, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: cmd}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if ok {
			return c, nil
		}
	case <-time.After(20 * time.Second):
	}
	c.stop()
	return nil, fmt.Errorf("%s did not start", name)
}

func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// startHAProxy runs HAProxy in TCP mode over the same two backends, with
// round robin and health checks like kumo's, in the foreground.
func startHAProxy(dir string) (*child, error) {
	cfg := fmt.Sprintf(`global
	maxconn %d
defaults
	mode tcp
	timeout connect 5s
	timeout client 350s
	timeout server 350s
frontend bench
	bind 127.0.0.1:%d
	default_backend backends
backend backends
	balance roundrobin
	server a 127.0.0.1:%d check inter 30s
	server b 127.0.0.1:%d check inter 30s
`, idleConns+50, haproxyPort, backendA, backendB)
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("haproxy", "-db", "-f", path)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("haproxy: %w", err)
	}
	c := &child{name: "haproxy", cmd: cmd}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", haproxyPort)); err == nil {
			conn.Close()
			return c, nil
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("haproxy did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var (
	rpsLine = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p99Line = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
)

// wrk loads a port for the run's duration and returns requests per second
// and the 99th percentile latency in milliseconds.
func wrk(port int, closeEach bool) (rps, p99 float64, err error) {
	args := []string{"-t2", "-c64", fmt.Sprintf("-d%ds", duration), "--latency"}
	if closeEach {
		args = append(args, "-H", "Connection: close")
	}
	args = append(args, fmt.Sprintf("http://127.0.0.1:%d/", port))
	out, err := exec.Command("wrk", args...).CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("wrk: %w: %s", err, out)
	}
	if strings.Contains(string(out), "Non-2xx") || strings.Contains(string(out), "Socket errors") {
		return 0, 0, fmt.Errorf("wrk saw errors:\n%s", out)
	}
	m := rpsLine.FindSubmatch(out)
	l := p99Line.FindSubmatch(out)
	if m == nil || l == nil {
		return 0, 0, fmt.Errorf("cannot read wrk output:\n%s", out)
	}
	rps, _ = strconv.ParseFloat(string(m[1]), 64)
	p99, _ = strconv.ParseFloat(string(l[1]), 64)
	switch string(l[2]) {
	case "us":
		p99 /= 1000
	case "s":
		p99 *= 1000
	}
	return rps, p99, nil
}

// idleMemory opens n connections through a proxy, leaves them idle and
// returns the proxy's resident memory before and with them.
func idleMemory(pid, port, n int) (before, with int64, err error) {
	time.Sleep(time.Second)
	if before, err = rss(pid); err != nil {
		return
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return 0, 0, fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
	}
	// Let the proxy reach the backends for all of them.
	time.Sleep(3 * time.Second)
	with, err = rss(pid)
	return
}

func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kib, err := strconv.ParseInt(f[1], 10, 64)
			return kib * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// cpuTime is a process's user plus system CPU time, in nanoseconds.
func cpuTime(pid int) (int64, error) {
	if pid == 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which may hold spaces, start at ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return (utime + stime) * int64(time.Second) / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc CPU times: 100 on Linux.
const clockTicks = 100

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil && v > 0 {
		return v
	}
	return def
}
