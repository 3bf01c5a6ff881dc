"""Summary service: Today's Summary, daily follow-ups, daily reports, home dashboard, funnel analytics.

Read models are facts derived from the other services' `crm.*` topics (one row per customer milestone,
follow-up, task and KYC case, each attributed to the manager in force at the time of the fact); every
number is computed from those facts, so a replay from the start rebuilds identical answers.
"""
