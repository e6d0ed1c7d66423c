//! Team accounts: password hashing (and, as the product grows, sessions and roles).

pub mod password;
