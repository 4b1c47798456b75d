"""Model extensions for re-plans: fixing the past, actuals, change penalties, rush orders."""
