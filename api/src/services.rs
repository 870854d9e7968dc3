//! Services: what routes, commands and (later) worker jobs share, so that no handler calls
//! another's module and orchestration such as session retries lives in one place.

pub mod detection;
pub mod scope;
