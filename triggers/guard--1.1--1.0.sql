-- guard 1.1 -> 1.0 (downgrade of revision guard_0002).
--
-- guard.db.schema.downgrade_sql() first re-creates, from guard--1.0.sql itself, every 1.0 function that
-- guard--1.0--1.1.sql replaced or dropped (with its owner and grants), so the 1.0 text exists once; this
-- script then removes what 1.1 added.

DROP FUNCTION guard.log_violation(oid, text, text, text, text, bigint, jsonb);
DROP FUNCTION guard.log_quarantine(oid, text, text, text, jsonb);
DROP FUNCTION guard.record_violation(oid, text, text, text, text, bigint, jsonb, text);
DROP FUNCTION guard.record_quarantine(oid, text, text, text, jsonb, text);
DROP FUNCTION guard.refuse_forged_entry(text);
DROP FUNCTION guard.caller_is_guard_trigger(oid, text);
REVOKE SELECT ON guard.protected_tables FROM guard_owner;
DROP INDEX guard.quarantined_rows_active_key;
