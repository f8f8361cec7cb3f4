"""The one gate every mutating call goes through: plan, preconditions, executor, records, availability,
audit, reasons."""
