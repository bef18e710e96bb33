-- guard 1.2 -> 1.1 (downgrade of revision guard_0003).
--
-- guard.db.schema.downgrade_sql() first re-creates the 1.1 definitions of the functions 1.2 replaced (each from
-- the script that last defined it, with its owner and grants); this script then puts 1.1's transition-table
-- trigger back on every burst-guarded table and drops what 1.2 added.

SELECT guard.drop_trigger(c.oid::regclass, 'zz_guard_burst_row'), guard.drop_trigger(c.oid::regclass, 'zz_guard_burst'),
       guard.install_triggers(c.oid::regclass)
FROM guard.protected_tables AS p
JOIN pg_catalog.pg_class AS c ON guard.qualified_name(c.oid) = p.table_name
WHERE p.business_column IS NOT NULL;
DROP FUNCTION guard.take_burst(oid, bigint, interval, interval, boolean);
DROP FUNCTION guard.on_burst_row();
DROP FUNCTION guard.burst_margin(interval, interval);
DROP FUNCTION guard.interval_seconds(interval);
DROP TABLE guard.burst_tally;
