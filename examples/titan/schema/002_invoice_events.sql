-- Webhook handler: every invoice change becomes an event. The INSERT inside the function body leaves
-- created_at to its default, so a replayed webhook backlog lands in one minute.
CREATE OR REPLACE FUNCTION titan.record_invoice_event(p_invoice bigint, p_event text)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_event IS NULL THEN
        RAISE EXCEPTION 'event required';
    END IF;
    INSERT INTO titan.invoice_events (invoice_st_id, event)
    VALUES (p_invoice, p_event);
END;
$$;
