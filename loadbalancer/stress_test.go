package loadbalancer

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"kumo/internal/clock"
)

// echoServer returns everything it reads and half-closes when the client
// does.
func echoServer(t *testing.T) Target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	return Target{ID: ap.String(), Addr: ap.Addr(), Port: int(ap.Port())}
}

// TestManyConnectionsCarryEveryByte pushes payloads of many sizes both ways
// through the balancer at once, so partial writes, back-pressure and the
// move to splice all happen, and checks each stream arrives whole.
func TestManyConnectionsCarryEveryByte(t *testing.T) {
	tcp := HealthCheck{Protocol: "TCP", Interval: time.Second, Timeout: 500 * time.Millisecond}
	lb, addr := startLB(t, Config{Health: tcp}, clock.Real{}, echoServer(t), echoServer(t))
	eventually(t, 5*time.Second, "healthy", func() bool { return countIn(lb, Healthy) == 2 })

	const conns = 64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	var total int64
	var mu sync.Mutex
	for i := 0; i < conns; i++ {
		size := []int{1, 100, 16 << 10, 16<<10 + 1, 300 << 10, 2 << 20}[i%6] + rand.IntN(50)
		mu.Lock()
		total += int64(size)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := make([]byte, size)
			for j := range payload {
				payload[j] = byte(rand.IntN(256))
			}
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			go func() {
				c.Write(payload)
				c.(*net.TCPConn).CloseWrite()
			}()
			got, err := io.ReadAll(c)
			if err != nil {
				errs <- err
				return
			}
			if sha256.Sum256(got) != sha256.Sum256(payload) {
				errs <- fmt.Errorf("echoed stream differs: sent %d bytes, got %d", len(payload), len(got))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	eventually(t, 5*time.Second, "connections closed", func() bool { return lb.Stats().ActiveConnections == 0 })
	st := lb.Stats()
	if st.BytesIn != total || st.BytesOut != total {
		t.Fatalf("bytes in %d out %d, want %d both ways", st.BytesIn, st.BytesOut, total)
	}
}
