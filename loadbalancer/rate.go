package loadbalancer

// rateSamples is how many one-second samples a rate is averaged over.
const rateSamples = int(RateWindow / 1e9)

// rateMeter turns a counter sampled once a second into a per-second rate
// over the last RateWindow.
type rateMeter struct {
	samples [rateSamples]int64
	next    int
	filled  int
}

func (m *rateMeter) add(total int64) {
	m.samples[m.next] = total
	m.next = (m.next + 1) % rateSamples
	if m.filled < rateSamples {
		m.filled++
	}
}

// perSecond is the counter's growth per second, from the oldest sample
// kept to total.
func (m *rateMeter) perSecond(total int64) float64 {
	if m.filled == 0 {
		return 0
	}
	oldest := m.samples[(m.next-m.filled+rateSamples)%rateSamples]
	return float64(total-oldest) / float64(m.filled)
}
