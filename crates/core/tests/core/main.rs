//! Integration tests of the client core against the real server.
