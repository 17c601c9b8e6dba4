-- Warehouse schema (portable SQL: DuckDB by default; PostgreSQL for teams).
-- Partitioned tables carry `year`; a load replaces exactly the years it brings (write-audit-publish).
-- No indexes or primary keys: bulk loads stay fast; the loader's audit checks uniqueness before publishing.

CREATE TABLE IF NOT EXISTS dim_report (
    report_id       VARCHAR NOT NULL,      -- content hash of the source file (unique: checked by the audit)
    sha256          VARCHAR NOT NULL,
    source_file     VARCHAR NOT NULL,      -- path relative to the landing folder
    issuer          VARCHAR,
    year            INTEGER NOT NULL,
    template        VARCHAR NOT NULL,      -- '2021' | '2019'
    file_format     VARCHAR NOT NULL,
    adcode          VARCHAR,
    city            VARCHAR,
    province        VARCHAR,
    scope           VARCHAR,               -- agency | government | region
    scope_evidence  VARCHAR,
    region_note     VARCHAR,
    parser_version  VARCHAR NOT NULL,
    n_blank         INTEGER NOT NULL,
    n_unresolved    INTEGER NOT NULL,
    notes           VARCHAR,
    run_id          VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS fact_cell (
    report_id          VARCHAR NOT NULL,
    year               INTEGER NOT NULL,
    code               VARCHAR NOT NULL,   -- spec code, e.g. t3.granted.total
    value              DOUBLE,             -- NULL: the parser could not determine it (see unresolved_reason)
    is_blank           BOOLEAN NOT NULL,   -- printed blank, recorded as 0
    printed_value      DOUBLE,             -- as printed; value differs only when derived or corrected
    derived            BOOLEAN NOT NULL,   -- a blank total filled from its printed parts
    correction         VARCHAR,            -- reviewer, reason, date of a reviewed correction (JSON)
    unresolved_reason  VARCHAR,
    unit               VARCHAR,
    provenance         VARCHAR
);

-- Reports that broke a blocking rule: one row per (report, rule), with the evidence.
CREATE TABLE IF NOT EXISTS quarantine (
    report_id    VARCHAR NOT NULL,
    year         INTEGER NOT NULL,
    source_file  VARCHAR NOT NULL,
    rule_id      VARCHAR NOT NULL,
    severity     VARCHAR NOT NULL,
    cells        VARCHAR NOT NULL,   -- JSON list of spec codes
    expected     VARCHAR,
    found        VARCHAR,
    message      VARCHAR,
    run_id       VARCHAR NOT NULL
);

-- Warnings: rules that do not block (the report loads), kept with the same evidence as quarantine.
CREATE TABLE IF NOT EXISTS report_warning (
    report_id    VARCHAR NOT NULL,
    year         INTEGER NOT NULL,
    source_file  VARCHAR NOT NULL,
    rule_id      VARCHAR NOT NULL,
    cells        VARCHAR NOT NULL,
    expected     VARCHAR,
    found        VARCHAR,
    message      VARCHAR,
    run_id       VARCHAR NOT NULL
);

-- The quarantined reports' own cells, kept apart from the clean facts for reviewers.
CREATE TABLE IF NOT EXISTS quarantine_cell (
    report_id          VARCHAR NOT NULL,
    year               INTEGER NOT NULL,
    code               VARCHAR NOT NULL,
    value              DOUBLE,
    is_blank           BOOLEAN NOT NULL,
    printed_value      DOUBLE,
    derived            BOOLEAN NOT NULL,
    correction         VARCHAR,
    unresolved_reason  VARCHAR,
    unit               VARCHAR,
    provenance         VARCHAR
);

-- Every file of the landing snapshot and what became of it: nothing is lost.
CREATE TABLE IF NOT EXISTS file_outcome (
    source_file  VARCHAR NOT NULL,
    sha256       VARCHAR NOT NULL,
    file_format  VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,   -- loaded | quarantined | rejected | duplicate
    detail       VARCHAR,            -- reason, rule ids, or the file it duplicates
    report_id    VARCHAR,
    year         INTEGER,
    run_id       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS run_log (
    run_id          VARCHAR NOT NULL,
    finished_at     TIMESTAMP NOT NULL,
    files_seen      INTEGER NOT NULL,
    loaded          INTEGER NOT NULL,
    quarantined     INTEGER NOT NULL,
    rejected        INTEGER NOT NULL,
    duplicates      INTEGER NOT NULL,
    years           VARCHAR NOT NULL,
    parser_version  VARCHAR NOT NULL,
    suite_version   VARCHAR NOT NULL
);
