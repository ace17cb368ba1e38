package api

import (
	"context"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"
)

// The serial console (GET /api/v1/instances/:id/serial-console) is a
// websocket on an instance's serial line: binary or text messages from the
// client are typed into the guest, binary messages to it are what the
// guest prints, starting with its recent output. The server closes with
// status 1000 and the reason when the console ends (the instance stopped,
// the viewer fell behind, kumod is shutting down). A serial line carries
// no window size: a terminal that resizes only reflows on its side.
//
// The handshake is checked as any REST request (signature or session);
// the Origin check of the websocket library keeps other sites from
// opening one with a browser's session cookie, which a GET would
// otherwise carry without a CSRF token.

// consoleInputLimit bounds one message from the client: keystrokes and
// pasted lines, not files.
const consoleInputLimit = 64 << 10

func (s *Server) serialConsole(c echo.Context) error {
	viewer, err := s.instances.For(accountOf(c)).Console(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	defer viewer.Close()
	conn, err := websocket.Accept(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // Accept has answered the client
	}
	defer conn.CloseNow()
	conn.SetReadLimit(consoleInputLimit)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
		case <-ctx.Done():
		}
		cancel()
	}()
	go func() {
		defer cancel()
		for {
			_, msg, err := conn.Read(ctx)
			if err != nil {
				return
			}
			if _, err := viewer.Write(msg); err != nil {
				conn.Close(websocket.StatusInternalError, "the guest takes no input: "+err.Error())
				return
			}
		}
	}()
	for {
		select {
		case chunk, ok := <-viewer.Output():
			if !ok {
				conn.Close(websocket.StatusNormalClosure, closeReason(viewer.Err()))
				return nil
			}
			if err := conn.Write(ctx, websocket.MessageBinary, chunk); err != nil {
				return nil
			}
		case <-ctx.Done():
			conn.Close(websocket.StatusGoingAway, "the console connection ended")
			return nil
		}
	}
}

// closeReason fits a close frame, which holds at most 123 bytes of text.
func closeReason(err error) string {
	msg := "the viewer left"
	if err != nil {
		msg = err.Error()
	}
	return msg[:min(len(msg), 123)]
}
