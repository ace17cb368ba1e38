package scheduler

// filter rules a host out for the whole request, saying why, or returns "".
// Filters look only at what placing the request cannot change, so they run
// once per host, not once per instance.
type filter func(h *Host, req *Request) Reason

// filters run in order; the first reason found is the one reported.
var filters = []filter{byState, byZone, byArch}

func byState(h *Host, _ *Request) Reason {
	switch h.State {
	case HostUp:
		return ""
	case HostDraining:
		return ReasonDraining
	}
	// A state the scheduler does not know is treated as down: placing on
	// a host nobody vouches for would strand the instance.
	return ReasonDown
}

func byZone(h *Host, req *Request) Reason {
	if req.Zone != "" && h.Zone != req.Zone {
		return ReasonZone
	}
	return ""
}

// byArch holds both the instance type's and the image's architecture:
// validate has made sure they agree. The image's memory minimum is a
// property of the instance, not the host, so validate checks it instead.
func byArch(h *Host, req *Request) Reason {
	if a := req.arch(); a != "" && h.Arch != a {
		return ReasonArch
	}
	return ""
}

func runFilters(h *Host, req *Request) Reason {
	for _, f := range filters {
		if r := f(h, req); r != "" {
			return r
		}
	}
	return ""
}

// short says which resource n lacks to take size more, or "" if it fits.
func (n *node) short(size Resources) Reason {
	after := n.used.plus(size)
	switch {
	case after.VCPUs > n.limit.VCPUs:
		return ReasonCPU
	case after.MemoryMiB > n.limit.MemoryMiB:
		return ReasonMemory
	}
	return ""
}
