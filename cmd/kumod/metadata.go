package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"kumo/hypervisor"
	"kumo/internal/clock"
	"kumo/keypairs"
	"kumo/metadata"
	"kumo/store"
)

// serveMetadata runs the instance metadata service for the local host's
// guest network, inside its data-plane namespace, and returns how to stop
// it.
func serveMetadata(ctx context.Context, cfg config, st *store.Store, keys *keypairs.Service, drv hypervisor.Driver, clk clock.Clock, log *slog.Logger) (func(), error) {
	n, err := drv.Network(ctx, cfg.network)
	if err != nil {
		return nil, err
	}
	ln, err := metadata.Listen(cfg.dataNetns, n.Bridge, n.Gateway)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: metadata.New(metadataLookup(cfg, st, keys), clk), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("instance metadata service", "address", metadata.Address, "served_at", ln.Addr().String(), "namespace", cfg.dataNetns)
	return func() { srv.Close() }, nil
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
