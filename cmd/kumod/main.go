// Command kumod is kumo's server: it opens the state store, connects to the
// local host's hypervisor, makes sure the default image exists, reconciles,
// brings back its load balancers and serves the API. It holds wiring only;
// the behaviour lives in the packages it assembles.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"kumo/api"
	"kumo/hosts"
	"kumo/hypervisor"
	"kumo/hypervisor/libvirt"
	"kumo/images"
	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/ids"
	"kumo/keypairs"
	"kumo/launchtemplates"
	"kumo/loadbalancer/manager"
	"kumo/metrics"
	"kumo/scheduler"
	"kumo/store"
	"kumo/tags"
	"kumo/web/session"
)

type config struct {
	dataDir       string
	listen        string
	libvirtURI    string
	network       string
	accel         string
	imageCache    string
	defaultImage  bool
	stopTimeout   time.Duration
	rebootTimeout time.Duration
	maxInstances  int
	maxPerAccount int
	throttle      bool
	warmTypes     string
	lbBind        string
	dataNetns     string
	region        string
	zone          string
	placement     string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.dataDir, "data-dir", envOr("KUMO_DATA_DIR", "./var"), "where state, images and instance disks live")
	flag.StringVar(&cfg.listen, "listen", envOr("KUMO_LISTEN", "127.0.0.1:8080"), "address of the API")
	flag.StringVar(&cfg.libvirtURI, "libvirt-uri", envOr("KUMO_LIBVIRT_URI", "qemu:///system"), "libvirt URI of the local host")
	flag.StringVar(&cfg.network, "network", "kumo", "libvirt network instances attach to")
	flag.StringVar(&cfg.accel, "accel", "auto", "CPU virtualization: auto, kvm or tcg")
	flag.StringVar(&cfg.imageCache, "image-cache", envOr("KUMO_IMAGE_CACHE", ""), "where the default image is built (default DATA-DIR/cache/kumo-tiny)")
	flag.BoolVar(&cfg.defaultImage, "default-image", true, "build and register the kumo-tiny image at start if it is missing")
	flag.DurationVar(&cfg.stopTimeout, "stop-timeout", 60*time.Second, "how long a guest gets to shut down before it is forced off")
	flag.DurationVar(&cfg.rebootTimeout, "reboot-timeout", 4*time.Minute, "how long a guest gets to restart after a reboot request before it is power-cycled")
	flag.IntVar(&cfg.maxInstances, "max-instances", 64, "limit on live instances")
	flag.BoolVar(&cfg.throttle, "throttle", true, "limit each account's EC2 request rate as EC2 does (RequestLimitExceeded)")
	flag.IntVar(&cfg.maxPerAccount, "max-instances-per-account", 32, "limit on one account's live instances (EC2's instance limit)")
	flag.StringVar(&cfg.warmTypes, "warm-types", "t2.nano,t2.micro", "instance types whose default-image template is built at start, so their first launch is fast (comma-separated; empty for none)")
	flag.StringVar(&cfg.lbBind, "lb-bind", "127.0.0.1", "host address new load balancers bind when they name none")
	flag.StringVar(&cfg.dataNetns, "data-netns", envOr("KUMO_DATA_NETNS", "kumo"), "network namespace of the local host's data plane, where instance addresses are reachable")
	flag.StringVar(&cfg.region, "region", "local", "region name this cloud reports to its guests and clients")
	flag.StringVar(&cfg.zone, "zone", "local-a", "availability zone of the local host")
	flag.StringVar(&cfg.placement, "placement-strategy", string(scheduler.Binpack),
		"how the scheduler picks among the hosts an instance fits on: binpack (the fullest, keeping free space together) or spread (the emptiest)")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("kumod stopped", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	if _, err := netip.ParseAddr(cfg.lbBind); err != nil {
		return fmt.Errorf("--lb-bind: %w", err)
	}
	strategy := scheduler.Strategy(cfg.placement)
	if strategy != scheduler.Binpack && strategy != scheduler.Spread {
		return fmt.Errorf("--placement-strategy: %q is neither binpack nor spread", cfg.placement)
	}
	dataDir, err := filepath.Abs(cfg.dataDir)
	if err != nil {
		return err
	}
	// QEMU runs as its own user and must be able to reach instance disks.
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	st, err := store.Open(ctx, filepath.Join(dataDir, "kumo.db"))
	if err != nil {
		return err
	}
	defer st.Close()

	drv, err := libvirt.New(cfg.libvirtURI, libvirt.Options{Accel: cfg.accel})
	if err != nil {
		return fmt.Errorf("connect to %s: %w", cfg.libvirtURI, err)
	}
	defer drv.Close()
	host, err := drv.Host(ctx)
	if err != nil {
		return err
	}
	log.Info("host", "uri", cfg.libvirtURI, "hostname", host.Hostname, "cpus", host.CPUs, "memory_mib", host.MemoryMiB, "accel", host.Accel)

	clk := clock.Real{}
	keys := keypairs.New(st, clk)
	im, err := images.New(st, filepath.Join(dataDir, "images"), clk, log)
	if err != nil {
		return err
	}
	if cfg.defaultImage {
		cache := cfg.imageCache
		if cache == "" {
			cache = filepath.Join(dataDir, "cache", "kumo-tiny")
		}
		if err := ensureDefaultImage(ctx, im, cache, log); err != nil {
			return fmt.Errorf("default image: %w", err)
		}
	}
	if n, err := im.Sweep(ctx); err != nil {
		log.Warn("sweep image files", "err", err)
	} else if n > 0 {
		log.Info("removed unused image files", "count", n)
	}

	fleet := hosts.New(hosts.Config{}, st, func(uri string) (hypervisor.Driver, error) {
		return libvirt.New(uri, libvirt.Options{Accel: cfg.accel})
	}, clk, log)
	if err := fleet.Open(ctx); err != nil {
		return fmt.Errorf("hosts: %w", err)
	}
	defer fleet.Close()
	local, err := fleet.Ensure(ctx, hosts.RegisterRequest{Name: localHost, URI: cfg.libvirtURI, Zone: cfg.zone, Netns: cfg.dataNetns})
	if err != nil {
		return fmt.Errorf("register the local host: %w", err)
	}
	// Launches right after start need to know the host is up.
	fleet.CheckHealth()

	svc := instances.New(instances.Config{
		DataDir: filepath.Join(dataDir, "instances"), TemplateDir: filepath.Join(dataDir, "templates"),
		Network: cfg.network, Host: local.Name, Capacity: fleetCapacity{fleet: fleet, store: st, strategy: strategy}, Hosts: fleetDrivers{fleet},
		StopTimeout: cfg.stopTimeout, RebootTimeout: cfg.rebootTimeout, MaxInstances: cfg.maxInstances, MaxPerOwner: cfg.maxPerAccount,
	}, st, drv, im, clk, log)
	if err := svc.Open(ctx); err != nil {
		return err
	}
	defer svc.Close()
	md := newMetadataServers(cfg, st, keys, clk, log)
	defer md.close()
	if cfg.dataNetns != "" {
		if err := md.serve(ctx, cfg.dataNetns, drv); err != nil {
			return err
		}
	}
	if err := followHosts(ctx, fleet, svc, md); err != nil {
		return err
	}
	if cfg.defaultImage {
		for _, t := range strings.Split(cfg.warmTypes, ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			if err := svc.Warm(ctx, DefaultImageName, t); err != nil {
				return fmt.Errorf("--warm-types: %w", err)
			}
		}
	}

	// kumo names each instance's domain after the instance id.
	met := metrics.New(st, fleetStats{fleet}, func(domain string) (string, bool) { return domain, ids.Valid("i", domain) }, clk, log)
	metricsCtx, stopMetrics := context.WithCancel(ctx)
	metricsDone := make(chan struct{})
	go func() { defer close(metricsDone); met.Run(metricsCtx) }()
	defer func() { stopMetrics(); <-metricsDone }()
	lbs := manager.New(st, svc, manager.Config{BindAddr: cfg.lbBind, Namespace: cfg.dataNetns}, clk, log)
	if err := lbs.Open(ctx); err != nil {
		return err
	}
	defer lbs.Close()

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	accts, err := openAccounts(ctx, st, dataDir, cfg.region, clk, log)
	if err != nil {
		return err
	}
	auth := ec2Auth{accounts: accts, clock: clk}
	sessions, err := session.Open(dataDir, accts, clk)
	if err != nil {
		return err
	}
	opts := api.Options{EC2Auth: auth, RESTAuth: auth, Hosts: fleet, Region: cfg.region, Zone: cfg.zone, KeyPairs: keys,
		LaunchTemplates: launchtemplates.New(st, clk),
		Tags:            tags.New(st, map[string]tags.Resources{tags.Instance: svc}), Metrics: met,
		Sessions: sessions, Done: ctx.Done()}
	if cfg.throttle {
		opts.Throttle = api.DefaultThrottle
	}
	handler := api.New(svc, im, lbs, log, opts)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Info("kumod ready", "listen", ln.Addr().String(), "data_dir", dataDir)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("kumod stopped")
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
