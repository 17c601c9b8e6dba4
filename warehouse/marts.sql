-- Marts, rebuilt from the published facts after every load.
-- Counts are stored as DOUBLE in fact_cell (fee amounts carry decimals) and cast back to integers here.
--
-- No double counting: a region-scope report (e.g. 淮安市 "全市" figures) already contains the reports of the
-- units inside its area, so those units are left out of the province sums whenever such a report exists
-- for the same year. (Reconciling the two sides is issue 6's work.)

-- One row per loaded report with the headline figures, pivoted from fact_cell.
CREATE OR REPLACE VIEW v_report_figures AS
SELECT
    r.report_id, r.issuer, r.year, r.province, r.city, r.adcode, r.scope, r.template,
    SUM(CASE WHEN c.code = 't3.new_received.total'     THEN c.value END) AS new_received,
    SUM(CASE WHEN c.code = 't3.carried_over.total'     THEN c.value END) AS carried_over,
    SUM(CASE WHEN c.code = 't3.total.total'            THEN c.value END) AS handled,
    SUM(CASE WHEN c.code = 't3.granted.total'          THEN c.value END) AS granted,
    SUM(CASE WHEN c.code = 't3.partially_granted.total' THEN c.value END) AS partially_granted,
    SUM(CASE WHEN c.code = 't3.carried_forward.total'  THEN c.value END) AS carried_forward,
    SUM(CASE WHEN c.code = 't4.review.total'           THEN c.value END) AS reviews,
    SUM(CASE WHEN c.code IN ('t4.litigation_direct.total', 't4.litigation_after_review.total')
             THEN c.value END) AS lawsuits
FROM dim_report r
JOIN fact_cell c ON c.report_id = r.report_id
GROUP BY r.report_id, r.issuer, r.year, r.province, r.city, r.adcode, r.scope, r.template;

-- Region level from the adcode: 1 province (xx0000), 2 city (xxxx00), 3 county.
CREATE OR REPLACE VIEW v_report_unit AS
SELECT
    r.*,
    CASE WHEN r.adcode LIKE '%0000' THEN 1 WHEN r.adcode LIKE '%00' THEN 2 ELSE 3 END AS region_level
FROM v_report_figures r;

-- Reports whose area is covered by another loaded region-scope report of the same year.
CREATE OR REPLACE VIEW v_report_covered AS
SELECT DISTINCT u.report_id, g.report_id AS covered_by
FROM v_report_unit u
JOIN v_report_unit g
  ON g.year = u.year AND g.scope = 'region' AND g.report_id <> u.report_id AND u.adcode IS NOT NULL
 AND ((g.region_level = 1 AND substr(u.adcode, 1, 2) = substr(g.adcode, 1, 2) AND u.region_level > 1)
   OR (g.region_level = 2 AND substr(u.adcode, 1, 4) = substr(g.adcode, 1, 4) AND u.region_level > 2)
   OR (g.adcode = u.adcode AND u.scope <> 'region'));

CREATE OR REPLACE TABLE mart_province_year AS
SELECT
    COALESCE(province, '(unplaced)')                     AS province,
    year,
    COUNT(*)                                             AS reports,
    CAST(SUM(new_received + carried_over) AS BIGINT)     AS applications,
    CAST(SUM(handled) AS BIGINT)                         AS handled,
    CAST(SUM(granted) AS BIGINT)                         AS granted,
    CAST(SUM(partially_granted) AS BIGINT)               AS partially_granted,
    CASE WHEN SUM(handled) > 0
         THEN ROUND((SUM(granted) + SUM(partially_granted)) / SUM(handled), 4) END AS disclosure_rate,
    CAST(SUM(reviews) AS BIGINT)                         AS administrative_reviews,
    CAST(SUM(lawsuits) AS BIGINT)                        AS lawsuits
FROM v_report_unit
WHERE report_id NOT IN (SELECT report_id FROM v_report_covered)
GROUP BY COALESCE(province, '(unplaced)'), year
ORDER BY province, year;
