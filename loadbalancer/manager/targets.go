package manager

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"kumo/instances"
	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/loadbalancer"
	"kumo/store"
)

// Register adds targets to one of the account's load balancers, all or
// none. Each is one of the account's instances ("i-...") or, for the
// administrator only, ADDRESS:PORT. An instance that is not running is
// registered out of service until it runs.
func (v Scoped) Register(ctx context.Context, ref string, targets []string) error {
	if len(targets) == 0 {
		return errs.New(errs.MissingParameter, "at least one target is required")
	}
	m := v.m
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := v.resolve(ctx, ref)
	if err != nil {
		return err
	}
	var live []loadbalancer.Target
	var rows []store.Target
	seen := map[string]bool{}
	for _, spec := range targets {
		t, row, err := v.lookupTarget(ctx, spec)
		if err != nil {
			return err
		}
		if seen[t.ID] {
			continue
		}
		seen[t.ID] = true
		live, rows = append(live, t), append(rows, row)
	}
	if err := m.store.AddTargets(ctx, r.ID, rows); err != nil {
		return err
	}
	if b := m.running[r.ID]; b != nil {
		for _, t := range live {
			if err := b.Register(t); err != nil {
				m.log.Error("register target", "lb", r.ID, "target", t.ID, "err", err)
			}
		}
	}
	m.log.Info("targets registered", "lb", r.ID, "targets", len(live))
	return nil
}

// Deregister removes targets from one of the account's load balancers, all
// or none. Their open connections may finish within the deregistration
// delay.
func (v Scoped) Deregister(ctx context.Context, ref string, targets []string) error {
	if len(targets) == 0 {
		return errs.New(errs.MissingParameter, "at least one target is required")
	}
	m := v.m
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := v.resolve(ctx, ref)
	if err != nil {
		return err
	}
	registered, err := m.store.Targets(ctx, r.ID)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, t := range registered {
		known[t.ID] = true
	}
	var idList []string
	for _, spec := range targets {
		id, err := targetID(spec)
		if err != nil {
			return err
		}
		if !known[id] {
			return errs.New(ErrTargetNotRegistered, "target '%s' is not registered with load balancer '%s'", id, r.Name)
		}
		if !slices.Contains(idList, id) {
			idList = append(idList, id)
		}
	}
	if err := m.store.RemoveTargets(ctx, r.ID, idList); err != nil {
		return err
	}
	if b := m.running[r.ID]; b != nil {
		for _, id := range idList {
			if err := b.Deregister(id); err != nil && !errors.Is(err, loadbalancer.ErrTargetNotFound) {
				m.log.Error("deregister target", "lb", r.ID, "target", id, "err", err)
			}
		}
	}
	m.log.Info("targets deregistered", "lb", r.ID, "targets", len(idList))
	return nil
}

// targetID reads a target as given by a caller into its canonical id.
func targetID(spec string) (string, error) {
	instance, ap, err := parseTarget(spec)
	if instance != "" || err != nil {
		return instance, err
	}
	return ap.String(), nil
}

// parseTarget reads a target as given by a caller: an instance id, or an
// address and port. Addresses that can never be a host's (unspecified,
// multicast) are refused, as are zones, which name interfaces of the root
// namespace.
func parseTarget(spec string) (instance string, ap netip.AddrPort, err error) {
	if strings.HasPrefix(spec, "i-") {
		if !ids.Valid("i", spec) {
			return "", ap, errs.New(ErrInvalidTarget, "target '%s' is not a valid instance id", spec)
		}
		return spec, ap, nil
	}
	ap, err = netip.ParseAddrPort(spec)
	if err != nil {
		return "", ap, errs.New(ErrInvalidTarget, "target '%s' is neither an instance id (i-...) nor ADDRESS:PORT", spec)
	}
	a := ap.Addr().Unmap()
	if ap.Port() == 0 || a.IsUnspecified() || a.IsMulticast() || a.Zone() != "" {
		return "", ap, errs.New(ErrInvalidTarget, "target '%s' needs a unicast address without zone and a port from 1 to 65535", spec)
	}
	return "", netip.AddrPortFrom(a, ap.Port()), nil
}

// lookupTarget resolves a target given by the account into what the data
// path and the store need.
func (v Scoped) lookupTarget(ctx context.Context, spec string) (loadbalancer.Target, store.Target, error) {
	m := v.m
	now := m.clk.Now()
	id, ap, err := parseTarget(spec)
	if err != nil {
		return loadbalancer.Target{}, store.Target{}, err
	}
	if id == "" {
		// An address reaches whatever the data plane or kumod's own
		// loopback does, other accounts' instances included.
		if v.owner != "" {
			return loadbalancer.Target{}, store.Target{}, errs.New(ErrInvalidTarget,
				"target '%s' is an address; only the administrator registers addresses, an account registers its instances", spec)
		}
		t, err := m.addressTarget(ap)
		return t, store.Target{ID: t.ID, Kind: store.TargetIP, Addr: t.Addr.String(), Port: t.Port, RegisteredAt: now}, err
	}
	in, err := m.inst.Get(ctx, id)
	if errors.Is(err, instances.ErrNotFound) || err == nil && !v.sees(in.Owner) {
		return loadbalancer.Target{}, store.Target{}, errs.New(ErrInvalidTarget, "instance '%s' does not exist", id)
	}
	if err != nil {
		return loadbalancer.Target{}, store.Target{}, err
	}
	if in.State == instances.ShuttingDown || in.State == instances.Terminated {
		return loadbalancer.Target{}, store.Target{}, errs.New(ErrInvalidTarget, "instance '%s' is %s and cannot be registered", id, in.State)
	}
	t, err := m.instanceTarget(in)
	return t, store.Target{ID: id, Kind: store.TargetInstance, Addr: t.Addr.String(), RegisteredAt: now}, err
}

// addressTarget reaches an address target at its own port: a loopback
// address from kumod's own namespace, any other from the data plane's.
func (m *Manager) addressTarget(ap netip.AddrPort) (loadbalancer.Target, error) {
	t := loadbalancer.Target{ID: ap.String(), Addr: ap.Addr(), Port: int(ap.Port())}
	if !t.Addr.IsLoopback() {
		t.Netns = m.cfg.Namespace
	}
	return t, reachable(t)
}

// reachable refuses a target that would be dialled outside loopback from
// kumod's own namespace: kumod never connects to the outside from there.
func reachable(t loadbalancer.Target) error {
	if t.Netns == "" && !t.Addr.IsLoopback() {
		return errs.New(ErrInvalidTarget, "target '%s' at %s is unreachable: no data-plane network namespace is configured", t.ID, t.Addr)
	}
	return nil
}

// instanceTarget reaches an instance at its private address, from inside
// the data plane's namespace, on the listeners' target ports. It is out of
// service while the instance does not run.
func (m *Manager) instanceTarget(in instances.Instance) (loadbalancer.Target, error) {
	addr, err := netip.ParseAddr(in.PrivateIP)
	if err != nil {
		return loadbalancer.Target{}, errs.New(ErrInvalidTarget, "instance '%s' has no private address", in.ID)
	}
	t := loadbalancer.Target{ID: in.ID, Addr: addr, Netns: m.cfg.Namespace, Unused: unusedReason(in.State)}
	return t, reachable(t)
}

// unusedReason says why an instance in state takes no traffic, as AWS
// says it; empty when it runs.
func unusedReason(state instances.State) string {
	if state == instances.Running {
		return ""
	}
	return fmt.Sprintf("Target is in the %s state", state)
}

// restoreTargetLocked gives a running balancer a stored target. An
// instance that is gone by now is deregistered.
func (m *Manager) restoreTargetLocked(ctx context.Context, b *loadbalancer.Balancer, row store.Target) {
	t, err := m.storedTarget(ctx, row)
	if errors.Is(err, instances.ErrNotFound) {
		m.forgetInstanceLocked(ctx, b, row.LoadBalancerID, row.ID)
		return
	}
	if err == nil {
		err = b.Register(t)
	}
	if err != nil {
		m.log.Error("restore target", "lb", row.LoadBalancerID, "target", row.ID, "err", err)
	}
}

// storedTarget is how the data path reaches a stored target now; an
// instance that is terminated counts as not found.
func (m *Manager) storedTarget(ctx context.Context, row store.Target) (loadbalancer.Target, error) {
	if row.Kind != store.TargetInstance {
		_, ap, err := parseTarget(row.ID)
		if err != nil {
			return loadbalancer.Target{}, err
		}
		return m.addressTarget(ap)
	}
	in, err := m.inst.Get(ctx, row.ID)
	if err != nil {
		return loadbalancer.Target{}, err
	}
	if in.State == instances.Terminated {
		return loadbalancer.Target{}, fmt.Errorf("instance %s is terminated: %w", in.ID, instances.ErrNotFound)
	}
	return m.instanceTarget(in)
}

// instanceChanged follows an instance's state into every load balancer it
// is registered with. Notifications may arrive out of order, so the state
// is read again rather than taken from the notification.
func (m *Manager) instanceChanged(id string, _ instances.State) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	lbIDs, err := m.store.LoadBalancersOfInstance(m.ctx, id)
	if err != nil || len(lbIDs) == 0 {
		if err != nil {
			m.log.Error("follow instance state", "instance", id, "err", err)
		}
		return
	}
	in, err := m.inst.Get(m.ctx, id)
	gone := errors.Is(err, instances.ErrNotFound) || err == nil && in.State == instances.Terminated
	if err != nil && !gone {
		m.log.Error("follow instance state", "instance", id, "err", err)
		return
	}
	for _, lbID := range lbIDs {
		b := m.running[lbID]
		if gone {
			m.forgetInstanceLocked(m.ctx, b, lbID, id)
			continue
		}
		if b == nil {
			continue
		}
		err := b.SetUnused(id, unusedReason(in.State))
		if errors.Is(err, loadbalancer.ErrTargetNotFound) {
			// Its restore failed; it can be reached now.
			var t loadbalancer.Target
			if t, err = m.instanceTarget(in); err == nil {
				err = b.Register(t)
			}
		}
		if err != nil {
			m.log.Error("follow instance state", "lb", lbID, "instance", id, "err", err)
		}
	}
}

// forgetInstanceLocked deregisters an instance that no longer exists, in
// the store and in its running balancer (b, when there is one).
func (m *Manager) forgetInstanceLocked(ctx context.Context, b *loadbalancer.Balancer, lbID, id string) {
	if err := m.store.RemoveTargets(ctx, lbID, []string{id}); err != nil && !errors.Is(err, store.ErrNotFound) {
		m.log.Error("deregister terminated instance", "lb", lbID, "instance", id, "err", err)
		return
	}
	if b != nil {
		if err := b.Deregister(id); err != nil && !errors.Is(err, loadbalancer.ErrTargetNotFound) {
			m.log.Error("deregister terminated instance", "lb", lbID, "instance", id, "err", err)
		}
	}
	m.log.Info("terminated instance deregistered", "lb", lbID, "instance", id)
}
