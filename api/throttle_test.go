package api

import (
	"testing"
	"time"
)

func TestThrottleBucketsPerAccountAndCategory(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	th := newThrottle(Throttle{Describe: Bucket{Size: 3, Refill: 1}, Mutate: Bucket{Size: 2, Refill: 0.5}, Launch: Bucket{Size: 1, Refill: 1}},
		func() time.Time { return now })
	take := func(account, action string, n int) int {
		ok := 0
		for range n {
			if th.allow(account, action) {
				ok++
			}
		}
		return ok
	}
	steps := []struct {
		name            string
		account, action string
		n, want         int
		advance         time.Duration
	}{
		{"describe bucket holds 3", "alice", "DescribeInstances", 5, 3, 0},
		{"Get* shares it", "alice", "GetConsoleOutput", 1, 0, 0},
		{"mutating has its own", "alice", "StopInstances", 3, 2, 0},
		{"launch has its own", "alice", "RunInstances", 2, 1, 0},
		{"another account is untouched", "bob", "DescribeInstances", 3, 3, 0},
		{"a second refills one describe", "alice", "DescribeImages", 2, 1, time.Second},
		{"two seconds refill one mutation", "alice", "TerminateInstances", 2, 1, 2 * time.Second},
		{"the bucket never holds more than its size", "alice", "DescribeRegions", 10, 3, time.Hour},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		if got := take(s.account, s.action, s.n); got != s.want {
			t.Errorf("%s: %d of %d allowed, want %d", s.name, got, s.n, s.want)
		}
	}
	off := newThrottle(Throttle{}, func() time.Time { return now })
	for range 1000 {
		if !off.allow("alice", "RunInstances") {
			t.Fatal("a zero bucket must not throttle")
		}
	}
}
