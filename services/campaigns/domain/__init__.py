"""Pure domain of campaigns: the aggregate, review rules and distribution. No I/O."""
