package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// escapeKey leaves the console, as in virsh and telnet: Ctrl-].
const escapeKey = 0x1d

// quietAfterInput is how long the guest must stay silent, once piped
// input has ended, before kumo console leaves: long enough for the answer
// to the last line.
const quietAfterInput = 2 * time.Second

func newConsoleCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "console INSTANCE_ID",
		Short: "Attach to the instance's serial console (Ctrl-] leaves)",
		Long: "Attach to the instance's serial console, shared with anyone else watching it.\n" +
			"On a terminal, keys go to the guest as typed and Ctrl-] leaves. With piped input,\n" +
			"the input is typed into the guest and kumo console leaves once the input has ended\n" +
			"and the guest has been quiet for two seconds.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return attachConsole(g.client(), args[0], os.Stdin, os.Stdout, os.Stderr)
		},
	}
}

func attachConsole(c *client, id string, stdin *os.File, stdout, stderr io.Writer) error {
	path := "/api/v1/instances/" + url.PathEscape(id) + "/serial-console"
	req, err := c.signed(http.MethodGet, path, "", nil, payloadHash(nil))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(c.base, "http") + path
	conn, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: req.Header})
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 {
			data, _ := io.ReadAll(resp.Body)
			return errorOf(http.MethodGet, path, resp, data)
		}
		return fmt.Errorf("cannot reach kumod at %s: %w", c.base, err)
	}
	defer conn.CloseNow()

	interactive := term.IsTerminal(int(stdin.Fd()))
	if interactive {
		old, err := term.MakeRaw(int(stdin.Fd()))
		if err != nil {
			return err
		}
		defer term.Restore(int(stdin.Fd()), old)
		fmt.Fprintf(stderr, "Connected to the serial console of %s; Ctrl-] leaves.\r\n", id)
	}

	inputDone := make(chan error, 1)
	go func() { inputDone <- typeInto(ctx, conn, stdin, interactive) }()
	output := make(chan []byte)
	outputDone := make(chan error, 1)
	go func() {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				outputDone <- err
				return
			}
			output <- b
		}
	}()

	var quiet <-chan time.Time // set once piped input has ended
	for {
		select {
		case b := <-output:
			if _, err := stdout.Write(b); err != nil {
				return err
			}
			if quiet != nil {
				quiet = time.After(quietAfterInput)
			}
		case err := <-outputDone:
			if websocket.CloseStatus(err) == websocket.StatusNormalClosure {
				var ce websocket.CloseError
				errors.As(err, &ce)
				fmt.Fprintf(stderr, "\r\n%s\r\n", ce.Reason)
				return nil
			}
			return fmt.Errorf("console of %s: %w", id, err)
		case err := <-inputDone:
			if err != nil {
				return err
			}
			if interactive {
				conn.Close(websocket.StatusNormalClosure, "")
				fmt.Fprint(stderr, "\r\n")
				return nil
			}
			quiet = time.After(quietAfterInput)
		case <-quiet:
			conn.Close(websocket.StatusNormalClosure, "")
			return nil
		}
	}
}

// typeInto sends what is read from in to the console until in ends or,
// on a terminal, until the escape key.
func typeInto(ctx context.Context, conn *websocket.Conn, in io.Reader, interactive bool) error {
	buf := make([]byte, 4096)
	for {
		n, err := in.Read(buf)
		chunk := buf[:n]
		leave := false
		if interactive {
			if i := bytes.IndexByte(chunk, escapeKey); i >= 0 {
				chunk, leave = chunk[:i], true
			}
		}
		if len(chunk) > 0 {
			if werr := conn.Write(ctx, websocket.MessageBinary, chunk); werr != nil {
				return werr
			}
		}
		if leave || err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
