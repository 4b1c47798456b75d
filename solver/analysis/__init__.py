"""Questions asked of a plan (sensitivity, sweeps, diagnosis, rush orders, rolling re-plans, scenarios, the sequential baseline, the independent checker): data in, data out, no printing."""
