"""Pure User CRM domain: the request aggregate and its rules (maker-checker, completion, masking). No I/O."""
