"""Pure domain of the assignment service: aggregates, the rule engine, errors, the clock. No I/O."""
