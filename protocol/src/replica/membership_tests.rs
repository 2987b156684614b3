//! Membership-change tests.
