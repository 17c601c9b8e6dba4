-- Marts, rebuilt from the published facts after every load, in one transaction (etl/warehouse/marts.py).
-- One text for DuckDB and PostgreSQL: round4(x) and ratio4(n, d) are macros expanded by etl/warehouse/sql.py
-- (PostgreSQL has no ROUND(double, int) and divides integers as integers). No `;` or `--` inside string literals.
-- Counts are stored as DOUBLE PRECISION in fact_cell (fee amounts carry decimals) and cast back to BIGINT here.
-- Every column is described in docs/data_dictionary.md.
--
-- No double counting: a region-scope report (淮安市 "全市" figures) already contains the reports of the units
-- inside its area, so those units are left out of the province sums whenever such a report exists for the same
-- year, and the region report is reconciled against the sum of its children in mart_reconciliation. An agency
-- with two reports in one year (the same agency printed two ways) is counted once.

DROP VIEW IF EXISTS bi_report;
DROP VIEW IF EXISTS bi_reconciliation;
DROP VIEW IF EXISTS bi_agency_year;
DROP VIEW IF EXISTS bi_province_year;
DROP VIEW IF EXISTS v_report_covered;
DROP TABLE IF EXISTS mart_agency_year;
DROP TABLE IF EXISTS mart_province_year;
DROP TABLE IF EXISTS mart_reconciliation;
DROP TABLE IF EXISTS mart_report;
DROP VIEW IF EXISTS v_report_unit;
DROP VIEW IF EXISTS v_report_figures;

-- One row per loaded report: its dimension attributes and the headline figures pivoted at load time
-- (fact_report_figures, filled from figures.sql).
CREATE VIEW v_report_figures AS
SELECT
    r.report_id, r.issuer, r.year, r.province, r.city, r.adcode, r.scope, r.template, r.n_unresolved,
    COALESCE(r.read_by_ocr, FALSE) AS read_by_ocr,
    f.new_received, f.carried_over, f.applications, f.handled, f.granted, f.partially_granted,
    f.denied_state_secret, f.denied_prohibited_by_law, f.denied_security_stability,
    f.denied_third_party_rights, f.denied_internal_affairs, f.denied_process_information,
    f.denied_enforcement_file, f.denied_administrative_query, f.denied, f.unable, f.not_processed,
    f.other_processing, f.carried_forward, f.review_upheld, f.review_corrected, f.review_other,
    f.review_pending, f.reviews, f.lawsuit_upheld, f.lawsuit_corrected, f.lawsuit_other, f.lawsuit_pending,
    f.lawsuits, f.licensing_decisions, f.penalty_decisions, f.coercion_decisions, f.fees_amount
FROM dim_report r
JOIN fact_report_figures f ON f.report_id = r.report_id;

-- Each report with its agency (dim_agency via agency_alias), its nesting depth and its rank among the reports
-- of the same agency and year (1 = the one counted: region scope first, then fewest unresolved cells).
CREATE VIEW v_report_unit AS
SELECT
    f.*,
    a.agency_id, a.agency_name, a.kind AS agency_kind, a.level AS agency_level, a.zone,
    CASE WHEN f.adcode LIKE '%0000' THEN 1 WHEN f.adcode LIKE '%00' THEN 2 WHEN f.adcode IS NOT NULL THEN 3 END
        AS region_level,
    COALESCE(a.depth, CASE WHEN f.adcode LIKE '%0000' THEN 1 WHEN f.adcode LIKE '%00' THEN 2
                           WHEN f.adcode IS NOT NULL THEN 3 END) AS depth,
    ROW_NUMBER() OVER (PARTITION BY f.year, COALESCE(a.agency_id, f.report_id)
                       ORDER BY CASE WHEN f.scope = 'region' THEN 0 ELSE 1 END, f.n_unresolved, f.report_id)
        AS agency_rank,
    COUNT(*) OVER (PARTITION BY f.year, COALESCE(a.agency_id, f.report_id)) AS agency_reports
FROM v_report_figures f
LEFT JOIN agency_alias al ON al.issuer = f.issuer AND al.adcode_key = COALESCE(f.adcode, '')
LEFT JOIN dim_agency a ON a.agency_id = al.agency_id;

-- Materialized once per build: every loaded report, whether it is counted in the province sums, and the
-- region reports covering it. A region report of a government covers the reports inside its division (and the
-- other reports of its own division); a special zone's covers that zone's agencies only. Equi-joins per level.
CREATE TABLE mart_report AS
WITH u AS (
    SELECT * FROM v_report_unit
), g AS (
    SELECT report_id, year, adcode, region_level, depth, zone FROM u
    WHERE scope = 'region' AND agency_rank = 1 AND COALESCE(agency_kind, 'government') IN ('government', 'zone')
), pairs AS (
    SELECT u.report_id, u.depth AS u_depth, u.scope AS u_scope, g.report_id AS covered_by, g.depth AS cover_depth
    FROM u JOIN g ON g.year = u.year AND g.zone = u.zone
    UNION ALL
    SELECT u.report_id, u.depth, u.scope, g.report_id, g.depth
    FROM u JOIN g ON g.year = u.year AND g.zone IS NULL AND g.region_level = 1
                 AND substr(u.adcode, 1, 2) = substr(g.adcode, 1, 2)
    UNION ALL
    SELECT u.report_id, u.depth, u.scope, g.report_id, g.depth
    FROM u JOIN g ON g.year = u.year AND g.zone IS NULL AND g.region_level = 2
                 AND substr(u.adcode, 1, 4) = substr(g.adcode, 1, 4)
    UNION ALL
    SELECT u.report_id, u.depth, u.scope, g.report_id, g.depth
    FROM u JOIN g ON g.year = u.year AND g.zone IS NULL AND g.region_level = 3 AND u.adcode = g.adcode
), cover AS (
    SELECT report_id, covered_by,
           ROW_NUMBER() OVER (PARTITION BY report_id ORDER BY cover_depth DESC, covered_by) AS nearest,
           ROW_NUMBER() OVER (PARTITION BY report_id ORDER BY cover_depth, covered_by) AS outermost
    FROM pairs
    WHERE covered_by <> report_id AND (u_depth > cover_depth OR COALESCE(u_scope, '') <> 'region')
)
SELECT
    u.*,
    p.covered_by AS parent_report_id,
    t.covered_by AS top_report_id,
    (t.covered_by IS NULL AND u.agency_rank = 1) AS counted,
    CASE WHEN t.covered_by IS NOT NULL THEN 'covered by region report'
         WHEN u.agency_rank > 1 THEN 'duplicate agency-year' END AS excluded_reason
FROM u
LEFT JOIN cover p ON p.report_id = u.report_id AND p.nearest = 1
LEFT JOIN cover t ON t.report_id = u.report_id AND t.outermost = 1;

-- Reports left out of the province sums because a region report covers them.
CREATE VIEW v_report_covered AS
SELECT report_id, top_report_id AS covered_by, parent_report_id
FROM mart_report
WHERE top_report_id IS NOT NULL;

-- Each region report against the sum of its children (the reports whose nearest covering region report it is),
-- one row per headline figure.
CREATE TABLE mart_reconciliation AS
WITH kids AS (
    SELECT parent_report_id AS report_id, COUNT(*) AS n_children,
           string_agg(COALESCE(agency_name, issuer, report_id), ', '
                      ORDER BY COALESCE(agency_name, issuer, report_id)) AS children,
           SUM(applications) AS applications, SUM(handled) AS handled, SUM(granted) AS granted,
           SUM(partially_granted) AS partially_granted, SUM(denied) AS denied, SUM(unable) AS unable,
           SUM(not_processed) AS not_processed, SUM(other_processing) AS other_processing,
           SUM(carried_forward) AS carried_forward, SUM(reviews) AS reviews, SUM(lawsuits) AS lawsuits,
           SUM(licensing_decisions) AS licensing_decisions, SUM(penalty_decisions) AS penalty_decisions,
           SUM(coercion_decisions) AS coercion_decisions, SUM(fees_amount) AS fees_amount
    FROM mart_report
    WHERE parent_report_id IS NOT NULL AND agency_rank = 1
    GROUP BY parent_report_id
), sides AS (
    SELECT
        COALESCE(r.province, '(unplaced)') AS province, r.year, r.report_id AS region_report_id,
        COALESCE(r.agency_name, r.issuer) AS region_agency, r.adcode AS region_adcode,
        r.agency_level AS region_level, r.counted AS region_counted, k.n_children, k.children, f.figure, f.ord,
        CASE f.figure
            WHEN 'applications' THEN r.applications WHEN 'handled' THEN r.handled WHEN 'granted' THEN r.granted
            WHEN 'partially_granted' THEN r.partially_granted WHEN 'denied' THEN r.denied
            WHEN 'unable' THEN r.unable WHEN 'not_processed' THEN r.not_processed
            WHEN 'other_processing' THEN r.other_processing WHEN 'carried_forward' THEN r.carried_forward
            WHEN 'reviews' THEN r.reviews WHEN 'lawsuits' THEN r.lawsuits
            WHEN 'licensing_decisions' THEN r.licensing_decisions WHEN 'penalty_decisions' THEN r.penalty_decisions
            WHEN 'coercion_decisions' THEN r.coercion_decisions WHEN 'fees_amount' THEN r.fees_amount
        END AS region_value,
        CASE f.figure
            WHEN 'applications' THEN k.applications WHEN 'handled' THEN k.handled WHEN 'granted' THEN k.granted
            WHEN 'partially_granted' THEN k.partially_granted WHEN 'denied' THEN k.denied
            WHEN 'unable' THEN k.unable WHEN 'not_processed' THEN k.not_processed
            WHEN 'other_processing' THEN k.other_processing WHEN 'carried_forward' THEN k.carried_forward
            WHEN 'reviews' THEN k.reviews WHEN 'lawsuits' THEN k.lawsuits
            WHEN 'licensing_decisions' THEN k.licensing_decisions WHEN 'penalty_decisions' THEN k.penalty_decisions
            WHEN 'coercion_decisions' THEN k.coercion_decisions WHEN 'fees_amount' THEN k.fees_amount
        END AS children_sum
    FROM mart_report r
    JOIN kids k ON k.report_id = r.report_id
    CROSS JOIN (VALUES
        ('applications', 1), ('handled', 2), ('granted', 3), ('partially_granted', 4), ('denied', 5),
        ('unable', 6), ('not_processed', 7), ('other_processing', 8), ('carried_forward', 9), ('reviews', 10),
        ('lawsuits', 11), ('licensing_decisions', 12), ('penalty_decisions', 13), ('coercion_decisions', 14),
        ('fees_amount', 15)
    ) AS f (figure, ord)
)
SELECT
    province, year, region_report_id, region_agency, region_adcode, region_level, region_counted,
    n_children, children, figure, ord AS figure_order,
    round4(region_value) AS region_value,
    round4(children_sum) AS children_sum,
    round4(children_sum - region_value) AS difference,
    CASE WHEN region_value IS NULL OR children_sum IS NULL THEN 'incomplete'
         WHEN round4(children_sum - region_value) = 0 THEN 'match'
         WHEN children_sum > region_value THEN 'children_exceed_region'
         ELSE 'region_exceeds_children' END AS status,
    (region_value IS NULL OR children_sum IS NULL OR round4(children_sum - region_value) <> 0) AS warning
FROM sides;

-- Province x year: sums over the counted (non-overlapping) reports, coverage and data quality over all of them.
CREATE TABLE mart_province_year AS
WITH agg AS (
    SELECT
        COALESCE(province, '(unplaced)') AS province, year,
        COUNT(*) FILTER (WHERE counted) AS reports,
        COUNT(*) AS reports_loaded,
        COUNT(*) FILTER (WHERE excluded_reason = 'covered by region report') AS reports_covered,
        COUNT(*) FILTER (WHERE excluded_reason = 'duplicate agency-year') AS reports_duplicate_agency,
        COUNT(*) FILTER (WHERE counted AND scope = 'region') AS region_reports,
        COUNT(*) FILTER (WHERE agency_level = 'province') AS reports_province_level,
        COUNT(*) FILTER (WHERE agency_level = 'city') AS reports_city_level,
        COUNT(*) FILTER (WHERE agency_level = 'county') AS reports_county_level,
        COUNT(*) FILTER (WHERE agency_level = 'township') AS reports_township_level,
        COUNT(DISTINCT agency_id) FILTER (WHERE agency_level = 'province') AS agencies_province_level,
        COUNT(DISTINCT agency_id) FILTER (WHERE agency_level = 'city') AS agencies_city_level,
        COUNT(DISTINCT agency_id) FILTER (WHERE agency_level = 'county') AS agencies_county_level,
        COUNT(DISTINCT agency_id) FILTER (WHERE agency_level = 'township') AS agencies_township_level,
        SUM(new_received) FILTER (WHERE counted) AS new_received,
        SUM(carried_over) FILTER (WHERE counted) AS carried_over,
        SUM(applications) FILTER (WHERE counted) AS applications,
        SUM(handled) FILTER (WHERE counted) AS handled,
        SUM(granted) FILTER (WHERE counted) AS granted,
        SUM(partially_granted) FILTER (WHERE counted) AS partially_granted,
        SUM(denied) FILTER (WHERE counted) AS denied,
        SUM(denied_state_secret) FILTER (WHERE counted) AS denied_state_secret,
        SUM(denied_prohibited_by_law) FILTER (WHERE counted) AS denied_prohibited_by_law,
        SUM(denied_security_stability) FILTER (WHERE counted) AS denied_security_stability,
        SUM(denied_third_party_rights) FILTER (WHERE counted) AS denied_third_party_rights,
        SUM(denied_internal_affairs) FILTER (WHERE counted) AS denied_internal_affairs,
        SUM(denied_process_information) FILTER (WHERE counted) AS denied_process_information,
        SUM(denied_enforcement_file) FILTER (WHERE counted) AS denied_enforcement_file,
        SUM(denied_administrative_query) FILTER (WHERE counted) AS denied_administrative_query,
        SUM(unable) FILTER (WHERE counted) AS unable,
        SUM(not_processed) FILTER (WHERE counted) AS not_processed,
        SUM(other_processing) FILTER (WHERE counted) AS other_processing,
        SUM(carried_forward) FILTER (WHERE counted) AS carried_forward,
        SUM(reviews) FILTER (WHERE counted) AS reviews,
        SUM(review_upheld) FILTER (WHERE counted) AS review_upheld,
        SUM(review_corrected) FILTER (WHERE counted) AS review_corrected,
        SUM(review_other) FILTER (WHERE counted) AS review_other,
        SUM(review_pending) FILTER (WHERE counted) AS review_pending,
        SUM(lawsuits) FILTER (WHERE counted) AS lawsuits,
        SUM(lawsuit_upheld) FILTER (WHERE counted) AS lawsuit_upheld,
        SUM(lawsuit_corrected) FILTER (WHERE counted) AS lawsuit_corrected,
        SUM(lawsuit_other) FILTER (WHERE counted) AS lawsuit_other,
        SUM(lawsuit_pending) FILTER (WHERE counted) AS lawsuit_pending,
        SUM(fees_amount) FILTER (WHERE counted) AS fees_amount,
        SUM(licensing_decisions) FILTER (WHERE counted) AS licensing_decisions,
        SUM(penalty_decisions) FILTER (WHERE counted) AS penalty_decisions,
        SUM(coercion_decisions) FILTER (WHERE counted) AS coercion_decisions,
        SUM(n_unresolved) AS unresolved_cells
    FROM mart_report
    GROUP BY COALESCE(province, '(unplaced)'), year
), quarantined AS (
    SELECT COALESCE(province, '(unplaced)') AS province, year, COUNT(DISTINCT report_id) AS reports_quarantined
    FROM quarantine_report
    GROUP BY COALESCE(province, '(unplaced)'), year
), warned AS (
    SELECT COALESCE(r.province, '(unplaced)') AS province, r.year, COUNT(*) AS warnings,
           COUNT(DISTINCT w.report_id) AS reports_with_warnings
    FROM report_warning w JOIN dim_report r ON r.report_id = w.report_id
    GROUP BY COALESCE(r.province, '(unplaced)'), r.year
), reconciled AS (
    SELECT province, year, COUNT(DISTINCT region_report_id) AS regions_reconciled,
           COUNT(*) FILTER (WHERE warning) AS reconciliation_warnings
    FROM mart_reconciliation
    GROUP BY province, year
), keys AS (
    SELECT province, year FROM agg UNION SELECT province, year FROM quarantined
)
SELECT
    k.province,
    k.year,
    COALESCE(a.reports, 0) AS reports,
    CAST(a.applications AS BIGINT) AS applications,
    CAST(a.handled AS BIGINT) AS handled,
    CAST(a.granted AS BIGINT) AS granted,
    CAST(a.partially_granted AS BIGINT) AS partially_granted,
    ratio4(a.granted + a.partially_granted, a.handled) AS disclosure_rate,
    CAST(a.reviews AS BIGINT) AS administrative_reviews,
    CAST(a.lawsuits AS BIGINT) AS lawsuits,
    -- coverage
    COALESCE(a.reports_loaded, 0) AS reports_loaded,
    COALESCE(a.reports_covered, 0) AS reports_covered,
    COALESCE(a.reports_duplicate_agency, 0) AS reports_duplicate_agency,
    COALESCE(a.region_reports, 0) AS region_reports,
    COALESCE(a.reports_province_level, 0) AS reports_province_level,
    COALESCE(a.reports_city_level, 0) AS reports_city_level,
    COALESCE(a.reports_county_level, 0) AS reports_county_level,
    COALESCE(a.reports_township_level, 0) AS reports_township_level,
    COALESCE(a.agencies_province_level, 0) AS agencies_province_level,
    COALESCE(a.agencies_city_level, 0) AS agencies_city_level,
    COALESCE(a.agencies_county_level, 0) AS agencies_county_level,
    COALESCE(a.agencies_township_level, 0) AS agencies_township_level,
    -- applications and outcomes
    CAST(a.new_received AS BIGINT) AS new_received,
    CAST(a.carried_over AS BIGINT) AS carried_over,
    CAST(a.denied AS BIGINT) AS denied,
    CAST(a.denied_state_secret AS BIGINT) AS denied_state_secret,
    CAST(a.denied_prohibited_by_law AS BIGINT) AS denied_prohibited_by_law,
    CAST(a.denied_security_stability AS BIGINT) AS denied_security_stability,
    CAST(a.denied_third_party_rights AS BIGINT) AS denied_third_party_rights,
    CAST(a.denied_internal_affairs AS BIGINT) AS denied_internal_affairs,
    CAST(a.denied_process_information AS BIGINT) AS denied_process_information,
    CAST(a.denied_enforcement_file AS BIGINT) AS denied_enforcement_file,
    CAST(a.denied_administrative_query AS BIGINT) AS denied_administrative_query,
    CAST(a.unable AS BIGINT) AS unable,
    CAST(a.not_processed AS BIGINT) AS not_processed,
    CAST(a.other_processing AS BIGINT) AS other_processing,
    CAST(a.carried_forward AS BIGINT) AS carried_forward,
    ratio4(a.granted, a.handled) AS granted_share,
    ratio4(a.partially_granted, a.handled) AS partially_granted_share,
    ratio4(a.denied, a.handled) AS denied_share,
    ratio4(a.unable, a.handled) AS unable_share,
    ratio4(a.not_processed, a.handled) AS not_processed_share,
    ratio4(a.other_processing, a.handled) AS other_processing_share,
    -- reviews and lawsuits
    CAST(a.review_upheld AS BIGINT) AS review_upheld,
    CAST(a.review_corrected AS BIGINT) AS review_corrected,
    CAST(a.review_other AS BIGINT) AS review_other,
    CAST(a.review_pending AS BIGINT) AS review_pending,
    ratio4(a.review_corrected, a.review_upheld + a.review_corrected + a.review_other) AS review_correction_rate,
    CAST(a.lawsuit_upheld AS BIGINT) AS lawsuit_upheld,
    CAST(a.lawsuit_corrected AS BIGINT) AS lawsuit_corrected,
    CAST(a.lawsuit_other AS BIGINT) AS lawsuit_other,
    CAST(a.lawsuit_pending AS BIGINT) AS lawsuit_pending,
    ratio4(a.lawsuit_corrected, a.lawsuit_upheld + a.lawsuit_corrected + a.lawsuit_other) AS lawsuit_correction_rate,
    -- 表二 volumes and fees
    round4(a.fees_amount) AS fees_amount,
    CAST(a.licensing_decisions AS BIGINT) AS licensing_decisions,
    CAST(a.penalty_decisions AS BIGINT) AS penalty_decisions,
    CAST(a.coercion_decisions AS BIGINT) AS coercion_decisions,
    -- data quality
    COALESCE(q.reports_quarantined, 0) AS reports_quarantined,
    ratio4(COALESCE(a.reports_loaded, 0), COALESCE(a.reports_loaded, 0) + COALESCE(q.reports_quarantined, 0))
        AS blocking_pass_rate,
    COALESCE(w.warnings, 0) AS warnings,
    COALESCE(w.reports_with_warnings, 0) AS reports_with_warnings,
    CAST(COALESCE(a.unresolved_cells, 0) AS BIGINT) AS unresolved_cells,
    COALESCE(c.regions_reconciled, 0) AS regions_reconciled,
    COALESCE(c.reconciliation_warnings, 0) AS reconciliation_warnings
FROM keys k
LEFT JOIN agg a ON a.province = k.province AND a.year = k.year
LEFT JOIN quarantined q ON q.province = k.province AND q.year = k.year
LEFT JOIN warned w ON w.province = k.province AND w.year = k.year
LEFT JOIN reconciled c ON c.province = k.province AND c.year = k.year
ORDER BY k.province, k.year;

-- Agency x year, for drill-down: the agency's counted report (rank 1) with its figures and where it stands.
CREATE TABLE mart_agency_year AS
SELECT
    r.agency_id, r.year, r.agency_name, r.issuer, r.agency_kind, r.agency_level, r.zone,
    r.province, r.city, r.adcode, r.scope, r.template, r.report_id,
    r.agency_reports, r.counted, r.parent_report_id, r.top_report_id AS covered_by,
    CAST(r.applications AS BIGINT) AS applications,
    CAST(r.handled AS BIGINT) AS handled,
    CAST(r.granted AS BIGINT) AS granted,
    CAST(r.partially_granted AS BIGINT) AS partially_granted,
    CAST(r.denied AS BIGINT) AS denied,
    CAST(r.unable AS BIGINT) AS unable,
    CAST(r.not_processed AS BIGINT) AS not_processed,
    CAST(r.other_processing AS BIGINT) AS other_processing,
    CAST(r.carried_forward AS BIGINT) AS carried_forward,
    ratio4(r.granted + r.partially_granted, r.handled) AS disclosure_rate,
    CAST(r.reviews AS BIGINT) AS administrative_reviews,
    ratio4(r.review_corrected, r.review_upheld + r.review_corrected + r.review_other) AS review_correction_rate,
    CAST(r.lawsuits AS BIGINT) AS lawsuits,
    ratio4(r.lawsuit_corrected, r.lawsuit_upheld + r.lawsuit_corrected + r.lawsuit_other) AS lawsuit_correction_rate,
    round4(r.fees_amount) AS fees_amount,
    CAST(r.licensing_decisions AS BIGINT) AS licensing_decisions,
    CAST(r.penalty_decisions AS BIGINT) AS penalty_decisions,
    CAST(r.coercion_decisions AS BIGINT) AS coercion_decisions,
    COALESCE(w.warnings, 0) AS warnings,
    r.n_unresolved AS unresolved_cells
FROM mart_report r
LEFT JOIN (SELECT report_id, COUNT(*) AS warnings FROM report_warning GROUP BY report_id) w
       ON w.report_id = r.report_id
WHERE r.agency_rank = 1
ORDER BY r.province, r.year, r.agency_name;

-- Views for BI tools (Superset, Metabase): stable names over the marts, documented in docs/data_dictionary.md.
CREATE VIEW bi_province_year AS SELECT * FROM mart_province_year;
CREATE VIEW bi_agency_year AS SELECT * FROM mart_agency_year;
CREATE VIEW bi_reconciliation AS SELECT * FROM mart_reconciliation;
CREATE VIEW bi_report AS
SELECT r.*, d.source_file, d.file_format, d.scope_evidence, d.region_note, d.run_id
FROM mart_report r
JOIN dim_report d ON d.report_id = r.report_id;

COMMENT ON VIEW bi_province_year IS 'Province x year: volumes, outcome mix, disclosure and correction rates, coverage, data quality (docs/data_dictionary.md)';
COMMENT ON VIEW bi_agency_year IS 'Agency x year drill-down: one counted report per agency and year (docs/data_dictionary.md)';
COMMENT ON VIEW bi_reconciliation IS 'Region reports vs the sum of their children, per headline figure (docs/data_dictionary.md)';
COMMENT ON VIEW bi_report IS 'Every loaded report with its agency, scope evidence and whether the province mart counts it';
