package main

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"kumo/api/wire"
)

func newLBCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "lb", Short: "Manage load balancers: TCP listeners spreading connections over instances and addresses"}
	cmd.AddCommand(
		newLBCreateCmd(g), newLBListCmd(g), newLBDescribeCmd(g), newLBSetCmd(g),
		newLBTargetsCmd(g, "register", "targets", "Add targets (instance ids or ADDRESS:PORT) to a load balancer"),
		newLBTargetsCmd(g, "deregister", "targets/deregister", "Remove targets from a load balancer; their connections drain"),
		&cobra.Command{
			Use: "rm NAME", Aliases: []string{"delete"}, Short: "Delete a load balancer", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := g.client().do("DELETE", lbPath(args[0]), nil, nil); err != nil {
					return err
				}
				fmt.Println(args[0], "deleted")
				return nil
			},
		},
	)
	return cmd
}

func lbPath(ref string) string { return "/api/v1/load-balancers/" + url.PathEscape(ref) }

// lbFlags are the settings create and set share. Only the flags given on
// the command line are sent: the server keeps (or defaults) the others.
type lbFlags struct {
	listen                                   []string
	bind, algorithm, protocol, path, matcher string
	healthPort, healthy, unhealthy           int
	interval, timeout, deregistrationDelay   time.Duration
	idleTimeout, connectTimeout              time.Duration
	proxyProtocol                            bool
}

func (f *lbFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringArrayVar(&f.listen, "listen", nil, "a listener, FRONT_PORT:TARGET_PORT or PORT (repeat for more; on set, replaces them all)")
	fs.StringVar(&f.bind, "bind", "", "host address the listeners bind (default: kumod's --lb-bind)")
	fs.StringVar(&f.algorithm, "algorithm", "", "round_robin, least_connections or source_hash (default round_robin)")
	fs.StringVar(&f.protocol, "health-check", "", "health check protocol: tcp or http (default tcp)")
	fs.StringVar(&f.path, "health-path", "", "path an http health check requests (default /)")
	fs.IntVar(&f.healthPort, "health-port", 0, "port health checks probe (0: the traffic port)")
	fs.StringVar(&f.matcher, "matcher", "", "HTTP codes that count as healthy, like 200 or 200-399 (default 200-399)")
	fs.DurationVar(&f.interval, "interval", 0, "time between health checks, whole seconds (default 30s)")
	fs.DurationVar(&f.timeout, "timeout", 0, "health check timeout, whole seconds (default 10s for tcp, 6s for http)")
	fs.IntVar(&f.healthy, "healthy-threshold", 0, "passing checks in a row that bring an unhealthy target back (default 5)")
	fs.IntVar(&f.unhealthy, "unhealthy-threshold", 0, "failing checks in a row that take a target out (default 2)")
	fs.DurationVar(&f.deregistrationDelay, "deregistration-delay", 0, "how long a deregistered target's connections may drain, whole seconds (default 300s)")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 0, "closes connections idle this long, whole seconds (default 350s)")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 0, "bound on each attempt to reach a target, whole milliseconds (default 5s)")
	fs.BoolVar(&f.proxyProtocol, "proxy-protocol", false, "send targets a PROXY protocol v2 header with the client's address")
}

// request turns the flags given on the command line into a request.
func (f *lbFlags) request(cmd *cobra.Command) (wire.LoadBalancerRequest, error) {
	var req wire.LoadBalancerRequest
	var hc wire.HealthCheckSettings
	for _, l := range f.listen {
		ln, err := parseListener(l)
		if err != nil {
			return req, err
		}
		req.Listeners = append(req.Listeners, ln)
	}
	ifGiven(cmd, "bind", f.bind, &req.BindAddr)
	ifGiven(cmd, "algorithm", f.algorithm, &req.Algorithm)
	ifGiven(cmd, "proxy-protocol", f.proxyProtocol, &req.ProxyProtocol)
	ifGiven(cmd, "health-check", f.protocol, &hc.Protocol)
	ifGiven(cmd, "health-path", f.path, &hc.Path)
	ifGiven(cmd, "health-port", f.healthPort, &hc.Port)
	ifGiven(cmd, "matcher", f.matcher, &hc.Matcher)
	ifGiven(cmd, "healthy-threshold", f.healthy, &hc.HealthyThreshold)
	ifGiven(cmd, "unhealthy-threshold", f.unhealthy, &hc.UnhealthyThreshold)
	for _, d := range []struct {
		flag    string
		v, unit time.Duration
		dst     **int
	}{
		{"interval", f.interval, time.Second, &hc.IntervalSeconds},
		{"timeout", f.timeout, time.Second, &hc.TimeoutSeconds},
		{"deregistration-delay", f.deregistrationDelay, time.Second, &req.DeregistrationDelaySeconds},
		{"idle-timeout", f.idleTimeout, time.Second, &req.IdleTimeoutSeconds},
		{"connect-timeout", f.connectTimeout, time.Millisecond, &req.ConnectTimeoutMS},
	} {
		if d.v%d.unit != 0 {
			return req, fmt.Errorf("--%s %s is not a whole number of %s", d.flag, d.v, d.unit)
		}
		ifGiven(cmd, d.flag, int(d.v/d.unit), d.dst)
	}
	if hc != (wire.HealthCheckSettings{}) {
		req.HealthCheck = &hc
	}
	return req, nil
}

// ifGiven points dst at v when the flag called name was given on the
// command line.
func ifGiven[T any](cmd *cobra.Command, name string, v T, dst **T) {
	if cmd.Flags().Changed(name) {
		*dst = &v
	}
}

// parseListener reads FRONT_PORT:TARGET_PORT, or PORT for the same port on
// both sides. The server checks the ranges.
func parseListener(s string) (wire.Listener, error) {
	front, back, found := strings.Cut(s, ":")
	if !found {
		back = front
	}
	f, err1 := strconv.Atoi(front)
	b, err2 := strconv.Atoi(back)
	if err1 != nil || err2 != nil {
		return wire.Listener{}, fmt.Errorf("--listen %q is not PORT or FRONT_PORT:TARGET_PORT", s)
	}
	return wire.Listener{Port: f, TargetPort: b}, nil
}

func newLBCreateCmd(g *globals) *cobra.Command {
	var f lbFlags
	var name string
	cmd := &cobra.Command{
		Use:   "create --name NAME --listen FRONT_PORT:TARGET_PORT [--listen ...] [flags]",
		Short: "Create a load balancer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := f.request(cmd)
			if err != nil {
				return err
			}
			req.Name = &name
			var lb wire.LoadBalancer
			if err := g.client().do("POST", "/api/v1/load-balancers", req, &lb); err != nil {
				return err
			}
			return printLBs(g, []wire.LoadBalancer{lb})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "name of the load balancer")
	f.register(cmd)
	return cmd
}

func newLBSetCmd(g *globals) *cobra.Command {
	var f lbFlags
	cmd := &cobra.Command{
		Use:   "set NAME [flags]",
		Short: "Change a load balancer's settings; flags left out keep their values",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := f.request(cmd)
			if err != nil {
				return err
			}
			var lb wire.LoadBalancer
			if err := g.client().do("PATCH", lbPath(args[0]), req, &lb); err != nil {
				return err
			}
			return printLBs(g, []wire.LoadBalancer{lb})
		},
	}
	f.register(cmd)
	return cmd
}

func newLBListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List load balancers", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out wire.LoadBalancers
			if err := g.client().do("GET", "/api/v1/load-balancers", nil, &out); err != nil {
				return err
			}
			return printLBs(g, out.LoadBalancers)
		},
	}
}

func printLBs(g *globals, list []wire.LoadBalancer) error {
	if g.json {
		return printJSON(wire.LoadBalancers{LoadBalancers: list})
	}
	rows := make([][]string, len(list))
	for i, lb := range list {
		rows[i] = []string{lb.ID, lb.Name, lb.State, listeners(lb),
			fmt.Sprintf("%d/%d", lb.Stats.HealthyTargets, len(lb.Stats.Targets)), fmt.Sprint(lb.Stats.ActiveConnections)}
	}
	table(os.Stdout, []string{"ID", "NAME", "STATE", "LISTENERS", "HEALTHY", "ACTIVE"}, rows)
	return nil
}

func listeners(lb wire.LoadBalancer) string {
	out := make([]string, len(lb.Listeners))
	for i, l := range lb.Listeners {
		out[i] = fmt.Sprintf("%d:%d", l.Port, l.TargetPort)
	}
	return strings.Join(out, ",")
}

func newLBDescribeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "describe NAME", Short: "Show a load balancer, its targets' health and its metrics", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var lb wire.LoadBalancer
			if err := g.client().do("GET", lbPath(args[0]), nil, &lb); err != nil {
				return err
			}
			if g.json {
				return printJSON(lb)
			}
			describeLB(lb)
			return nil
		},
	}
}

func describeLB(lb wire.LoadBalancer) {
	h, st := lb.HealthCheck, lb.Stats
	check := h.Protocol
	if h.Port != 0 {
		check += fmt.Sprintf(" port %d", h.Port)
	}
	if h.Protocol == "HTTP" {
		check += fmt.Sprintf(" %s expecting %s", h.Path, h.Matcher)
	}
	check += fmt.Sprintf(", every %ds, timeout %ds, healthy after %d, unhealthy after %d",
		h.IntervalSeconds, h.TimeoutSeconds, h.HealthyThreshold, h.UnhealthyThreshold)
	state := lb.State
	if lb.StateReason != "" {
		state += ": " + lb.StateReason
	}
	table(os.Stdout, []string{"ATTRIBUTE", "VALUE"}, [][]string{
		{"id", lb.ID}, {"name", lb.Name}, {"state", state}, {"bind", lb.BindAddr}, {"listeners", listeners(lb)},
		{"algorithm", lb.Algorithm}, {"health check", check},
		{"deregistration delay", fmt.Sprintf("%ds", lb.DeregistrationDelaySeconds)},
		{"idle timeout", fmt.Sprintf("%ds", lb.IdleTimeoutSeconds)},
		{"connect timeout", fmt.Sprintf("%dms", lb.ConnectTimeoutMS)},
		{"proxy protocol", fmt.Sprint(lb.ProxyProtocol)},
		{"connections", fmt.Sprintf("%d active, %d new (%.1f/s), %d rejected",
			st.ActiveConnections, st.NewConnections, st.NewConnectionsPerSec, st.RejectedConnections)},
		{"bytes", fmt.Sprintf("%s in, %s out", humanBytes(st.BytesIn), humanBytes(st.BytesOut))},
		{"created", lb.CreatedAt.Local().Format(time.RFC3339)},
	})
	fmt.Println()
	printTargets(st.Targets)
	if len(st.Events) > 0 {
		fmt.Println()
		events := st.Events[max(0, len(st.Events)-10):]
		rows := make([][]string, len(events))
		for i, e := range events {
			rows[i] = []string{e.At.Local().Format(time.TimeOnly), e.Target, e.From + " -> " + e.To, e.Reason}
		}
		table(os.Stdout, []string{"HEALTH CHANGED", "TARGET", "STATE", "REASON"}, rows)
	}
}

func printTargets(targets []wire.TargetHealth) {
	rows := make([][]string, len(targets))
	for i, t := range targets {
		reason := t.Reason
		if t.Description != "" {
			reason = strings.TrimSpace(reason + " (" + t.Description + ")")
		}
		rows[i] = []string{t.ID, t.Addr, t.State, reason, fmt.Sprint(t.ActiveConnections),
			fmt.Sprintf("%.1f", t.NewConnectionsPerSec), humanBytes(t.BytesIn), humanBytes(t.BytesOut)}
	}
	table(os.Stdout, []string{"TARGET", "ADDRESS", "STATE", "REASON", "ACTIVE", "NEW/S", "BYTES IN", "BYTES OUT"}, rows)
}

// newLBTargetsCmd registers or deregisters targets, then shows them.
func newLBTargetsCmd(g *globals, verb, path, short string) *cobra.Command {
	return &cobra.Command{
		Use: verb + " NAME TARGET...", Short: short, Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var lb wire.LoadBalancer
			if err := g.client().do("POST", lbPath(args[0])+"/"+path, wire.TargetsRequest{Targets: args[1:]}, &lb); err != nil {
				return err
			}
			if g.json {
				return printJSON(lb)
			}
			printTargets(lb.Stats.Targets)
			return nil
		},
	}
}
