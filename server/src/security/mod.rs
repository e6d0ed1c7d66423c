//! What stands between the outside and Baton: the headers every response carries,
//! whether a request comes from Baton's own pages, the client address rate limits
//! count by, the size of request bodies, and where Baton may connect on an admin's
//! say (`egress`).

pub mod body;
pub mod client;
pub mod egress;
pub mod headers;
pub mod origin;
pub mod rate_limit;
pub mod vault;
