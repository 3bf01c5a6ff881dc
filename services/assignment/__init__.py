"""Assignment service: account managers, teams, assignment rules, bulk assignment, protection period and reclaim."""
