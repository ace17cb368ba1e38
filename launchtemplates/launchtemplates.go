// Package launchtemplates owns EC2 launch templates: an account's named,
// versioned sets of launch parameters (image, instance type, key pair, user
// data, tags). Versions are numbered from 1 and never change once made; one
// of them is the default, which a launch that names no version uses.
// Names are unique within an account; ids are "lt-" + 17 hex digits.
//
// It keeps templates and resolves a version for a launch; it must not know
// HTTP, the API or how instances are launched from what it returns.
package launchtemplates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/store"
	"kumo/tags"
)

// Error kinds of this package, mapped to EC2 codes by the API.
var (
	ErrNameNotFound    = errors.New("launch template name not found")
	ErrIDNotFound      = errors.New("launch template id not found")
	ErrVersionNotFound = errors.New("launch template version not found")
	ErrDuplicate       = errors.New("launch template name taken")
	ErrMalformedName   = errors.New("malformed launch template name")
)

// Versions a request may name besides numbers, as EC2 spells them.
const (
	Latest  = "$Latest"
	Default = "$Default"
)

// maxDescription is EC2's limit on a version's description.
const maxDescription = 255

// EC2's rule for names: 3 to 128 of letters, digits and ( ) . - / _.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)

// Data is what a version launches with. An empty field leaves the
// launch's own value, or its default.
type Data struct {
	ImageID      string     `json:"image_id,omitempty"`
	InstanceType string     `json:"instance_type,omitempty"`
	KeyName      string     `json:"key_name,omitempty"`
	UserData     []byte     `json:"user_data,omitempty"`
	Tags         []tags.Tag `json:"tags,omitempty"` // of the instances launched
}

// Overlay is d with what o sets: o's fields where it has them, and its
// tags over d's, key by key.
func (d Data) Overlay(o Data) Data {
	if o.ImageID != "" {
		d.ImageID = o.ImageID
	}
	if o.InstanceType != "" {
		d.InstanceType = o.InstanceType
	}
	if o.KeyName != "" {
		d.KeyName = o.KeyName
	}
	if o.UserData != nil {
		d.UserData = o.UserData
	}
	if len(o.Tags) > 0 {
		merged := make([]tags.Tag, 0, len(d.Tags)+len(o.Tags))
		for _, t := range d.Tags {
			if !slices.ContainsFunc(o.Tags, func(n tags.Tag) bool { return n.Key == t.Key }) {
				merged = append(merged, t)
			}
		}
		d.Tags = append(merged, o.Tags...)
	}
	return d
}

// Template is a launch template as callers see it.
type Template struct {
	ID, Name       string
	DefaultVersion int
	LatestVersion  int
	CreatedAt      time.Time
}

// Version is one version of a template.
type Version struct {
	TemplateID, TemplateName string
	Number                   int
	Default                  bool
	Description              string
	Data                     Data
	CreatedAt                time.Time
}

// Ref names a template by id or by name: exactly one of them.
type Ref struct{ ID, Name string }

// Service keeps every account's launch templates.
type Service struct {
	store *store.Store
	clock clock.Clock
}

func New(st *store.Store, clk clock.Clock) *Service { return &Service{store: st, clock: clk} }

// Check validates a template's name, description and data without making
// it, so that a DryRun can answer as the call would.
func Check(name, description string, d Data) error {
	if !namePattern.MatchString(name) {
		return errs.New(ErrMalformedName, "a launch template name is 3 to 128 letters, digits and ( ) . - / _: '%s' is not", name)
	}
	return checkVersion(description, d)
}

func checkVersion(description string, d Data) error {
	if len(description) > maxDescription {
		return errs.New(errs.InvalidParameter, "a version description is at most %d characters", maxDescription)
	}
	return tags.Check(d.Tags)
}

// Create makes a template of owner's, with d as version 1, its default.
func (s *Service) Create(ctx context.Context, owner, name, description string, d Data) (Version, error) {
	if err := Check(name, description, d); err != nil {
		return Version{}, err
	}
	data, err := json.Marshal(d)
	if err != nil {
		return Version{}, err
	}
	now := s.clock.Now()
	t := store.LaunchTemplate{ID: ids.New("lt"), Owner: owner, Name: name, DefaultVersion: 1, LatestVersion: 1, CreatedAt: now}
	first := store.LaunchTemplateVersion{TemplateID: t.ID, Version: 1, Description: description, Data: string(data), CreatedAt: now}
	err = s.store.InsertLaunchTemplate(ctx, t, first)
	if errors.Is(err, store.ErrDuplicate) {
		return Version{}, errs.New(ErrDuplicate, "Launch template name already in use.")
	}
	if err != nil {
		return Version{}, err
	}
	return Version{TemplateID: t.ID, TemplateName: name, Number: 1, Default: true, Description: description, Data: d, CreatedAt: now}, nil
}

// CreateVersion adds the next version of one of owner's templates: d, or
// source's data with what d sets when source names a version.
func (s *Service) CreateVersion(ctx context.Context, owner string, ref Ref, source, description string, d Data) (Version, error) {
	if err := checkVersion(description, d); err != nil {
		return Version{}, err
	}
	t, err := s.template(ctx, owner, ref)
	if err != nil {
		return Version{}, err
	}
	if source != "" {
		base, err := s.version(ctx, t, source)
		if err != nil {
			return Version{}, err
		}
		d = base.Data.Overlay(d)
	}
	data, err := json.Marshal(d)
	if err != nil {
		return Version{}, err
	}
	v, err := s.store.AddLaunchTemplateVersion(ctx, store.LaunchTemplateVersion{TemplateID: t.ID, Description: description,
		Data: string(data), CreatedAt: s.clock.Now()})
	if err != nil {
		return Version{}, err
	}
	return Version{TemplateID: t.ID, TemplateName: t.Name, Number: v.Version, Default: v.Version == t.DefaultVersion,
		Description: description, Data: d, CreatedAt: v.CreatedAt}, nil
}

// List returns owner's templates, all or those named by id or name (each
// of which must exist).
func (s *Service) List(ctx context.Context, owner string, idList, names []string) ([]Template, error) {
	if len(idList) > 0 || len(names) > 0 {
		var out []Template
		for _, id := range idList {
			t, err := s.template(ctx, owner, Ref{ID: id})
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		for _, name := range names {
			t, err := s.template(ctx, owner, Ref{Name: name})
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, nil
	}
	rows, err := s.store.LaunchTemplates(ctx, owner)
	if err != nil {
		return nil, err
	}
	out := make([]Template, len(rows))
	for i, r := range rows {
		out[i] = view(r)
	}
	return out, nil
}

// Versions returns versions of one of owner's templates: those named
// (numbers, Latest, Default), else those from min to max (0: no bound),
// in order.
func (s *Service) Versions(ctx context.Context, owner string, ref Ref, named []string, min, max int) ([]Version, error) {
	t, err := s.template(ctx, owner, ref)
	if err != nil {
		return nil, err
	}
	if len(named) > 0 {
		out := make([]Version, 0, len(named))
		for _, n := range named {
			v, err := s.version(ctx, t, n)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	if min == 0 {
		min = 1
	}
	if max == 0 {
		max = t.LatestVersion
	}
	rows, err := s.store.LaunchTemplateVersions(ctx, t.ID, min, max)
	if err != nil {
		return nil, err
	}
	out := make([]Version, len(rows))
	for i, r := range rows {
		if out[i], err = versionOf(t, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Resolve returns the version a launch from one of owner's templates
// uses: version, or the default when it is "".
func (s *Service) Resolve(ctx context.Context, owner string, ref Ref, version string) (Version, error) {
	t, err := s.template(ctx, owner, ref)
	if err != nil {
		return Version{}, err
	}
	if version == "" {
		version = Default
	}
	return s.version(ctx, t, version)
}

// SetDefault makes version the default of one of owner's templates.
func (s *Service) SetDefault(ctx context.Context, owner string, ref Ref, version string) (Template, error) {
	t, err := s.template(ctx, owner, ref)
	if err != nil {
		return Template{}, err
	}
	v, err := s.version(ctx, t, version)
	if err != nil {
		return Template{}, err
	}
	if err := s.store.SetLaunchTemplateDefault(ctx, t.ID, v.Number); err != nil {
		return Template{}, err
	}
	t.DefaultVersion = v.Number
	return t, nil
}

// Delete removes one of owner's templates with all its versions.
func (s *Service) Delete(ctx context.Context, owner string, ref Ref) (Template, error) {
	t, err := s.template(ctx, owner, ref)
	if err != nil {
		return Template{}, err
	}
	if err := s.store.DeleteLaunchTemplate(ctx, t.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return Template{}, err
	}
	return t, nil
}

// template finds one of owner's templates; another account's is reported
// as one that does not exist.
func (s *Service) template(ctx context.Context, owner string, ref Ref) (Template, error) {
	var row store.LaunchTemplate
	var err error
	switch {
	case ref.ID != "" && ref.Name != "":
		return Template{}, errs.New(errs.InvalidParameter, "give a launch template's id or its name, not both")
	case ref.ID != "":
		if !ids.Valid("lt", ref.ID) {
			return Template{}, errs.New(ErrIDNotFound, "The launch template ID '%s' is malformed.", ref.ID)
		}
		row, err = s.store.LaunchTemplateByID(ctx, owner, ref.ID)
		if errors.Is(err, store.ErrNotFound) {
			return Template{}, errs.New(ErrIDNotFound, "The specified launch template, with template ID %s, does not exist.", ref.ID)
		}
	case ref.Name != "":
		row, err = s.store.LaunchTemplateByName(ctx, owner, ref.Name)
		if errors.Is(err, store.ErrNotFound) {
			return Template{}, errs.New(ErrNameNotFound, "The specified launch template, with template name %s, does not exist.", ref.Name)
		}
	default:
		return Template{}, errs.New(errs.MissingParameter, "a launch template's id or name is required")
	}
	if err != nil {
		return Template{}, err
	}
	return view(row), nil
}

// version finds version n (a number, Latest or Default) of t.
func (s *Service) version(ctx context.Context, t Template, n string) (Version, error) {
	number := 0
	switch n {
	case Latest:
		number = t.LatestVersion
	case Default:
		number = t.DefaultVersion
	default:
		if v, err := strconv.Atoi(n); err == nil && v > 0 {
			number = v
		}
	}
	rows, err := s.store.LaunchTemplateVersions(ctx, t.ID, number, number)
	if err != nil {
		return Version{}, err
	}
	if len(rows) == 0 {
		return Version{}, errs.New(ErrVersionNotFound, "Could not find launch template version %s for launch template %s.", n, t.ID)
	}
	return versionOf(t, rows[0])
}

func view(r store.LaunchTemplate) Template {
	return Template{ID: r.ID, Name: r.Name, DefaultVersion: r.DefaultVersion, LatestVersion: r.LatestVersion, CreatedAt: r.CreatedAt}
}

func versionOf(t Template, r store.LaunchTemplateVersion) (Version, error) {
	v := Version{TemplateID: t.ID, TemplateName: t.Name, Number: r.Version, Default: r.Version == t.DefaultVersion,
		Description: r.Description, CreatedAt: r.CreatedAt}
	if err := json.Unmarshal([]byte(r.Data), &v.Data); err != nil {
		return Version{}, fmt.Errorf("version %d of launch template %s: %w", r.Version, t.ID, err)
	}
	return v, nil
}
