-- One row per report with the headline figures, pivoted from its cells at load time (etl/load.py runs this
-- over the staging cells of the loaded reports and inserts into fact_report_figures, partition by partition),
-- so the marts read one row per report instead of 200. A figure made of several cells skips the NULL
-- (unresolved) ones. The 2019 template has one (六)其他处理 row (t3.other), 2021 has three.
-- {cells}: the source of cells (report_id, year, code, value); {reports}: the report ids to pivot.
SELECT
    c.report_id, c.year,
    SUM(c.value) FILTER (WHERE c.code = 't3.new_received.total') AS new_received,
    SUM(c.value) FILTER (WHERE c.code = 't3.carried_over.total') AS carried_over,
    SUM(c.value) FILTER (WHERE c.code IN ('t3.new_received.total', 't3.carried_over.total')) AS applications,
    SUM(c.value) FILTER (WHERE c.code = 't3.total.total') AS handled,
    SUM(c.value) FILTER (WHERE c.code = 't3.granted.total') AS granted,
    SUM(c.value) FILTER (WHERE c.code = 't3.partially_granted.total') AS partially_granted,
    SUM(c.value) FILTER (WHERE c.code = 't3.denied_state_secret.total') AS denied_state_secret,
    SUM(c.value) FILTER (WHERE c.code = 't3.denied_prohibited_by_law.total') AS denied_prohibited_by_law,
    SUM(c.value) FILTER (WHERE c.code = 't3.denied_three_security_one_stability.total') AS denied_security_stability,
    SUM(c.value) FILTER (WHERE c.code = 't3.denied_third_party_rights.total') AS denied_third_party_rights,
    SUM(c.value) FILTER (WHERE c.code = 't3.denied_internal_affairs.total') AS denied_internal_affairs,
    SUM(c.value) FILTER (WHERE c.code = 't3.denied_process_information.total') AS denied_process_information,
    SUM(c.value) FILTER (WHERE c.code = 't3.denied_enforcement_file.total') AS denied_enforcement_file,
    SUM(c.value) FILTER (WHERE c.code = 't3.denied_administrative_query.total') AS denied_administrative_query,
    SUM(c.value) FILTER (WHERE c.code IN (
        't3.denied_state_secret.total', 't3.denied_prohibited_by_law.total',
        't3.denied_three_security_one_stability.total', 't3.denied_third_party_rights.total',
        't3.denied_internal_affairs.total', 't3.denied_process_information.total',
        't3.denied_enforcement_file.total', 't3.denied_administrative_query.total')) AS denied,
    SUM(c.value) FILTER (WHERE c.code IN (
        't3.unable_not_held.total', 't3.unable_needs_creation.total', 't3.unable_still_unclear.total')) AS unable,
    SUM(c.value) FILTER (WHERE c.code IN (
        't3.not_processed_petition.total', 't3.not_processed_duplicate.total', 't3.not_processed_publication.total',
        't3.not_processed_mass_repeated.total', 't3.not_processed_confirm_existing.total')) AS not_processed,
    SUM(c.value) FILTER (WHERE c.code IN (
        't3.other.total', 't3.other_no_correction.total', 't3.other_no_fee.total', 't3.other_other.total'))
        AS other_processing,
    SUM(c.value) FILTER (WHERE c.code = 't3.carried_forward.total') AS carried_forward,
    SUM(c.value) FILTER (WHERE c.code = 't4.review.upheld') AS review_upheld,
    SUM(c.value) FILTER (WHERE c.code = 't4.review.corrected') AS review_corrected,
    SUM(c.value) FILTER (WHERE c.code = 't4.review.other') AS review_other,
    SUM(c.value) FILTER (WHERE c.code = 't4.review.pending') AS review_pending,
    SUM(c.value) FILTER (WHERE c.code = 't4.review.total') AS reviews,
    SUM(c.value) FILTER (WHERE c.code IN ('t4.litigation_direct.upheld', 't4.litigation_after_review.upheld'))
        AS lawsuit_upheld,
    SUM(c.value) FILTER (WHERE c.code IN ('t4.litigation_direct.corrected', 't4.litigation_after_review.corrected'))
        AS lawsuit_corrected,
    SUM(c.value) FILTER (WHERE c.code IN ('t4.litigation_direct.other', 't4.litigation_after_review.other'))
        AS lawsuit_other,
    SUM(c.value) FILTER (WHERE c.code IN ('t4.litigation_direct.pending', 't4.litigation_after_review.pending'))
        AS lawsuit_pending,
    SUM(c.value) FILTER (WHERE c.code IN ('t4.litigation_direct.total', 't4.litigation_after_review.total'))
        AS lawsuits,
    SUM(c.value) FILTER (WHERE c.code = 't2.licensing.decisions') AS licensing_decisions,
    SUM(c.value) FILTER (WHERE c.code = 't2.penalty.decisions') AS penalty_decisions,
    SUM(c.value) FILTER (WHERE c.code = 't2.coercion.decisions') AS coercion_decisions,
    SUM(c.value) FILTER (WHERE c.code = 't2.fees.amount') AS fees_amount
FROM {cells} c
WHERE c.report_id IN (SELECT report_id FROM {reports})
  AND (c.code LIKE 't2.%' OR c.code LIKE 't3.%.total' OR c.code LIKE 't4.%')
GROUP BY c.report_id, c.year
