// Package loadbalancer is kumo's L4 data path: TCP listeners that spread
// connections over a set of targets, health checks that take failing
// targets out of rotation, connection draining, and per-target metrics.
//
// It works on addresses and dial functions only. It must not know about the
// state store, instances, hosts or the API: the control plane tells it which
// targets exist, how to reach each one (a dial function that opens sockets
// in the target's network namespace) and whether each is in service.
package loadbalancer
