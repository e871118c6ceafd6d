//! The simulator over real HTTP: one module per capability. Every test starts its own simulator on
//! 127.0.0.1:0. Timing checks are logical (order, lower bounds) rather than tight upper bounds, so a
//! loaded machine slows them down without failing them.

mod common;

mod api;
mod faults;
mod lifecycle;
mod limits;
mod outputs;
mod validation;
mod webhook_faults;
mod webhooks;
