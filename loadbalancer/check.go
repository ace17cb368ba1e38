package loadbalancer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"time"
)

// checkLoop probes a target now and then every interval until the target
// is removed. Unused and draining targets are left alone.
func (b *Balancer) checkLoop(t *target) {
	defer b.wg.Done()
	for {
		b.mu.Lock()
		hc, port, state := b.cfg.Health, b.trafficPortLocked(), t.health.state
		b.mu.Unlock()
		if state != Unused && state != Draining {
			r := check(t, hc, port)
			b.observe(t, r, hc)
		}
		select {
		case <-t.stopped:
			return
		case <-t.wake:
		case <-b.clk.After(hc.Interval):
		}
	}
}

// wakeChecks makes a target's health check run now.
func (b *Balancer) wakeChecks(t *target) {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// observe feeds a check result to the target's health state machine.
func (b *Balancer) observe(t *target, r checkResult, hc HealthCheck) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.targets[t.ID] != t || t.health.state == Unused || t.health.state == Draining {
		return
	}
	next := t.health.observe(r, hc)
	reason, detail := t.reason, t.detail
	switch {
	case next.state == Healthy:
		reason, detail = "", ""
	case next.state == Unhealthy && next.state != t.health.state:
		reason, detail = r.reason, r.detail
	case next.state == Unhealthy && !r.ok:
		reason, detail = r.reason, r.detail
	}
	b.transitionLocked(t, next, reason, detail)
}

// check probes a target once: a TCP connect or an HTTP GET, within the
// health check's timeout.
func check(t *target, hc HealthCheck, trafficPort int) checkResult {
	addr := t.addrFor(trafficPort)
	if hc.Port != 0 {
		addr = netip.AddrPortFrom(t.Addr, uint16(hc.Port))
	}
	c, err := t.dial(hc.Timeout, addr)
	if err != nil {
		return failure(err)
	}
	defer c.Close()
	if hc.Protocol != "HTTP" {
		return checkResult{ok: true}
	}
	c.SetDeadline(time.Now().Add(hc.Timeout))
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: kumo-health-check\r\nConnection: close\r\n\r\n", hc.Path, addr)
	if _, err := c.Write([]byte(req)); err != nil {
		return failure(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return failure(err)
	}
	resp.Body.Close()
	ranges, _ := parseMatcher(hc.Matcher)
	if !matches(ranges, resp.StatusCode) {
		return checkResult{reason: ReasonResponseMismatch, detail: fmt.Sprintf("Health checks failed with these codes: [%d]", resp.StatusCode)}
	}
	return checkResult{ok: true}
}

func failure(err error) checkResult {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return checkResult{reason: ReasonTimeout, detail: "Request timed out"}
	}
	return checkResult{reason: ReasonFailedChecks, detail: err.Error()}
}
