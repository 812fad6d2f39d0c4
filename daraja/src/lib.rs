//! Scaffold: being written (see the issue).
