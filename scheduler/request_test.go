package scheduler

import (
	"errors"
	"testing"

	"kumo/internal/errs"
)

// TestValidate lists the requests no fleet could satisfy: each must fail
// as invalid, naming the field at fault, before any host is looked at.
func TestValidate(t *testing.T) {
	partition := func(k int) *Group { return &Group{Name: "p", Strategy: GroupPartition, Partitions: k} }
	cases := []struct {
		name  string
		req   Request
		field string // "" when the request is valid
	}{
		{"plain", Request{Count: 1, Size: Resources{1, 1}}, ""},
		{"zero instances", Request{Count: 0, Size: Resources{1, 512}}, "Count"},
		{"no vCPU", Request{Count: 1, Size: Resources{0, 512}}, "Size"},
		{"no memory", Request{Count: 1, Size: Resources{1, 0}}, "Size"},
		{"unknown strategy", Request{Count: 1, Size: Resources{1, 512}, Strategy: "random"}, "Strategy"},
		{"spread strategy", Request{Count: 1, Size: Resources{1, 512}, Strategy: Spread}, ""},
		{"instance type and image disagree on architecture", Request{Count: 1, Size: Resources{1, 512}, Arch: "aarch64", Image: ImageRequirements{Arch: "x86_64"}}, "Arch"},
		{"image needs more memory", Request{Count: 1, Size: Resources{1, 512}, Image: ImageRequirements{MinMemoryMiB: 1024}}, "Size"},
		{"image needs exactly the memory", Request{Count: 1, Size: Resources{1, 1024}, Image: ImageRequirements{MinMemoryMiB: 1024}}, ""},
		{"partition without group", Request{Count: 1, Size: Resources{1, 512}, Partition: 1}, "Partition"},
		{"group without name", Request{Count: 1, Size: Resources{1, 512}, Group: &Group{Strategy: GroupSpread}}, "Group"},
		{"unknown group strategy", Request{Count: 1, Size: Resources{1, 512}, Group: &Group{Name: "g", Strategy: "ring"}}, "Group"},
		{"partition number in a cluster group", Request{Count: 1, Size: Resources{1, 512}, Group: &Group{Name: "c", Strategy: GroupCluster}, Partition: 1}, "Partition"},
		{"no partitions", Request{Count: 1, Size: Resources{1, 512}, Group: partition(0)}, "Group"},
		{"eight partitions", Request{Count: 1, Size: Resources{1, 512}, Group: partition(8)}, "Group"},
		{"seven partitions", Request{Count: 1, Size: Resources{1, 512}, Group: partition(7)}, ""},
		{"partition past the last", Request{Count: 1, Size: Resources{1, 512}, Group: partition(3), Partition: 4}, "Partition"},
		{"negative partition", Request{Count: 1, Size: Resources{1, 512}, Group: partition(3), Partition: -1}, "Partition"},
		{"last partition", Request{Count: 1, Size: Resources{1, 512}, Group: partition(3), Partition: 3}, ""},
	}
	hosts := []Host{up("a", 64, 65536)}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Place(hosts, c.req)
			if c.field == "" {
				if err != nil {
					t.Fatalf("valid request refused: %v", err)
				}
				return
			}
			var ire *InvalidRequestError
			if !errors.As(err, &ire) {
				t.Fatalf("error %v (%T), want *InvalidRequestError", err, err)
			}
			if ire.Field != c.field {
				t.Errorf("field %q, want %q (%v)", ire.Field, c.field, err)
			}
			if !errors.Is(err, errs.InvalidParameter) {
				t.Error("does not wrap errs.InvalidParameter")
			}
			if got != nil {
				t.Errorf("assignments %v with the error", got)
			}
		})
	}
}
