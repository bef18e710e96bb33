-- guard 1.2 -> 1.3: the burst guard's row trigger skips rows stamped long before the write, in one comparison.
--
-- Applied by revision guard_0004 (downgrade: guard.db.schema.downgrade_sql() restores 1.2's install_triggers,
-- then guard--1.3--1.2.sql). Kept as an upgrade script, extension-style.
--
-- 1.2's WHEN clause (business date more than `margin` from the stamp) costs two casts and two interval sums per
-- row. On a clean backfill of history (the load a fixed sync script sends: created_at years old, business date
-- the same day) that was most of the burst guard's price: ~10% of a 1M-row INSERT ... SELECT into a narrow table.
-- A phantom stamp is written by the write itself (a DEFAULT or an explicit now(), clock_timestamp(), the client's
-- clock), so its created_at lies near the time of the write. 1.3 tests that first, against the transaction's
-- start, with the same margin as the horizon:
--
--   WHEN (NEW.created_at > now() - margin AND (business date more than margin from created_at))
--
-- A row stamped more than `margin` (~90 days with the defaults) before its transaction began fails the first
-- comparison and costs nothing more. Everything else is 1.2: the tally, the statement trigger, thresholds, modes,
-- messages, SQLSTATEs, audit entries.
--
-- The added narrowing (docs/database.md, README "Security"): a burst whose stamps are older than the margin when
-- it is written (a writer that stamps history with one old constant) is not stopped at write time; `guard detect`
-- reads stored rows whatever their stamp and remains the safety net.

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
        -- Only a row stamped near its write whose business date is more than the margin from its stamp can make
        -- a window a burst. The margin is a literal: a function call there would be folded again for every
        -- statement (guard.db.ddl renders the same statement for migrations, computing the margin in Python).
        v_margin := format('%L::interval', guard.burst_margin(v.window_interval, v.min_span));
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER zz_guard_burst_row AFTER INSERT ON %1$s FOR EACH ROW'
            ' WHEN (NEW.%2$I::timestamptz > pg_catalog.now() - %4$s'
            ' AND (NEW.%3$I::timestamptz < NEW.%2$I::timestamptz - %4$s'
            ' OR NEW.%3$I::timestamptz > NEW.%2$I::timestamptz + %4$s))'
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

-- Tables guarded under 1.2 get the new row trigger.
SELECT guard.install_triggers(c.oid::regclass)
FROM guard.protected_tables AS p
JOIN pg_catalog.pg_class AS c ON guard.qualified_name(c.oid) = p.table_name
WHERE p.business_column IS NOT NULL;
