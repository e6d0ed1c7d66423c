//! What stands between the outside and Baton: the headers every response carries,
//! whether a request comes from Baton's own pages, the client address rate limits
//! count by, and the size of request bodies.

pub mod body;
pub mod client;
pub mod headers;
pub mod origin;
pub mod rate_limit;
pub mod vault;
