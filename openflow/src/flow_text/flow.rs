//! Flow mods, flow statistics and flow-statistics requests.

use super::actions::{self, Context};
use super::fields::{self, MatchBuilder, MatchInfo};
use super::lex::{self, Item, Items};
use super::{check_version, FlowTextError};
use crate::model::multipart::{FlowStats, FlowStatsRequest};
use crate::model::{FlowMod, FlowModCommand, Match, PortNo, GROUP_ALL, GROUP_ANY, TABLE_ALL};
use crate::{v10, v13};

/// The flag keywords and their bit in each version (`None`: the version has no such flag).
const FLAGS: [(&str, Option<u16>, u16); 5] = [
    (
        "send_flow_rem",
        Some(v10::flow_mod_flags::SEND_FLOW_REM),
        v13::flow_mod_flags::SEND_FLOW_REM,
    ),
    (
        "check_overlap",
        Some(v10::flow_mod_flags::CHECK_OVERLAP),
        v13::flow_mod_flags::CHECK_OVERLAP,
    ),
    ("reset_counts", None, v13::flow_mod_flags::RESET_COUNTS),
    ("no_packet_counts", None, v13::flow_mod_flags::NO_PKT_COUNTS),
    ("no_byte_counts", None, v13::flow_mod_flags::NO_BYT_COUNTS),
];

/// The bit of a flag keyword in `version`, if it has one there.
fn flag_bit(name: &str, version: u8) -> Option<Option<u16>> {
    let &(_, b10, b13) = FLAGS.iter().find(|(n, _, _)| *n == name)?;
    Some(if version == v10::VERSION {
        b10
    } else {
        Some(b13)
    })
}

/// The flag keywords of `flags` in `version`, each followed by a space.
fn format_flags(flags: u16, version: u8) -> String {
    let mut s = String::new();
    for (name, b10, b13) in FLAGS {
        let bit = if version == v10::VERSION {
            b10
        } else {
            Some(b13)
        };
        if bit.is_some_and(|b| flags & b != 0) {
            s.push_str(name);
            s.push(' ');
        }
    }
    s
}

/// Which options a command takes (as `ovs-ofctl` decides it).
#[derive(Debug, Clone, Copy)]
struct Takes {
    actions: bool,
    priority: bool,
    timeouts: bool,
    flags: bool,
    out_port: bool,
    /// Whether `cookie=V` (no mask) sets the cookie; else a mask is required.
    set_cookie: bool,
    /// Whether `cookie=V/M` is allowed.
    match_cookie: bool,
}

impl Takes {
    fn of(command: Option<FlowModCommand>) -> Takes {
        use FlowModCommand as C;
        let change = Takes {
            actions: true,
            priority: true,
            timeouts: true,
            flags: true,
            out_port: false,
            set_cookie: true,
            match_cookie: true,
        };
        let query = Takes {
            actions: false,
            priority: false,
            timeouts: false,
            flags: false,
            out_port: true,
            set_cookie: false,
            match_cookie: true,
        };
        match command {
            Some(C::Add) => Takes {
                match_cookie: false,
                ..change
            },
            Some(C::Modify | C::ModifyStrict) => change,
            Some(C::DeleteStrict) => Takes {
                priority: true,
                ..query
            },
            Some(C::Delete) | None => query,
            Some(C::Unknown(_)) => change,
        }
    }
}

/// What a flow text says, before it becomes a flow mod or a stats request.
#[derive(Debug)]
struct Parsed {
    match_: Match,
    instructions: Vec<crate::model::Instruction>,
    table: Option<u8>,
    priority: Option<u16>,
    idle_timeout: u16,
    hard_timeout: u16,
    flags: u16,
    out_port: PortNo,
    out_group: u32,
    /// `(cookie, mask)` to match, from `cookie=V/M`.
    match_cookie: Option<(u64, u64)>,
    /// The cookie to set, from `cookie=V`.
    set_cookie: Option<u64>,
}

fn not_allowed(token: &str, hint: &str) -> FlowTextError {
    FlowTextError::NotAllowed {
        token: token.to_string(),
        hint: hint.to_string(),
    }
}

/// Splits off what follows `actions=` (as `ovs-ofctl`: from the first `action`, past the
/// next `=`).
fn split_actions(text: &str) -> (&str, Option<&str>) {
    match text.find("action") {
        Some(i) => {
            let rest = &text[i..];
            (&text[..i], rest.find('=').map(|eq| &rest[eq + 1..]))
        }
        None => (text, None),
    }
}

/// Parses a flow text for `command` (`None`: a flow-statistics request).
fn parse(
    text: &str,
    command: Option<FlowModCommand>,
    version: u8,
) -> Result<Parsed, FlowTextError> {
    check_version(version)?;
    if let Some(FlowModCommand::Unknown(n)) = command {
        return Err(lex::bad(
            "command",
            &n.to_string(),
            "not a flow-mod command",
        ));
    }
    let takes = Takes::of(command);
    let (match_text, actions_text) = if takes.actions {
        let (m, a) = split_actions(text);
        let a = a.ok_or_else(|| FlowTextError::Missing {
            token: "actions".into(),
            hint: "add and modify need actions=... (actions=drop for none), after the match".into(),
        })?;
        (m, Some(a))
    } else {
        (text, None)
    };
    let mut p = Parsed {
        match_: Match::new(),
        instructions: Vec::new(),
        table: None,
        priority: None,
        idle_timeout: 0,
        hard_timeout: 0,
        flags: 0,
        out_port: PortNo::ANY,
        out_group: GROUP_ANY,
        match_cookie: None,
        set_cookie: None,
    };
    let mut builder = MatchBuilder::default();
    for item in Items::new(match_text) {
        let item = item?;
        if builder.offer(item)? {
            continue;
        }
        option(&item, &takes, version, &mut p)?;
    }
    p.match_ = builder.finish(version)?;
    if let Some(a) = actions_text {
        let ctx = Context::new(version, MatchInfo::of(&p.match_));
        p.instructions = actions::parse_instructions(a, &ctx)?;
    }
    if p.match_cookie.is_some() && p.set_cookie.is_some() {
        return Err(FlowTextError::Conflict {
            token: "cookie".into(),
            hint: "a flow mod has one cookie field: it cannot both match cookie=V/M and set a \
                   new cookie"
                .into(),
        });
    }
    Ok(p)
}

/// One flow option (anything but a match key).
fn option(
    item: &Item<'_>,
    takes: &Takes,
    version: u8,
    p: &mut Parsed,
) -> Result<(), FlowTextError> {
    let k = item.key;
    let once = |slot_set: bool| {
        if slot_set {
            Err(FlowTextError::Conflict {
                token: k.to_string(),
                hint: "given twice".into(),
            })
        } else {
            Ok(())
        }
    };
    if let Some(bit) = flag_bit(k, version) {
        item.no_value()?;
        if !takes.flags {
            return Err(not_allowed(k, "flags are for add and modify commands"));
        }
        let bit = bit.ok_or_else(|| FlowTextError::NotSupported {
            token: k.to_string(),
            hint: "OpenFlow 1.0 has no such flag".into(),
        })?;
        p.flags |= bit;
        return Ok(());
    }
    match k {
        "no_readonly_table" | "allow_hidden_fields" => item.no_value(),
        "duration" | "n_packets" | "n_bytes" | "idle_age" | "hard_age" => Ok(()),
        "table" => {
            let t = lex::u8_value(k, item.need_value("a table number")?)?;
            once(p.table.is_some_and(|old| old != t))?;
            p.table = Some(t);
            Ok(())
        }
        "priority" => {
            if !takes.priority {
                return Err(not_allowed(
                    k,
                    "a non-strict delete ignores priorities (use --strict, DeleteStrict)",
                ));
            }
            let v = lex::u16_value(k, item.need_value("a priority 0 to 65535")?)?;
            once(p.priority.is_some_and(|old| old != v))?;
            p.priority = Some(v);
            Ok(())
        }
        "idle_timeout" | "hard_timeout" => {
            if !takes.timeouts {
                return Err(not_allowed(k, "timeouts are for add and modify commands"));
            }
            let v = lex::u16_value(k, item.need_value("seconds")?)?;
            if k == "idle_timeout" {
                p.idle_timeout = v;
            } else {
                p.hard_timeout = v;
            }
            Ok(())
        }
        "out_port" | "out_group" => {
            if !takes.out_port {
                return Err(not_allowed(
                    k,
                    "out_port and out_group restrict deletes and dumps",
                ));
            }
            let v = item.need_value("a port or group")?;
            if k == "out_port" {
                p.out_port = lex::port_value(k, v)?;
            } else {
                p.out_group = match v.to_ascii_lowercase().as_str() {
                    "any" => GROUP_ANY,
                    "all" => GROUP_ALL,
                    _ => lex::u32_value(k, v)?,
                };
            }
            Ok(())
        }
        "cookie" => {
            let v = item.need_value("a cookie (cookie=V/MASK to match cookies)")?;
            match lex::split_mask(v) {
                (c, Some(m)) => {
                    if !takes.match_cookie {
                        return Err(not_allowed(k, "flow additions cannot use a cookie mask"));
                    }
                    let mask = lex::uint(k, m, 64)?;
                    let c = lex::uint(k, c, 64)? & mask;
                    once(p.match_cookie.is_some_and(|old| old != (c, mask)))?;
                    p.match_cookie = Some((c, mask));
                }
                (c, None) => {
                    if !takes.set_cookie {
                        return Err(not_allowed(
                            k,
                            "cannot set a cookie here: match one with cookie=VALUE/MASK",
                        ));
                    }
                    let c = lex::uint(k, c, 64)?;
                    once(p.set_cookie.is_some_and(|old| old != c))?;
                    p.set_cookie = Some(c);
                }
            }
            Ok(())
        }
        "importance" => Err(FlowTextError::NotSupported {
            token: k.to_string(),
            hint: "flow importance is OpenFlow 1.4".into(),
        }),
        "actions" | "action" => Err(not_allowed(k, "delete commands and dumps take no actions")),
        _ => Err(FlowTextError::UnknownKeyword {
            token: k.to_string(),
            hint: "not a match field, protocol or flow option (actions go after actions=)".into(),
        }),
    }
}

/// Parses the argument of `ovs-ofctl add-flow`, `mod-flows [--strict]` or `del-flows
/// [--strict]` (chosen by `command`) into a flow mod for OpenFlow `version` (0x01 or
/// 0x04); see the [module documentation](super).
///
/// Unset fields take the model's defaults ([`FlowMod::default`]), except that deletes
/// apply to all tables (`table_id` [`TABLE_ALL`]).
pub fn parse_flow_mod(
    text: &str,
    command: FlowModCommand,
    version: u8,
) -> Result<FlowMod, FlowTextError> {
    let p = parse(text, Some(command), version)?;
    let default_table = if command.is_delete() { TABLE_ALL } else { 0 };
    let table_id = match p.table {
        Some(TABLE_ALL) if !command.is_delete() => 0,
        Some(t) => t,
        None => default_table,
    };
    let (cookie, cookie_mask) = match (p.match_cookie, p.set_cookie) {
        (Some(m), _) => m,
        (None, Some(c)) => (c, 0),
        (None, None) => (0, 0),
    };
    Ok(FlowMod {
        cookie,
        cookie_mask,
        table_id,
        command,
        idle_timeout: p.idle_timeout,
        hard_timeout: p.hard_timeout,
        priority: p.priority.unwrap_or(FlowMod::default().priority),
        out_port: p.out_port,
        out_group: p.out_group,
        flags: p.flags,
        match_: p.match_,
        instructions: p.instructions,
        ..FlowMod::default()
    })
}

/// The command keywords of `ovs-ofctl add-flows` files, in the order a prefix is tried.
const COMMANDS: [(&str, FlowModCommand); 5] = [
    ("add", FlowModCommand::Add),
    ("delete", FlowModCommand::Delete),
    ("delete_strict", FlowModCommand::DeleteStrict),
    ("modify", FlowModCommand::Modify),
    ("modify_strict", FlowModCommand::ModifyStrict),
];

/// Parses one line of an `ovs-ofctl add-flows` file: a flow, optionally preceded by
/// `add`, `modify`, `modify_strict`, `delete` or `delete_strict` (or a prefix of one, as
/// `ovs-ofctl` allows); without one it is an add.
pub fn parse_flow_mod_line(text: &str, version: u8) -> Result<FlowMod, FlowTextError> {
    let trimmed = text.trim_start_matches([' ', '\t', '\r', '\n']);
    let end = trimmed
        .find([',', ' ', '\t', '\r', '\n'])
        .unwrap_or(trimmed.len());
    let word = &trimmed[..end];
    match COMMANDS
        .iter()
        .find(|(name, _)| !word.is_empty() && name.starts_with(word))
    {
        Some(&(_, command)) => parse_flow_mod(&trimmed[end..], command, version),
        None => parse_flow_mod(text, FlowModCommand::Add, version),
    }
}

/// Parses the flow argument of `ovs-ofctl dump-flows` / `dump-aggregate`: a match, with
/// the options `table` (default all), `out_port`, `out_group` and `cookie=V/MASK`.
pub fn parse_flow_stats_request(
    text: &str,
    version: u8,
) -> Result<FlowStatsRequest, FlowTextError> {
    let p = parse(text, None, version)?;
    let (cookie, cookie_mask) = p.match_cookie.unwrap_or((0, 0));
    Ok(FlowStatsRequest {
        table_id: p.table.unwrap_or(TABLE_ALL),
        out_port: p.out_port,
        out_group: p.out_group,
        cookie,
        cookie_mask,
        match_: p.match_,
    })
}

/// A duration as `ovs-ofctl` prints it: whole seconds, then milliseconds when they are
/// exact, else as many nanosecond digits as needed.
fn format_duration(sec: u32, nsec: u32) -> String {
    let mut s = sec.to_string();
    if nsec > 0 {
        let msec = u64::from(nsec) / 1_000_000;
        if msec * 1_000_000 == u64::from(nsec) {
            s.push_str(&format!(".{msec:03}"));
        } else {
            let digits = format!("{nsec:09}");
            s.push('.');
            s.push_str(digits.trim_end_matches('0'));
        }
    }
    s.push('s');
    s
}

/// Joins `options` (each ending in `", "` or `" "`) and the match and actions parts.
fn assemble(mut s: String, match_text: &str, actions: Option<String>) -> String {
    s.push_str(match_text);
    match actions {
        Some(a) => {
            if !match_text.is_empty() {
                s.push(' ');
            }
            s.push_str("actions=");
            s.push_str(&a);
        }
        None => {
            let n = s.trim_end_matches([',', ' ']).len();
            s.truncate(n);
        }
    }
    s
}

/// One flow entry as `ovs-ofctl dump-flows` prints it:
/// `cookie=0x0, duration=1.5s, table=0, n_packets=0, n_bytes=0, idle_timeout=10,
/// priority=100,in_port=1 actions=output:2`.
pub fn flow_stats_to_string(fs: &FlowStats, version: u8) -> String {
    let mut s = format!(
        "cookie={:#x}, duration={}, table={}, n_packets={}, n_bytes={}, ",
        fs.cookie,
        format_duration(fs.duration_sec, fs.duration_nsec),
        fs.table_id,
        fs.packet_count,
        fs.byte_count
    );
    if fs.idle_timeout != 0 {
        s.push_str(&format!("idle_timeout={}, ", fs.idle_timeout));
    }
    if fs.hard_timeout != 0 {
        s.push_str(&format!("hard_timeout={}, ", fs.hard_timeout));
    }
    s.push_str(&format_flags(fs.flags, version));
    let m = fields::format_match(&fs.match_, Some(fs.priority), version);
    assemble(
        s,
        &m,
        Some(actions::format_instructions(&fs.instructions, version)),
    )
}

/// A flow mod in the `ovs-ofctl` syntax its command takes (what `dump-flows --no-stats`
/// prints for a flow, plus the cookie mask, `out_port` and `out_group` of deletes), so
/// that [`parse_flow_mod`] with the same command and version reads it back. The command
/// itself is not printed (see [`flow_mod_to_line`]).
pub fn flow_mod_to_string(fm: &FlowMod, version: u8) -> String {
    let delete = fm.command.is_delete();
    let mut s = String::new();
    if fm.cookie_mask != 0 && fm.command != FlowModCommand::Add {
        s.push_str(&format!("cookie={:#x}/{:#x}, ", fm.cookie, fm.cookie_mask));
    } else if fm.cookie != 0 && !delete {
        s.push_str(&format!("cookie={:#x}, ", fm.cookie));
    }
    let default_table = if delete { TABLE_ALL } else { 0 };
    if fm.table_id != default_table {
        s.push_str(&format!("table={}, ", fm.table_id));
    }
    if delete {
        if fm.out_port != PortNo::ANY {
            s.push_str(&format!("out_port={}, ", lex::format_port(fm.out_port)));
        }
        if fm.out_group != GROUP_ANY {
            s.push_str(&format!("out_group={}, ", fm.out_group));
        }
    } else {
        if fm.idle_timeout != 0 {
            s.push_str(&format!("idle_timeout={}, ", fm.idle_timeout));
        }
        if fm.hard_timeout != 0 {
            s.push_str(&format!("hard_timeout={}, ", fm.hard_timeout));
        }
        s.push_str(&format_flags(fm.flags, version));
    }
    let priority = (fm.command != FlowModCommand::Delete).then_some(fm.priority);
    let m = fields::format_match(&fm.match_, priority, version);
    let actions = (!delete).then(|| actions::format_instructions(&fm.instructions, version));
    assemble(s, &m, actions)
}

/// A flow mod as a line of an `ovs-ofctl add-flows` file: [`flow_mod_to_string`] after
/// the command keyword (none for an add), which [`parse_flow_mod_line`] reads back.
pub fn flow_mod_to_line(fm: &FlowMod, version: u8) -> String {
    let text = flow_mod_to_string(fm, version);
    match COMMANDS.iter().find(|(_, c)| *c == fm.command) {
        Some((_, FlowModCommand::Add)) | None => text,
        Some((name, _)) if text.is_empty() => name.to_string(),
        Some((name, _)) => format!("{name} {text}"),
    }
}

/// A flow-statistics request as the flow argument of `ovs-ofctl dump-flows`, which
/// [`parse_flow_stats_request`] reads back.
pub fn flow_stats_request_to_string(r: &FlowStatsRequest, version: u8) -> String {
    let mut s = String::new();
    if r.cookie_mask != 0 {
        s.push_str(&format!("cookie={:#x}/{:#x}, ", r.cookie, r.cookie_mask));
    }
    if r.table_id != TABLE_ALL {
        s.push_str(&format!("table={}, ", r.table_id));
    }
    if r.out_port != PortNo::ANY {
        s.push_str(&format!("out_port={}, ", lex::format_port(r.out_port)));
    }
    if r.out_group != GROUP_ANY {
        s.push_str(&format!("out_group={}, ", r.out_group));
    }
    let m = fields::format_match(&r.match_, None, version);
    assemble(s, &m, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, Instruction, OxmField, OxmId};

    #[test]
    fn the_example_flow() {
        let fm = parse_flow_mod(
            "table=0,priority=100,in_port=1,dl_dst=01:02:03:04:05:06,actions=output:2",
            FlowModCommand::Add,
            v13::VERSION,
        )
        .unwrap();
        assert_eq!(fm.priority, 100);
        assert_eq!(
            fm.match_.fields,
            vec![
                OxmField::in_port(PortNo(1)),
                OxmField::eth_dst([1, 2, 3, 4, 5, 6])
            ]
        );
        assert_eq!(
            fm.instructions,
            vec![Instruction::ApplyActions(vec![Action::output(PortNo(2))])]
        );
        assert_eq!(
            flow_mod_to_string(&fm, v13::VERSION),
            "priority=100,in_port=1,dl_dst=01:02:03:04:05:06 actions=output:2"
        );
    }

    #[test]
    fn options_depend_on_the_command() {
        use FlowModCommand as C;
        assert!(parse_flow_mod("priority=5", C::Delete, 4).is_err());
        assert!(parse_flow_mod("priority=5", C::DeleteStrict, 4).is_ok());
        assert!(parse_flow_mod("in_port=1,actions=drop", C::Delete, 4).is_err());
        assert!(parse_flow_mod("cookie=1", C::Delete, 4).is_err());
        assert!(parse_flow_mod("cookie=1/1,actions=drop", C::Add, 4).is_err());
        assert!(parse_flow_mod("in_port=1", C::Add, 4).is_err());
        assert!(parse_flow_mod("out_port=1,actions=drop", C::Add, 4).is_err());
        assert!(parse_flow_mod("reset_counts,actions=drop", C::Add, 1).is_err());
        let fm = parse_flow_mod("cookie=0x1234/0xff00", C::Delete, 4).unwrap();
        assert_eq!(
            (fm.cookie, fm.cookie_mask, fm.table_id),
            (0x1200, 0xff00, TABLE_ALL)
        );
        let fm = parse_flow_mod("cookie=5,actions=drop", C::Modify, 4).unwrap();
        assert_eq!((fm.cookie, fm.cookie_mask), (5, 0));
        assert!(parse_flow_mod("cookie=1/-1,cookie=2,actions=drop", C::Modify, 4).is_err());
        assert_eq!(
            parse_flow_mod("table=255,actions=drop", C::Add, 4)
                .unwrap()
                .table_id,
            0
        );
        let fm = parse_flow_mod("reset_counts,send_flow_rem,actions=drop", C::Add, 4).unwrap();
        assert_eq!(
            fm.flags,
            v13::flow_mod_flags::RESET_COUNTS | v13::flow_mod_flags::SEND_FLOW_REM
        );
    }

    #[test]
    fn dump_flows_output_reads_back() {
        let line =
            "cookie=0x0, duration=5.123s, table=0, n_packets=7, n_bytes=420, idle_timeout=10, \
                    priority=7,tcp,tp_dst=22 actions=drop";
        let fm = parse_flow_mod(line, FlowModCommand::Add, 4).unwrap();
        assert_eq!((fm.priority, fm.idle_timeout), (7, 10));
        assert!(fm.match_.contains(OxmId::TcpDst));
    }

    #[test]
    fn lines_carry_their_command() {
        for (line, command) in [
            ("ip actions=drop", FlowModCommand::Add),
            ("add ip actions=drop", FlowModCommand::Add),
            ("del in_port=1", FlowModCommand::Delete),
            (
                "delete_strict priority=3,in_port=1",
                FlowModCommand::DeleteStrict,
            ),
            ("mod in_port=1 actions=drop", FlowModCommand::Modify),
            (
                "modify_strict,in_port=1 actions=drop",
                FlowModCommand::ModifyStrict,
            ),
        ] {
            let fm = parse_flow_mod_line(line, 4).unwrap();
            assert_eq!(fm.command, command, "{line}");
            assert_eq!(
                parse_flow_mod_line(&flow_mod_to_line(&fm, 4), 4).unwrap(),
                fm
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(5, 0), "5s");
        assert_eq!(format_duration(5, 500_000_000), "5.500s");
        assert_eq!(format_duration(1, 1), "1.000000001s");
        assert_eq!(format_duration(0, 123_456_000), "0.123456s");
    }

    #[test]
    fn stats_request() {
        let r = parse_flow_stats_request("table=3,out_port=2,cookie=1/1,ip", 4).unwrap();
        assert_eq!(
            (r.table_id, r.out_port, r.cookie, r.cookie_mask),
            (3, PortNo(2), 1, 1)
        );
        assert_eq!(
            flow_stats_request_to_string(&r, 4),
            "cookie=0x1/0x1, table=3, out_port=2, ip"
        );
        assert_eq!(
            parse_flow_stats_request(&flow_stats_request_to_string(&r, 4), 4).unwrap(),
            r
        );
        assert_eq!(parse_flow_stats_request("", 1).unwrap().table_id, TABLE_ALL);
    }
}
