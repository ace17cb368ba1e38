package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"kumo/hypervisor"
	"kumo/internal/clock"
	"kumo/keypairs"
	"kumo/metadata"
	"kumo/store"
)

// metadataServers run the instance metadata service on each host's guest
// network, inside the host's data-plane namespace: guests reach
// 169.254.169.254 on their own host, as on a real cloud, whatever joins
// the host to kumod.
type metadataServers struct {
	network string
	handler http.Handler
	log     *slog.Logger

	mu      sync.Mutex
	servers map[string]*http.Server // by namespace
}

func newMetadataServers(cfg config, st *store.Store, keys *keypairs.Service, clk clock.Clock, log *slog.Logger) *metadataServers {
	return &metadataServers{network: cfg.network, handler: metadata.New(metadataLookup(cfg, st, keys), clk), log: log,
		servers: map[string]*http.Server{}}
}

// serve starts the service in namespace ns, on the network of the host
// drv drives, unless it runs there already.
func (m *metadataServers) serve(ctx context.Context, ns string, drv hypervisor.Driver) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.servers[ns] != nil {
		return nil
	}
	n, err := drv.Network(ctx, m.network)
	if err != nil {
		return err
	}
	ln, err := metadata.Listen(ns, n.Bridge, n.Gateway)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: m.handler, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	m.servers[ns] = srv
	m.log.Info("instance metadata service", "address", metadata.Address, "served_at", ln.Addr().String(), "namespace", ns)
	return nil
}

func (m *metadataServers) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, srv := range m.servers {
		srv.Close()
	}
}

// metadataLookup finds the instance at an address on the local network
// with what its guest is told: among it, the key pair it was launched with.
// A key pair deleted since, or made anew under its name, is served no more
// (keypairs.LaunchedWith says why); the key stays in the guest that
// installed it.
func metadataLookup(cfg config, st *store.Store, keys *keypairs.Service) metadata.Lookup {
	return func(ctx context.Context, ip netip.Addr) (metadata.Instance, error) {
		in, err := st.InstanceByAddress(ctx, cfg.network, ip.String())
		if errors.Is(err, store.ErrNotFound) {
			return metadata.Instance{}, metadata.ErrUnknownAddress
		}
		if err != nil {
			return metadata.Instance{}, err
		}
		md := metadata.Instance{
			ID: in.ID, ImageID: in.ImageID, Type: in.Type, PrivateIP: in.PrivateIP, MAC: in.MAC,
			Region: cfg.region, Zone: cfg.zone, LaunchedAt: in.LaunchedAt, UserData: in.UserData,
		}
		if in.KeyName == "" {
			return md, nil
		}
		k, err := keys.LaunchedWith(ctx, in.Owner, in.KeyName, in.LaunchedAt)
		switch {
		case err == nil:
			md.PublicKeys = []metadata.PublicKey{{Name: k.Name, OpenSSH: k.OpenSSH()}}
		case !errors.Is(err, keypairs.ErrNotFound):
			return metadata.Instance{}, err
		}
		return md, nil
	}
}
