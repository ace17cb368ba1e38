package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"kumo/internal/clock"
	"kumo/loadbalancer"
)

// body is what each backend answers: small, like an API response.
var body = []byte("hello from a backend\n")

// serveBackends serves HTTP on each port given, until killed.
func serveBackends(ports []string) error {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	for _, p := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			return err
		}
		go (&http.Server{Handler: h, ErrorLog: nil}).Serve(ln)
	}
	fmt.Println("ready")
	waitForSignal()
	return nil
}

// serveProxy runs a kumo load balancer: port, then target ports.
func serveProxy(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("proxy: want PORT TARGET_PORT...")
	}
	port, err := strconv.Atoi(args[0])
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lb, err := loadbalancer.New(loadbalancer.Config{ID: "lb-bench", Listeners: []loadbalancer.Listener{{Port: port, TargetPort: 80}}}, clock.Real{}, log)
	if err != nil {
		return err
	}
	defer lb.Close()
	for _, p := range args[1:] {
		n, err := strconv.Atoi(p)
		if err != nil {
			return err
		}
		ap := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(n))
		if err := lb.Register(loadbalancer.Target{ID: ap.String(), Addr: ap.Addr(), Port: n}); err != nil {
			return err
		}
	}
	for deadline := time.Now().Add(10 * time.Second); lb.Stats().HealthyTargets < len(args)-1; {
		if time.Now().After(deadline) {
			return fmt.Errorf("proxy: targets not healthy: %+v", lb.Stats().Targets)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if path := os.Getenv("BENCH_LB_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	fmt.Println("ready")
	waitForSignal()
	return nil
}

func waitForSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
}
