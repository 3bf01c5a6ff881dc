"""Pure KYC domain: the case aggregate, the customer index, risk and completion rules. No I/O."""
