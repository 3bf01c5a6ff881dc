"""Pure domain of the tasks service: task nodes and policy, aggregates. No I/O."""
