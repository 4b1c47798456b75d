"""Developer and researcher tools: benchmark runner, instance generator, literature importers, README generation. Paths are parameters."""
