package manager

import (
	"context"

	"kumo/loadbalancer"
)

// Scoped is the manager as one account sees it: only that account's load
// balancers exist, and names are unique among them. Another account's load
// balancer is reported exactly as one that does not exist, so a name or an
// id says nothing about who owns it. Ports are the host's, not the
// account's: one held by another account's load balancer is refused all
// the same.
//
// The administrator's view, owner "", sees every load balancer by id and
// in lists, and by name those of no account, which it creates.
type Scoped struct {
	m     *Manager
	owner string
}

// For returns the manager as account owner sees it.
func (m *Manager) For(owner string) Scoped { return Scoped{m: m, owner: owner} }

// sees says whether the account may see a load balancer or instance of
// owner.
func (v Scoped) sees(owner string) bool { return v.owner == "" || owner == v.owner }

// Create, Get, List, Update, Delete, Register and Deregister on the
// manager itself act as the administrator, For("").
func (m *Manager) Create(ctx context.Context, cfg loadbalancer.Config) (LoadBalancer, error) {
	return m.For("").Create(ctx, cfg)
}

func (m *Manager) Get(ctx context.Context, ref string) (LoadBalancer, error) {
	return m.For("").Get(ctx, ref)
}

func (m *Manager) List(ctx context.Context) ([]LoadBalancer, error) { return m.For("").List(ctx) }

func (m *Manager) Update(ctx context.Context, ref string, change func(*loadbalancer.Config) error) (LoadBalancer, error) {
	return m.For("").Update(ctx, ref, change)
}

func (m *Manager) Delete(ctx context.Context, ref string) error { return m.For("").Delete(ctx, ref) }

func (m *Manager) Register(ctx context.Context, ref string, targets []string) error {
	return m.For("").Register(ctx, ref, targets)
}

func (m *Manager) Deregister(ctx context.Context, ref string, targets []string) error {
	return m.For("").Deregister(ctx, ref, targets)
}
