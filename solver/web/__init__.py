"""`prodbudget serve`: the planner's workspace in the browser and its HTTP API (an entry point
beside solver/cli: HTTP and wiring only; every question goes to the library)."""
