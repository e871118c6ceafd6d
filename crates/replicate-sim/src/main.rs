//! Placeholder; the simulator is being built.
fn main() {}
