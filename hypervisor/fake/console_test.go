package fake

import (
	"context"
	"errors"
	"io"
	"testing"

	"kumo/hypervisor"
)

func TestConsoleShellAndEnd(t *testing.T) {
	ctx := context.Background()
	d := New(Options{})
	d.Define(ctx, hypervisor.Spec{Name: "g"})
	if _, err := d.OpenConsole(ctx, "g"); !errors.Is(err, hypervisor.ErrInvalidState) {
		t.Fatalf("console of a stopped domain: %v, want ErrInvalidState", err)
	}
	d.Start(ctx, "g")
	c, err := d.OpenConsole(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("echo hix\x7f\r"))
	d.PrintConsole("g", "!")
	d.Destroy(ctx, "g")
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := "echo hix\b \b\r\nhi\r\n" + Prompt + "!"; string(got) != want {
		t.Errorf("console printed %q, want %q", got, want)
	}
}
