package instances

// OnStateChange registers fn to hear of every state an instance enters,
// once the store has recorded it: a new instance as pending, then each move.
// It may be called at any time; fn hears of the changes recorded after it
// is registered. fn runs on the goroutine that made the change, so it must
// return promptly and must not call back into actions of this service.
// Changes of one instance made on different goroutines may be heard out of
// order: a listener that needs the latest state reads it again.
func (s *Service) OnStateChange(fn func(id string, state State)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stateHooks = append(s.stateHooks, fn)
}

// changed gives back the capacity of an instance that stopped or
// terminated, and tells the registered hooks and the watchers of id that
// id entered state.
func (s *Service) changed(id string, state State) {
	if !holdsCapacity(state) {
		if err := s.capacity.Release(s.ctx, id); err != nil {
			s.log.Error("release capacity", "instance", id, "state", state, "err", err)
		}
	}
	s.mu.Lock()
	hooks := s.stateHooks
	for ch := range s.watchers[id] {
		select {
		case ch <- state:
		default: // a watcher re-reads the state; a full channel has news already
		}
	}
	s.mu.Unlock()
	for _, fn := range hooks {
		fn(id, state)
	}
}

// watch tells of the states id enters from now on, until stop is called.
func (s *Service) watch(id string) (states <-chan State, stop func()) {
	ch := make(chan State, 1)
	s.mu.Lock()
	if s.watchers[id] == nil {
		s.watchers[id] = map[chan State]bool{}
	}
	s.watchers[id][ch] = true
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.watchers[id], ch)
		if len(s.watchers[id]) == 0 {
			delete(s.watchers, id)
		}
		s.mu.Unlock()
	}
}
