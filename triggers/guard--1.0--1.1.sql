-- guard 1.0 -> 1.1: a closed audit trail and a bypass only real members get.
--
-- Applied by revision guard_0002 (downgrade: guard_0002's downgrade restores the 1.0 definitions from
-- guard--1.0.sql). Kept as an upgrade script, extension-style, so a database that runs 1.0 upgrades in place.
--
-- 1. guard.quarantine / guard.violations could be written by any guard_writer member calling
--    guard.record_quarantine() / guard.record_violation() directly (forged bypasses, quarantines of tables that
--    do not exist). The 1.1 helpers take the firing relation (TG_RELID) and accept a call only when
--      * it comes from a trigger (pg_trigger_depth() > 0),
--      * the call stack (PG_CONTEXT) is: this helper <- guard.log_*() <- a guard trigger function, and
--      * that relation (or a partition ancestor of it) is the guarded table named in the entry.
--    A guard trigger function can only run as a trigger, and a trigger of one's own on one's own table using
--    guard's trigger function names that table, which is not the guarded one: so an entry is only ever written
--    by a guard trigger firing on the guarded table, i.e. by a real write.
-- 2. guard.bypass was honoured when current_user was a member of guard_bypass, so a SECURITY DEFINER loader
--    owned by a superuser let any caller bypass, and the log named the definer. 1.1 requires the session user
--    (the login that is really writing) to be a member too, and logs both.
-- 3. Two concurrent `guard quarantine --apply` could record the same row in two active batches, and releasing one
--    then claimed rows were back in the clean view while the other still hid them. guard now serialises batches
--    per table (an advisory lock); this index makes a key unique among active batches whatever writes the table.

-- Duplicates a 1.0 race left: the oldest active entry of a key stays, later ones are released (and say why).
UPDATE guard.quarantined_rows AS d
   SET released_at = now(), released_by = 'guard 1.1 upgrade: duplicate of an older active batch'
 WHERE d.released_at IS NULL
   AND EXISTS (SELECT FROM guard.quarantined_rows AS o
                WHERE o.table_name = d.table_name AND o.row_key = d.row_key AND o.released_at IS NULL AND o.id < d.id);
CREATE UNIQUE INDEX quarantined_rows_active_key ON guard.quarantined_rows (table_name, row_key)
    WHERE released_at IS NULL;

CREATE FUNCTION guard.caller_is_guard_trigger(p_relid oid, p_table text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_stack text;
    v_frames text[];
BEGIN
    IF pg_trigger_depth() < 1 THEN
        RETURN false;
    END IF;
    GET DIAGNOSTICS v_stack = PG_CONTEXT;
    -- Frames, innermost first, each checked whole: this function; guard.record_*() and the statement of
    -- guard.log_*() that called it; guard.log_*() and the statement of the trigger function that called it
    -- (every such call is one line, passing TG_RELID); then the trigger function itself.
    v_frames := string_to_array(v_stack, E'\n');
    IF array_length(v_frames, 1) < 6
       OR v_frames[2] NOT LIKE 'PL/pgSQL function guard.record\_quarantine(oid,text,text,text,jsonb,text) line % at IF'
          AND v_frames[2] NOT LIKE
              'PL/pgSQL function guard.record\_violation(oid,text,text,text,text,bigint,jsonb,text) line % at IF'
       OR v_frames[3] NOT IN (
              'SQL statement "SELECT guard.record_quarantine(p_relid, p_table, p_rule, p_reason, p_rows, current_user)"',
              'SQL statement "SELECT guard.record_violation(p_relid, p_table, p_rule, p_action, p_reason, p_row_count,'
              || ' p_row, current_user)"')
       OR v_frames[4] NOT LIKE 'PL/pgSQL function guard.log\_quarantine(oid,text,text,text,jsonb) line % at PERFORM'
          AND v_frames[4] NOT LIKE
              'PL/pgSQL function guard.log\_violation(oid,text,text,text,text,bigint,jsonb) line % at PERFORM'
       OR v_frames[5] NOT LIKE 'SQL statement "SELECT guard.log\_%(TG\_RELID, v\_table, %)"'
       OR v_frames[6] NOT LIKE 'PL/pgSQL function guard.on\_omitted\_timestamp() line % at PERFORM'
          AND v_frames[6] NOT LIKE 'PL/pgSQL function guard.on\_insert\_burst() line % at PERFORM' THEN
        RETURN false;
    END IF;
    RETURN EXISTS (
        SELECT FROM guard.protected_tables AS p
        JOIN pg_class AS c ON c.oid IN (SELECT p_relid UNION ALL SELECT relid FROM pg_partition_ancestors(p_relid))
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE p.table_name = p_table AND n.nspname || '.' || c.relname = p_table
    );
END
$fn$;

CREATE FUNCTION guard.refuse_forged_entry(p_table text) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = format('guard: the audit trail is written only by guard''s triggers on the guarded table; '
                         'refusing an entry for %s from session user %I (role %I)', p_table, session_user,
                         current_user);
END
$fn$;

CREATE FUNCTION guard.record_quarantine(
    p_relid oid, p_table text, p_rule text, p_reason text, p_rows jsonb, p_role text
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_count bigint;
BEGIN
    IF NOT guard.caller_is_guard_trigger(p_relid, p_table) THEN
        PERFORM guard.refuse_forged_entry(p_table);
    END IF;
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
    p_relid oid, p_table text, p_rule text, p_action text, p_reason text, p_row_count bigint, p_row jsonb,
    p_role text
) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    IF NOT guard.caller_is_guard_trigger(p_relid, p_table) THEN
        PERFORM guard.refuse_forged_entry(p_table);
    END IF;
    INSERT INTO guard.violations
        (table_name, rule, action, reason, row_count, row_data, session_user_name, role_name, application_name, txid)
    VALUES (p_table, p_rule, p_action, p_reason, p_row_count, p_row, session_user, p_role,
            current_setting('application_name', true), txid_current());
END
$fn$;

-- The definer helpers read the registry to check the table named in an entry.
GRANT SELECT ON guard.protected_tables TO guard_owner;
ALTER FUNCTION guard.caller_is_guard_trigger(oid, text) OWNER TO guard_owner;
ALTER FUNCTION guard.record_quarantine(oid, text, text, text, jsonb, text) OWNER TO guard_owner;
ALTER FUNCTION guard.record_violation(oid, text, text, text, text, bigint, jsonb, text) OWNER TO guard_owner;
REVOKE ALL ON FUNCTION guard.caller_is_guard_trigger(oid, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.record_quarantine(oid, text, text, text, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION guard.record_violation(oid, text, text, text, text, bigint, jsonb, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION guard.record_quarantine(oid, text, text, text, jsonb, text) TO guard_writer;
GRANT EXECUTE ON FUNCTION guard.record_violation(oid, text, text, text, text, bigint, jsonb, text) TO guard_writer;

CREATE FUNCTION guard.log_quarantine(p_relid oid, p_table text, p_rule text, p_reason text, p_rows jsonb)
RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM guard.record_quarantine(p_relid, p_table, p_rule, p_reason, p_rows, current_user);
EXCEPTION WHEN insufficient_privilege THEN
    IF NOT pg_has_role(current_user, 'guard_writer', 'MEMBER') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'GD004',
            MESSAGE = format('guard: role %I may not write guard.quarantine, so the row for %s cannot be quarantined',
                             current_user, p_table),
            HINT = 'GRANT guard_writer TO ' || quote_ident(current_user) || ' (ingest roles of tables guarded in '
                   || 'quarantine or audit mode need it).';
    END IF;
    RAISE;
END
$fn$;

CREATE FUNCTION guard.log_violation(
    p_relid oid, p_table text, p_rule text, p_action text, p_reason text, p_row_count bigint, p_row jsonb
) RETURNS void
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    PERFORM guard.record_violation(p_relid, p_table, p_rule, p_action, p_reason, p_row_count, p_row, current_user);
EXCEPTION WHEN insufficient_privilege THEN
    IF NOT pg_has_role(current_user, 'guard_writer', 'MEMBER') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'GD004',
            MESSAGE = format('guard: role %I may not write guard.violations, so the %s on %s cannot be logged',
                             current_user, p_action, p_table),
            HINT = 'GRANT guard_writer TO ' || quote_ident(current_user) || ' (ingest roles of tables guarded in '
                   || 'quarantine or audit mode, and bypassing roles, need it).';
    END IF;
    RAISE;
END
$fn$;

CREATE OR REPLACE FUNCTION guard.bypass_reason() RETURNS text
LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_reason text := nullif(btrim(current_setting('guard.bypass', true)), '');
    v_role name;
BEGIN
    IF v_reason IS NULL THEN
        RETURN NULL;
    END IF;
    -- Both the role in effect and the login must be members: inside a SECURITY DEFINER function current_user
    -- is the function's owner, who must not lend its membership to whoever calls it.
    FOREACH v_role IN ARRAY ARRAY[session_user, current_user]::name[] LOOP
        IF NOT pg_has_role(v_role, 'guard_bypass', 'MEMBER') THEN
            RAISE EXCEPTION USING
                ERRCODE = 'GD003',
                MESSAGE = format('guard: guard.bypass is set (%L) but role %I is not a member of guard_bypass',
                                 v_reason, v_role),
                DETAIL = format('Session user %I, current role %I: both must be members (a SECURITY DEFINER '
                                'function does not lend its owner''s membership).', session_user, current_user),
                HINT = 'Only members of guard_bypass may skip the guard. Ask a DBA for GRANT guard_bypass TO '
                       || quote_ident(v_role) || ', or RESET guard.bypass and pass the real timestamps.';
        END IF;
    END LOOP;
    RETURN v_reason;
END
$fn$;

CREATE OR REPLACE FUNCTION guard.on_omitted_timestamp() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    v_column text := TG_ARGV[0];
    v_mode text := TG_ARGV[1];
    v_table text := TG_ARGV[2];
    v_reason text := format('%s.%s was not given a value (it fell back to its default)', v_table, v_column);
BEGIN
    IF v_mode = 'quarantine' THEN
        PERFORM guard.log_quarantine(TG_RELID, v_table, 'omitted_timestamp', v_reason, jsonb_build_array(to_jsonb(NEW)));
        PERFORM guard.count_row(v_table, 'quarantine');
        RETURN NULL;
    ELSIF v_mode = 'audit' THEN
        PERFORM guard.log_violation(TG_RELID, v_table, 'omitted_timestamp', 'audit', v_reason, 1, to_jsonb(NEW));
        NEW := jsonb_populate_record(NEW, jsonb_build_object(v_column, now()));
        PERFORM guard.count_row(v_table, 'audit');
        RETURN NEW;
    END IF;
    PERFORM guard.reject_omitted(v_table, v_column);
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION guard.on_insert_burst() RETURNS trigger
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

-- The 1.0 helpers: nothing calls them any more, and they would accept forged entries.
DROP FUNCTION guard.log_violation(text, text, text, text, bigint, jsonb);
DROP FUNCTION guard.log_quarantine(text, text, text, jsonb);
DROP FUNCTION guard.record_violation(text, text, text, text, bigint, jsonb, text);
DROP FUNCTION guard.record_quarantine(text, text, text, jsonb, text);
