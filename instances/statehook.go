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

// changed tells the registered hooks that id entered state.
func (s *Service) changed(id string, state State) {
	s.mu.Lock()
	hooks := s.stateHooks
	s.mu.Unlock()
	for _, fn := range hooks {
		fn(id, state)
	}
}
