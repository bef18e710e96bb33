-- guard 1.0: database-side protection against phantom timestamps.
--
-- Installed (and removed) only through the Alembic lineage in guard.migrations (revision guard_0001).
-- Every object lives in schema "guard". Every function pins search_path so a caller's search_path
-- cannot redirect an operator or function call. Roles are cluster-wide and created only if absent:
--
--   guard_owner   NOLOGIN; owns guard.quarantine, guard.violations and the SECURITY DEFINER helpers
--                 that append to them (nobody else can write there).
--   guard_writer  NOLOGIN; may EXECUTE those helpers. Grant it to ingest roles of tables guarded in
--                 quarantine or audit mode.
--   guard_bypass  NOLOGIN; members may SET LOCAL guard.bypass = '<reason>' for a legitimate backfill.
--   guard_reader  NOLOGIN; may read the guard tables (dashboards, guard status).

DO $roles$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['guard_owner', 'guard_writer', 'guard_bypass', 'guard_reader'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = v_role) THEN
            BEGIN
                EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', v_role);
            EXCEPTION WHEN duplicate_object THEN
                NULL;  -- created concurrently by an install into another database of this cluster
            END;
        END IF;
    END LOOP;
    -- Handing objects to guard_owner requires membership (PostgreSQL 15 rule for ALTER ... OWNER TO).
    IF NOT pg_catalog.pg_has_role(current_user, 'guard_owner', 'MEMBER') THEN
        EXECUTE pg_catalog.format('GRANT guard_owner TO %I', current_user);
    END IF;
    -- Bypassed statements are logged, so whoever may bypass must be able to write the log.
    IF NOT pg_catalog.pg_has_role('guard_bypass', 'guard_writer', 'MEMBER') THEN
        GRANT guard_writer TO guard_bypass;
    END IF;
END
$roles$;

CREATE SCHEMA IF NOT EXISTS guard;
REVOKE ALL ON SCHEMA guard FROM PUBLIC;
-- Trigger code runs as the writer and calls guard.* functions: USAGE only, never CREATE.
GRANT USAGE ON SCHEMA guard TO PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

-- Registry of guarded tables; read by guard status / guard doctor, written by guard.protect_table().
CREATE TABLE guard.protected_tables (
    table_name text PRIMARY KEY,                 -- 'schema.table', unquoted
    timestamp_column name NOT NULL,
    business_column name,                        -- NULL: no burst guard
    ingested_column name,
    ingested_column_added boolean NOT NULL,      -- true: guard added it and drops it on unprotect
    mode text NOT NULL CHECK (mode IN ('enforce', 'quarantine', 'audit')),
    original_default text,                       -- pg_get_expr() of the default guard replaced
    min_rows integer NOT NULL CHECK (min_rows >= 2),
    window_interval interval NOT NULL,
    min_span interval NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    installed_by text NOT NULL DEFAULT session_user,
    mode_changed_at timestamptz
);

-- Rows the guard refused to store in quarantine mode (omitted timestamp or burst).
CREATE TABLE guard.quarantine (
    id bigserial PRIMARY KEY,
    table_name text NOT NULL,
    rule text NOT NULL CHECK (rule IN ('omitted_timestamp', 'burst')),
    reason text NOT NULL,
    row_data jsonb NOT NULL,
    session_user_name text NOT NULL,
    role_name text NOT NULL,
    application_name text,
    txid bigint NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
CREATE INDEX quarantine_table_name_idx ON guard.quarantine (table_name, quarantined_at);

-- Violations let through (audit mode) and bypassed statements.
CREATE TABLE guard.violations (
    id bigserial PRIMARY KEY,
    table_name text NOT NULL,
    rule text NOT NULL CHECK (rule IN ('omitted_timestamp', 'burst')),
    action text NOT NULL CHECK (action IN ('audit', 'bypass')),
    reason text NOT NULL,
    row_count bigint NOT NULL,
    row_data jsonb,                              -- the offending row (omission, audit) or NULL
    session_user_name text NOT NULL,
    role_name text NOT NULL,
    application_name text,
    txid bigint NOT NULL,
    logged_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
CREATE INDEX violations_table_name_idx ON guard.violations (table_name, logged_at);

-- Reversible quarantine of rows already stored (guard quarantine / guard release).
CREATE TABLE guard.quarantined_rows (
    id bigserial PRIMARY KEY,
    table_name text NOT NULL,          -- 'schema.table'
    row_key jsonb NOT NULL,            -- primary key columns as jsonb object
    batch_id text NOT NULL,
    reason text NOT NULL,
    quarantined_by text NOT NULL DEFAULT session_user,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    released_at timestamptz,
    released_by text,
    UNIQUE (table_name, row_key, batch_id)
);
CREATE INDEX ON guard.quarantined_rows (table_name) WHERE released_at IS NULL;

ALTER TABLE guard.quarantine OWNER TO guard_owner;
ALTER TABLE guard.violations OWNER TO guard_owner;
REVOKE ALL ON guard.protected_tables, guard.quarantine, guard.violations, guard.quarantined_rows FROM PUBLIC;
GRANT SELECT ON guard.protected_tables, guard.quarantine, guard.violations, guard.quarantined_rows TO guard_reader;

-- ---------------------------------------------------------------------------------------------
-- Logging helpers: the only way to append to guard.quarantine / guard.violations.
-- SECURITY DEFINER (owned by guard_owner) so writers need no privilege on the tables themselves.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION guard.record_quarantine(p_table text, p_rule text, p_reason text, p_rows jsonb, p_role text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_count bigint;
BEGIN
    INSERT INTO guard.quarantine
        (table_name, rule, reason, row_data, session_user_name, role_name, application_name, txid)
    SELECT p_table, p_rule, p_reason, r.value, session_user, p_role,
           current_setting('application_name', true), txid_current()
    FROM jsonb_array_elements(p_rows) AS r;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$fn$;

CREATE FUNCTION guard.record_violation(
    p_table text, p_rule text, p_action text, p_reason text, p_row_count bigint, p_row jsonb, p_role text
)
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
    INSERT INTO guard.violations
        (table_name, rule, action, reason, row_count, row_data, session_user_name, role_name, application_name, txid)
    VALUES (p_table, p_rule, p_action, p_reason, p_row_count, p_row, session_user, p_role,
            current_setting('application_name', true), txid_current());
$fn$;

ALTER FUNCTION guard.record_quarantine(text, text, text, jsonb, text) OWNER TO guard_owner;
ALTER FUNCTION guard.record_violation(text, text, text, text, bigint, jsonb, text) OWNER TO guard_owner;
REVOKE ALL ON FUNCTION guard.record_quarantine(text, text, text, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.record_violation(text, text, text, text, bigint, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION guard.record_quarantine(text, text, text, jsonb, text) TO guard_writer;
GRANT EXECUTE ON FUNCTION guard.record_violation(text, text, text, text, bigint, jsonb, text) TO guard_writer;

-- ---------------------------------------------------------------------------------------------
-- Invoker-side helpers used by the triggers (run as the writer).
-- ---------------------------------------------------------------------------------------------

-- The reason given in guard.bypass, or NULL. A custom GUC cannot be made privileged, so membership in
-- guard_bypass is checked here, as the role that is writing (SECURITY INVOKER).
CREATE FUNCTION guard.bypass_reason() RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_reason text := nullif(btrim(current_setting('guard.bypass', true)), '');
BEGIN
    IF v_reason IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT pg_has_role(current_user, 'guard_bypass', 'MEMBER') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'GD003',
            MESSAGE = format('guard: guard.bypass is set (%L) but role %I is not a member of guard_bypass',
                             v_reason, current_user),
            HINT = 'Only members of guard_bypass may skip the guard. Ask a DBA for GRANT guard_bypass TO '
                   || quote_ident(current_user) || ', or RESET guard.bypass and pass the real timestamps.';
    END IF;
    RETURN v_reason;
END
$fn$;

-- Call a logging helper, turning a missing grant into an error that says which grant is missing.
CREATE FUNCTION guard.log_quarantine(p_table text, p_rule text, p_reason text, p_rows jsonb) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM guard.record_quarantine(p_table, p_rule, p_reason, p_rows, current_user::text);
EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION USING
        ERRCODE = 'GD004',
        MESSAGE = format('guard: role %I may not write guard.quarantine, so the row for %s cannot be quarantined',
                         current_user, p_table),
        HINT = 'GRANT guard_writer TO ' || quote_ident(current_user) || ' (ingest roles of tables guarded in '
               || 'quarantine or audit mode need it).';
END
$fn$;

CREATE FUNCTION guard.log_violation(
    p_table text, p_rule text, p_action text, p_reason text, p_row_count bigint, p_row jsonb
) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM guard.record_violation(p_table, p_rule, p_action, p_reason, p_row_count, p_row, current_user::text);
EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION USING
        ERRCODE = 'GD004',
        MESSAGE = format('guard: role %I may not write guard.violations, so the %s on %s cannot be logged',
                         current_user, p_action, p_table),
        HINT = 'GRANT guard_writer TO ' || quote_ident(current_user) || ' (ingest roles of tables guarded in '
               || 'quarantine or audit mode, and bypassing roles, need it).';
END
$fn$;

-- Per-statement counters live in transaction-local settings named by counter_name(): keyed by the guarded
-- table's name (not its oid: on a partitioned table, row triggers fire per partition, the statement trigger
-- on the parent) and the action; counter 'any' flags that one of them is set. guard.on_insert_report() checks
-- the flag after every statement and lets guard.report_pending() read and reset them: one WARNING per statement.
-- counter_name() has no SET clause so it can be inlined into the per-statement trigger; it is safe without
-- one because every call in it is schema-qualified and it uses no operator.
CREATE FUNCTION guard.counter_name(p_table text, p_action text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $fn$
    SELECT pg_catalog.concat('guard.pending_', pg_catalog.to_hex(pg_catalog.hashtext(p_table)), '_', p_action);
$fn$;

CREATE FUNCTION guard.count_row(p_table text, p_action text) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_name text := guard.counter_name(p_table, p_action);
BEGIN
    PERFORM set_config(v_name, (coalesce(nullif(current_setting(v_name, true), ''), '0')::bigint + 1)::text, true);
    PERFORM set_config(guard.counter_name(p_table, 'any'), '1', true);
END
$fn$;

-- ---------------------------------------------------------------------------------------------
-- Trigger functions. Arguments come from CREATE TRIGGER (see guard.protect_table), so a clean row
-- pays nothing: the omission trigger only fires WHEN (NEW.<column> = '-infinity').
-- ---------------------------------------------------------------------------------------------

-- Enforce mode: called by the CHECK constraint `<column> <> '-infinity' OR guard.reject_omitted(...)` only for
-- a row that holds the sentinel, to fail with a message a writer can act on instead of a bare check violation.
-- Enforcing in the constraint (not a BEFORE ROW trigger) keeps COPY on its fast multi-insert path. It also
-- makes this error the backstop in every mode when triggers are disabled (session_replication_role = replica).
CREATE FUNCTION guard.reject_omitted(p_table text, p_column text) RETURNS boolean
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'GD001',
        COLUMN = p_column,
        MESSAGE = format('guard: %s.%I was not given a value; the INSERT left it to its default', p_table, p_column),
        DETAIL = format('%s is guarded: a defaulted %I would stamp the row with the ingestion time and make '
                        'history look created now (a phantom timestamp).', p_table, p_column),
        HINT = format('Pass the source system''s creation time in %I explicitly; ingestion time belongs in '
                      'warehouse_ingested_at. See docs/database.md, section "Errors you will see".', p_column);
END
$fn$;

-- Quarantine and audit modes: BEFORE INSERT ... FOR EACH ROW WHEN (NEW.<column> = '-infinity');
-- args: column, mode, guarded table name. guard.bypass does not apply: a missing timestamp is never legitimate.
CREATE FUNCTION guard.on_omitted_timestamp() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_column text := TG_ARGV[0];
    v_mode text := TG_ARGV[1];
    v_table text := TG_ARGV[2];
    v_reason text := format('%s.%s was not given a value (it fell back to its default)', v_table, v_column);
BEGIN
    IF v_mode = 'quarantine' THEN
        PERFORM guard.log_quarantine(v_table, 'omitted_timestamp', v_reason, jsonb_build_array(to_jsonb(NEW)));
        PERFORM guard.count_row(v_table, 'quarantine');
        RETURN NULL;
    ELSIF v_mode = 'audit' THEN
        PERFORM guard.log_violation(v_table, 'omitted_timestamp', 'audit', v_reason, 1, to_jsonb(NEW));
        NEW := jsonb_populate_record(NEW, jsonb_build_object(v_column, now()));
        PERFORM guard.count_row(v_table, 'audit');
        RETURN NEW;
    END IF;
    PERFORM guard.reject_omitted(v_table, v_column);
    RETURN NULL;
END
$fn$;

-- Emit the statement's WARNINGs from the counters, and reset them.
CREATE FUNCTION guard.report_pending(p_column text, p_table text) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_quarantined bigint := coalesce(nullif(current_setting(guard.counter_name(p_table, 'quarantine'), true), ''), '0');
    v_audited bigint := coalesce(nullif(current_setting(guard.counter_name(p_table, 'audit'), true), ''), '0');
BEGIN
    PERFORM set_config(guard.counter_name(p_table, action), '0', true)
    FROM unnest(ARRAY['quarantine', 'audit', 'any']) AS action;
    IF v_quarantined > 0 THEN
        RAISE WARNING USING
            MESSAGE = format('guard: %s row(s) for %s were quarantined, not inserted: %I was not given a value',
                             v_quarantined, p_table, p_column),
            HINT = format('They are in guard.quarantine (rule omitted_timestamp). Pass the source creation time '
                          'in %I, then replay them.', p_column);
    END IF;
    IF v_audited > 0 THEN
        RAISE WARNING USING
            MESSAGE = format('guard: %s row(s) inserted into %s without %I; stored with the ingestion time '
                             '(audit mode)', v_audited, p_table, p_column),
            HINT = format('Logged to guard.violations. Pass the source creation time in %I.', p_column);
    END IF;
END
$fn$;

-- AFTER INSERT ... FOR EACH STATEMENT; args: column, mode, guarded table name.
-- It runs after every INSERT, so it has no SET clause (saving and restoring search_path would cost more than
-- its work); every function and operator in it is schema-qualified instead, so no search_path can redirect it.
CREATE FUNCTION guard.on_insert_report() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $fn$
BEGIN
    IF pg_catalog.current_setting(guard.counter_name(TG_ARGV[2], 'any'), true) OPERATOR(pg_catalog.=) '1' THEN
        PERFORM guard.report_pending(TG_ARGV[0], TG_ARGV[2]);
    END IF;
    RETURN NULL;
END
$fn$;

-- AFTER INSERT ... REFERENCING NEW TABLE AS guard_new_rows FOR EACH STATEMENT;
-- args: column, business column, mode, min_rows, window, min_span, guarded table name.
-- A burst is >= min_rows rows of one statement whose timestamps fall in one window while their business
-- dates span more than min_span: the signature of history re-stamped with now().
CREATE FUNCTION guard.on_insert_burst() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $fn$
-- Declared types are qualified: without a SET clause they are resolved under the caller's search_path.
DECLARE
    v_column pg_catalog.text := TG_ARGV[0];
    v_business pg_catalog.text := TG_ARGV[1];
    v_mode pg_catalog.text := TG_ARGV[2];
    v_min_rows pg_catalog.int8 := TG_ARGV[3]::pg_catalog.int8;
    v_window pg_catalog.interval := TG_ARGV[4]::pg_catalog.interval;
    v_min_span pg_catalog.interval := TG_ARGV[5]::pg_catalog.interval;
    v_table pg_catalog.text := TG_ARGV[6];
    v_buckets pg_catalog.timestamptz[];
    v_rows pg_catalog.int8;
    v_seconds pg_catalog.numeric;
    v_k pg_catalog.int8;
    v_coarse pg_catalog.interval;
    v_dense pg_catalog.timestamptz[];
    v_first pg_catalog.timestamptz;
    v_low pg_catalog.timestamptz;
    v_high pg_catalog.timestamptz;
    v_reason pg_catalog.text;
    v_bypass pg_catalog.text;
    v_keys pg_catalog.text[];
    v_payload pg_catalog.jsonb;
    v_search_path pg_catalog.text;
BEGIN
    -- 0. Static SQL (its plan is cached per table) that reads at most min_rows rows: small statements, the
    --    common case, exit here cheaply. This part runs for every INSERT, so the function has no SET clause
    --    (its save/restore of search_path would cost more than the check); it is schema-qualified instead.
    SELECT pg_catalog.count(*) INTO v_rows FROM (SELECT FROM guard_new_rows LIMIT v_min_rows) AS enough;
    IF v_rows OPERATOR(pg_catalog.<) v_min_rows THEN
        RETURN NULL;
    END IF;
    -- The rest runs with search_path pinned, as if by a SET clause: set here, restored before returning, and
    -- undone with the (sub)transaction if an error ends the statement.
    v_search_path := pg_catalog.current_setting('search_path');
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    <<check>>
    BEGIN
        -- 1. Size a coarse grid, k windows wide, from a sample so that an even spread puts min_rows/2 rows in each
        --    coarse window. Any k is correct (windows nest in coarse windows, which hold at least as many rows
        --    and span at least as much); a good k just lets step 2 rule out a large clean backfill in one pass.
        EXECUTE format(
            'SELECT count(*), extract(epoch FROM max(%1$I::timestamptz) - min(%1$I::timestamptz))'
            ' FROM (SELECT %1$I FROM guard_new_rows WHERE isfinite(%1$I) LIMIT 10000) AS sample', v_column)
        INTO v_rows, v_seconds;
        v_k := floor(coalesce(v_seconds, 0) * v_min_rows / (2 * greatest(v_rows, 1) * extract(epoch FROM v_window)));
        -- 2. Coarse windows that could hold a burst: enough rows and business dates spanning too much.
        IF v_k >= 2 THEN
            v_coarse := v_window * v_k::double precision;
            EXECUTE format(
                'SELECT array_agg(coarse) FROM ('
                '  SELECT date_bin($1, %1$I::timestamptz, timestamptz ''epoch'') AS coarse FROM guard_new_rows'
                '  WHERE isfinite(%1$I) GROUP BY 1'
                '  HAVING count(*) >= $2 AND max(%2$I)::timestamptz - min(%2$I)::timestamptz > $3) AS suspect',
                v_column, v_business)
            INTO v_dense USING v_coarse, v_min_rows, v_min_span;
            IF v_dense IS NULL THEN
                EXIT check;
            END IF;
        END IF;
        -- 3. Windows (inside the dense coarse ones) with at least min_rows rows whose business dates span too much.
        EXECUTE format(
            'SELECT array_agg(bucket), sum(n), min(bucket), min(low), max(high) FROM ('
            '  SELECT date_bin($1, %1$I::timestamptz, timestamptz ''epoch'') AS bucket, count(*) AS n,'
            '         min(%2$I)::timestamptz AS low, max(%2$I)::timestamptz AS high'
            '  FROM guard_new_rows WHERE isfinite(%1$I)'
            '    AND ($4::timestamptz[] IS NULL OR date_bin($5, %1$I::timestamptz, timestamptz ''epoch'') = ANY ($4))'
            '  GROUP BY 1) AS per_window'
            ' WHERE n >= $2 AND high - low > $3', v_column, v_business)
        INTO v_buckets, v_rows, v_first, v_low, v_high
        USING v_window, v_min_rows, v_min_span, v_dense, v_coarse;
        IF v_rows IS NULL THEN
            EXIT check;
        END IF;

        v_reason := format('burst: %s rows of one statement have %I within %s of %s while %I spans %s to %s '
                           '(more than %s)', v_rows, v_column, v_window, v_first, v_business,
                           v_low::date, v_high::date, v_min_span);
        v_bypass := guard.bypass_reason();
        IF v_bypass IS NOT NULL THEN
            PERFORM guard.log_violation(v_table, 'burst', 'bypass', format('guard.bypass: %s; %s', v_bypass, v_reason),
                                        v_rows, NULL);
            RAISE WARNING USING MESSAGE = format('guard: bypass on %s (reason: %s): %s', v_table, v_bypass, v_reason);
            EXIT check;
        END IF;

        IF v_mode = 'audit' THEN
            PERFORM guard.log_violation(v_table, 'burst', 'audit', v_reason, v_rows, NULL);
            RAISE WARNING USING
                MESSAGE = format('guard: %s on %s (audit mode: rows kept, logged to guard.violations)', v_reason, v_table),
                HINT = format('If %I was filled with the load time, pass the source creation time instead.', v_column);
            EXIT check;
        ELSIF v_mode = 'quarantine' THEN
            SELECT array_agg(a.attname::text ORDER BY k.ord) INTO v_keys
            FROM pg_index AS i
            CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = TG_RELID AND i.indisprimary;
            IF v_keys IS NULL THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'GD002',
                    MESSAGE = format('guard: %s on %s, and the table has no primary key to divert the rows by',
                                     v_reason, v_table),
                    HINT = 'Add a primary key, or guard the table in enforce or audit mode.';
            END IF;
            EXECUTE format(
                'SELECT jsonb_agg(to_jsonb(r)) FROM guard_new_rows AS r'
                ' WHERE date_bin($1, r.%1$I::timestamptz, timestamptz ''epoch'') = ANY ($2)', v_column)
            INTO v_payload USING v_window, v_buckets;
            BEGIN
                EXECUTE format(
                    'DELETE FROM %I.%I AS t USING guard_new_rows AS r WHERE %s'
                    ' AND date_bin($1, r.%I::timestamptz, timestamptz ''epoch'') = ANY ($2)',
                    TG_TABLE_SCHEMA, TG_TABLE_NAME,
                    (SELECT string_agg(format('t.%1$I = r.%1$I', key), ' AND ') FROM unnest(v_keys) AS key),
                    v_column)
                USING v_window, v_buckets;
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'GD004',
                    MESSAGE = format('guard: %s on %s, and role %I may not delete the rows to quarantine them',
                                     v_reason, v_table, current_user),
                    HINT = format('GRANT SELECT, DELETE ON %s TO %I, or guard the table in enforce or audit mode.',
                                  v_table, current_user);
            END;
            PERFORM guard.log_quarantine(v_table, 'burst', v_reason, v_payload);
            RAISE WARNING USING
                MESSAGE = format('guard: %s on %s; the %s rows were removed and stored in guard.quarantine',
                                 v_reason, v_table, v_rows),
                HINT = format('Pass the source creation time in %I and replay them.', v_column);
            EXIT check;
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'GD002',
            MESSAGE = format('guard: INSERT into %s rejected: %s', v_table, v_reason),
            DETAIL = format('Rows created over years do not share one %I minute; this looks like history stamped with '
                            'the load time (a phantom timestamp).', v_column),
            HINT = format('Pass the source system''s creation time in %I. For a legitimate bulk load, a member of '
                          'guard_bypass can SET LOCAL guard.bypass = ''<reason>''. See docs/database.md.', v_column);
    END check;
    PERFORM pg_catalog.set_config('search_path', v_search_path, true);
    RETURN NULL;
END
$fn$;

-- ---------------------------------------------------------------------------------------------
-- Protection management, called by the Alembic operations in guard.db.operations (as the table owner).
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION guard.qualified_name(p_table regclass) RETURNS text
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT n.nspname || '.' || c.relname
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.oid = p_table;
$fn$;

CREATE FUNCTION guard.check_name(p_table regclass, p_column name) RETURNS name
LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT left((SELECT relname FROM pg_class WHERE oid = p_table) || '_' || p_column || '_must_be_explicit', 63)::name;
$fn$;

-- Drop a guard trigger if the table has it (quietly: DROP TRIGGER IF EXISTS would print a NOTICE per miss).
CREATE FUNCTION guard.drop_trigger(p_table regclass, p_trigger name) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = p_table AND tgname = p_trigger) THEN
        EXECUTE format('DROP TRIGGER %I ON %s', p_trigger, p_table);
    END IF;
END
$fn$;

-- (Re)create the triggers of one guarded table for a mode; CREATE OR REPLACE keeps mode changes atomic.
CREATE FUNCTION guard.install_triggers(p_table regclass) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v guard.protected_tables%ROWTYPE;
BEGIN
    SELECT * INTO STRICT v FROM guard.protected_tables WHERE table_name = guard.qualified_name(p_table);
    IF v.mode = 'enforce' THEN
        -- The CHECK constraint enforces (see guard.reject_omitted); no per-row or per-statement cost.
        PERFORM guard.drop_trigger(p_table, 'zz_guard_omitted_timestamp');
        PERFORM guard.drop_trigger(p_table, 'zz_guard_report');
    ELSE
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER zz_guard_omitted_timestamp BEFORE INSERT ON %s FOR EACH ROW'
            ' WHEN (NEW.%I = ''-infinity'') EXECUTE FUNCTION guard.on_omitted_timestamp(%L, %L, %L)',
            p_table, v.timestamp_column, v.timestamp_column, v.mode, v.table_name);
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER zz_guard_report AFTER INSERT ON %s FOR EACH STATEMENT'
            ' EXECUTE FUNCTION guard.on_insert_report(%L, %L, %L)', p_table, v.timestamp_column, v.mode,
            v.table_name);
    END IF;
    IF v.business_column IS NOT NULL THEN
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER zz_guard_burst AFTER INSERT ON %s REFERENCING NEW TABLE AS guard_new_rows'
            ' FOR EACH STATEMENT EXECUTE FUNCTION guard.on_insert_burst(%L, %L, %L, %L, %L, %L, %L)',
            p_table, v.timestamp_column, v.business_column, v.mode, v.min_rows, v.window_interval, v.min_span,
            v.table_name);
    END IF;
END
$fn$;

CREATE FUNCTION guard.require_column(p_table regclass, p_column name, p_types text[], p_role text) RETURNS void
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_type text;
BEGIN
    SELECT format_type(atttypid, NULL) INTO v_type
    FROM pg_attribute WHERE attrelid = p_table AND attname = p_column AND attnum > 0 AND NOT attisdropped;
    IF v_type IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_column',
            MESSAGE = format('guard: %s has no column %I (given as the %s)', p_table, p_column, p_role);
    END IF;
    IF NOT v_type = ANY (p_types) THEN
        RAISE EXCEPTION USING ERRCODE = 'datatype_mismatch',
            MESSAGE = format('guard: %s.%I is %s; the %s must be one of %s', p_table, p_column, v_type, p_role,
                             array_to_string(p_types, ', '));
    END IF;
END
$fn$;

CREATE FUNCTION guard.require_mode(p_table regclass, p_mode text, p_business_column name) RETURNS void
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF p_mode IS NULL OR p_mode NOT IN ('enforce', 'quarantine', 'audit') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('guard: unknown mode %L for %s (use enforce, quarantine or audit)', p_mode, p_table);
    END IF;
    IF p_mode = 'quarantine' AND p_business_column IS NOT NULL
       AND NOT EXISTS (SELECT FROM pg_index WHERE indrelid = p_table AND indisprimary) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_table_definition',
            MESSAGE = format('guard: %s has no primary key, so the burst guard cannot divert rows in quarantine mode',
                             p_table),
            HINT = 'Add a primary key, or use enforce or audit mode for this table.';
    END IF;
END
$fn$;

CREATE FUNCTION guard.protect_table(
    p_table regclass,
    p_column name,
    p_mode text,
    p_business_column name DEFAULT NULL,
    p_min_rows integer DEFAULT 100,
    p_window interval DEFAULT '1 minute',
    p_min_span interval DEFAULT '180 days',
    p_ingested_column name DEFAULT 'warehouse_ingested_at',
    p_validate boolean DEFAULT true
) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_name text := guard.qualified_name(p_table);
    v_check name := guard.check_name(p_table, p_column);
    v_default text;
    v_added boolean := false;
BEGIN
    IF EXISTS (SELECT FROM guard.protected_tables WHERE table_name = v_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'duplicate_object',
            MESSAGE = format('guard: %s is already guarded', v_name),
            HINT = 'Use op.guard_set_mode() to change its mode, or op.unguard_table() first.';
    END IF;
    PERFORM guard.require_mode(p_table, p_mode, p_business_column);
    PERFORM guard.require_column(p_table, p_column,
        ARRAY['timestamp with time zone', 'timestamp without time zone'], 'timestamp column');
    IF p_business_column IS NOT NULL THEN
        PERFORM guard.require_column(p_table, p_business_column,
            ARRAY['timestamp with time zone', 'timestamp without time zone', 'date'], 'business column');
    END IF;
    -- One lock, taken first: the caller's lock_timeout applies here, before any change is made.
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p_table);

    SELECT pg_get_expr(d.adbin, d.adrelid) INTO v_default
    FROM pg_attrdef AS d JOIN pg_attribute AS a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    WHERE d.adrelid = p_table AND a.attname = p_column;

    IF p_ingested_column IS NOT NULL AND NOT EXISTS (
        SELECT FROM pg_attribute WHERE attrelid = p_table AND attname = p_ingested_column AND NOT attisdropped
    ) THEN
        -- Nullable first, default second: existing rows stay NULL instead of being stamped with today.
        EXECUTE format('ALTER TABLE %s ADD COLUMN %I timestamptz', p_table, p_ingested_column);
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT now()', p_table, p_ingested_column);
        v_added := true;
    END IF;

    EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT ''-infinity''', p_table, p_column);
    -- OR short-circuits: guard.reject_omitted() runs only for a row holding the sentinel, and raises.
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (%I IS NULL OR %I <> ''-infinity'''
                   ' OR guard.reject_omitted(%L, %L)) NOT VALID',
                   p_table, v_check, p_column, p_column, v_name, p_column);

    INSERT INTO guard.protected_tables (table_name, timestamp_column, business_column, ingested_column,
        ingested_column_added, mode, original_default, min_rows, window_interval, min_span)
    VALUES (v_name, p_column, p_business_column, p_ingested_column, v_added, p_mode, v_default,
            p_min_rows, p_window, p_min_span);
    PERFORM guard.install_triggers(p_table);
    IF p_validate THEN
        PERFORM guard.validate_table(p_table);
    END IF;
END
$fn$;

-- Check that no stored row holds the sentinel. Run by the migration in a transaction of its own, after the
-- one that added the constraint NOT VALID: VALIDATE takes only SHARE UPDATE EXCLUSIVE, so writers go on
-- while the table is scanned (the ACCESS EXCLUSIVE lock of the ALTERs is held for milliseconds, not a scan).
CREATE FUNCTION guard.validate_table(p_table regclass) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_column name;
BEGIN
    SELECT timestamp_column INTO STRICT v_column FROM guard.protected_tables
    WHERE table_name = guard.qualified_name(p_table);
    EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT %I', p_table, guard.check_name(p_table, v_column));
END
$fn$;

CREATE FUNCTION guard.set_mode(p_table regclass, p_mode text, p_from_mode text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v guard.protected_tables%ROWTYPE;
BEGIN
    SELECT * INTO v FROM guard.protected_tables WHERE table_name = guard.qualified_name(p_table) FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object',
            MESSAGE = format('guard: %s is not guarded', p_table),
            HINT = 'Guard it first with op.guard_table().';
    END IF;
    IF p_from_mode IS NOT NULL AND v.mode <> p_from_mode THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = format('guard: %s is in %s mode, not %s as this migration expects', p_table, v.mode, p_from_mode);
    END IF;
    PERFORM guard.require_mode(p_table, p_mode, v.business_column);
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', p_table);
    UPDATE guard.protected_tables SET mode = p_mode, mode_changed_at = now() WHERE table_name = v.table_name;
    PERFORM guard.install_triggers(p_table);
END
$fn$;

CREATE FUNCTION guard.unprotect_table(p_table regclass) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v guard.protected_tables%ROWTYPE;
BEGIN
    SELECT * INTO v FROM guard.protected_tables WHERE table_name = guard.qualified_name(p_table) FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = format('guard: %s is not guarded', p_table);
    END IF;
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p_table);
    PERFORM guard.drop_trigger(p_table, 'zz_guard_burst');
    PERFORM guard.drop_trigger(p_table, 'zz_guard_report');
    PERFORM guard.drop_trigger(p_table, 'zz_guard_omitted_timestamp');
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', p_table,
                   guard.check_name(p_table, v.timestamp_column));
    IF v.original_default IS NULL THEN
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', p_table, v.timestamp_column);
    ELSE
        -- original_default is pg_get_expr() output read from the catalog by protect_table, not user input.
        EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT %s', p_table, v.timestamp_column,
                       v.original_default);
    END IF;
    IF v.ingested_column_added THEN
        EXECUTE format('ALTER TABLE %s DROP COLUMN %I', p_table, v.ingested_column);
    END IF;
    DELETE FROM guard.protected_tables WHERE table_name = v.table_name;
END
$fn$;

-- Management functions change table definitions: only table owners (who run migrations) should call them.
REVOKE ALL ON FUNCTION guard.protect_table(regclass, name, text, name, integer, interval, interval, name, boolean)
    FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.validate_table(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.set_mode(regclass, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.unprotect_table(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.install_triggers(regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.drop_trigger(regclass, name) FROM PUBLIC;
