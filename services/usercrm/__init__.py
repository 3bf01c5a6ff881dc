"""User CRM: actions on the user as requests to the brokerage platform (with maker-checker and an audit),
the user-information tabs, and the accounts / allocations / statement reports."""
