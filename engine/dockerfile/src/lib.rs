//! Dockerfile parsing, word expansion and `.dockerignore` matching.
