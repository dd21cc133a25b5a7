//! Flow tables of the pipeline and the flow_mod that changes them (OpenFlow 1.3 §6.4).

use core::time::Duration;

use crate::classifier::{
    ClassifierError, FlowEntry, FlowFlags, FlowTable, Match, NewFlow, RemovalReason,
};
use crate::counters::TableCounters;

use super::error::PipelineError;
use super::instructions::{check_instructions, Instructions};
use super::{Pipeline, GROUP_ANY, PORT_ANY, TABLE_ALL};

/// One flow table: the classifier and the table's lookup counters.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) flows: FlowTable<Instructions>,
    pub(crate) counters: TableCounters,
}

/// What a flow_mod does (`ofp_flow_mod_command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowModCommand {
    /// Add a flow, replacing one with the identical match and priority.
    Add,
    /// Change the instructions of every flow at least as specific as the match.
    Modify,
    /// Change the instructions of the flow with exactly this match and priority.
    ModifyStrict,
    /// Remove every flow at least as specific as the match.
    Delete,
    /// Remove the flow with exactly this match and priority.
    DeleteStrict,
}

/// Flow flag bits this pipeline knows (OpenFlow 1.3 `ofp_flow_mod_flags`).
const KNOWN_FLAGS: u16 = FlowFlags::SEND_FLOW_REM.bits()
    | FlowFlags::CHECK_OVERLAP.bits()
    | FlowFlags::RESET_COUNTS.bits()
    | FlowFlags::NO_PKT_COUNTS.bits()
    | FlowFlags::NO_BYT_COUNTS.bits();

/// A flow table change (`ofp_flow_mod`), independent of the wire version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowMod {
    /// What to do.
    pub command: FlowModCommand,
    /// The table; [`TABLE_ALL`] for modify and delete in every table.
    pub table_id: u8,
    /// Priority (add, and the strict commands).
    pub priority: u16,
    /// The match.
    pub flow_match: Match,
    /// Add: the new flow's cookie. Modify and delete: with `cookie_mask`, a filter.
    pub cookie: u64,
    /// Modify and delete only touch flows whose cookie equals `cookie` on these bits (0:
    /// every flow).
    pub cookie_mask: u64,
    /// Remove the flow after this long without a packet (zero: never).
    pub idle_timeout: Duration,
    /// Remove the flow this long after it was added (zero: never).
    pub hard_timeout: Duration,
    /// `SEND_FLOW_REM`, `CHECK_OVERLAP`, `RESET_COUNTS`, `NO_PKT_COUNTS`, `NO_BYT_COUNTS`.
    pub flags: FlowFlags,
    /// Delete only flows with an output to this port ([`PORT_ANY`]: no filter).
    pub out_port: u32,
    /// Delete only flows with a group action to this group ([`GROUP_ANY`]: no filter).
    pub out_group: u32,
    /// The instructions (add and modify).
    pub instructions: Instructions,
    /// OpenFlow 1.0 semantics: a modify that matches no flow adds one.
    pub modify_adds: bool,
}

impl FlowMod {
    /// A request with `command` on `table_id` for `flow_match` at `priority`, no
    /// instructions, cookie 0, no filter, no timeout, no flag.
    pub fn new(command: FlowModCommand, table_id: u8, flow_match: Match, priority: u16) -> Self {
        FlowMod {
            command,
            table_id,
            priority,
            flow_match,
            cookie: 0,
            cookie_mask: 0,
            idle_timeout: Duration::ZERO,
            hard_timeout: Duration::ZERO,
            flags: FlowFlags::EMPTY,
            out_port: PORT_ANY,
            out_group: GROUP_ANY,
            instructions: Instructions::new(),
            modify_adds: false,
        }
    }

    /// An add of `instructions`.
    pub fn add(table_id: u8, flow_match: Match, priority: u16, instructions: Instructions) -> Self {
        Self::new(FlowModCommand::Add, table_id, flow_match, priority)
            .with_instructions(instructions)
    }

    /// A non-strict delete in `table_id` (maybe [`TABLE_ALL`]).
    pub fn delete(table_id: u8, flow_match: Match) -> Self {
        Self::new(FlowModCommand::Delete, table_id, flow_match, 0)
    }

    /// Sets the instructions.
    #[must_use]
    pub fn with_instructions(mut self, instructions: Instructions) -> Self {
        self.instructions = instructions;
        self
    }

    /// Sets the cookie and cookie mask.
    #[must_use]
    pub fn with_cookie(mut self, cookie: u64, mask: u64) -> Self {
        self.cookie = cookie;
        self.cookie_mask = mask;
        self
    }

    /// Sets the flags.
    #[must_use]
    pub fn with_flags(mut self, flags: FlowFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Sets the idle and hard timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, idle: Duration, hard: Duration) -> Self {
        self.idle_timeout = idle;
        self.hard_timeout = hard;
        self
    }

    /// Sets the out_port and out_group filters.
    #[must_use]
    pub fn with_out(mut self, port: u32, group: u32) -> Self {
        self.out_port = port;
        self.out_group = group;
        self
    }
}

/// What a flow_mod did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowModResult {
    /// A flow was added; `replaced` if it took the place of one with the identical match
    /// and priority (no flow-removed for that one).
    Added {
        /// Whether an identical flow was replaced.
        replaced: bool,
    },
    /// This many flows got the new instructions.
    Modified {
        /// How many.
        count: usize,
    },
    /// These flows were removed (send a flow-removed, reason `DELETE`, for those with
    /// `send_flow_rem`).
    Deleted {
        /// The removed flows, table by table, each table's in priority order.
        removed: Vec<RemovedFlow>,
    },
}

/// Why a flow left the pipeline (`ofp_flow_removed_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowRemovedReason {
    /// Idle timeout (`OFPRR_IDLE_TIMEOUT`).
    IdleTimeout,
    /// Hard timeout (`OFPRR_HARD_TIMEOUT`).
    HardTimeout,
    /// A delete flow_mod (`OFPRR_DELETE`).
    Delete,
    /// Its group was deleted (`OFPRR_GROUP_DELETE`).
    GroupDelete,
    /// Its meter was deleted (`OFPRR_METER_DELETE` in OpenFlow 1.4; 1.3 says `DELETE`).
    MeterDelete,
}

/// A flow that left the pipeline: what a flow-removed message reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedFlow {
    /// Its table.
    pub table_id: u8,
    /// Its priority.
    pub priority: u16,
    /// Its match.
    pub flow_match: Match,
    /// Its cookie.
    pub cookie: u64,
    /// Why it left.
    pub reason: FlowRemovedReason,
    /// How long it lived.
    pub duration: Duration,
    /// Its idle timeout.
    pub idle_timeout: Duration,
    /// Its hard timeout.
    pub hard_timeout: Duration,
    /// Packets it matched.
    pub packet_count: u64,
    /// Bytes it matched.
    pub byte_count: u64,
    /// Whether the controller asked for a flow-removed message (`SEND_FLOW_REM`).
    pub send_flow_rem: bool,
    /// Its flags.
    pub flags: FlowFlags,
}

impl RemovedFlow {
    pub(crate) fn new(
        table_id: u8,
        e: &FlowEntry<Instructions>,
        reason: FlowRemovedReason,
        now: Duration,
    ) -> Self {
        RemovedFlow {
            table_id,
            priority: e.priority(),
            flow_match: *e.flow_match(),
            cookie: e.cookie(),
            reason,
            duration: e.duration(now),
            idle_timeout: e.idle_timeout(),
            hard_timeout: e.hard_timeout(),
            packet_count: e.counters().packets,
            byte_count: e.counters().bytes,
            send_flow_rem: e.flags().contains(FlowFlags::SEND_FLOW_REM),
            flags: e.flags(),
        }
    }
}

impl Pipeline {
    /// Applies a flow_mod at `now` (OpenFlow 1.3 §6.4).
    ///
    /// * Add: replaces a flow with the identical match and priority, carrying its counts
    ///   over unless `RESET_COUNTS` (the replaced flow gets no flow-removed); with
    ///   `CHECK_OVERLAP`, refuses ([`PipelineError::Overlap`]) when a flow of the same
    ///   priority overlaps.
    /// * Modify (strict or not): replaces the instructions of the flows selected and
    ///   accepted by the cookie filter, keeping cookie, timeouts, flags and counters
    ///   (counters are cleared with `RESET_COUNTS`); no flow selected does nothing, or adds
    ///   with [`FlowMod::modify_adds`] (OpenFlow 1.0).
    /// * Delete (strict or not): removes the flows selected and accepted by the cookie,
    ///   `out_port` and `out_group` filters, and returns them.
    ///
    /// Instructions are checked first: goto forward and in range
    /// ([`PipelineError::BadGotoTable`]), groups ([`PipelineError::BadOutGroup`]) and
    /// meters ([`PipelineError::UnknownMeter`]) must exist, no `OFPP_TABLE` output.
    pub fn flow_mod(&mut self, m: &FlowMod, now: Duration) -> Result<FlowModResult, PipelineError> {
        if m.flags.bits() & !KNOWN_FLAGS != 0 {
            return Err(PipelineError::BadFlowFlags {
                flags: m.flags.bits(),
            });
        }
        let result = match m.command {
            FlowModCommand::Add => self.add_flow(m, now)?,
            FlowModCommand::Modify | FlowModCommand::ModifyStrict => self.modify_flows(m, now)?,
            FlowModCommand::Delete | FlowModCommand::DeleteStrict => {
                let strict = m.command == FlowModCommand::DeleteStrict;
                let tables = self.target_tables(m.table_id)?;
                let mut removed = Vec::new();
                let accept = |e: &FlowEntry<Instructions>| {
                    e.cookie_matches(m.cookie, m.cookie_mask)
                        && e.actions().outputs_to(m.out_port)
                        && e.actions().uses_group(m.out_group)
                };
                for t in tables {
                    let flows = &mut self.tables[usize::from(t)].flows;
                    let gone: Vec<_> = if strict {
                        flows
                            .delete_strict(&m.flow_match, m.priority, accept)
                            .into_iter()
                            .collect()
                    } else {
                        flows.delete(&m.flow_match, accept)
                    };
                    removed.extend(
                        gone.iter()
                            .map(|e| RemovedFlow::new(t, e, FlowRemovedReason::Delete, now)),
                    );
                }
                FlowModResult::Deleted { removed }
            }
        };
        self.bump();
        Ok(result)
    }

    /// The tables a modify or delete applies to.
    fn target_tables(&self, table_id: u8) -> Result<core::ops::Range<u8>, PipelineError> {
        let n = self.n_tables();
        if table_id == TABLE_ALL {
            Ok(0..n)
        } else if table_id < n {
            Ok(table_id..table_id + 1)
        } else {
            Err(PipelineError::BadTableId { table_id })
        }
    }

    fn add_flow(&mut self, m: &FlowMod, now: Duration) -> Result<FlowModResult, PipelineError> {
        let t = m.table_id;
        if t >= self.n_tables() {
            return Err(PipelineError::BadTableId { table_id: t });
        }
        check_instructions(
            &m.instructions,
            t,
            self.n_tables(),
            &self.groups,
            &self.meters,
        )?;
        let mut flow = NewFlow::new(m.flow_match, m.priority, m.instructions.clone())
            .with_cookie(m.cookie)
            .with_idle_timeout(m.idle_timeout)
            .with_hard_timeout(m.hard_timeout)
            .with_flags(m.flags);
        if !m.flags.contains(FlowFlags::RESET_COUNTS) {
            flow = flow.keeping_counts();
        }
        match self.tables[usize::from(t)].flows.insert(flow, now) {
            Ok(ins) => Ok(FlowModResult::Added {
                replaced: ins.replaced.is_some(),
            }),
            Err(ClassifierError::TableFull { .. }) => Err(PipelineError::TableFull { table_id: t }),
            Err(ClassifierError::Overlap) => Err(PipelineError::Overlap),
        }
    }

    fn modify_flows(&mut self, m: &FlowMod, now: Duration) -> Result<FlowModResult, PipelineError> {
        let strict = m.command == FlowModCommand::ModifyStrict;
        let tables = self.target_tables(m.table_id)?;
        let accept = |e: &FlowEntry<Instructions>| e.cookie_matches(m.cookie, m.cookie_mask);
        // Check the instructions against every table that has a flow to change, before
        // changing any.
        let n = self.n_tables();
        let mut touched = Vec::new();
        for t in tables {
            let flows = &self.tables[usize::from(t)].flows;
            let any = if strict {
                flows
                    .find_strict(&m.flow_match, m.priority)
                    .and_then(|h| flows.get(h))
                    .is_some_and(accept)
            } else {
                flows.select(&m.flow_match).any(|(_, e)| accept(e))
            };
            if any {
                check_instructions(&m.instructions, t, n, &self.groups, &self.meters)?;
                touched.push(t);
            }
        }
        if touched.is_empty() {
            if m.modify_adds {
                return self.add_flow(m, now);
            }
            return Ok(FlowModResult::Modified { count: 0 });
        }
        let reset = m.flags.contains(FlowFlags::RESET_COUNTS);
        let update = |e: &mut FlowEntry<Instructions>| {
            e.set_actions(m.instructions.clone());
            if reset {
                e.counters_mut().clear_counts();
            }
        };
        let mut count = 0;
        for t in touched {
            let flows = &mut self.tables[usize::from(t)].flows;
            if strict {
                count +=
                    usize::from(flows.modify_strict(&m.flow_match, m.priority, accept, update));
            } else {
                count += flows.modify(&m.flow_match, accept, update);
            }
        }
        Ok(FlowModResult::Modified { count })
    }

    /// Removes, from every table, the flows whose instructions `pick` accepts.
    pub(crate) fn remove_flows_where(
        &mut self,
        reason: FlowRemovedReason,
        now: Duration,
        mut pick: impl FnMut(&Instructions) -> bool,
    ) -> Vec<RemovedFlow> {
        let all = Match::catchall();
        let mut removed = Vec::new();
        for (t, table) in self.tables.iter_mut().enumerate() {
            for e in table.flows.delete(&all, |e| pick(e.actions())) {
                removed.push(RemovedFlow::new(t as u8, &e, reason, now));
            }
        }
        removed
    }

    /// Removes the flows whose idle or hard timeout has run out at `now` and returns them
    /// (table by table), for flow-removed messages.
    pub fn expire(&mut self, now: Duration) -> Vec<RemovedFlow> {
        let mut removed = Vec::new();
        for (t, table) in self.tables.iter_mut().enumerate() {
            for (e, why) in table.flows.expire(now) {
                let reason = match why {
                    RemovalReason::IdleTimeout => FlowRemovedReason::IdleTimeout,
                    RemovalReason::HardTimeout => FlowRemovedReason::HardTimeout,
                    _ => FlowRemovedReason::Delete,
                };
                removed.push(RemovedFlow::new(t as u8, &e, reason, now));
            }
        }
        if !removed.is_empty() {
            self.bump();
        }
        removed
    }
}
