package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"kumo/api/wire"
	"kumo/internal/clock"
)

// sseMessage is one message of an event stream: an event, or a comment
// (event "comment") or the stream's end (event "end").
type sseMessage struct{ event, data string }

// openEvents opens the browser's event stream, with query, and returns
// its messages once the stream has said it is open.
func openEvents(t *testing.T, b *browser, query string) <-chan sseMessage {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", b.base+"/api/v1/events"+query, nil)
	resp, err := b.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseMessage, 100)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var m sseMessage
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m != (sseMessage{}) {
					out <- m
				}
				m = sseMessage{}
			case strings.HasPrefix(line, ":"):
				m = sseMessage{event: "comment", data: strings.TrimSpace(line[1:])}
			case strings.HasPrefix(line, "retry: "):
				m = sseMessage{event: "retry"}
			default:
				k, v, _ := strings.Cut(line, ": ")
				if k == "event" {
					m.event = v
				} else if k == "data" {
					m.data = v
				}
			}
		}
		out <- sseMessage{event: "end"}
	}()
	if m := nextMessage(t, out); m.event != "retry" {
		t.Fatalf("the stream opened with %+v", m)
	}
	return out
}

func nextMessage(t *testing.T, msgs <-chan sseMessage) sseMessage {
	t.Helper()
	select {
	case m := <-msgs:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message on the event stream for 10 s")
		return sseMessage{}
	}
}

func TestEventsCarryOnlyTheCallersChanges(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	alice, bob := c.browser(t), c.browser(t)
	alice.signIn(c.alice)
	bob.signIn(c.bob)
	events := openEvents(t, alice, "")

	bobs := c.launch(t, bob)
	mine := c.launch(t, alice)
	seen := map[string]bool{}
	for !seen["running"] {
		m := nextMessage(t, events)
		if m.event != "instance" {
			t.Fatalf("unexpected %+v", m)
		}
		var in wire.Instance
		if err := json.Unmarshal([]byte(m.data), &in); err != nil {
			t.Fatal(err)
		}
		if in.ID != mine {
			t.Fatalf("alice heard of %s (bob's is %s)", in.ID, bobs)
		}
		seen[in.State.Name] = true
	}
	if status := alice.api("POST", "/instances/"+mine+"/stop", nil, nil, nil); status != 200 {
		t.Fatalf("stop: %d", status)
	}
	for {
		var in wire.Instance
		json.Unmarshal([]byte(nextMessage(t, events).data), &in)
		if in.ID != mine {
			t.Fatalf("alice heard of %s", in.ID)
		}
		if in.State.Name == "stopped" {
			break
		}
	}
}

func TestEventsStartFromASnapshot(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	b := c.browser(t)
	b.signIn(c.alice)
	first, second := c.launch(t, b), c.launch(t, b)
	for _, tc := range []struct {
		query string
		want  []string
	}{{"?snapshot=true", []string{first, second}}, {"?snapshot=true&ids=" + second, []string{second}}} {
		m := nextMessage(t, openEvents(t, b, tc.query))
		var snap wire.Instances
		if err := json.Unmarshal([]byte(m.data), &snap); m.event != "snapshot" || err != nil {
			t.Fatalf("%s: %+v (%v)", tc.query, m, err)
		}
		var got []string
		for _, in := range snap.Instances {
			got = append(got, in.ID)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: snapshot of %v, want %v", tc.query, got, tc.want)
		}
	}

	// A stream of some ids hears of those only.
	events := openEvents(t, b, "?ids="+second)
	for _, id := range []string{first, second} {
		if status := b.api("POST", "/instances/"+id+"/terminate", nil, nil, nil); status != 200 {
			t.Fatalf("terminate: %d", status)
		}
	}
	var in wire.Instance
	json.Unmarshal([]byte(nextMessage(t, events).data), &in)
	if in.ID != second {
		t.Fatalf("a stream of %s heard of %s", second, in.ID)
	}

	var doc errDoc
	bob := c.browser(t)
	bob.signIn(c.bob)
	if status := bob.api("GET", "/events?ids="+first, nil, nil, &doc); status != http.StatusNotFound || doc.Error.Code != "InvalidInstanceID.NotFound" {
		t.Fatalf("bob streams alice's instance: %d %+v", status, doc)
	}
}

func TestEventsHubDropsSlowSubscribers(t *testing.T) {
	h := newHub()
	slow, quick := h.subscribe(), h.subscribe()
	// publish runs on the instance service's goroutines: it returns at
	// once however full the queues are, and drops a subscriber whose
	// queue is.
	for i := range subscriberBuffer {
		h.publish(fmt.Sprintf("i-%017x", i), "running")
	}
	for range subscriberBuffer {
		<-quick.ids
	}
	h.publish("i-0000000000000ffff", "running")
	select {
	case <-slow.dropped:
	default:
		t.Fatal("a subscriber that stopped reading was kept")
	}
	select {
	case <-quick.dropped:
		t.Fatal("a subscriber that kept up was dropped")
	case id := <-quick.ids:
		if id != "i-0000000000000ffff" {
			t.Fatalf("quick heard %s", id)
		}
	}
	h.publish("i-0000000000000fffe", "running") // not again to a dropped one
	h.mu.Lock()
	n := len(h.subs)
	h.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d subscribers left, want 1", n)
	}
	h.unsubscribe(slow) // after a drop, as the stream's handler does
}

func TestEventsHeartbeat(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	c := newConsoleAPI(t, Options{Clock: clk})
	b := c.browser(t)
	b.signIn(c.alice)
	events := openEvents(t, b, "")
	// The stream may not have asked the clock for its first beat yet:
	// move on until it has.
	for range 100 {
		clk.Advance(heartbeat)
		select {
		case m := <-events:
			if m.event != "comment" || m.data != "keep-alive" {
				t.Fatalf("unexpected %+v", m)
			}
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("no heartbeat")
}

func TestEventsEndWhenTheServerStops(t *testing.T) {
	done := make(chan struct{})
	c := newConsoleAPI(t, Options{Done: done})
	b := c.browser(t)
	b.signIn(c.alice)
	events := openEvents(t, b, "")
	close(done)
	if m := nextMessage(t, events); m.event != "end" {
		t.Fatalf("unexpected %+v", m)
	}
}
