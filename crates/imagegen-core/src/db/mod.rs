//! Typed calls to the SQL functions the edge may use. Each builds the named arguments, calls the
//! [`Rpc`](crate::ports::Rpc) port once and parses the answer into an outcome enum.

pub mod generation;
pub mod queue;
pub mod start_generation;
