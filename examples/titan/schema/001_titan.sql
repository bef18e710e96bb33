-- Titan warehouse schema (ServiceTitan mirror). Every created_at defaults to now(): the habit that
-- let a sync script stamp six years of jobs with one ingestion minute.
CREATE SCHEMA IF NOT EXISTS titan;

CREATE TABLE titan.jobs (
    id            bigserial PRIMARY KEY,
    st_id         bigint UNIQUE NOT NULL,
    customer_name text,
    job_status    text NOT NULL,
    lead_source   text,
    invoice_total numeric(12, 2) NOT NULL DEFAULT 0,
    scheduled_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE titan.estimates (
    id          bigserial PRIMARY KEY,
    st_id       bigint UNIQUE NOT NULL,
    job_st_id   bigint,
    sold_by_id  bigint,
    total       numeric(12, 2),
    sold_on     date,
    created_at  timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE titan.invoices (
    id          bigserial PRIMARY KEY,
    st_id       bigint UNIQUE NOT NULL,
    job_st_id   bigint,
    total       numeric(12, 2),
    created_at  timestamptz DEFAULT now()
);

CREATE TABLE titan.call_logs (
    id          bigserial PRIMARY KEY,
    caller      text,
    direction   text,
    duration_s  integer,
    created_at  timestamptz NOT NULL DEFAULT transaction_timestamp()
);

CREATE TABLE titan.voice_calls (
    id          bigserial PRIMARY KEY,
    call_id     text UNIQUE NOT NULL,
    phone       text,
    summary     text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE titan.gclid_captures (
    id          bigserial PRIMARY KEY,
    gclid       text NOT NULL,
    job_st_id   bigint,
    created_at  timestamp DEFAULT (now() AT TIME ZONE 'utc')
);

-- No created_at at all: writes here are inventory, never findings.
CREATE TABLE titan.metric_history (
    metric      text NOT NULL,
    observed_on date NOT NULL,
    value       numeric,
    PRIMARY KEY (metric, observed_on)
);

CREATE TABLE titan.invoice_events (
    id          bigserial PRIMARY KEY,
    invoice_st_id bigint NOT NULL,
    event       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
