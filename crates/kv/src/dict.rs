//! The keyspace hash table.
