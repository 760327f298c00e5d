namespace Cairn.Adapters.Sqlite;

/// <summary>The schema, as numbered steps. A step is never edited once released; changes are new steps.</summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<(int Version, string Name, string Sql)> All =
    [
        (1, "foundation", """
            CREATE TABLE datasets (
                name TEXT PRIMARY KEY,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE TABLE dataset_versions (
                dataset TEXT NOT NULL REFERENCES datasets(name),
                version INTEGER NOT NULL,
                content_hash TEXT NOT NULL,
                size_bytes INTEGER NOT NULL,
                row_count INTEGER NOT NULL,
                source TEXT NOT NULL,
                schema_json TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (dataset, version),
                UNIQUE (dataset, content_hash)
            );
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                status TEXT NOT NULL,
                started_at INTEGER NOT NULL,
                ended_at INTEGER,
                error TEXT
            );
            CREATE INDEX runs_by_start ON runs (started_at DESC);
            CREATE TABLE run_params (
                run_id TEXT NOT NULL REFERENCES runs(id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_id, key)
            );
            -- A NULL value is NaN: SQLite stores NaN as NULL.
            CREATE TABLE run_metrics (
                run_id TEXT NOT NULL REFERENCES runs(id),
                key TEXT NOT NULL,
                value REAL,
                step INTEGER NOT NULL,
                timestamp INTEGER NOT NULL
            );
            CREATE INDEX run_metrics_by_run ON run_metrics (run_id, key, step);
            CREATE TABLE run_tags (
                run_id TEXT NOT NULL REFERENCES runs(id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (run_id, key)
            );
            CREATE TABLE run_inputs (
                run_id TEXT NOT NULL REFERENCES runs(id),
                dataset TEXT NOT NULL,
                version INTEGER NOT NULL,
                context TEXT NOT NULL,
                PRIMARY KEY (run_id, dataset, version, context),
                FOREIGN KEY (dataset, version) REFERENCES dataset_versions(dataset, version)
            );
            CREATE TABLE run_artifacts (
                run_id TEXT NOT NULL REFERENCES runs(id),
                path TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                size_bytes INTEGER NOT NULL,
                PRIMARY KEY (run_id, path)
            );
            CREATE TABLE models (
                name TEXT PRIMARY KEY,
                description TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE TABLE model_versions (
                model TEXT NOT NULL REFERENCES models(name),
                version INTEGER NOT NULL,
                run_id TEXT NOT NULL REFERENCES runs(id),
                onnx_hash TEXT NOT NULL,
                mlnet_hash TEXT NOT NULL,
                signature_json TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (model, version)
            );
            CREATE TABLE model_aliases (
                model TEXT NOT NULL,
                alias TEXT NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (model, alias),
                FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
            );
            CREATE TABLE events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at INTEGER NOT NULL,
                actor TEXT NOT NULL,
                kind TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL
            );
            """),
        (2, "experiments", """
            CREATE TABLE experiments (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                artifact_location TEXT NOT NULL,
                lifecycle_stage TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE TABLE experiment_tags (
                experiment_id INTEGER NOT NULL REFERENCES experiments(id),
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (experiment_id, key)
            );
            INSERT INTO experiments (id, name, artifact_location, lifecycle_stage, created_at, updated_at)
            VALUES (0, 'Default', 'mlflow-artifacts:/0', 'active', CAST(strftime('%s', 'now') AS INTEGER) * 1000, CAST(strftime('%s', 'now') AS INTEGER) * 1000);
            ALTER TABLE runs ADD COLUMN experiment_id INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE runs ADD COLUMN lifecycle_stage TEXT NOT NULL DEFAULT 'active';
            ALTER TABLE runs ADD COLUMN user_id TEXT;
            CREATE INDEX runs_by_experiment ON runs (experiment_id, started_at DESC);
            """),
        (3, "metric series index and latest metrics", """
            -- History reads in (step, timestamp) order straight from the index instead of sorting the series.
            CREATE INDEX run_metrics_series ON run_metrics (run_id, key, step, timestamp);
            DROP INDEX run_metrics_by_run;
            -- Each metric's latest point (highest step, then newest), kept on every write, so reading runs and
            -- searching them never scans a long series.
            CREATE TABLE latest_metrics (
                run_id TEXT NOT NULL REFERENCES runs(id),
                key TEXT NOT NULL,
                value REAL,
                step INTEGER NOT NULL,
                timestamp INTEGER NOT NULL,
                PRIMARY KEY (run_id, key)
            );
            INSERT INTO latest_metrics (run_id, key, value, step, timestamp)
            SELECT run_id, key, value, step, timestamp FROM (
                SELECT run_id, key, value, step, timestamp,
                       ROW_NUMBER() OVER (PARTITION BY run_id, key ORDER BY step DESC, timestamp DESC) AS newest
                FROM run_metrics)
            WHERE newest = 1;
            """),
        (4, "idempotent log batches", """
            -- A client that retries a batch it may already have delivered names it; a known batch is acknowledged, not applied twice.
            CREATE TABLE log_batches (
                run_id TEXT NOT NULL REFERENCES runs(id),
                batch_id TEXT NOT NULL,
                PRIMARY KEY (run_id, batch_id)
            );
            """),
        (5, "metric rollups", """
            -- Each metric's points summarized per block of 1024 steps, kept on every write, so a chart of a long series
            -- reads a thousand rows instead of a million.
            CREATE TABLE metric_rollups (
                run_id TEXT NOT NULL REFERENCES runs(id),
                key TEXT NOT NULL,
                block INTEGER NOT NULL,
                first_step INTEGER NOT NULL,
                last_step INTEGER NOT NULL,
                low REAL,
                high REAL,
                last_value REAL,
                last_timestamp INTEGER NOT NULL,
                points INTEGER NOT NULL,
                PRIMARY KEY (run_id, key, block)
            );
            INSERT INTO metric_rollups (run_id, key, block, first_step, last_step, low, high, last_value, last_timestamp, points)
            SELECT run_id, key, step >> 10, MIN(step), MAX(step), MIN(value), MAX(value), NULL, -9223372036854775808, COUNT(*)
            FROM run_metrics GROUP BY run_id, key, step >> 10;
            UPDATE metric_rollups SET (last_value, last_timestamp) = (
                SELECT m.value, m.timestamp FROM run_metrics m
                WHERE m.run_id = metric_rollups.run_id AND m.key = metric_rollups.key AND m.step = metric_rollups.last_step
                ORDER BY m.timestamp DESC LIMIT 1);
            """),
        (6, "registry", """
            -- Who created a model, and the highest version number ever issued, so a deleted version's number is never reused.
            ALTER TABLE models ADD COLUMN user_id TEXT;
            ALTER TABLE models ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0;
            UPDATE models SET last_version = COALESCE((SELECT MAX(version) FROM model_versions v WHERE v.model = models.name), 0);

            -- Versions may now come from any source (MLflow clients register files Cairn cannot serve), so the serving
            -- package is optional; renaming or deleting a model cascades to its versions, aliases and tags.
            ALTER TABLE model_aliases RENAME TO model_aliases_old;
            ALTER TABLE model_versions RENAME TO model_versions_old;
            CREATE TABLE model_versions (
                model TEXT NOT NULL REFERENCES models(name) ON UPDATE CASCADE ON DELETE CASCADE,
                version INTEGER NOT NULL,
                source TEXT NOT NULL,
                run_id TEXT REFERENCES runs(id),
                run_link TEXT,
                onnx_hash TEXT,
                mlnet_hash TEXT,
                signature_json TEXT,
                status TEXT NOT NULL,
                status_message TEXT,
                stage TEXT NOT NULL,
                description TEXT,
                user_id TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (model, version)
            );
            CREATE INDEX model_versions_by_run ON model_versions (run_id);
            INSERT INTO model_versions (model, version, source, run_id, onnx_hash, mlnet_hash, signature_json, status, stage, created_at, updated_at)
            SELECT model, version, 'runs:/' || run_id || '/model', run_id, onnx_hash, mlnet_hash, signature_json, 'READY', 'None', created_at, created_at
            FROM model_versions_old;
            CREATE TABLE model_aliases (
                model TEXT NOT NULL,
                alias TEXT NOT NULL,
                version INTEGER NOT NULL,
                PRIMARY KEY (model, alias),
                FOREIGN KEY (model, version) REFERENCES model_versions(model, version) ON UPDATE CASCADE ON DELETE CASCADE
            );
            INSERT INTO model_aliases (model, alias, version) SELECT model, alias, version FROM model_aliases_old;
            DROP TABLE model_aliases_old;
            DROP TABLE model_versions_old;

            CREATE TABLE model_tags (
                model TEXT NOT NULL REFERENCES models(name) ON UPDATE CASCADE ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (model, key)
            );
            CREATE TABLE model_version_tags (
                model TEXT NOT NULL,
                version INTEGER NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (model, version, key),
                FOREIGN KEY (model, version) REFERENCES model_versions(model, version) ON UPDATE CASCADE ON DELETE CASCADE
            );
            """),
        (7, "dataset inputs", """
            -- One table for every dataset a run read: Cairn dataset versions (linked by name and version) and the
            -- datasets MLflow clients log from any source by name and digest. context is '' when none was given.
            CREATE TABLE run_dataset_inputs (
                run_id TEXT NOT NULL REFERENCES runs(id),
                name TEXT NOT NULL,
                digest TEXT NOT NULL,
                context TEXT NOT NULL,
                source_type TEXT NOT NULL,
                source TEXT NOT NULL,
                schema TEXT,
                profile TEXT,
                dataset_version INTEGER,
                PRIMARY KEY (run_id, name, digest, context),
                FOREIGN KEY (name, dataset_version) REFERENCES dataset_versions(dataset, version)
            );
            INSERT INTO run_dataset_inputs (run_id, name, digest, context, source_type, source, dataset_version)
            SELECT i.run_id, i.dataset, d.content_hash, i.context, 'cairn', 'cairn:datasets/' || i.dataset || '@' || i.version, i.version
            FROM run_inputs i JOIN dataset_versions d ON d.dataset = i.dataset AND d.version = i.version;
            DROP TABLE run_inputs;
            """),
        (8, "metric chunks", """
            -- Each write's points of one metric packed into one row (see MetricChunk): a batch of a thousand points is a
            -- handful of rows, and a long history reads a thousand rows instead of a million. The store moves the rows
            -- of run_metrics into chunks right after this step, in the same transaction, and drops run_metrics.
            CREATE TABLE metric_chunks (
                id INTEGER PRIMARY KEY,
                run_id TEXT NOT NULL REFERENCES runs(id),
                key TEXT NOT NULL,
                first_step INTEGER NOT NULL,
                last_step INTEGER NOT NULL,
                points INTEGER NOT NULL,
                data BLOB NOT NULL
            );
            CREATE INDEX metric_chunks_by_series ON metric_chunks (run_id, key, first_step);
            """),
        (9, "nested runs", """
            -- A run's parent, for nesting (MLflow clients say it with the mlflow.parentRunId tag, which Cairn keeps in step).
            ALTER TABLE runs ADD COLUMN parent_run_id TEXT REFERENCES runs(id);
            CREATE INDEX runs_by_parent ON runs (parent_run_id);
            UPDATE runs SET parent_run_id = (SELECT t.value FROM run_tags t WHERE t.run_id = runs.id AND t.key = 'mlflow.parentRunId')
            WHERE EXISTS (SELECT 1 FROM run_tags t JOIN runs p ON p.id = t.value WHERE t.run_id = runs.id AND t.key = 'mlflow.parentRunId');
            """),
        (10, "search indexes", """
            -- Filters on metrics, params and tags find the matching rows by key and value instead of visiting every run.
            CREATE INDEX latest_metrics_by_value ON latest_metrics (key, value);
            CREATE INDEX run_params_by_value ON run_params (key, value);
            CREATE INDEX run_tags_by_value ON run_tags (key, value);
            """),
        (11, "dataset lineage", """
            -- Each version's parent (the dataset's latest version when it was added), its message and its tags.
            ALTER TABLE dataset_versions ADD COLUMN parent_version INTEGER;
            ALTER TABLE dataset_versions ADD COLUMN message TEXT;
            UPDATE dataset_versions SET parent_version = (
                SELECT MAX(p.version) FROM dataset_versions p WHERE p.dataset = dataset_versions.dataset AND p.version < dataset_versions.version);
            CREATE TABLE dataset_version_tags (
                dataset TEXT NOT NULL,
                version INTEGER NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (dataset, version, key),
                FOREIGN KEY (dataset, version) REFERENCES dataset_versions(dataset, version)
            );
            """),
        (12, "dataset profiles, validations and folders", """
            -- A version's profile is a JSON artifact; its hash is recorded once computed. A folder version's
            -- content hash is its manifest's.
            ALTER TABLE dataset_versions ADD COLUMN profile_hash TEXT;
            ALTER TABLE dataset_versions ADD COLUMN format TEXT NOT NULL DEFAULT 'csv';

            -- Every validation of a version against a contract, with its verdict and every violation found.
            CREATE TABLE dataset_validations (
                id INTEGER PRIMARY KEY,
                dataset TEXT NOT NULL,
                version INTEGER NOT NULL,
                contract_hash TEXT NOT NULL,
                passed INTEGER NOT NULL,
                violations INTEGER NOT NULL,
                result_json TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                FOREIGN KEY (dataset, version) REFERENCES dataset_versions(dataset, version)
            );
            CREATE INDEX dataset_validations_by_version ON dataset_validations (dataset, version, id);
            """),
        (13, "deployments", """
            -- A deployment's spec (models, traffic split, batching, limits) is JSON; the revision grows with every update.
            CREATE TABLE deployments (
                name TEXT PRIMARY KEY,
                spec_json TEXT NOT NULL,
                revision BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                updated_by TEXT NOT NULL
            );
            """),
        (14, "monitoring", """
            -- A deployment's monitor: its settings as JSON and the artifact holding its baseline (the reference profiled and scored).
            CREATE TABLE monitors (
                deployment TEXT PRIMARY KEY,
                spec_json TEXT NOT NULL,
                baseline_hash TEXT NOT NULL,
                revision BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                updated_by TEXT NOT NULL
            );

            -- Each server's profile of each window of live traffic (compressed JSON), replaced as it flushes; replicas' rows merge.
            CREATE TABLE live_windows (
                deployment TEXT NOT NULL,
                window_start BIGINT NOT NULL,
                replica TEXT NOT NULL,
                window_end BIGINT NOT NULL,
                rows_seen BIGINT NOT NULL,
                content BLOB NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (deployment, window_start, replica)
            );

            -- The prediction log: one row per answered row (a shadow's answer shares the id), kept for the monitor's retention.
            CREATE TABLE predictions (
                id TEXT NOT NULL,
                role TEXT NOT NULL,
                deployment TEXT NOT NULL,
                at BIGINT NOT NULL,
                model TEXT NOT NULL,
                version BIGINT NOT NULL,
                predicted TEXT NOT NULL,
                score REAL,
                inputs_json TEXT NOT NULL,
                PRIMARY KEY (id, role)
            );
            CREATE INDEX predictions_by_time ON predictions (deployment, at);

            -- True labels from feedback, at most one per prediction id.
            CREATE TABLE prediction_labels (
                id TEXT PRIMARY KEY,
                deployment TEXT NOT NULL,
                label TEXT NOT NULL,
                received_at BIGINT NOT NULL,
                received_by TEXT NOT NULL
            );
            CREATE INDEX prediction_labels_by_arrival ON prediction_labels (deployment, received_at);

            -- Each window's results (drift, quality, performance), recomputed when labels arrive.
            CREATE TABLE monitor_windows (
                deployment TEXT NOT NULL,
                window_start BIGINT NOT NULL,
                window_end BIGINT NOT NULL,
                rows_seen BIGINT NOT NULL,
                result_json TEXT NOT NULL,
                evaluated_at BIGINT NOT NULL,
                PRIMARY KEY (deployment, window_start)
            );

            -- Alerts with their notification state (an outbox: pending ones are retried until delivered or given up).
            CREATE TABLE alerts (
                id INTEGER PRIMARY KEY,
                deployment TEXT NOT NULL,
                rule TEXT NOT NULL,
                metric TEXT NOT NULL,
                window_start BIGINT NOT NULL,
                fired_at BIGINT NOT NULL,
                value REAL NOT NULL,
                threshold REAL NOT NULL,
                message TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts BIGINT NOT NULL,
                next_attempt_at BIGINT,
                last_error TEXT,
                UNIQUE (deployment, rule, window_start)
            );
            CREATE INDEX alerts_due ON alerts (status, next_attempt_at);
            """),
        (15, "policy runs", """
            -- Each turn of a deployment's closed loop (retrain, gate, canary, promote or roll back) with its steps as JSON.
            -- At most one run per deployment is active, which the partial unique index enforces across servers.
            CREATE TABLE policy_runs (
                id TEXT PRIMARY KEY,
                deployment TEXT NOT NULL,
                state TEXT NOT NULL,
                active INTEGER NOT NULL,
                started_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                revision BIGINT NOT NULL,
                run_json TEXT NOT NULL
            );
            CREATE UNIQUE INDEX policy_runs_one_active ON policy_runs (deployment) WHERE active = 1;
            CREATE INDEX policy_runs_by_start ON policy_runs (deployment, started_at);
            """),
        (16, "identity", """
            -- Users, service accounts and groups share one name space and one id space, so a grant names any of them.
            CREATE TABLE principals (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                display_name TEXT,
                is_admin INTEGER NOT NULL,
                disabled INTEGER NOT NULL,
                password_hash TEXT,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL
            );
            CREATE TABLE group_members (
                group_id BIGINT NOT NULL REFERENCES principals(id),
                member_id BIGINT NOT NULL REFERENCES principals(id),
                PRIMARY KEY (group_id, member_id)
            );
            CREATE INDEX group_members_by_member ON group_members (member_id);
            -- Tokens are kept as their secret's SHA-256 only; revoked ones stay for the record.
            CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY,
                principal_id BIGINT NOT NULL REFERENCES principals(id),
                name TEXT NOT NULL,
                secret_sha256 TEXT NOT NULL UNIQUE,
                scope INTEGER NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                expires_at BIGINT,
                last_used_at BIGINT,
                revoked_at BIGINT
            );
            CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (principal_id, name) WHERE revoked_at IS NULL;
            -- Roles are ordered integers (predict 1 ... admin 5), so "at least viewer" is one comparison in a list's query.
            CREATE TABLE grants (
                principal_id BIGINT NOT NULL REFERENCES principals(id),
                resource_kind TEXT NOT NULL,
                resource_id TEXT NOT NULL,
                role INTEGER NOT NULL,
                granted_at BIGINT NOT NULL,
                granted_by TEXT NOT NULL,
                PRIMARY KEY (principal_id, resource_kind, resource_id)
            );
            CREATE INDEX grants_by_resource ON grants (resource_kind, resource_id);
            -- Raised by every identity change; servers compare it to drop cached credentials.
            CREATE TABLE identity_revision (
                id INTEGER PRIMARY KEY,
                revision BIGINT NOT NULL
            );
            INSERT INTO identity_revision (id, revision) VALUES (1, 0);
            """),
        (17, "protection keys", """
            -- ASP.NET Core Data Protection's key ring (what session cookies are sealed with), shared by every server of the store.
            CREATE TABLE protection_keys (
                name TEXT PRIMARY KEY,
                xml TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            """),
        (18, "prediction log segments", """
            -- The prediction log as compressed segments, one per deployment and flush, instead of an indexed row per
            -- prediction; the rows of the table before move into segments (code, not SQL) and it goes.
            ALTER TABLE predictions RENAME TO predictions_rows;
            CREATE INDEX predictions_rows_in_order ON predictions_rows (deployment, at, id, role);
            CREATE TABLE prediction_segments (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                deployment TEXT NOT NULL,
                first_at BIGINT NOT NULL,
                last_at BIGINT NOT NULL,
                rows_logged BIGINT NOT NULL,
                bytes BIGINT NOT NULL,
                -- The first and last request id it indexes: deleting the segment deletes that range of the index.
                first_request TEXT NOT NULL,
                last_request TEXT NOT NULL,
                fields BLOB NOT NULL,
                inputs BLOB NOT NULL
            );
            CREATE INDEX prediction_segments_by_time ON prediction_segments (deployment, first_at);
            -- The slim id index: one entry per answered request (row i of a request is ID/i), pointing at its segment.
            CREATE TABLE prediction_requests (
                id TEXT PRIMARY KEY,
                segment BIGINT NOT NULL
            ) WITHOUT ROWID;
            -- A label keeps its prediction's segment and time, so performance and label arrivals need no look-up.
            ALTER TABLE prediction_labels ADD COLUMN segment BIGINT;
            ALTER TABLE prediction_labels ADD COLUMN at BIGINT;
            CREATE INDEX prediction_labels_by_time ON prediction_labels (deployment, at);
            """),
        (19, "change notifications", """
            -- PostgreSQL's step 19 makes its servers hear changes (LISTEN/NOTIFY); on SQLite, servers poll. Nothing to change.
            SELECT 1;
            """),
        (20, "jobs", """
            -- Work submitted to a server for its workers (train, sweep, pipeline), as JSON with a revision for updates
            -- that must not cross; its files' blobs are listed apart so `cairn gc` sees them; its log, line by line.
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                submitted_by TEXT NOT NULL,
                submitted_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                revision BIGINT NOT NULL,
                job_json TEXT NOT NULL
            );
            CREATE INDEX jobs_by_submitter ON jobs (submitted_by, submitted_at);
            CREATE INDEX jobs_by_time ON jobs (submitted_at);
            CREATE TABLE job_files (
                job_id TEXT NOT NULL REFERENCES jobs(id),
                path TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                size_bytes BIGINT NOT NULL,
                PRIMARY KEY (job_id, path)
            );
            -- The files a pipeline sent to run on a schedule starts from; each firing copies them into a job of its own.
            CREATE TABLE schedule_files (
                schedule TEXT NOT NULL,
                path TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                size_bytes BIGINT NOT NULL,
                PRIMARY KEY (schedule, path)
            );
            CREATE TABLE job_log (
                job_id TEXT NOT NULL REFERENCES jobs(id),
                sequence BIGINT NOT NULL,
                at BIGINT NOT NULL,
                text TEXT NOT NULL,
                PRIMARY KEY (job_id, sequence)
            );
            """),
    ];
}
