package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations maps each schema version to the statements that reach it from
// the one before. Shipped entries are never edited or renumbered: a change
// to the schema is a new entry.
var migrations = map[int]string{
	1: `
CREATE TABLE images (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	description     TEXT NOT NULL DEFAULT '',
	state           TEXT NOT NULL,
	kernel          TEXT NOT NULL DEFAULT '',
	initrd          TEXT NOT NULL DEFAULT '',
	disk            TEXT NOT NULL DEFAULT '',
	disk_format     TEXT NOT NULL DEFAULT '',
	cmdline         TEXT NOT NULL DEFAULT '',
	size_bytes      INTEGER NOT NULL DEFAULT 0,
	source_instance TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX images_available_name ON images(name) WHERE state = 'available';

CREATE TABLE instances (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL DEFAULT '',
	image_id      TEXT NOT NULL REFERENCES images(id),
	type          TEXT NOT NULL,
	state         TEXT NOT NULL,
	state_reason  TEXT NOT NULL DEFAULT '',
	host          TEXT NOT NULL,
	network       TEXT NOT NULL,
	private_ip    TEXT,
	mac           TEXT NOT NULL,
	user_data     BLOB,
	launched_at   TEXT NOT NULL,
	started_at    TEXT NOT NULL DEFAULT '',
	updated_at    TEXT NOT NULL,
	terminated_at TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX instances_address ON instances(network, private_ip) WHERE private_ip IS NOT NULL;
CREATE UNIQUE INDEX instances_mac ON instances(mac) WHERE state <> 'terminated';
CREATE INDEX instances_state ON instances(state);
CREATE INDEX instances_image ON instances(image_id);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
	2: `
CREATE TABLE load_balancers (
	id                      TEXT PRIMARY KEY,
	name                    TEXT NOT NULL UNIQUE,
	bind_addr               TEXT NOT NULL,
	algorithm               TEXT NOT NULL,
	health_protocol         TEXT NOT NULL,
	health_port             INTEGER NOT NULL DEFAULT 0,
	health_path             TEXT NOT NULL DEFAULT '',
	health_matcher          TEXT NOT NULL DEFAULT '',
	health_interval_ms      INTEGER NOT NULL,
	health_timeout_ms       INTEGER NOT NULL,
	healthy_threshold       INTEGER NOT NULL,
	unhealthy_threshold     INTEGER NOT NULL,
	deregistration_delay_ms INTEGER NOT NULL,
	idle_timeout_ms         INTEGER NOT NULL,
	connect_timeout_ms      INTEGER NOT NULL,
	proxy_protocol          INTEGER NOT NULL DEFAULT 0,
	created_at              TEXT NOT NULL
);

CREATE TABLE lb_listeners (
	lb_id       TEXT NOT NULL REFERENCES load_balancers(id) ON DELETE CASCADE,
	port        INTEGER NOT NULL,
	target_port INTEGER NOT NULL,
	PRIMARY KEY (lb_id, port)
);
CREATE INDEX lb_listeners_port ON lb_listeners(port);

CREATE TABLE lb_targets (
	lb_id         TEXT NOT NULL REFERENCES load_balancers(id) ON DELETE CASCADE,
	target_id     TEXT NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('instance', 'ip')),
	addr          TEXT NOT NULL,
	port          INTEGER NOT NULL DEFAULT 0,
	registered_at TEXT NOT NULL,
	PRIMARY KEY (lb_id, target_id)
);
CREATE INDEX lb_targets_target ON lb_targets(target_id);
`,
	3: `
CREATE TABLE accounts (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
	admin      INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL
);

CREATE TABLE access_keys (
	access_key_id     TEXT PRIMARY KEY,
	account_id        TEXT NOT NULL REFERENCES accounts(id),
	secret_ciphertext BLOB NOT NULL,
	status            TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
	created_at        TEXT NOT NULL
);
CREATE INDEX access_keys_account ON access_keys(account_id);
`,
	4: `
ALTER TABLE instances ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE INDEX instances_owner ON instances(owner);
`,
	5: `
CREATE TABLE tags (
	resource_id TEXT NOT NULL,
	owner       TEXT NOT NULL,
	key         TEXT NOT NULL,
	value       TEXT NOT NULL,
	PRIMARY KEY (resource_id, key)
);
CREATE INDEX tags_owner ON tags(owner, key);

CREATE TABLE key_pairs (
	id          TEXT PRIMARY KEY,
	owner       TEXT NOT NULL,
	name        TEXT NOT NULL,
	type        TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	public_key  TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	UNIQUE (owner, name)
);

ALTER TABLE instances ADD COLUMN key_name TEXT NOT NULL DEFAULT '';
`,
	6: `
CREATE TABLE metric_series (
	id         INTEGER PRIMARY KEY,
	namespace  TEXT NOT NULL,
	name       TEXT NOT NULL,
	dimensions TEXT NOT NULL,
	UNIQUE (namespace, name, dimensions)
);

-- Samples at the finest resolution, keyed by time first: a round of
-- samples of every series is appended together, dirtying a few pages
-- rather than one per series. No foreign key: checking one when a series
-- is deleted would read the whole table.
CREATE TABLE metric_samples (
	ts        INTEGER NOT NULL,
	series_id INTEGER NOT NULL,
	sum       REAL NOT NULL,
	min       REAL NOT NULL,
	max       REAL NOT NULL,
	count     INTEGER NOT NULL,
	PRIMARY KEY (ts, series_id)
) WITHOUT ROWID;

-- Rolled-up points, keyed by series first so that a query reads one
-- series' range; rollup and expiry reach every series through the same key.
CREATE TABLE metric_points (
	series_id  INTEGER NOT NULL REFERENCES metric_series(id),
	resolution INTEGER NOT NULL,
	ts         INTEGER NOT NULL,
	sum        REAL NOT NULL,
	min        REAL NOT NULL,
	max        REAL NOT NULL,
	count      INTEGER NOT NULL,
	PRIMARY KEY (series_id, resolution, ts)
) WITHOUT ROWID;

CREATE TABLE metric_rollups (
	resolution INTEGER PRIMARY KEY,
	done_until INTEGER NOT NULL
);
`,
	7: `
ALTER TABLE instances ADD COLUMN reservation_id TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN launch_index INTEGER NOT NULL DEFAULT 0;
UPDATE instances SET reservation_id = 'r-' || substr(id, 3);
CREATE INDEX instances_reservation ON instances(reservation_id);

-- An account's listing reads its rows in launch order straight from the
-- index rather than sorting them.
DROP INDEX instances_owner;
CREATE INDEX instances_owner ON instances(owner, launched_at, id);

-- Names are unique within one owner's images, as on EC2.
ALTER TABLE images ADD COLUMN owner TEXT NOT NULL DEFAULT '';
DROP INDEX images_available_name;
CREATE UNIQUE INDEX images_available_name ON images(owner, name) WHERE state = 'available';

CREATE TABLE client_tokens (
	owner          TEXT NOT NULL,
	token          TEXT NOT NULL,
	request_hash   TEXT NOT NULL,
	reservation_id TEXT NOT NULL,
	created_at     TEXT NOT NULL,
	PRIMARY KEY (owner, token)
) WITHOUT ROWID;
`,
	8: `
-- Load balancers belong to accounts, and names are unique within one
-- account's, as on ELB. The name's UNIQUE is a column constraint, which
-- SQLite cannot drop: the table is made again. Dropping it would cascade
-- to its listeners and targets (foreign keys are on, and cannot be turned
-- off inside a transaction), so they are set aside first and put back
-- under their old rowids, which keep their order.
CREATE TEMP TABLE lb_listeners_kept AS SELECT rowid AS seq, lb_id, port, target_port FROM lb_listeners;
CREATE TEMP TABLE lb_targets_kept AS
	SELECT rowid AS seq, lb_id, target_id, kind, addr, port, registered_at FROM lb_targets;
DROP TABLE lb_listeners;
DROP TABLE lb_targets;

CREATE TABLE load_balancers_new (
	id                      TEXT PRIMARY KEY,
	owner                   TEXT NOT NULL DEFAULT '',
	name                    TEXT NOT NULL,
	bind_addr               TEXT NOT NULL,
	algorithm               TEXT NOT NULL,
	health_protocol         TEXT NOT NULL,
	health_port             INTEGER NOT NULL DEFAULT 0,
	health_path             TEXT NOT NULL DEFAULT '',
	health_matcher          TEXT NOT NULL DEFAULT '',
	health_interval_ms      INTEGER NOT NULL,
	health_timeout_ms       INTEGER NOT NULL,
	healthy_threshold       INTEGER NOT NULL,
	unhealthy_threshold     INTEGER NOT NULL,
	deregistration_delay_ms INTEGER NOT NULL,
	idle_timeout_ms         INTEGER NOT NULL,
	connect_timeout_ms      INTEGER NOT NULL,
	proxy_protocol          INTEGER NOT NULL DEFAULT 0,
	created_at              TEXT NOT NULL,
	UNIQUE (owner, name)
);
INSERT INTO load_balancers_new (id, name, bind_addr, algorithm, health_protocol, health_port, health_path, health_matcher,
	health_interval_ms, health_timeout_ms, healthy_threshold, unhealthy_threshold,
	deregistration_delay_ms, idle_timeout_ms, connect_timeout_ms, proxy_protocol, created_at)
SELECT id, name, bind_addr, algorithm, health_protocol, health_port, health_path, health_matcher,
	health_interval_ms, health_timeout_ms, healthy_threshold, unhealthy_threshold,
	deregistration_delay_ms, idle_timeout_ms, connect_timeout_ms, proxy_protocol, created_at
FROM load_balancers;
DROP TABLE load_balancers;
ALTER TABLE load_balancers_new RENAME TO load_balancers;

CREATE TABLE lb_listeners (
	lb_id       TEXT NOT NULL REFERENCES load_balancers(id) ON DELETE CASCADE,
	port        INTEGER NOT NULL,
	target_port INTEGER NOT NULL,
	PRIMARY KEY (lb_id, port)
);
CREATE INDEX lb_listeners_port ON lb_listeners(port);
INSERT INTO lb_listeners (rowid, lb_id, port, target_port) SELECT seq, lb_id, port, target_port FROM lb_listeners_kept;

CREATE TABLE lb_targets (
	lb_id         TEXT NOT NULL REFERENCES load_balancers(id) ON DELETE CASCADE,
	target_id     TEXT NOT NULL,
	kind          TEXT NOT NULL CHECK (kind IN ('instance', 'ip')),
	addr          TEXT NOT NULL,
	port          INTEGER NOT NULL DEFAULT 0,
	registered_at TEXT NOT NULL,
	PRIMARY KEY (lb_id, target_id)
);
CREATE INDEX lb_targets_target ON lb_targets(target_id);
INSERT INTO lb_targets (rowid, lb_id, target_id, kind, addr, port, registered_at)
	SELECT seq, lb_id, target_id, kind, addr, port, registered_at FROM lb_targets_kept;

DROP TABLE lb_listeners_kept;
DROP TABLE lb_targets_kept;
`,
	9: `
-- The hosts instances are placed on. State is the operator's choice
-- (enabled, or draining: keeps its instances, takes no new ones); health
-- is what kumo last saw of the host (unknown until probed, up, down). They
-- are kept apart so that a host coming back up keeps its operator's
-- choice. cpus, memory_mib and arch are what the host last reported, kept
-- so that a host that is down still lists its size.
CREATE TABLE hosts (
	id                  TEXT PRIMARY KEY,
	name                TEXT NOT NULL UNIQUE,
	uri                 TEXT NOT NULL,
	zone                TEXT NOT NULL,
	netns               TEXT NOT NULL DEFAULT '',
	state               TEXT NOT NULL CHECK (state IN ('enabled', 'draining')),
	health              TEXT NOT NULL CHECK (health IN ('unknown', 'up', 'down')),
	health_reason       TEXT NOT NULL DEFAULT '',
	reserved_vcpus      INTEGER NOT NULL DEFAULT 0,
	reserved_memory_mib INTEGER NOT NULL DEFAULT 0,
	cpu_ratio           REAL NOT NULL,
	memory_ratio        REAL NOT NULL,
	cpus                INTEGER NOT NULL DEFAULT 0,
	memory_mib          INTEGER NOT NULL DEFAULT 0,
	arch                TEXT NOT NULL DEFAULT '',
	created_at          TEXT NOT NULL,
	updated_at          TEXT NOT NULL
);

-- One row per instance holding vCPUs and memory on a host. There is no
-- foreign key to instances: capacity is claimed before the instance row
-- is written, so that a launch that cannot be placed leaves nothing.
CREATE TABLE capacity_claims (
	instance_id     TEXT PRIMARY KEY,
	host_id         TEXT NOT NULL REFERENCES hosts(id),
	vcpus           INTEGER NOT NULL,
	memory_mib      INTEGER NOT NULL,
	group_name      TEXT NOT NULL DEFAULT '',
	group_partition INTEGER NOT NULL DEFAULT 0,
	created_at      TEXT NOT NULL
);
-- Covering, so that the usage of every host is summed from the index
-- alone, in host order, without reading the table.
CREATE INDEX capacity_claims_host ON capacity_claims(host_id, vcpus, memory_mib);
CREATE INDEX capacity_claims_group ON capacity_claims(group_name, host_id, group_partition);
`,
	10: `
-- Placement groups, each an account's, as EC2's are. The scheduler knows a
-- group by its id, which no two accounts share; instances keep theirs and
-- their partition across stops, while their capacity claims come and go.
-- An instance also keeps its group's name, which cannot change, and the
-- group cannot go while the instance lives.
CREATE TABLE placement_groups (
	id         TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,
	name       TEXT NOT NULL,
	strategy   TEXT NOT NULL CHECK (strategy IN ('cluster', 'spread', 'partition')),
	partitions INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL,
	UNIQUE (owner, name)
);
ALTER TABLE instances ADD COLUMN placement_group TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN placement_group_name TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN partition_number INTEGER NOT NULL DEFAULT 0;
CREATE INDEX instances_placement_group ON instances(placement_group) WHERE placement_group != '';
`,
	11: `
-- Launch templates, each an account's, and their numbered versions, which
-- never change once made. data is the version's launch parameters as the
-- launchtemplates package writes them (JSON).
CREATE TABLE launch_templates (
	id              TEXT PRIMARY KEY,
	owner           TEXT NOT NULL,
	name            TEXT NOT NULL,
	default_version INTEGER NOT NULL,
	latest_version  INTEGER NOT NULL,
	created_at      TEXT NOT NULL,
	UNIQUE (owner, name)
);
CREATE TABLE launch_template_versions (
	template_id TEXT NOT NULL REFERENCES launch_templates(id) ON DELETE CASCADE,
	version     INTEGER NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	data        TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	PRIMARY KEY (template_id, version)
);
`,
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	for v := current + 1; v <= len(migrations); v++ {
		stmts, ok := migrations[v]
		if !ok {
			panic(fmt.Sprintf("store: migration %d is missing", v))
		}
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, stmts); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, v)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", v, err)
		}
	}
	return nil
}
