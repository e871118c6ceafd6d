//! Typed calls to the SQL functions the edge may use. Each builds the named arguments, calls the
//! [`Rpc`](crate::ports::Rpc) port once and parses the answer into an outcome enum.

pub mod connect;
pub mod generation;
pub mod queue;
pub mod start_generation;
pub mod webhook;

use crate::ports::RpcError;
use serde_json::Value;

/// The single row a scalar-returning SQL function answers.
pub(crate) fn one(rows: Vec<Value>, function: &str) -> Result<Value, RpcError> {
    match <[Value; 1]>::try_from(rows) {
        Ok([row]) => Ok(row),
        Err(rows) => Err(RpcError::BadAnswer(format!(
            "{function}: expected one row, got {}",
            rows.len()
        ))),
    }
}
