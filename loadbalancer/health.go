package loadbalancer

// Health is a target's state, named as AWS target groups name them.
type Health string

const (
	Initial   Health = "initial"   // registered, waiting for its first check
	Healthy   Health = "healthy"   // in rotation
	Unhealthy Health = "unhealthy" // failed UnhealthyThreshold checks in a row
	Unused    Health = "unused"    // the instance is not running
	Draining  Health = "draining"  // deregistered, open connections finishing
)

// Reason codes, as AWS reports them beside the state.
const (
	ReasonInitialChecking  = "Elb.InitialHealthChecking"
	ReasonTimeout          = "Target.Timeout"
	ReasonResponseMismatch = "Target.ResponseCodeMismatch"
	ReasonFailedChecks     = "Target.FailedHealthChecks"
	ReasonInvalidState     = "Target.InvalidState"
	ReasonDeregistering    = "Target.DeregistrationInProgress"
)

// checkResult is the outcome of one health check.
type checkResult struct {
	ok     bool
	reason string // why it failed, one of the Reason codes
	detail string // for people: the error or the status seen
}

// healthState is where a target stands in the health state machine: its
// state and how many checks in a row have disagreed with it.
type healthState struct {
	state  Health
	streak int
}

// healthRule is one row of the health state machine: in state from, a
// check with outcome ok moves the target to state to once streak
// consecutive such outcomes were seen. A zero streak means "at once".
type healthRule struct {
	from   Health
	ok     bool
	to     Health
	streak func(HealthCheck) int
}

func one(HealthCheck) int              { return 1 }
func healthyAfter(h HealthCheck) int   { return h.HealthyThreshold }
func unhealthyAfter(h HealthCheck) int { return h.UnhealthyThreshold }

// healthRules is the whole machine. A new target needs one passing check
// to enter rotation (as on AWS); leaving it, or coming back after being
// unhealthy, takes the configured thresholds. Unused and draining targets
// are not checked, so they have no rows.
var healthRules = []healthRule{
	{Initial, true, Healthy, one},
	{Initial, false, Unhealthy, unhealthyAfter},
	{Healthy, false, Unhealthy, unhealthyAfter},
	{Unhealthy, true, Healthy, healthyAfter},
}

// observe returns the state after one more check result.
func (s healthState) observe(r checkResult, hc HealthCheck) healthState {
	for _, rule := range healthRules {
		if rule.from != s.state || rule.ok != r.ok {
			continue
		}
		if s.streak+1 >= rule.streak(hc) {
			return healthState{state: rule.to}
		}
		return healthState{state: s.state, streak: s.streak + 1}
	}
	// The result agrees with the state: any streak against it is broken.
	return healthState{state: s.state}
}
