"""The returns domain: eligibility, workflow, refund arithmetic, references. No Flask here."""
