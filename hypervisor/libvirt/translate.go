package libvirt

import (
	lv "libvirt.org/go/libvirt"

	"kumo/hypervisor"
)

var eventKinds = map[lv.DomainEventType]hypervisor.EventKind{
	lv.DOMAIN_EVENT_DEFINED:     hypervisor.EventDefined,
	lv.DOMAIN_EVENT_UNDEFINED:   hypervisor.EventUndefined,
	lv.DOMAIN_EVENT_STARTED:     hypervisor.EventStarted,
	lv.DOMAIN_EVENT_SUSPENDED:   hypervisor.EventSuspended,
	lv.DOMAIN_EVENT_PMSUSPENDED: hypervisor.EventSuspended,
	lv.DOMAIN_EVENT_RESUMED:     hypervisor.EventResumed,
	lv.DOMAIN_EVENT_STOPPED:     hypervisor.EventStopped,
	lv.DOMAIN_EVENT_CRASHED:     hypervisor.EventCrashed,
	// DOMAIN_EVENT_SHUTDOWN is left out: it announces a shutdown in
	// progress, and STOPPED follows when the power state changes.
}

// eventDetails names libvirt's per-type detail codes for Event.Detail.
var eventDetails = map[lv.DomainEventType]map[int]string{
	lv.DOMAIN_EVENT_DEFINED: {
		int(lv.DOMAIN_EVENT_DEFINED_ADDED):         "added",
		int(lv.DOMAIN_EVENT_DEFINED_UPDATED):       "updated",
		int(lv.DOMAIN_EVENT_DEFINED_RENAMED):       "renamed",
		int(lv.DOMAIN_EVENT_DEFINED_FROM_SNAPSHOT): "from-snapshot",
	},
	lv.DOMAIN_EVENT_UNDEFINED: {
		int(lv.DOMAIN_EVENT_UNDEFINED_REMOVED): "removed",
		int(lv.DOMAIN_EVENT_UNDEFINED_RENAMED): "renamed",
	},
	lv.DOMAIN_EVENT_STARTED: {
		int(lv.DOMAIN_EVENT_STARTED_BOOTED):        "booted",
		int(lv.DOMAIN_EVENT_STARTED_MIGRATED):      "migrated",
		int(lv.DOMAIN_EVENT_STARTED_RESTORED):      "restored",
		int(lv.DOMAIN_EVENT_STARTED_FROM_SNAPSHOT): "from-snapshot",
		int(lv.DOMAIN_EVENT_STARTED_WAKEUP):        "wakeup",
		int(lv.DOMAIN_EVENT_STARTED_RECREATED):     "recreated",
	},
	lv.DOMAIN_EVENT_SUSPENDED: {
		int(lv.DOMAIN_EVENT_SUSPENDED_PAUSED):          "paused",
		int(lv.DOMAIN_EVENT_SUSPENDED_MIGRATED):        "migrated",
		int(lv.DOMAIN_EVENT_SUSPENDED_IOERROR):         "ioerror",
		int(lv.DOMAIN_EVENT_SUSPENDED_WATCHDOG):        "watchdog",
		int(lv.DOMAIN_EVENT_SUSPENDED_RESTORED):        "restored",
		int(lv.DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT):   "from-snapshot",
		int(lv.DOMAIN_EVENT_SUSPENDED_API_ERROR):       "api-error",
		int(lv.DOMAIN_EVENT_SUSPENDED_POSTCOPY):        "postcopy",
		int(lv.DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED): "postcopy-failed",
	},
	lv.DOMAIN_EVENT_RESUMED: {
		int(lv.DOMAIN_EVENT_RESUMED_UNPAUSED):      "unpaused",
		int(lv.DOMAIN_EVENT_RESUMED_MIGRATED):      "migrated",
		int(lv.DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT): "from-snapshot",
	},
	lv.DOMAIN_EVENT_STOPPED: {
		int(lv.DOMAIN_EVENT_STOPPED_SHUTDOWN):      "shutdown",
		int(lv.DOMAIN_EVENT_STOPPED_DESTROYED):     "destroyed",
		int(lv.DOMAIN_EVENT_STOPPED_CRASHED):       "crashed",
		int(lv.DOMAIN_EVENT_STOPPED_MIGRATED):      "migrated",
		int(lv.DOMAIN_EVENT_STOPPED_SAVED):         "saved",
		int(lv.DOMAIN_EVENT_STOPPED_FAILED):        "failed",
		int(lv.DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT): "from-snapshot",
	},
	lv.DOMAIN_EVENT_PMSUSPENDED: {
		int(lv.DOMAIN_EVENT_PMSUSPENDED_MEMORY): "pm-memory",
		int(lv.DOMAIN_EVENT_PMSUSPENDED_DISK):   "pm-disk",
	},
	lv.DOMAIN_EVENT_CRASHED: {
		int(lv.DOMAIN_EVENT_CRASHED_PANICKED):    "panicked",
		int(lv.DOMAIN_EVENT_CRASHED_CRASHLOADED): "crashloaded",
	},
}

// translate maps one libvirt lifecycle event to kumo's, which may be none
// or two: QEMU dying (STOPPED/FAILED) is reported as a crash followed by
// the stop, so watchers of either learn of it.
func translate(name string, typ lv.DomainEventType, detail int) []hypervisor.Event {
	kind, ok := eventKinds[typ]
	if !ok {
		return nil
	}
	reason, ok := eventDetails[typ][detail]
	if !ok {
		reason = "unknown"
	}
	ev := hypervisor.Event{Name: name, Kind: kind, Detail: reason}
	if typ == lv.DOMAIN_EVENT_STOPPED && detail == int(lv.DOMAIN_EVENT_STOPPED_FAILED) {
		return []hypervisor.Event{{Name: name, Kind: hypervisor.EventCrashed, Detail: reason}, ev}
	}
	return []hypervisor.Event{ev}
}
