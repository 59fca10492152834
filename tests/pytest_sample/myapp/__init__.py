"""A small application for memalot's pytest plugin tests (tests/integration/test_pytest.c)."""
