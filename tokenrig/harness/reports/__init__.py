"""Outputs of a qualification run: records.json, tokens.csv, the HTML report with its plots,
and allure attachments. Seeds never reach them; records carry fingerprints."""
