-- guard 1.3 -> 1.2 (downgrade of revision guard_0004).
--
-- guard.db.schema.downgrade_sql() first re-creates 1.2's guard.install_triggers (from guard--1.1--1.2.sql, with
-- its owner and grants); this script then puts 1.2's row trigger back on every burst-guarded table.

SELECT guard.install_triggers(c.oid::regclass)
FROM guard.protected_tables AS p
JOIN pg_catalog.pg_class AS c ON guard.qualified_name(c.oid) = p.table_name
WHERE p.business_column IS NOT NULL;
