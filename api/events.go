package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"kumo/instances"
)

// The event stream (GET /api/v1/events[?ids=a,b][&snapshot=true]) tells a
// client of its account's instance changes as server-sent events:
// "instance", whose data is the instance as it is just after the change (as
// GET /api/v1/instances/:id answers it, without user data). ids keeps the
// stream to those instances, each the caller's. snapshot starts it with
// "snapshot", the instances as GET /api/v1/instances[?ids=] answers them,
// read once the stream listens, so that no change falls between the two.
// A stream may end whenever its client falls behind; a client reconnects
// and starts from a snapshot again.
const (
	// subscriberBuffer is how many changes may wait for one stream; a
	// client further behind is dropped.
	subscriberBuffer = 256
	// heartbeat is how often an idle stream sends a comment, so proxies
	// and browsers do not take it for dead.
	heartbeat = 15 * time.Second
	// writeTimeout is how long one write to a stream may block.
	writeTimeout = 10 * time.Second
)

// hub hands the ids of instances that changed state to every open stream.
// Its publish is the instance service's state hook, which runs on the
// service's own goroutines: it never blocks, and a stream that cannot take
// more is dropped rather than waited for.
type hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	ids chan string
	// dropped is closed when the hub gave up on the subscriber.
	dropped chan struct{}
}

func newHub() *hub { return &hub{subs: map[*subscriber]struct{}{}} }

func (h *hub) subscribe() *subscriber {
	sub := &subscriber{ids: make(chan string, subscriberBuffer), dropped: make(chan struct{})}
	h.mu.Lock()
	h.subs[sub] = struct{}{}
	h.mu.Unlock()
	return sub
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	delete(h.subs, sub)
	h.mu.Unlock()
}

// publish tells every subscriber that id changed. Which account owns id is
// left to each stream: finding out takes a read of the store, which has no
// place on the caller's goroutine.
func (h *hub) publish(id string, _ instances.State) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		select {
		case sub.ids <- id:
		default:
			delete(h.subs, sub)
			close(sub.dropped)
		}
	}
}

func (s *Server) streamEvents(c echo.Context) error {
	account, ctx := accountOf(c), c.Request().Context()
	var idList []string
	var only map[string]bool
	if q := c.QueryParam("ids"); q != "" {
		idList, only = strings.Split(q, ","), map[string]bool{}
		for _, id := range idList {
			only[id] = true
		}
	}
	sub := s.events.subscribe()
	defer s.events.unsubscribe(sub)
	// Read once subscribed, so that a change is in the snapshot or after
	// it. Without a snapshot ids are read all the same, which checks that
	// each is the caller's.
	var snapshot []byte
	if want := c.QueryParam("snapshot") == "true"; want || only != nil {
		list, err := s.instances.For(account).List(ctx, idList)
		if err != nil {
			return err
		}
		if want {
			if snapshot, err = json.Marshal(viewInstances(list)); err != nil {
				return err
			}
		}
	}

	send := startStream(c.Response())
	// The reconnection delay first: it also flushes the headers, which
	// tells the client that it hears of changes from now on.
	if err := send("retry: 2000\n\n"); err != nil {
		return nil
	}
	if snapshot != nil {
		if err := send("event: snapshot\ndata: %s\n\n", snapshot); err != nil {
			return nil
		}
	}
	beat := s.clock.After(heartbeat)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.done:
			return nil
		case <-sub.dropped:
			return nil
		case <-beat:
			beat = s.clock.After(heartbeat)
			if err := send(": keep-alive\n\n"); err != nil {
				return nil
			}
		case id := <-sub.ids:
			for _, id := range pending(id, sub.ids) {
				if only != nil && !only[id] {
					continue
				}
				data, ok := s.instanceEvent(ctx, account, id)
				if !ok {
					continue
				}
				if err := send("event: instance\ndata: %s\n\n", data); err != nil {
					return nil
				}
			}
		}
	}
}

// startStream answers with an event stream and returns what writes to it.
func startStream(w *echo.Response) func(format string, args ...any) error {
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	return func(format string, args ...any) error {
		// The deadline bounds a write to a client that stopped reading;
		// it is wall-clock time, as the socket's.
		rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return err
		}
		return rc.Flush()
	}
}

// instanceEvent is the data of id's event for account: ok is false when
// id is not, or no longer, account's to hear of.
func (s *Server) instanceEvent(ctx context.Context, account, id string) (data []byte, ok bool) {
	in, err := s.instances.Get(ctx, id)
	if errors.Is(err, instances.ErrNotFound) || err == nil && in.Owner != account {
		return nil, false
	}
	if err == nil {
		data, err = json.Marshal(viewInstance(in))
	}
	if err != nil {
		s.log.Warn("event stream: read instance", "instance", id, "err", err)
		return nil, false
	}
	return data, true
}

// pending is first and the ids already waiting behind it, each once: a
// burst of changes to one instance is sent as its latest state alone.
func pending(first string, more <-chan string) []string {
	out := []string{first}
	seen := map[string]bool{first: true}
	for range subscriberBuffer {
		select {
		case id := <-more:
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		default:
			return out
		}
	}
	return out
}
