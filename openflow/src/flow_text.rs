//! Flows, groups and meters as text, in the syntax of `ovs-ofctl`.
//!
//! Labs are written and debugged in `ovs-ofctl` words: `add-flow br0
//! "table=0,priority=100,in_port=1,dl_dst=01:02:03:04:05:06,actions=output:2"`, and
//! `dump-flows` answers in the same words. This module reads that syntax into the
//! semantic model ([`FlowMod`](crate::FlowMod), [`Match`](crate::Match),
//! [`Instruction`](crate::Instruction), [`GroupMod`](crate::GroupMod),
//! [`MeterMod`](crate::MeterMod)) and prints the model back the way `ovs-ofctl` prints
//! it (`dump-flows`, `dump-groups`, `add-meter` syntax), so a flow that is typed, parsed,
//! encoded, decoded and printed reads like what was typed, normalised the way
//! `ovs-ofctl` normalises it.
//!
//! # Grammar
//!
//! ```text
//! flow     := [command] item* [ "actions" "=" actions ]
//! command  := add | modify | modify_strict | delete | delete_strict   (a prefix suffices;
//!                                                 only in parse_flow_mod_line)
//! item     := key | key "=" value | key ":" value | key "(" value ")"
//! actions  := entry ("," entry)*                        (everything after "actions=")
//! entry    := action | "meter:" N | "clear_actions" | "write_actions(" action,* ")"
//!           | "write_metadata:" V ["/" M] | "goto_table:" N | "drop"
//! group    := "group_id=" (N | all) ["," "type=" type] ("," "bucket=" bucket)*
//! bucket   := (weight:N | watch_port:P | watch_group:N | actions=A | action)*
//! meter    := "meter=" (N | all | controller | slowpath) ("," flag)* "," "bands=" band+
//! band     := "type=" (drop | dscp_remark) ",rate=" N [",burst_size=" N] [",prec_level=" N]
//! ```
//!
//! Items are separated by commas or white space; a value after `=` or `:` runs to the next
//! separator outside parentheses, a value after `(` to the matching `)`. A flow item is a
//! flow option (`cookie`, `table`, `priority`, `idle_timeout`, `hard_timeout`, the flags
//! `send_flow_rem`, `check_overlap`, `reset_counts`, `no_packet_counts`, `no_byte_counts`,
//! and for deletes `out_port` and `out_group`), a protocol shorthand (`ip`, `tcp6`, `arp`,
//! `mpls`, ...) or a match field under its Open vSwitch or OXM name (see `fields`). As in
//! `ovs-ofctl`, which options a command takes depends on the command (no `priority` for a
//! non-strict delete, no actions and no cookie without mask for deletes, no cookie mask
//! for adds), and the `duration`, `n_packets`, `n_bytes`, `idle_age` and `hard_age` that
//! `dump-flows` prints are ignored so its output can be fed back.
//!
//! Numbers are decimal or `0x` hexadecimal (`-1` means all ones for the 64-bit cookie,
//! metadata and tunnel id); ports are numbers or the names `in_port`, `table`, `normal`,
//! `flood`, `all`, `controller`, `local`, `any`/`none` in any case, and the decimal numbers
//! 0xff00..=0xffff mean OpenFlow 1.0's reserved ports, as in `ovs-ofctl` (a `0x` number
//! is taken as the exact 32-bit port). Addresses take `/prefix` or `/mask`.
//!
//! # Normalisation
//!
//! Parsing normalises the way `ovs-ofctl` does, and the printers print that normal form:
//!
//! - Match fields come out in OXM field-number order (the order the 1.0 decoder
//!   produces); printing uses `ovs-ofctl`'s order and names: priority, protocol shorthand
//!   (`tcp` for `eth_type=0x0800,ip_proto=6`), `tun_id`, `metadata`, `in_port`, VLAN,
//!   `dl_src`, `dl_dst`, `dl_type`, L3 addresses, `nw_proto`/`arp_op`, ARP hardware
//!   addresses, `nw_tos`, `nw_ecn`, MPLS, then `tp_src`/`tp_dst` or `icmp_type`/`icmp_code`
//!   and the neighbour-discovery fields. Fields `ovs-ofctl` does not know (`pbb_isid`,
//!   `ipv6_exthdr`, `in_phy_port`, `pbb_uca`) follow under their OXM names.
//! - A mask is applied to its value; an all-ones mask is an exact match and an all-zeros
//!   mask no match at all. IPv4 and IPv6 masks print as a prefix length when they are one.
//! - VLANs are kept as OXM `vlan_vid` (with `OFPVID_PRESENT`) and `vlan_pcp`, and print
//!   as `dl_vlan`/`dl_vlan_pcp` when those say it exactly, else as `vlan_tci`, with the
//!   version's meaning of "no tag" (`vlan_tci=0x0000` from 1.0, `0x0000/0x1fff` from 1.3).
//!   In 1.3 a priority without a VLAN id gets `vlan_vid=0x1000/0x1000`, as Open vSwitch
//!   sends it (OXM requires a tag for `vlan_pcp`).
//! - Instructions print in the fixed order meter, apply-actions, clear, write-actions,
//!   write-metadata, goto-table, and an empty list prints as `drop`.
//! - The cookie of a modify or delete with a mask is stored masked; a table of 255 on an
//!   add or modify is the default table 0.
//!
//! Where `ovs-ofctl` quietly changes what was typed, this parser refuses with a
//! [`FlowTextError`] naming the token and saying why: a field without its prerequisite
//! (`nw_src` without `ip` or `arp`, which `ovs-ofctl` drops with a log message; `udp_src`
//! under `tcp`, which it takes for `tp_src`), values too wide for their field (which it
//! truncates), masks on fields OpenFlow cannot mask, Open vSwitch extensions (`load`,
//! `resubmit`, registers, `output(max_len=...)`, ...) that have no OpenFlow 1.0/1.3 form
//! (where `ovs-ofctl` would switch to its Nicira messages), `set_field` with a mask or of
//! `in_port`, and contradictions (`tcp,udp`; `dl_vlan=0xffff,dl_vlan_pcp=3`). It accepts
//! a little more than `ovs-ofctl`: OXM names (`ipv4_src`, `icmpv4_type`, `pbb_isid`,
//! `ipv6_exthdr`, `in_phy_port`), 32-bit port numbers, and `0x` port numbers.
//!
//! # Versions
//!
//! The parsers take the wire version the flow is for (0x01 or 0x04), because a few
//! spellings mean different model values per version: the flag bits (`reset_counts` is
//! 1.3's bit 2, which is 1.0's `EMERG`), `mod_tp_src`/`mod_tp_dst`, `mod_vlan_vid`/
//! `mod_vlan_pcp` and `enqueue` (see `actions`). Whether the rest can be encoded in
//! that version (a `goto_table` in 1.0, a masked `vlan_vid` in 1.0, ...) is for
//! [`encode`](crate::encode) to say. The printers take the version too and use its
//! spellings (`strip_vlan`/`mod_vlan_vid:5` from 1.0, `pop_vlan`/`set_field:4101->vlan_vid`
//! from 1.3); any version other than 0x01 prints 1.3's.
//!
//! Model values no `ovs-ofctl` text can express still print, in a recognisable form
//! the parser refuses: `copy_ttl_in`/`copy_ttl_out`, `push_pbb:0x88e7`/`pop_pbb` and
//! `experimenter(...)` actions, `oxm(class=...)` and `oxm(experimenter=...)` fields,
//! `type=experimenter` meter bands. The 1.0 `EMERG` flag, which `ovs-ofctl` refuses, is
//! not printed.
//!
//! `tests/flow_text.rs` holds this module to `ovs-ofctl` itself (when installed): for a
//! list of flows, groups and meters, what we parse and encode must print, through
//! `ovs-ofctl ofp-print`, exactly as `ovs-ofctl parse-flow`/`parse-group` print the
//! same text, and our `dump-flows` lines must equal its.

mod actions;
mod fields;
mod flow;
mod group_meter;
mod lex;

pub use flow::{
    flow_mod_to_line, flow_mod_to_string, flow_stats_request_to_string, flow_stats_to_string,
    parse_flow_mod, parse_flow_mod_line, parse_flow_stats_request,
};
pub use group_meter::{group_mod_to_string, meter_mod_to_string, parse_group_mod, parse_meter_mod};

/// Group-mod commands (`OFPGC_*`), as [`GroupMod::command`](crate::GroupMod::command) holds them.
pub mod group_command {
    /// `OFPGC_ADD`.
    pub const ADD: u16 = 0;
    /// `OFPGC_MODIFY`.
    pub const MODIFY: u16 = 1;
    /// `OFPGC_DELETE`.
    pub const DELETE: u16 = 2;
}

/// Group types (`OFPGT_*`), as [`GroupMod::group_type`](crate::GroupMod::group_type) holds them.
pub mod group_type {
    /// `OFPGT_ALL`: execute all buckets.
    pub const ALL: u8 = 0;
    /// `OFPGT_SELECT`: execute one bucket.
    pub const SELECT: u8 = 1;
    /// `OFPGT_INDIRECT`: execute the one bucket.
    pub const INDIRECT: u8 = 2;
    /// `OFPGT_FF`: execute the first live bucket.
    pub const FF: u8 = 3;
}

/// Meter-mod commands (`OFPMC_*`), as [`MeterMod::command`](crate::MeterMod::command) holds them.
pub mod meter_command {
    /// `OFPMC_ADD`.
    pub const ADD: u16 = 0;
    /// `OFPMC_MODIFY`.
    pub const MODIFY: u16 = 1;
    /// `OFPMC_DELETE`.
    pub const DELETE: u16 = 2;
}

/// Meter flags (`OFPMF_*`), as [`MeterMod::flags`](crate::MeterMod::flags) holds them.
pub mod meter_flags {
    /// Rates in kb/s.
    pub const KBPS: u16 = 1 << 0;
    /// Rates in packets/s.
    pub const PKTPS: u16 = 1 << 1;
    /// Bands have a burst size.
    pub const BURST: u16 = 1 << 2;
    /// Collect statistics.
    pub const STATS: u16 = 1 << 3;
}

/// Why a text is not a flow, group or meter: the offending token and a hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowTextError {
    /// A key that is no match field, flow option or protocol name.
    #[error("unknown keyword `{token}`: {hint}")]
    UnknownKeyword {
        /// The key.
        token: String,
        /// What was expected.
        hint: String,
    },
    /// An action name that is neither an action, an instruction nor a port.
    #[error("unknown action `{token}`: {hint}")]
    UnknownAction {
        /// The action name.
        token: String,
        /// What was expected.
        hint: String,
    },
    /// A value that does not parse, or is out of range, for its key.
    #[error("bad value `{token}` for `{key}`: {hint}")]
    BadValue {
        /// The key the value belongs to.
        key: String,
        /// The value.
        token: String,
        /// What a good value looks like.
        hint: String,
    },
    /// A key that needs a value was given none.
    #[error("`{token}` needs a value: {hint}")]
    MissingValue {
        /// The key.
        token: String,
        /// What the value is.
        hint: String,
    },
    /// A field (or action) whose prerequisite is not in the match.
    #[error("`{token}` needs {hint}")]
    MissingPrerequisite {
        /// The field or action.
        token: String,
        /// The prerequisite.
        hint: String,
    },
    /// Syntax `ovs-ofctl` knows that has no OpenFlow 1.0/1.3 form here (Open vSwitch
    /// extensions, masked `set_field`, read-only fields).
    #[error("`{token}` is not supported: {hint}")]
    NotSupported {
        /// The key or action.
        token: String,
        /// Why, and what to use instead.
        hint: String,
    },
    /// A key the command does not take (`priority` for a non-strict delete, actions for a
    /// delete, ...).
    #[error("`{token}` is not allowed here: {hint}")]
    NotAllowed {
        /// The key.
        token: String,
        /// Why.
        hint: String,
    },
    /// Keys that contradict each other, or an instruction given twice or out of order.
    #[error("`{token}` conflicts: {hint}")]
    Conflict {
        /// The later key.
        token: String,
        /// With what.
        hint: String,
    },
    /// Something required is missing (actions, `group_id`, a meter band, ...).
    #[error("missing `{token}`: {hint}")]
    Missing {
        /// What is missing.
        token: String,
        /// Where it goes.
        hint: String,
    },
    /// A version other than OpenFlow 1.0 (0x01) and 1.3 (0x04).
    #[error("unsupported openflow version {0:#04x}")]
    BadVersion(u8),
}

impl FlowTextError {
    /// The offending token (the version number as text for [`FlowTextError::BadVersion`]).
    pub fn token(&self) -> String {
        match self {
            FlowTextError::UnknownKeyword { token, .. }
            | FlowTextError::UnknownAction { token, .. }
            | FlowTextError::BadValue { token, .. }
            | FlowTextError::MissingValue { token, .. }
            | FlowTextError::MissingPrerequisite { token, .. }
            | FlowTextError::NotSupported { token, .. }
            | FlowTextError::NotAllowed { token, .. }
            | FlowTextError::Conflict { token, .. }
            | FlowTextError::Missing { token, .. } => token.clone(),
            FlowTextError::BadVersion(v) => format!("{v:#04x}"),
        }
    }

    /// The hint: what was expected, or why the token is refused.
    pub fn hint(&self) -> &str {
        match self {
            FlowTextError::UnknownKeyword { hint, .. }
            | FlowTextError::UnknownAction { hint, .. }
            | FlowTextError::BadValue { hint, .. }
            | FlowTextError::MissingValue { hint, .. }
            | FlowTextError::MissingPrerequisite { hint, .. }
            | FlowTextError::NotSupported { hint, .. }
            | FlowTextError::NotAllowed { hint, .. }
            | FlowTextError::Conflict { hint, .. }
            | FlowTextError::Missing { hint, .. } => hint,
            FlowTextError::BadVersion(_) => "use 0x01 (OpenFlow 1.0) or 0x04 (OpenFlow 1.3)",
        }
    }
}

/// Fails for versions other than 1.0 and 1.3.
fn check_version(version: u8) -> Result<(), FlowTextError> {
    if version == crate::v10::VERSION || version == crate::v13::VERSION {
        Ok(())
    } else {
        Err(FlowTextError::BadVersion(version))
    }
}
