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
	"kumo/metadata"
	"kumo/store"
)

// serveMetadata runs the instance metadata service for the local host's
// guest network, inside its data-plane namespace, and returns how to stop
// it.
func serveMetadata(ctx context.Context, cfg config, st *store.Store, drv hypervisor.Driver, clk clock.Clock, log *slog.Logger) (func(), error) {
	n, err := drv.Network(ctx, cfg.network)
	if err != nil {
		return nil, err
	}
	ln, err := metadata.Listen(cfg.dataNetns, n.Bridge, n.Gateway)
	if err != nil {
		return nil, err
	}
	lookup := func(ctx context.Context, ip netip.Addr) (metadata.Instance, error) {
		in, err := st.InstanceByAddress(ctx, cfg.network, ip.String())
		if errors.Is(err, store.ErrNotFound) {
			return metadata.Instance{}, metadata.ErrUnknownAddress
		}
		if err != nil {
			return metadata.Instance{}, err
		}
		return metadata.Instance{
			ID: in.ID, ImageID: in.ImageID, Type: in.Type, PrivateIP: in.PrivateIP, MAC: in.MAC,
			Region: cfg.region, Zone: cfg.zone, LaunchedAt: in.LaunchedAt, UserData: in.UserData,
		}, nil
	}
	srv := &http.Server{Handler: metadata.New(lookup, clk), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("instance metadata service", "address", metadata.Address, "served_at", ln.Addr().String(), "namespace", cfg.dataNetns)
	return func() { srv.Close() }, nil
}
