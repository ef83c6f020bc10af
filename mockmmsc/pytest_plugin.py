"""pytest plugin of the mock MMSC (registered through the ``pytest11`` entry point)."""
