package libvirt

import (
	"testing"

	lv "libvirt.org/go/libvirt"

	"kumo/hypervisor"
)

func TestTranslate(t *testing.T) {
	got := translate("i-1", lv.DOMAIN_EVENT_STOPPED, int(lv.DOMAIN_EVENT_STOPPED_FAILED))
	want := []hypervisor.Event{
		{Name: "i-1", Kind: hypervisor.EventCrashed, Detail: "failed"},
		{Name: "i-1", Kind: hypervisor.EventStopped, Detail: "failed"},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("QEMU dying translates to %+v, want %+v", got, want)
	}
	got = translate("i-1", lv.DOMAIN_EVENT_STOPPED, int(lv.DOMAIN_EVENT_STOPPED_SHUTDOWN))
	if len(got) != 1 || got[0].Kind != hypervisor.EventStopped || got[0].Detail != "shutdown" {
		t.Errorf("clean shutdown translates to %+v", got)
	}
	if got := translate("i-1", lv.DOMAIN_EVENT_SHUTDOWN, 0); len(got) != 0 {
		t.Errorf("shutdown-in-progress translates to %+v, want nothing", got)
	}
}
