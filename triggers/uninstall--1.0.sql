-- Remove what guard--1.0.sql installed (downgrade of revision guard_0001).
--
-- Schema "guard" and the cluster-wide roles stay: the schema may hold guard.alembic_version (the version
-- table of `guard migrate`), and roles may be used by other databases of the cluster.
-- Refuses while tables are still guarded: downgrade their guard revisions first, so their defaults come back.

DO $check$
DECLARE
    v_tables text;
BEGIN
    SELECT string_agg(table_name, ', ' ORDER BY table_name) INTO v_tables FROM guard.protected_tables;
    IF v_tables IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'dependent_objects_still_exist',
            MESSAGE = 'guard: cannot uninstall while tables are guarded: ' || v_tables,
            HINT = 'Downgrade the revisions that guard them (op.unguard_table) first.';
    END IF;
END
$check$;

DROP FUNCTION guard.unprotect_table(regclass);
DROP FUNCTION guard.set_mode(regclass, text, text);
DROP FUNCTION guard.validate_table(regclass);
DROP FUNCTION guard.protect_table(regclass, name, text, name, integer, interval, interval, name, boolean);
DROP FUNCTION guard.require_mode(regclass, text, name);
DROP FUNCTION guard.require_column(regclass, name, text[], text);
DROP FUNCTION guard.install_triggers(regclass);
DROP FUNCTION guard.drop_trigger(regclass, name);
DROP FUNCTION guard.check_name(regclass, name);
DROP FUNCTION guard.qualified_name(regclass);
DROP FUNCTION guard.on_insert_burst();
DROP FUNCTION guard.on_insert_report();
DROP FUNCTION guard.report_pending(text, text);
DROP FUNCTION guard.on_omitted_timestamp();
DROP FUNCTION guard.reject_omitted(text, text);
DROP FUNCTION guard.count_row(text, text);
DROP FUNCTION guard.counter_name(text, text);
DROP FUNCTION guard.log_violation(text, text, text, text, bigint, jsonb);
DROP FUNCTION guard.log_quarantine(text, text, text, jsonb);
DROP FUNCTION guard.bypass_reason();
DROP FUNCTION guard.record_violation(text, text, text, text, bigint, jsonb, text);
DROP FUNCTION guard.record_quarantine(text, text, text, jsonb, text);
DROP TABLE guard.quarantined_rows;
DROP TABLE guard.violations;
DROP TABLE guard.quarantine;
DROP TABLE guard.protected_tables;
