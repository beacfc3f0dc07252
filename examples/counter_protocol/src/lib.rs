//! The counter's protocol, shared by the service (`counter`) and its clients
//! (`counter_client`): a client sends a [`Count`], the service answers with the [`Total`].
#![no_std]

use serde::{Deserialize, Serialize};

/// A request to the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Count {
    /// Adds this much to the total.
    Add(u64),
    /// Changes nothing.
    Get,
}

/// The counter's answer to every request: the total after it.
pub type Total = u64;
