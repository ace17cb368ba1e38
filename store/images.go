package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Image is a machine image row. Kernel, Initrd and Disk are blob digests
// ("sha256:..."), empty when the image has no such part.
type Image struct {
	ID             string
	Name           string
	Description    string
	State          string
	Kernel         string
	Initrd         string
	Disk           string
	DiskFormat     string
	Cmdline        string
	SizeBytes      int64
	SourceInstance string
	CreatedAt      time.Time
	// Owner is the account that registered the image; "" for the cloud's
	// own images, which every account may launch.
	Owner string
}

const imageColumns = `id, name, description, state, kernel, initrd, disk, disk_format, cmdline, size_bytes, source_instance, created_at, owner`

func scanImage(row interface{ Scan(...any) error }) (Image, error) {
	var im Image
	var created string
	err := row.Scan(&im.ID, &im.Name, &im.Description, &im.State, &im.Kernel, &im.Initrd, &im.Disk,
		&im.DiskFormat, &im.Cmdline, &im.SizeBytes, &im.SourceInstance, &created, &im.Owner)
	im.CreatedAt = parseTime(created)
	return im, err
}

// InsertImage adds an image; ErrDuplicate when an available image already
// has its name.
func (s *Store) InsertImage(ctx context.Context, im Image) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO images (`+imageColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		im.ID, im.Name, im.Description, im.State, im.Kernel, im.Initrd, im.Disk, im.DiskFormat,
		im.Cmdline, im.SizeBytes, im.SourceInstance, formatTime(im.CreatedAt), im.Owner)
	if isUniqueViolation(err) {
		return fmt.Errorf("image name %q: %w", im.Name, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("insert image %s: %w", im.ID, err)
	}
	return nil
}

// Image returns the image with id.
func (s *Store) Image(ctx context.Context, id string) (Image, error) {
	im, err := scanImage(s.db.QueryRowContext(ctx, `SELECT `+imageColumns+` FROM images WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Image{}, fmt.Errorf("image %s: %w", id, ErrNotFound)
	}
	return im, err
}

// ImageByName returns the available image called name that owner may
// launch: owner's own before the cloud's, as a name is unique only within
// one owner's images.
func (s *Store) ImageByName(ctx context.Context, owner, name string) (Image, error) {
	im, err := scanImage(s.db.QueryRowContext(ctx,
		`SELECT `+imageColumns+` FROM images WHERE name = ? AND state = 'available' AND owner IN ('', ?)
		ORDER BY owner = '' LIMIT 1`, name, owner))
	if errors.Is(err, sql.ErrNoRows) {
		return Image{}, fmt.Errorf("image named %q: %w", name, ErrNotFound)
	}
	return im, err
}

// Images lists images in the given states (all when none), oldest first.
func (s *Store) Images(ctx context.Context, states ...string) ([]Image, error) {
	q := `SELECT ` + imageColumns + ` FROM images`
	args := make([]any, len(states))
	if len(states) > 0 {
		q += ` WHERE state IN (` + placeholders(len(states)) + `)`
		for i, st := range states {
			args[i] = st
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	defer rows.Close()
	var out []Image
	for rows.Next() {
		im, err := scanImage(rows)
		if err != nil {
			return nil, fmt.Errorf("list images: %w", err)
		}
		out = append(out, im)
	}
	return out, rows.Err()
}

// DeregisterImage marks an image deregistered unless a live (not
// terminated) instance still uses it, checked in the same transaction so a
// launch cannot slip in between.
func (s *Store) DeregisterImage(ctx context.Context, id string) (inUse int, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx,
			`SELECT COUNT(*) FROM instances WHERE image_id = ? AND state <> 'terminated'`, id).Scan(&inUse); err != nil {
			return err
		}
		if inUse > 0 {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE images SET state = 'deregistered' WHERE id = ? AND state = 'available'`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("image %s: %w", id, ErrNotFound)
		}
		return nil
	})
	return inUse, err
}

// LiveBlobs returns every blob digest that an available image, or an image
// a live instance was launched from, still needs.
func (s *Store) LiveBlobs(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kernel, initrd, disk FROM images
		WHERE state = 'available' OR id IN (SELECT image_id FROM instances WHERE state <> 'terminated')`)
	if err != nil {
		return nil, fmt.Errorf("list live blobs: %w", err)
	}
	defer rows.Close()
	live := map[string]bool{}
	for rows.Next() {
		var k, i, d string
		if err := rows.Scan(&k, &i, &d); err != nil {
			return nil, err
		}
		for _, b := range []string{k, i, d} {
			if b != "" {
				live[b] = true
			}
		}
	}
	return live, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
