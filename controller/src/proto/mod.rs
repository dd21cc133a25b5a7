//! Zero-copy views of the application protocols the `hosts` app reads from packet-ins:
//! DHCP (address and host name bindings) and DNS (name bindings from answers).
//!
//! They follow the datapath's `wire` modules (smoltcp's layout): a view over any
//! `T: AsRef<[u8]>` with `new_unchecked`, `new_checked` and `check_len`, a private
//! `mod field` of byte ranges, and a small `Repr` where a value form is useful. Errors
//! are the datapath's [`Error`]. The panic contract is the same: once `check_len` has
//! succeeded no accessor panics, and everything that walks variable-length data (DHCP
//! options, DNS names with compression pointers, resource records) is bounded by the
//! buffer and returns an error instead of reading past it or looping.

pub use flowlab_datapath::wire::{Error, Result};

pub mod dhcp;
pub mod dns;

/// A big-endian `u16` at `at` (the caller has checked the length).
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// A big-endian `u32` at `at` (the caller has checked the length).
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Declares a protocol-number enum that never fails to convert: every known number has
/// a named variant, any other lands in `Unknown(..)`.
macro_rules! number_enum {
    (
        $(#[$attr:meta])*
        pub enum $name:ident($repr:ty) {
            $( $(#[$vattr:meta])* $variant:ident = $value:literal ),+ $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vattr])* $variant, )+
            /// A number without a name here.
            Unknown($repr),
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> Self {
                match v {
                    $( $value => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> Self {
                match v {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other,
                }
            }
        }
    };
}
use number_enum;
