package loadbalancer

import "testing"

// TestHealthMachine walks every row of the health table and the streak
// rules around it, with thresholds 3 (healthy) and 2 (unhealthy).
func TestHealthMachine(t *testing.T) {
	hc := HealthCheck{HealthyThreshold: 3, UnhealthyThreshold: 2}
	pass, fail := checkResult{ok: true}, checkResult{reason: ReasonFailedChecks}
	cases := []struct {
		name    string
		from    Health
		results []checkResult
		want    []Health
	}{
		{"a new target needs one passing check", Initial, []checkResult{pass}, []Health{Healthy}},
		{"a new target fails after the unhealthy threshold", Initial, []checkResult{fail, fail}, []Health{Initial, Unhealthy}},
		{"a pass resets a new target's failures", Initial, []checkResult{fail, pass}, []Health{Initial, Healthy}},
		{"healthy stays through one failure", Healthy, []checkResult{fail, pass, fail}, []Health{Healthy, Healthy, Healthy}},
		{"healthy leaves after two failures in a row", Healthy, []checkResult{fail, fail}, []Health{Healthy, Unhealthy}},
		{"unhealthy needs three passes in a row", Unhealthy, []checkResult{pass, pass, fail, pass, pass, pass}, []Health{Unhealthy, Unhealthy, Unhealthy, Unhealthy, Unhealthy, Healthy}},
		{"unhealthy stays unhealthy on failures", Unhealthy, []checkResult{fail, fail, fail}, []Health{Unhealthy, Unhealthy, Unhealthy}},
		{"unused targets ignore results", Unused, []checkResult{pass, pass, pass, pass}, []Health{Unused, Unused, Unused, Unused}},
		{"draining targets ignore results", Draining, []checkResult{fail, fail, fail}, []Health{Draining, Draining, Draining}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := healthState{state: c.from}
			for i, r := range c.results {
				s = s.observe(r, hc)
				if s.state != c.want[i] {
					t.Fatalf("after result %d (ok=%v): state %s, want %s", i, r.ok, s.state, c.want[i])
				}
			}
		})
	}
}

// TestHealthRulesCoverEveryCheckedState keeps the table complete: each
// state that is checked has a rule for passing and for failing (or keeps
// its state on that outcome by design).
func TestHealthRulesCoverEveryCheckedState(t *testing.T) {
	moves := map[Health]map[bool]Health{}
	for _, r := range healthRules {
		if moves[r.from] == nil {
			moves[r.from] = map[bool]Health{}
		}
		if _, dup := moves[r.from][r.ok]; dup {
			t.Fatalf("two rules for %s ok=%v", r.from, r.ok)
		}
		moves[r.from][r.ok] = r.to
	}
	want := map[Health]map[bool]Health{
		Initial:   {true: Healthy, false: Unhealthy},
		Healthy:   {false: Unhealthy},
		Unhealthy: {true: Healthy},
	}
	for from, outs := range want {
		for ok, to := range outs {
			if moves[from][ok] != to {
				t.Errorf("%s ok=%v goes to %q, want %s", from, ok, moves[from][ok], to)
			}
		}
	}
	if len(moves) != len(want) {
		t.Errorf("rules cover %d states, want %d", len(moves), len(want))
	}
}
