"""PDF documents (reportlab): the overview, the referat, the referral (indstilling), the invitation letter.

common.py (font, safe text, page frame, locale), columns.py (the three-column input
table), chart.py (the ruler over time), parts.py (shared blocks), model.py (plain
data), gather.py (reading it from the database), one module per document, and
referrals.py (the referral's record and consent gate). The bot's side is
handlers/reports.py; the benchmark is bench/report_bench.py.
"""
