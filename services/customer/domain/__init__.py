"""Pure domain of the customer service: region rules, lifecycle derivation, the fact reducer, the aggregate."""
