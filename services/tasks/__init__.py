"""Tasks service: automatic follow-up tasks (faust-streaming), follow-up records and tickets."""
