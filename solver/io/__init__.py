"""Files in and out: the input schema, loading and validation into an `Instance`, workbooks, output writers, baselines."""
