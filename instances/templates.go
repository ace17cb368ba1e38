package instances

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kumo/hypervisor"
	"kumo/store"
)

// A template is the saved memory of a guest that has booted as far as it
// can without knowing who it is, and waits on its identity port. Launching
// an instance restores a copy of it and writes the instance's identity,
// which skips the boot: under TCG that turns seconds into a fraction of one.
// Templates are a cache: anything wrong with one is fixed by booting
// instead and building it again.

// templateVersion changes whenever domainSpec or the identity protocol
// change in a way that makes saved templates unusable, or when saving
// changes in a way that makes older templates worth building again
// (2: without the zero pages of guest RAM).
const templateVersion = 2

const (
	templatePrefix = "kumo-template-"
	// templateMAC is the address the template's NIC is saved with; every
	// restored copy's guest replaces it with its own.
	templateMAC = "52:54:00:00:00:01"
	// templateBootTimeout bounds how long a template guest may take to
	// reach its identity port; an image that never does gets no template.
	templateBootTimeout = 2 * time.Minute
	// identityTimeout bounds how long a restored or rebooted guest may take
	// to open its identity port.
	identityTimeout = 60 * time.Second
	// identityQuiet is how long after answering a guest it is not answered
	// again: QEMU reports a port's state at most once a second, so for a
	// moment after the guest closed its port it still looks open. A guest
	// that reboots takes longer than this to ask again.
	identityQuiet = 3 * time.Second
)

func templateKey(im store.Image, typ Type) string {
	return fmt.Sprintf("%s-%dc-%dm-v%d", im.ID, typ.VCPUs, typ.MemoryMiB, templateVersion)
}

func (s *Service) templateMemory(key string) string {
	return filepath.Join(s.cfg.TemplateDir, key, "memory.save")
}

// warmCapable reports whether instances of im can start from templates:
// the host must be able to save and restore memory and to write to
// channels, and the image must boot a kernel that reads kumo.* keys.
func (s *Service) warmCapable(im store.Image) bool {
	_, snap := s.driver.(hypervisor.MemorySnapshotter)
	_, chw := s.driver.(hypervisor.ChannelWriter)
	return snap && chw && s.cfg.TemplateDir != "" && im.Kernel != ""
}

// readyTemplate returns the saved memory to restore an instance of im and
// typ from, or "" when there is none yet; then it starts building one.
func (s *Service) readyTemplate(im store.Image, typ Type) string {
	if !s.warmCapable(im) {
		return ""
	}
	key := templateKey(im, typ)
	path := s.templateMemory(key)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	s.buildTemplateAsync(im, typ)
	return ""
}

// discardTemplate deletes a template that failed to restore, so the next
// launch builds a fresh one.
func (s *Service) discardTemplate(key string) {
	os.RemoveAll(filepath.Join(s.cfg.TemplateDir, key))
}

// Warm builds the template for instances of image and type in the
// background, so that the first launch is already fast.
func (s *Service) Warm(ctx context.Context, image, typeName string) error {
	im, err := s.images.Resolve(ctx, image)
	if err != nil {
		return err
	}
	typ, ok := LookupType(typeName)
	if !ok {
		return fmt.Errorf("unknown instance type %q", typeName)
	}
	s.readyTemplate(im, typ)
	return nil
}

func (s *Service) buildTemplateAsync(im store.Image, typ Type) {
	key := templateKey(im, typ)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.building[key] || s.failedTemplates[key] {
		return
	}
	s.building[key] = s.spawnLocked(func() {
		start := s.clock.Now()
		err := s.buildTemplate(s.ctx, im, typ, key)
		s.mu.Lock()
		delete(s.building, key)
		if err != nil && s.ctx.Err() == nil {
			s.failedTemplates[key] = true
		}
		s.mu.Unlock()
		if err != nil {
			s.log.Warn("no template: instances will boot", "template", key, "err", err)
			return
		}
		s.log.Info("template ready", "template", key, "took", s.clock.Now().Sub(start).Round(time.Millisecond))
	})
}

// buildTemplate boots a guest that waits for its identity, then saves it.
func (s *Service) buildTemplate(ctx context.Context, im store.Image, typ Type, key string) error {
	snap := s.driver.(hypervisor.MemorySnapshotter)
	chw := s.driver.(hypervisor.ChannelWriter)
	dir := filepath.Join(s.cfg.TemplateDir, key)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := templatePrefix + key
	f := files{root: filepath.Join(dir, "root.qcow2"), seed: filepath.Join(dir, "seed.tar"), console: filepath.Join(dir, "console.log")}
	if im.Disk != "" {
		if err := createRoot(ctx, f.root, s.images.Blobs().Path(im.Disk), im.DiskFormat); err != nil {
			return err
		}
	}
	if err := createSeed(f.seed, name, nil); err != nil {
		return err
	}
	sp := s.domainSpec(name, typ, im, f, hypervisor.NIC{MAC: templateMAC, Network: s.cfg.Network}, "kumo.wait=identity")
	if err := s.driver.Define(ctx, sp); err != nil {
		return err
	}
	defer func() {
		s.driver.Destroy(context.WithoutCancel(ctx), name)
		s.driver.Undefine(context.WithoutCancel(ctx), name)
		os.Remove(f.root)
		os.Remove(f.seed)
	}()
	if err := s.driver.Start(ctx, name); err != nil {
		return err
	}
	if err := s.waitChannel(ctx, chw, name, templateBootTimeout); err != nil {
		return fmt.Errorf("the guest never asked for its identity: %w", err)
	}
	return snap.SaveMemory(ctx, name, s.templateMemory(key))
}

// waitChannel waits until the guest opens its identity port.
func (s *Service) waitChannel(ctx context.Context, chw hypervisor.ChannelWriter, name string, timeout time.Duration) error {
	deadline := s.clock.Now().Add(timeout)
	for {
		ok, err := chw.ChannelConnected(ctx, name, identityChannel)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if s.clock.Now().After(deadline) {
			return fmt.Errorf("port %s still closed after %s", identityChannel, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.clock.After(50 * time.Millisecond):
		}
	}
}

// restoreFromTemplate starts the defined domain of in from a template and
// tells the guest who it is. On failure the domain is left off, so the
// caller can boot it instead.
func (s *Service) restoreFromTemplate(ctx context.Context, in store.Instance, sp hypervisor.Spec, net hypervisor.Network, path string) error {
	snap := s.driver.(hypervisor.MemorySnapshotter)
	chw := s.driver.(hypervisor.ChannelWriter)
	start := time.Now()
	if err := s.restoreOne(ctx, snap, path, sp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	restored := time.Now()
	err := s.waitChannel(ctx, chw, in.ID, identityTimeout)
	if err == nil {
		err = chw.WriteChannel(ctx, in.ID, identityChannel, s.identityLine(in, net))
	}
	if err != nil {
		s.driver.Destroy(context.WithoutCancel(ctx), in.ID)
		return fmt.Errorf("identity: %w", err)
	}
	s.answered(in.ID)
	s.log.Info("restore timing", "instance", in.ID, "restore", restored.Sub(start).Round(time.Millisecond),
		"identity", time.Since(restored).Round(time.Millisecond))
	return nil
}

// restoreOne restores one guest at a time per CPU: restores started all
// at once share the CPUs, so none finishes before all are nearly done,
// while one after another each guest comes up as early as it can.
func (s *Service) restoreOne(ctx context.Context, snap hypervisor.MemorySnapshotter, path string, sp hypervisor.Spec) error {
	select {
	case s.restoreSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.restoreSlots }()
	return snap.RestoreMemory(ctx, path, sp)
}

// answered records that the guest was just told its identity.
func (s *Service) answered(id string) {
	s.mu.Lock()
	s.lastAnswer[id] = s.clock.Now()
	s.mu.Unlock()
}

func (s *Service) answeredRecently(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.Now().Sub(s.lastAnswer[id]) < identityQuiet
}

// offerIdentity answers a guest that waits for its identity: a restored
// copy after a reboot (its kernel command line is the template's), or one
// whose launch was cut short between restore and identity by a crash.
func (s *Service) offerIdentity(ctx context.Context, drv hypervisor.Driver, in store.Instance) error {
	chw, ok := drv.(hypervisor.ChannelWriter)
	if !ok || s.answeredRecently(in.ID) {
		return nil
	}
	waiting, err := chw.ChannelConnected(ctx, in.ID, identityChannel)
	if err != nil || !waiting {
		return nil // no such channel, or nobody listening: nothing to answer
	}
	net, err := drv.Network(ctx, in.Network)
	if err != nil {
		return err
	}
	s.log.Info("sending identity to waiting guest", "instance", in.ID)
	if err := chw.WriteChannel(ctx, in.ID, identityChannel, s.identityLine(in, net)); err != nil {
		return err
	}
	s.answered(in.ID)
	return nil
}

// watchReboot waits for a rebooted guest to ask for its identity, for a
// while: a guest booted from its own command line never asks.
func (s *Service) watchReboot(host, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watching[id] {
		return
	}
	s.watching[id] = s.spawnLocked(func() {
		defer func() {
			s.mu.Lock()
			delete(s.watching, id)
			s.mu.Unlock()
		}()
		drv, err := s.driverOf(host)
		if err != nil {
			return
		}
		chw, ok := drv.(hypervisor.ChannelWriter)
		if !ok || s.waitChannel(s.ctx, chw, id, identityTimeout) != nil {
			return
		}
		if in, err := s.store.Instance(s.ctx, id); err == nil && State(in.State) == Running {
			if err := s.offerIdentity(s.ctx, drv, in); err != nil {
				s.log.Warn("identity after reboot", "instance", id, "err", err)
			}
		}
	})
}

// removeStaleTemplates deletes templates of images that are gone, of older
// template versions, and half-built ones.
func (s *Service) removeStaleTemplates(ctx context.Context) {
	if s.cfg.TemplateDir == "" {
		return
	}
	entries, err := os.ReadDir(s.cfg.TemplateDir)
	if err != nil {
		return
	}
	available := map[string]bool{}
	if list, err := s.images.List(ctx); err == nil {
		for _, im := range list {
			available[im.ID] = true
		}
	}
	for _, e := range entries {
		key := e.Name()
		s.mu.Lock()
		busy := s.building[key]
		s.mu.Unlock()
		if busy {
			continue
		}
		image := key[:min(len(key), len("ami-")+17)]
		_, err := os.Stat(s.templateMemory(key))
		if !available[image] || !strings.HasSuffix(key, fmt.Sprintf("-v%d", templateVersion)) || errors.Is(err, os.ErrNotExist) {
			os.RemoveAll(filepath.Join(s.cfg.TemplateDir, key))
		}
	}
}
