package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchFleet is a busy region: n hosts (at least 1 000) of 64 cores and
// 512 GiB in three zones, holding 50 instances of 2 vCPUs and 4 GiB per
// host dealt at random, some of them in a spread, a partition and a
// cluster group.
func benchFleet(n int) []Host {
	r := rand.New(rand.NewPCG(1, 2))
	hosts := make([]Host, n)
	for i := range hosts {
		hosts[i] = Host{
			ID: fmt.Sprintf("h%04d", i), Zone: propZones[i%len(propZones)], Arch: "x86_64", State: HostUp,
			Capacity: Resources{64, 512 * 1024}, Reserved: Resources{2, 8192},
			Groups: map[string]Membership{},
		}
	}
	place := func(h *Host, group string, partition int) {
		h.Used = h.Used.plus(Resources{2, 4096})
		if group != "" {
			m := h.Groups[group]
			h.Groups[group] = Membership{Instances: m.Instances + 1, Partition: partition}
		}
	}
	for range 50 * n {
		place(&hosts[r.IntN(len(hosts))], "", 0)
	}
	for i := range 12 {
		place(&hosts[i*50], "web", 0)
	}
	for i := range 70 {
		place(&hosts[i*13+1], "hdfs", 1+i%MaxPartitions)
	}
	for range 4 {
		place(&hosts[7], "db", 0)
	}
	return hosts
}

// BenchmarkPlace reports ns/op per request and, for requests of several
// instances, ns per instance.
func BenchmarkPlace(b *testing.B) {
	hosts := benchFleet(1000)
	size := Resources{2, 4096}
	cases := []struct {
		name string
		req  Request
	}{
		{"binpack/1", Request{Count: 1, Size: size}},
		{"spread/1", Request{Count: 1, Size: size, Strategy: Spread}},
		{"binpack/100", Request{Count: 100, Size: size}},
		{"spread/100", Request{Count: 100, Size: size, Strategy: Spread}},
		{"zone/100", Request{Count: 100, Size: size, Zone: "local-b"}},
		{"spread-group/7", Request{Count: 7, Size: size, Group: &Group{Name: "web", Strategy: GroupSpread}}},
		{"partition/100", Request{Count: 100, Size: size, Group: &Group{Name: "hdfs", Strategy: GroupPartition, Partitions: MaxPartitions}}},
		{"cluster/10", Request{Count: 10, Size: size, Group: &Group{Name: "db", Strategy: GroupCluster}}},
		{"new-cluster/10", Request{Count: 10, Size: size, Group: &Group{Name: "db2", Strategy: GroupCluster}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if _, err := Place(hosts, c.req); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				Place(hosts, c.req)
			}
			if c.req.Count > 1 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*c.req.Count), "ns/instance")
			}
		})
	}
}
