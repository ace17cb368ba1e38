package instances

import "sort"

// Type is an instance type: a named size.
type Type struct {
	Name      string
	VCPUs     int
	MemoryMiB int
}

// types are sized as EC2's burstable families are.
var types = map[string]Type{
	"t2.nano":   {"t2.nano", 1, 512},
	"t2.micro":  {"t2.micro", 1, 1024},
	"t2.small":  {"t2.small", 1, 2048},
	"t2.medium": {"t2.medium", 2, 4096},
	"t2.large":  {"t2.large", 2, 8192},
	"t3.nano":   {"t3.nano", 2, 512},
	"t3.micro":  {"t3.micro", 2, 1024},
	"t3.small":  {"t3.small", 2, 2048},
	"t3.medium": {"t3.medium", 2, 4096},
	"t3.large":  {"t3.large", 2, 8192},
}

// LookupType returns the type called name.
func LookupType(name string) (Type, bool) {
	t, ok := types[name]
	return t, ok
}

// Types lists every instance type, smallest first.
func Types() []Type {
	out := make([]Type, 0, len(types))
	for _, t := range types {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MemoryMiB != out[j].MemoryMiB {
			return out[i].MemoryMiB < out[j].MemoryMiB
		}
		return out[i].Name < out[j].Name
	})
	return out
}
