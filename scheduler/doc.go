// Package scheduler decides where instances go. Given a snapshot of the
// hosts and a request for N instances, Place returns one host per instance,
// or a typed error saying why there is none. It owns the placement rules:
// host filters, overcommit and reservations, the binpack and spread
// strategies, and EC2's placement groups (cluster, spread, partition).
//
// It is a pure function of its arguments: it reads nothing but the snapshot
// it is handed and writes nothing, so the caller can hold its own lock or
// transaction around "read usage, place, record the plan". It must not know
// libvirt, the store or HTTP; its errors wrap kumo/internal/errs kinds so
// the API edge maps them without new rules. It imports only the standard
// library and kumo/internal/errs.
package scheduler
