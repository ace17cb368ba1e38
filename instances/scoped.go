package instances

import (
	"context"

	"kumo/internal/errs"
	"kumo/store"
)

// Scoped is the service as one account sees it: only that account's
// instances exist. Another account's instance is reported exactly as an
// instance that does not exist, so an id says nothing about who owns it.
type Scoped struct {
	s     *Service
	owner string
}

// For returns the service as account owner sees it.
func (s *Service) For(owner string) Scoped { return Scoped{s: s, owner: owner} }

// Run launches instances owned by the account.
func (v Scoped) Run(ctx context.Context, req RunRequest) ([]Instance, error) {
	req.Owner = v.owner
	return v.s.Run(ctx, req)
}

// List returns the account's instances, all or those with the given ids
// (each must be the account's).
func (v Scoped) List(ctx context.Context, idList []string) ([]Instance, error) {
	if err := v.own(ctx, idList); err != nil {
		return nil, err
	}
	rows, err := v.s.store.Instances(ctx, store.InstanceFilter{IDs: idList, Owner: v.owner})
	if err != nil {
		return nil, err
	}
	out := make([]Instance, len(rows))
	for i, r := range rows {
		out[i] = v.s.view(r)
	}
	return out, nil
}

// Start, Stop, Reboot and Terminate act on the account's instances only.
func (v Scoped) Start(ctx context.Context, ids []string) ([]StateChange, error) {
	if err := v.own(ctx, ids); err != nil {
		return nil, err
	}
	return v.s.Start(ctx, ids)
}

func (v Scoped) Stop(ctx context.Context, ids []string, force bool) ([]StateChange, error) {
	if err := v.own(ctx, ids); err != nil {
		return nil, err
	}
	return v.s.Stop(ctx, ids, force)
}

func (v Scoped) Reboot(ctx context.Context, ids []string) ([]StateChange, error) {
	if err := v.own(ctx, ids); err != nil {
		return nil, err
	}
	return v.s.Reboot(ctx, ids)
}

func (v Scoped) Terminate(ctx context.Context, ids []string) ([]StateChange, error) {
	if err := v.own(ctx, ids); err != nil {
		return nil, err
	}
	return v.s.Terminate(ctx, ids)
}

// Get returns one of the account's instances.
func (v Scoped) Get(ctx context.Context, id string) (Instance, error) {
	if err := v.own(ctx, []string{id}); err != nil {
		return Instance{}, err
	}
	return v.s.Get(ctx, id)
}

// ConsoleLog returns what one of the account's instances wrote to its
// serial console.
func (v Scoped) ConsoleLog(ctx context.Context, id string) ([]byte, error) {
	if err := v.own(ctx, []string{id}); err != nil {
		return nil, err
	}
	return v.s.ConsoleLog(ctx, id)
}

// CreateImage saves one of the account's instances as an image it owns.
func (v Scoped) CreateImage(ctx context.Context, id string, req ImageRequest) (store.Image, error) {
	if err := v.own(ctx, []string{id}); err != nil {
		return store.Image{}, err
	}
	return v.s.CreateImage(ctx, id, req)
}

// own checks that every id names one of the account's instances. An
// instance never changes owner, so the check cannot go stale before the
// action it guards.
func (v Scoped) own(ctx context.Context, idList []string) error {
	for _, id := range idList {
		in, err := v.s.get(ctx, id)
		if err != nil {
			return err
		}
		if in.Owner != v.owner {
			return errs.New(ErrNotFound, "the instance ID '%s' does not exist", id)
		}
	}
	return nil
}
