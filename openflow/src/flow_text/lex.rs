//! Tokens and scalar values of the ovs-ofctl syntax.
//!
//! [`Items`] splits text into `key`, `key=value`, `key:value` and `key(value)` items the way
//! Open vSwitch's `ofputil_parse_key_value` does: items are separated by commas or white
//! space, a value after `=` or `:` runs to the next comma or white space (parentheses nest,
//! so `write_actions(output:1,output:2)` is one item), and a value after `(` runs to the
//! matching `)`. Every delimiter is ASCII, so slicing at them never splits a UTF-8
//! character.
//!
//! The value parsers below take the key they belong to only to name it in errors.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::FlowTextError;
use crate::model::PortNo;

/// How a key was joined to its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Delim {
    /// A bare key (`send_flow_rem`, `ip`, `drop`).
    None,
    /// `key=value`.
    Equals,
    /// `key:value`.
    Colon,
    /// `key(value)`.
    Paren,
}

/// One key and its value (empty for a bare key).
#[derive(Debug, Clone, Copy)]
pub(super) struct Item<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub delim: Delim,
}

impl<'a> Item<'a> {
    /// The value, or an error naming the key when there is none.
    pub fn need_value(&self, hint: &str) -> Result<&'a str, FlowTextError> {
        if self.value.is_empty() {
            Err(FlowTextError::MissingValue {
                token: self.key.to_string(),
                hint: hint.into(),
            })
        } else {
            Ok(self.value)
        }
    }

    /// Fails if the key was given a value (flags, protocol names, `drop`).
    pub fn no_value(&self) -> Result<(), FlowTextError> {
        if self.delim == Delim::None {
            Ok(())
        } else {
            Err(FlowTextError::BadValue {
                key: self.key.to_string(),
                token: self.value.to_string(),
                hint: "this keyword takes no value".into(),
            })
        }
    }
}

fn is_separator(b: u8) -> bool {
    matches!(b, b',' | b' ' | b'\t' | b'\r' | b'\n')
}

/// The items of a text, in order.
#[derive(Debug, Clone)]
pub(super) struct Items<'a> {
    rest: &'a str,
}

impl<'a> Items<'a> {
    pub fn new(text: &'a str) -> Items<'a> {
        Items { rest: text }
    }
}

/// Length of the value at the front of `s`, which ends at the first byte of `stops` that is
/// outside parentheses (or at the end).
fn value_len(s: &[u8], stops: fn(u8) -> bool) -> usize {
    let mut depth = 0usize;
    for (i, &b) in s.iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' if depth > 0 => depth -= 1,
            _ if depth == 0 && stops(b) => return i,
            _ => {}
        }
    }
    s.len()
}

impl<'a> Iterator for Items<'a> {
    type Item = Result<Item<'a>, FlowTextError>;

    fn next(&mut self) -> Option<Self::Item> {
        let s = self
            .rest
            .trim_start_matches(|c: char| c.is_ascii() && is_separator(c as u8));
        if s.is_empty() {
            self.rest = s;
            return None;
        }
        let bytes = s.as_bytes();
        let key_len = bytes
            .iter()
            .position(|&b| matches!(b, b':' | b'=' | b'(') || is_separator(b))
            .unwrap_or(bytes.len());
        let key = &s[..key_len];
        let delim = match bytes.get(key_len) {
            Some(b'=') => Delim::Equals,
            Some(b':') => Delim::Colon,
            Some(b'(') => Delim::Paren,
            _ => {
                // A bare key; skip the separator after it, if any.
                self.rest = s.get(key_len + 1..).unwrap_or("");
                return Some(Ok(Item {
                    key,
                    value: "",
                    delim: Delim::None,
                }));
            }
        };
        let v = &s[key_len + 1..];
        let vb = v.as_bytes();
        let n = if delim == Delim::Paren {
            let n = value_len(vb, |b| b == b')');
            if n == vb.len() {
                self.rest = "";
                return Some(Err(FlowTextError::BadValue {
                    key: key.to_string(),
                    token: v.to_string(),
                    hint: "missing `)`".into(),
                }));
            }
            n
        } else {
            value_len(vb, is_separator)
        };
        self.rest = v.get(n + 1..).unwrap_or("");
        Some(Ok(Item {
            key,
            value: &v[..n],
            delim,
        }))
    }
}

/// A `BadValue` error.
pub(super) fn bad(key: &str, token: &str, hint: impl Into<String>) -> FlowTextError {
    FlowTextError::BadValue {
        key: key.to_string(),
        token: token.to_string(),
        hint: hint.into(),
    }
}

/// An unsigned number in decimal or `0x` hexadecimal (Open vSwitch also reads a leading
/// `0` as octal; this parser does not).
pub(super) fn parse_u64(s: &str) -> Option<u64> {
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (s, 10),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// An unsigned number of at most `bits` bits, or an error naming the key.
pub(super) fn uint(key: &str, s: &str, bits: u32) -> Result<u64, FlowTextError> {
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    if bits >= 64 && s == "-1" {
        return Ok(u64::MAX);
    }
    match parse_u64(s) {
        Some(v) if v <= max => Ok(v),
        Some(_) => Err(bad(key, s, format!("must be at most {max} ({max:#x})"))),
        None => Err(bad(key, s, "expected a number (decimal or 0x hexadecimal)")),
    }
}

/// A number that fits in `u8`.
pub(super) fn u8_value(key: &str, s: &str) -> Result<u8, FlowTextError> {
    uint(key, s, 8).map(|v| v as u8)
}

/// A number that fits in `u16`.
pub(super) fn u16_value(key: &str, s: &str) -> Result<u16, FlowTextError> {
    uint(key, s, 16).map(|v| v as u16)
}

/// A number that fits in `u32`.
pub(super) fn u32_value(key: &str, s: &str) -> Result<u32, FlowTextError> {
    uint(key, s, 32).map(|v| v as u32)
}

/// Splits `value/mask`.
pub(super) fn split_mask(s: &str) -> (&str, Option<&str>) {
    match s.split_once('/') {
        Some((v, m)) => (v, Some(m)),
        None => (s, None),
    }
}

/// An Ethernet address: six groups of one or two hex digits separated by colons.
pub(super) fn mac(key: &str, s: &str) -> Result<[u8; 6], FlowTextError> {
    let err = || {
        bad(
            key,
            s,
            "expected an Ethernet address like 01:23:45:67:89:ab",
        )
    };
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for slot in out.iter_mut() {
        let p = parts.next().ok_or_else(err)?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err());
        }
        *slot = u8::from_str_radix(p, 16).map_err(|_| err())?;
    }
    if parts.next().is_some() {
        return Err(err());
    }
    Ok(out)
}

/// An IPv4 address.
pub(super) fn ipv4(key: &str, s: &str) -> Result<Ipv4Addr, FlowTextError> {
    s.parse()
        .map_err(|_| bad(key, s, "expected an IPv4 address like 192.0.2.1"))
}

/// An IPv4 mask: a prefix length (`/24`) or a dotted mask (`/255.255.0.0`).
pub(super) fn ipv4_mask(key: &str, s: &str) -> Result<u32, FlowTextError> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<u32>() {
            Ok(0) => Ok(0),
            Ok(n) if n <= 32 => Ok(u32::MAX << (32 - n)),
            _ => Err(bad(key, s, "an IPv4 prefix length is 0 to 32")),
        };
    }
    Ok(u32::from(ipv4(key, s)?))
}

/// An IPv6 address.
pub(super) fn ipv6(key: &str, s: &str) -> Result<Ipv6Addr, FlowTextError> {
    s.parse()
        .map_err(|_| bad(key, s, "expected an IPv6 address like 2001:db8::1"))
}

/// An IPv6 mask: a prefix length (`/64`) or an address-shaped mask.
pub(super) fn ipv6_mask(key: &str, s: &str) -> Result<u128, FlowTextError> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<u32>() {
            Ok(0) => Ok(0),
            Ok(n) if n <= 128 => Ok(u128::MAX << (128 - n)),
            _ => Err(bad(key, s, "an IPv6 prefix length is 0 to 128")),
        };
    }
    Ok(u128::from(ipv6(key, s)?))
}

/// The reserved ports by name (matched without regard to case), as Open vSwitch names them.
const PORT_NAMES: [(&str, PortNo); 10] = [
    ("in_port", PortNo::IN_PORT),
    ("table", PortNo::TABLE),
    ("normal", PortNo::NORMAL),
    ("flood", PortNo::FLOOD),
    ("all", PortNo::ALL),
    ("controller", PortNo::CONTROLLER),
    ("local", PortNo::LOCAL),
    ("any", PortNo::ANY),
    ("none", PortNo::ANY),
    ("unset", PortNo(0xffff_fff7)),
];

/// A reserved port's name, if it has one (upper case, as ovs-ofctl prints it).
pub(super) fn port_name(p: PortNo) -> Option<&'static str> {
    Some(match p {
        PortNo::IN_PORT => "IN_PORT",
        PortNo::TABLE => "TABLE",
        PortNo::NORMAL => "NORMAL",
        PortNo::FLOOD => "FLOOD",
        PortNo::ALL => "ALL",
        PortNo::CONTROLLER => "CONTROLLER",
        PortNo::LOCAL => "LOCAL",
        PortNo::ANY => "ANY",
        PortNo(0xffff_fff7) => "UNSET",
        _ => return None,
    })
}

/// A port: a reserved name, a decimal number (0xff00..=0xffff are OpenFlow 1.0's
/// reserved numbers and mean the reserved port, as in ovs-ofctl), or a `0x` hexadecimal
/// number taken as the exact 32-bit value.
pub(super) fn port(s: &str) -> Option<PortNo> {
    if let Some(&(_, p)) = PORT_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)) {
        return Some(p);
    }
    if s.starts_with("0x") || s.starts_with("0X") {
        return parse_u64(s).and_then(|v| u32::try_from(v).ok()).map(PortNo);
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = u32::try_from(s.parse::<u64>().ok()?).ok()?;
    Some(if (0xff00..=0xffff).contains(&v) {
        PortNo::from_v10(v as u16)
    } else {
        PortNo(v)
    })
}

/// A port, or an error naming the key.
pub(super) fn port_value(key: &str, s: &str) -> Result<PortNo, FlowTextError> {
    port(s).ok_or_else(|| {
        bad(
            key,
            s,
            "expected a port number or in_port, table, normal, flood, all, controller, local, any",
        )
    })
}

/// A port as ovs-ofctl prints it: a reserved name, else decimal (hexadecimal for the
/// 32-bit numbers 0xff00..=0xffff, whose decimal spelling means a 1.0 reserved port).
pub(super) fn format_port(p: PortNo) -> String {
    match port_name(p) {
        Some(n) => n.to_string(),
        None if (0xff00..=0xffff).contains(&p.0) => format!("{:#x}", p.0),
        None => p.0.to_string(),
    }
}

/// An Ethernet address as `01:23:45:67:89:ab`.
pub(super) fn format_mac(b: &[u8]) -> String {
    let mut s = String::with_capacity(17);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Hexadecimal the way Open vSwitch's `ds_put_hex` writes it: `0x` and the digits without
/// leading zeros, or a bare `0`.
pub(super) fn format_hex_min(v: u64) -> String {
    if v == 0 {
        "0".to_string()
    } else {
        format!("{v:#x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(s: &str) -> Vec<(String, String, Delim)> {
        Items::new(s)
            .map(|i| i.map(|i| (i.key.to_string(), i.value.to_string(), i.delim)))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn items_split_like_ovs() {
        assert_eq!(
            items(" in_port=1, ip  dl_dst:01:02:03:04:05:06,controller(max_len=5),drop"),
            vec![
                ("in_port".into(), "1".into(), Delim::Equals),
                ("ip".into(), "".into(), Delim::None),
                ("dl_dst".into(), "01:02:03:04:05:06".into(), Delim::Colon),
                ("controller".into(), "max_len=5".into(), Delim::Paren),
                ("drop".into(), "".into(), Delim::None),
            ]
        );
        assert_eq!(
            items("write_actions(output:1,controller(max_len=5)),goto_table:2"),
            vec![
                (
                    "write_actions".into(),
                    "output:1,controller(max_len=5)".into(),
                    Delim::Paren
                ),
                ("goto_table".into(), "2".into(), Delim::Colon),
            ]
        );
        assert!(Items::new("write_actions(output:1").any(|i| i.is_err()));
        assert!(items(" , ,").is_empty());
    }

    #[test]
    fn numbers_and_addresses() {
        assert_eq!(parse_u64("0x10"), Some(16));
        assert_eq!(parse_u64("010"), Some(10));
        assert_eq!(parse_u64("-1"), None);
        assert_eq!(parse_u64("0x"), None);
        assert_eq!(uint("k", "-1", 64).unwrap(), u64::MAX);
        assert!(uint("k", "256", 8).is_err());
        assert_eq!(mac("k", "1:2:3:4:5:a").unwrap(), [1, 2, 3, 4, 5, 10]);
        assert!(mac("k", "1:2:3:4:5").is_err());
        assert!(mac("k", "1:2:3:4:5:6:7").is_err());
        assert!(mac("k", "001:2:3:4:5:6").is_err());
        assert_eq!(ipv4_mask("k", "24").unwrap(), 0xffff_ff00);
        assert_eq!(ipv4_mask("k", "0").unwrap(), 0);
        assert!(ipv4_mask("k", "33").is_err());
        assert_eq!(ipv6_mask("k", "ffff::").unwrap(), 0xffff << 112);
    }

    #[test]
    fn ports_by_name_and_number() {
        assert_eq!(port("LOCAL"), Some(PortNo::LOCAL));
        assert_eq!(port("none"), Some(PortNo::ANY));
        assert_eq!(port("65533"), Some(PortNo::CONTROLLER));
        assert_eq!(port("7"), Some(PortNo(7)));
        assert_eq!(port("0xff05"), Some(PortNo(0xff05)));
        assert_eq!(port("4294967040"), Some(PortNo(0xffff_ff00)));
        assert_eq!(port("4294967296"), None);
        assert_eq!(port("eth0"), None);
        for p in [
            PortNo(1),
            PortNo(0xff05),
            PortNo::CONTROLLER,
            PortNo(0xffff_ff00),
        ] {
            assert_eq!(port(&format_port(p)), Some(p));
        }
    }
}
