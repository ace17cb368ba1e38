// Package wire holds the JSON documents of kumo's REST API, shared by the
// server (package api) and its clients (the kumo CLI), so both sides read
// and write the same shapes. It imports only the standard library.
package wire

import "time"

// State is an instance state with its EC2 code.
type State struct {
	Name string `json:"name"`
	Code int    `json:"code"`
}

// Instance describes one instance.
type Instance struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	ImageID     string `json:"image_id"`
	Type        string `json:"type"`
	VCPUs       int    `json:"vcpus"`
	MemoryMiB   int    `json:"memory_mib"`
	State       State  `json:"state"`
	StateReason string `json:"state_reason,omitempty"`
	PrivateIP   string `json:"private_ip,omitempty"`
	MAC         string `json:"mac"`
	Host        string `json:"host"`
	// HostUnreachable says the host cannot be reached now: the state is
	// the last one known.
	HostUnreachable bool `json:"host_unreachable,omitempty"`
	// PlacementGroup names the instance's placement group, and Partition
	// its partition in a partition group.
	PlacementGroup string     `json:"placement_group,omitempty"`
	Partition      int        `json:"partition,omitempty"`
	LaunchedAt     time.Time  `json:"launched_at"`
	TerminatedAt   *time.Time `json:"terminated_at,omitempty"`
	UserData       string     `json:"user_data,omitempty"` // base64; only on a single instance
}

// Instances is a list of instances.
type Instances struct {
	Instances []Instance `json:"instances"`
}

// RunRequest launches instances: either Count, or MinCount and MaxCount.
type RunRequest struct {
	Image    string `json:"image"`
	Type     string `json:"type"`
	Count    *int   `json:"count,omitempty"`
	MinCount *int   `json:"min_count,omitempty"`
	MaxCount *int   `json:"max_count,omitempty"`
	Name     string `json:"name,omitempty"`
	UserData string `json:"user_data,omitempty"` // base64
	// PlacementGroup names one of the caller's placement groups, and
	// Partition one of a partition group's partitions (0: any).
	PlacementGroup string `json:"placement_group,omitempty"`
	Partition      int    `json:"partition,omitempty"`
	// LaunchTemplate names one of the caller's launch templates, by name
	// or id, and LaunchTemplateVersion its version (a number, $Latest or
	// $Default, the default). What the request sets wins over it.
	LaunchTemplate        string `json:"launch_template,omitempty"`
	LaunchTemplateVersion string `json:"launch_template_version,omitempty"`
}

// LaunchTemplateData is what a launch template version launches with.
type LaunchTemplateData struct {
	ImageID      string `json:"image_id,omitempty"`
	InstanceType string `json:"instance_type,omitempty"`
	KeyName      string `json:"key_name,omitempty"`
	UserData     string `json:"user_data,omitempty"` // base64
	Tags         []Tag  `json:"tags,omitempty"`
}

// Tag is a key and its value.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// LaunchTemplate is one of an account's launch templates.
type LaunchTemplate struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	DefaultVersion int       `json:"default_version"`
	LatestVersion  int       `json:"latest_version"`
	CreatedAt      time.Time `json:"created_at"`
}

// LaunchTemplates is a listing of launch templates.
type LaunchTemplates struct {
	LaunchTemplates []LaunchTemplate `json:"launch_templates"`
}

// LaunchTemplateVersion is one version of a launch template.
type LaunchTemplateVersion struct {
	TemplateID   string             `json:"template_id"`
	TemplateName string             `json:"template_name"`
	Version      int                `json:"version"`
	Default      bool               `json:"default"`
	Description  string             `json:"description,omitempty"`
	Data         LaunchTemplateData `json:"data"`
	CreatedAt    time.Time          `json:"created_at"`
}

// LaunchTemplateVersions is a listing of a template's versions.
type LaunchTemplateVersions struct {
	Versions []LaunchTemplateVersion `json:"versions"`
}

// CreateLaunchTemplateRequest makes a launch template with its version 1.
type CreateLaunchTemplateRequest struct {
	Name        string             `json:"name"`
	Description string             `json:"description,omitempty"`
	Data        LaunchTemplateData `json:"data"`
}

// CreateLaunchTemplateVersionRequest adds a version: Data, or
// SourceVersion's data with what Data sets.
type CreateLaunchTemplateVersionRequest struct {
	SourceVersion string             `json:"source_version,omitempty"`
	Description   string             `json:"description,omitempty"`
	Data          LaunchTemplateData `json:"data"`
}

// SetDefaultVersionRequest makes a version the default.
type SetDefaultVersionRequest struct {
	Version string `json:"version"`
}

// PlacementGroup is one of an account's placement groups.
type PlacementGroup struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Strategy   string    `json:"strategy"` // cluster, spread or partition
	Partitions int       `json:"partitions,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// PlacementGroups is a listing of placement groups.
type PlacementGroups struct {
	PlacementGroups []PlacementGroup `json:"placement_groups"`
}

// CreatePlacementGroupRequest makes a placement group.
type CreatePlacementGroupRequest struct {
	Name       string `json:"name"`
	Strategy   string `json:"strategy"`
	Partitions int    `json:"partitions,omitempty"`
}

// StopRequest stops an instance.
type StopRequest struct {
	Force bool `json:"force"`
}

// StateChange is what an action did to an instance.
type StateChange struct {
	ID       string `json:"id"`
	Previous State  `json:"previous_state"`
	Current  State  `json:"current_state"`
}

// InstanceType is a size instances come in.
type InstanceType struct {
	Name      string `json:"name"`
	VCPUs     int    `json:"vcpus"`
	MemoryMiB int    `json:"memory_mib"`
}

// InstanceTypes lists instance types.
type InstanceTypes struct {
	InstanceTypes []InstanceType `json:"instance_types"`
}

// Image describes a machine image. Kernel, Initrd and Disk are digests of
// uploaded files.
type Image struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Description    string    `json:"description,omitempty"`
	State          string    `json:"state"`
	Kernel         string    `json:"kernel,omitempty"`
	Initrd         string    `json:"initrd,omitempty"`
	Disk           string    `json:"disk,omitempty"`
	DiskFormat     string    `json:"disk_format,omitempty"`
	Cmdline        string    `json:"cmdline,omitempty"`
	SizeBytes      int64     `json:"size_bytes"`
	SourceInstance string    `json:"source_instance,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

// Images is a list of images.
type Images struct {
	Images []Image `json:"images"`
}

// RegisterImageRequest registers uploaded files as an image.
type RegisterImageRequest struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Kernel      string `json:"kernel,omitempty"`
	Initrd      string `json:"initrd,omitempty"`
	Disk        string `json:"disk,omitempty"`
	DiskFormat  string `json:"disk_format,omitempty"`
	Cmdline     string `json:"cmdline,omitempty"`
}

// CreateImageRequest saves a stopped instance as an image.
type CreateImageRequest struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Blob is an uploaded file.
type Blob struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// Error is the body of every failed request, under "error".
type Error struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
}

// ErrorDocument wraps an Error.
type ErrorDocument struct {
	Error *Error `json:"error"`
}

// Resources is an amount of CPU and memory.
type Resources struct {
	VCPUs     int   `json:"vcpus"`
	MemoryMiB int64 `json:"memory_mib"`
}

// Host is a hypervisor host of the fleet with its capacity and usage.
type Host struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	URI          string    `json:"uri"`
	Zone         string    `json:"zone"`
	Netns        string    `json:"netns,omitempty"`
	State        string    `json:"state"`  // enabled or draining
	Health       string    `json:"health"` // up, down or unknown
	HealthReason string    `json:"health_reason,omitempty"`
	Arch         string    `json:"arch,omitempty"`
	Reported     Resources `json:"reported"`
	Reserved     Resources `json:"reserved"`
	CPURatio     float64   `json:"cpu_ratio"`
	MemoryRatio  float64   `json:"memory_ratio"`
	Capacity     Resources `json:"capacity"` // (reported - reserved) × ratio
	Used         Resources `json:"used"`
	Instances    int       `json:"instances"`
	CreatedAt    time.Time `json:"created_at"`
}

// Hosts is a host listing.
type Hosts struct {
	Hosts []Host `json:"hosts"`
}

// RegisterHostRequest adds a host to the fleet.
type RegisterHostRequest struct {
	Name        string    `json:"name"`
	URI         string    `json:"uri"`
	Zone        string    `json:"zone"`
	Netns       string    `json:"netns,omitempty"`
	Reserved    Resources `json:"reserved"`
	CPURatio    float64   `json:"cpu_ratio,omitempty"`
	MemoryRatio float64   `json:"memory_ratio,omitempty"`
}
