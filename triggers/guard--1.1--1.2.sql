-- guard 1.1 -> 1.2: a burst guard that costs (almost) nothing where it has nothing to find.
--
-- Applied by revision guard_0003 (downgrade: guard.db.schema.downgrade_sql() restores the 1.1 definitions of the
-- functions replaced here, then guard--1.2--1.1.sql). Kept as an upgrade script, extension-style.
--
-- Up to 1.1 the burst guard was one AFTER STATEMENT trigger with a transition table: PostgreSQL copied every
-- inserted row into a tuplestore, so a clean 1M-row backfill paid ~1.2-1.6x for a check that had nothing to find.
-- 1.2 keeps the check (same thresholds, modes, messages, SQLSTATEs, audit entries) but feeds it only the rows that
-- can make a burst a burst:
--
--   A burst window holds rows whose created_at lie within `window` of each other while their business dates span
--   more than `min_span`. If every row's business date were within margin = (min_span - window) / 2 of its own
--   created_at, the business dates would span less than window + 2 * margin = min_span. So every burst window has
--   a row whose business date is more than `margin` from its stamp (guard.burst_margin).
--
--   * zz_guard_burst_row: AFTER INSERT FOR EACH ROW WHEN (business date more than margin from the stamp), the
--     margin a literal computed from the table's settings when the trigger is created (install_triggers
--     re-creates it when they change). The executor evaluates WHEN without entering PL/pgSQL, so a clean backfill (business date ~ created_at) and
--     a clean fresh ingest (both ~ now()) never call a function. Rows that pass the filter go to
--     guard.on_burst_row(), which appends (created_at, business date[, the row in quarantine mode]) to the
--     guard-owned UNLOGGED table guard.burst_tally.
--   * zz_guard_burst: AFTER INSERT FOR EACH STATEMENT, no transition table. A transaction-local flag set by the
--     row trigger tells it whether its statement tallied anything; if so guard.take_burst() runs 1.1's analysis
--     on the tallied rows and removes them.
--
-- The narrowing (docs/database.md, README "Security"): rows of a burst whose business date is within `margin`
-- of their stamp are not counted or diverted; `guard detect` reads every stored row and remains the safety net.
--
-- Tally rows are keyed by backend (pg_backend_pid), firing relation (TG_RELID: the partition for a partitioned
-- table; guard.take_burst reads the whole partition tree of the guarded table), trigger depth (a statement run
-- from inside a trigger keeps its own rows) and transaction (xid8, never reused). Uncommitted rows are invisible
-- to other sessions and vanish with a failed statement; guard.take_burst deletes them at the end of their
-- statement. Writers need no TEMPORARY privilege and no grant on the table: only the SECURITY DEFINER
-- functions below (owned by guard_owner) touch it, and they act on the calling session's own rows only.

CREATE UNLOGGED TABLE guard.burst_tally (
    backend int4 NOT NULL,
    relid oid NOT NULL,
    depth int4 NOT NULL,
    xid xid8 NOT NULL,
    ts timestamptz NOT NULL,
    biz timestamptz NOT NULL,
    row_data jsonb                         -- the row, in quarantine mode only (to divert and store it)
);
CREATE INDEX burst_tally_key ON guard.burst_tally (backend, relid, depth);
ALTER TABLE guard.burst_tally OWNER TO guard_owner;
REVOKE ALL ON guard.burst_tally FROM PUBLIC;

-- Seconds of an interval as interval comparison counts them (months of 30 days, days of 24 hours).
-- Both functions have SQL-standard bodies: names are resolved when they are created, not under a caller's
-- search_path. guard.db.intervals computes the same margin in Python (tested equal).
CREATE FUNCTION guard.interval_seconds(p_interval interval) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (extract(year FROM p_interval) * 12 + extract(month FROM p_interval)) * 30 * 86400
       + extract(day FROM p_interval) * 86400 + extract(hour FROM p_interval) * 3600
       + extract(minute FROM p_interval) * 60 + extract(second FROM p_interval);

-- How far a row's business date may be from its stamp and still be left out of the burst check: half of what
-- min_span leaves beyond the window, in absolute seconds measured the way interval comparison measures,
-- rounded down to the microsecond. 0 when min_span <= window.
CREATE FUNCTION guard.burst_margin(p_window interval, p_min_span interval) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN pg_catalog.make_interval(secs => pg_catalog.floor(
    greatest(guard.interval_seconds(p_min_span) - guard.interval_seconds(p_window), 0) * 1000000 / 2) / 1000000);

-- AFTER INSERT ... FOR EACH ROW WHEN (business date far from the stamp); args: column, business column, mode,
-- guarded table name. SECURITY DEFINER so the writer needs no privilege on guard.burst_tally; it writes only the
-- firing row, keyed by the firing relation and the calling session, so attaching it to a table of one's own
-- (EXECUTE is not granted, see below) could not reach any other table's or session's tally either.
CREATE FUNCTION guard.on_burst_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_row jsonb := to_jsonb(NEW);
    v_flag text := guard.counter_name(TG_ARGV[3], 'burst' || pg_trigger_depth());
BEGIN
    INSERT INTO guard.burst_tally (backend, relid, depth, xid, ts, biz, row_data)
    VALUES (pg_backend_pid(), TG_RELID, pg_trigger_depth(), pg_current_xact_id(),
            (v_row ->> TG_ARGV[0])::timestamptz, (v_row ->> TG_ARGV[1])::timestamptz,
            CASE WHEN TG_ARGV[2] = 'quarantine' THEN v_row END);
    -- Tell the statement trigger there is something to read (transaction-local, undone with a failed statement).
    IF current_setting(v_flag, true) IS DISTINCT FROM '1' THEN
        PERFORM set_config(v_flag, '1', true);
    END IF;
    RETURN NULL;
END
$fn$;

-- The burst check over this statement's tallied rows of p_relid's partition tree (1.1's analysis, on the tally):
-- the windows with at least min_rows rows whose business dates span more than min_span, their row count, the
-- first window, the business date range, and (p_payload) the rows themselves. Removes the statement's tally
-- (and any left by earlier transactions of this backend). Reads and deletes only the calling session's rows of
-- its current transaction at its trigger depth, so it can be callable by every writer.
CREATE FUNCTION guard.take_burst(
    p_relid oid, p_min_rows bigint, p_window interval, p_min_span interval, p_payload boolean,
    OUT burst_rows bigint, OUT buckets timestamptz[], OUT first_window timestamptz, OUT low timestamptz,
    OUT high timestamptz, OUT payload jsonb
)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_backend int4 := pg_backend_pid();
    v_depth int4 := pg_trigger_depth();
    v_xid xid8 := pg_current_xact_id_if_assigned();
    -- pg_partition_tree() lists nothing for a table that is not partitioned
    v_relids oid[] := ARRAY(SELECT p_relid UNION SELECT relid FROM pg_partition_tree(p_relid));
    v_rows bigint;
    v_seconds numeric;
    v_k bigint;
    v_coarse interval;
    v_dense timestamptz[];
BEGIN
    IF v_depth < 1 OR v_xid IS NULL THEN
        RETURN;  -- not called from a trigger of a writing statement: there is nothing of this statement to read
    END IF;
    <<check>>
    BEGIN
        SELECT count(*) INTO v_rows FROM (
            SELECT FROM guard.burst_tally AS t
            WHERE t.backend = v_backend AND t.relid = ANY (v_relids) AND t.depth = v_depth AND t.xid = v_xid
            LIMIT p_min_rows) AS enough;
        IF v_rows < p_min_rows THEN
            EXIT check;
        END IF;
        -- 1. Size a coarse grid, k windows wide, from a sample so that an even spread puts min_rows/2 rows in each
        --    coarse window. Any k is correct (windows nest in coarse windows, which hold at least as many rows
        --    and span at least as much); a good k just lets step 2 rule out a large spread in one pass.
        SELECT count(*), extract(epoch FROM max(s.ts) - min(s.ts)) INTO v_rows, v_seconds
        FROM (SELECT t.ts FROM guard.burst_tally AS t
              WHERE t.backend = v_backend AND t.relid = ANY (v_relids) AND t.depth = v_depth AND t.xid = v_xid
                AND isfinite(t.ts)
              LIMIT 10000) AS s;
        v_k := floor(coalesce(v_seconds, 0) * p_min_rows / (2 * greatest(v_rows, 1) * extract(epoch FROM p_window)));
        -- 2. Coarse windows that could hold a burst: enough rows and business dates spanning too much.
        IF v_k >= 2 THEN
            v_coarse := p_window * v_k::double precision;
            SELECT array_agg(coarse) INTO v_dense FROM (
                SELECT date_bin(v_coarse, t.ts, timestamptz 'epoch') AS coarse FROM guard.burst_tally AS t
                WHERE t.backend = v_backend AND t.relid = ANY (v_relids) AND t.depth = v_depth AND t.xid = v_xid
                  AND isfinite(t.ts)
                GROUP BY 1
                HAVING count(*) >= p_min_rows AND max(t.biz) - min(t.biz) > p_min_span) AS suspect;
            IF v_dense IS NULL THEN
                EXIT check;
            END IF;
        END IF;
        -- 3. Windows (inside the dense coarse ones) with at least min_rows rows whose business dates span too much.
        SELECT array_agg(w.bucket), sum(w.n), min(w.bucket), min(w.lo), max(w.hi)
        INTO buckets, burst_rows, first_window, low, high
        FROM (SELECT date_bin(p_window, t.ts, timestamptz 'epoch') AS bucket, count(*) AS n, min(t.biz) AS lo,
                     max(t.biz) AS hi
              FROM guard.burst_tally AS t
              WHERE t.backend = v_backend AND t.relid = ANY (v_relids) AND t.depth = v_depth AND t.xid = v_xid
                AND isfinite(t.ts)
                AND (v_dense IS NULL OR date_bin(v_coarse, t.ts, timestamptz 'epoch') = ANY (v_dense))
              GROUP BY 1) AS w
        WHERE w.n >= p_min_rows AND w.hi - w.lo > p_min_span;
        IF burst_rows IS NOT NULL AND p_payload THEN
            SELECT jsonb_agg(t.row_data) INTO payload FROM guard.burst_tally AS t
            WHERE t.backend = v_backend AND t.relid = ANY (v_relids) AND t.depth = v_depth AND t.xid = v_xid
              AND date_bin(p_window, t.ts, timestamptz 'epoch') = ANY (buckets);
        END IF;
    END check;
    DELETE FROM guard.burst_tally AS t
    WHERE t.backend = v_backend AND (t.relid = ANY (v_relids) AND t.depth = v_depth OR t.xid <> v_xid);
END
$fn$;

ALTER FUNCTION guard.on_burst_row() OWNER TO guard_owner;
ALTER FUNCTION guard.take_burst(oid, bigint, interval, interval, boolean) OWNER TO guard_owner;
-- Trigger functions are checked for EXECUTE when a trigger is created, not when it fires: only guard's own
-- management code (install_triggers, run by whoever may guard a table) attaches on_burst_row.
REVOKE ALL ON FUNCTION guard.on_burst_row() FROM PUBLIC;
-- Every writer of a burst-guarded table runs the statement trigger, in enforce mode too (no guard role needed).
GRANT EXECUTE ON FUNCTION guard.take_burst(oid, bigint, interval, interval, boolean) TO PUBLIC;

-- AFTER INSERT ... FOR EACH STATEMENT; args: column, business column, mode, min_rows, window, min_span, guarded
-- table name. A burst is >= min_rows rows of one statement whose timestamps fall in one window while their
-- business dates span more than min_span: the signature of history re-stamped with the load time.
CREATE OR REPLACE FUNCTION guard.on_insert_burst() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
AS $fn$
-- Declared types are qualified: without a SET clause they are resolved under the caller's search_path.
DECLARE
    v_column pg_catalog.text := TG_ARGV[0];
    v_business pg_catalog.text := TG_ARGV[1];
    v_mode pg_catalog.text := TG_ARGV[2];
    v_table pg_catalog.text := TG_ARGV[6];
    v_min_rows pg_catalog.int8 := TG_ARGV[3]::pg_catalog.int8;
    v_window pg_catalog.interval := TG_ARGV[4]::pg_catalog.interval;
    v_min_span pg_catalog.interval := TG_ARGV[5]::pg_catalog.interval;
    v_flag pg_catalog.text;
    v_rows pg_catalog.int8;
    v_first pg_catalog.timestamptz;
    v_low pg_catalog.timestamptz;
    v_high pg_catalog.timestamptz;
    v_payload pg_catalog.jsonb;
    v_reason pg_catalog.text;
    v_bypass pg_catalog.text;
    v_keys pg_catalog.text[];
    v_search_path pg_catalog.text;
BEGIN
    -- 0. This runs after every INSERT, so the function has no SET clause (its save/restore of search_path would
    --    cost more than the check); it is schema-qualified instead. No row of the statement was tallied (the
    --    common case): done.
    v_flag := guard.counter_name(v_table, pg_catalog.concat('burst', pg_catalog.pg_trigger_depth()));
    IF coalesce(pg_catalog.current_setting(v_flag, true), '') OPERATOR(pg_catalog.<>) '1' THEN
        RETURN NULL;
    END IF;
    -- The rest runs with search_path pinned, as if by a SET clause: set here, restored before returning, and
    -- undone with the (sub)transaction if an error ends the statement.
    v_search_path := pg_catalog.current_setting('search_path');
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM set_config(v_flag, '', true);
    <<check>>
    BEGIN
        SELECT b.burst_rows, b.first_window, b.low, b.high, b.payload INTO v_rows, v_first, v_low, v_high, v_payload
        FROM guard.take_burst(TG_RELID, v_min_rows, v_window, v_min_span, v_mode = 'quarantine') AS b;
        IF v_rows IS NULL THEN
            EXIT check;
        END IF;
        v_reason := format('burst: %s rows of one statement have %I within %s of %s while %I spans %s to %s '
                           '(more than %s)', v_rows, v_column, v_window, v_first, v_business,
                           v_low::date, v_high::date, v_min_span);
        v_bypass := guard.bypass_reason();
        IF v_bypass IS NOT NULL THEN
            RAISE WARNING USING MESSAGE = format('guard: bypass on %s (reason: %s): %s', v_table, v_bypass, v_reason);
            v_reason := format('guard.bypass: %s (session user %I as role %I); %s', v_bypass, session_user,
                               current_user, v_reason);
            PERFORM guard.log_violation(TG_RELID, v_table, 'burst', 'bypass', v_reason, v_rows, NULL);
            EXIT check;
        END IF;

        IF v_mode = 'audit' THEN
            PERFORM guard.log_violation(TG_RELID, v_table, 'burst', 'audit', v_reason, v_rows, NULL);
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
            BEGIN
                -- The tallied rows as rows of the table again (only here: a burst in quarantine mode).
                EXECUTE format(
                    'DELETE FROM %1$I.%2$I AS t USING jsonb_populate_recordset(NULL::%1$I.%2$I, $1) AS r WHERE %3$s',
                    TG_TABLE_SCHEMA, TG_TABLE_NAME,
                    (SELECT string_agg(format('t.%1$I = r.%1$I', key), ' AND ') FROM unnest(v_keys) AS key))
                USING v_payload;
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE EXCEPTION USING
                    ERRCODE = 'GD004',
                    MESSAGE = format('guard: %s on %s, and role %I may not delete the rows to quarantine them',
                                     v_reason, v_table, current_user),
                    HINT = format('GRANT SELECT, DELETE ON %s TO %I, or guard the table in enforce or audit mode.',
                                  v_table, current_user);
            END;
            PERFORM guard.log_quarantine(TG_RELID, v_table, 'burst', v_reason, v_payload);
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

-- The burst guard is a pair of triggers: dropping zz_guard_burst (unprotect) drops its row trigger too.
CREATE OR REPLACE FUNCTION guard.drop_trigger(p_table regclass, p_trigger name) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_name name;
BEGIN
    FOR v_name IN
        SELECT tgname FROM pg_trigger
        WHERE tgrelid = p_table AND NOT tgisinternal
          AND (tgname = p_trigger OR p_trigger = 'zz_guard_burst' AND tgname = 'zz_guard_burst_row')
        ORDER BY tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_name, p_table);
    END LOOP;
END
$fn$;

-- (Re)create the triggers of one guarded table for a mode; CREATE OR REPLACE keeps mode changes atomic.
CREATE OR REPLACE FUNCTION guard.install_triggers(p_table regclass) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v guard.protected_tables%ROWTYPE;
    v_margin text;
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
        -- 1.1's statement trigger read a transition table; CREATE OR REPLACE cannot take it away.
        IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = p_table AND tgname = 'zz_guard_burst'
                   AND tgnewtable IS NOT NULL) THEN
            EXECUTE format('DROP TRIGGER zz_guard_burst ON %s', p_table);
        END IF;
        -- Only a row whose business date is more than the margin from its stamp can make a window a burst. A
        -- literal: a function call there would be folded again for every statement (guard.db.ddl renders the
        -- same statement for migrations, computing the margin in Python).
        v_margin := format('%L::interval', guard.burst_margin(v.window_interval, v.min_span));
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER zz_guard_burst_row AFTER INSERT ON %1$s FOR EACH ROW'
            ' WHEN (NEW.%3$I::timestamptz < NEW.%2$I::timestamptz - %4$s'
            ' OR NEW.%3$I::timestamptz > NEW.%2$I::timestamptz + %4$s)'
            ' EXECUTE FUNCTION guard.on_burst_row(%2$L, %3$L, %5$L, %6$L)',
            p_table, v.timestamp_column, v.business_column, v_margin, v.mode, v.table_name);
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER zz_guard_burst AFTER INSERT ON %s'
            ' FOR EACH STATEMENT EXECUTE FUNCTION guard.on_insert_burst(%L, %L, %L, %L, %L, %L, %L)',
            p_table, v.timestamp_column, v.business_column, v.mode, v.min_rows, v.window_interval, v.min_span,
            v.table_name);
    END IF;
END
$fn$;

-- Tables guarded under 1.1 get the new pair of triggers.
SELECT guard.install_triggers(c.oid::regclass)
FROM guard.protected_tables AS p
JOIN pg_catalog.pg_class AS c ON guard.qualified_name(c.oid) = p.table_name
WHERE p.business_column IS NOT NULL;
