package api

import (
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Bucket is one of EC2's request token buckets: Size requests at once, then
// Refill a second.
type Bucket struct {
	Size   int
	Refill float64
}

// Throttle is EC2's request rate limiting: each account has one bucket per
// category of action, and a request finding its bucket empty is answered
// RequestLimitExceeded, which the SDKs back off and retry. The categories
// and defaults are EC2's own.
type Throttle struct {
	Describe Bucket // non-mutating actions (Describe*, Get*)
	Mutate   Bucket // every other action
	Launch   Bucket // RunInstances, which launches real guests
}

// DefaultThrottle is EC2's default request rate limits.
var DefaultThrottle = Throttle{
	Describe: Bucket{Size: 100, Refill: 20},
	Mutate:   Bucket{Size: 200, Refill: 5},
	Launch:   Bucket{Size: 50, Refill: 5},
}

// throttle holds the accounts' buckets. Accounts are few and live long,
// so their buckets are kept for good.
type throttle struct {
	limits Throttle
	now    func() time.Time
	mu     sync.Mutex
	by     map[string]*rate.Limiter // by account and category
}

func newThrottle(limits Throttle, now func() time.Time) *throttle {
	return &throttle{limits: limits, now: now, by: map[string]*rate.Limiter{}}
}

// allow takes a token from the account's bucket for the action.
func (t *throttle) allow(account, action string) bool {
	category, b := "mutate", t.limits.Mutate
	switch {
	case action == "RunInstances":
		category, b = "launch", t.limits.Launch
	case strings.HasPrefix(action, "Describe") || strings.HasPrefix(action, "Get"):
		category, b = "describe", t.limits.Describe
	}
	if b.Size == 0 {
		return true
	}
	key := account + "\x00" + category
	t.mu.Lock()
	l, ok := t.by[key]
	if !ok {
		l = rate.NewLimiter(rate.Limit(b.Refill), b.Size)
		t.by[key] = l
	}
	t.mu.Unlock()
	return l.AllowN(t.now(), 1)
}
