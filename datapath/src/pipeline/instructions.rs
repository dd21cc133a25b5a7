//! [`Instructions`]: what a flow entry does with a packet, and the checks a flow_mod makes
//! on them before the flow enters a table.

use crate::actions::{Action, OutputPort};

use super::error::PipelineError;
use super::group::GroupTable;
use super::meter::MeterTable;
use super::{PORT_ALL, PORT_CONTROLLER, PORT_FLOOD, PORT_IN_PORT, PORT_LOCAL, PORT_NORMAL};
use super::{PORT_TABLE, TABLE_ALL};

/// The instructions of one flow entry (OpenFlow 1.3 §5.9), executed in this order when a
/// packet matches: the meter, the apply-actions list, clear-actions, write-actions,
/// write-metadata, goto-table. Each is optional; an entry with none drops the packet (its
/// action set, empty unless an earlier table wrote to it, then runs).
///
/// OpenFlow 1.0 flows map onto `apply_actions` alone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Instructions {
    /// Send the packet through this meter first; the meter may drop it (`OFPIT_METER`).
    pub meter: Option<u32>,
    /// Execute these actions at once, in order (`OFPIT_APPLY_ACTIONS`).
    pub apply_actions: Option<Vec<Action>>,
    /// Empty the action set (`OFPIT_CLEAR_ACTIONS`).
    pub clear_actions: bool,
    /// Merge these actions into the action set, each replacing the set's action of its
    /// type (`OFPIT_WRITE_ACTIONS`).
    pub write_actions: Option<Vec<Action>>,
    /// Set the metadata bits of `mask` to those of `value` (`OFPIT_WRITE_METADATA`).
    pub write_metadata: Option<(u64, u64)>,
    /// Continue in this table, which must come later in the pipeline (`OFPIT_GOTO_TABLE`).
    pub goto_table: Option<u8>,
}

impl Instructions {
    /// No instruction: the packet is dropped unless the action set says otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only an apply-actions list (the shape of every OpenFlow 1.0 flow).
    pub fn apply(actions: Vec<Action>) -> Self {
        Instructions {
            apply_actions: Some(actions),
            ..Self::default()
        }
    }

    /// Adds a meter instruction.
    #[must_use]
    pub fn with_meter(mut self, meter_id: u32) -> Self {
        self.meter = Some(meter_id);
        self
    }

    /// Sets the apply-actions list.
    #[must_use]
    pub fn with_apply_actions(mut self, actions: Vec<Action>) -> Self {
        self.apply_actions = Some(actions);
        self
    }

    /// Adds clear-actions.
    #[must_use]
    pub fn with_clear_actions(mut self) -> Self {
        self.clear_actions = true;
        self
    }

    /// Sets the write-actions list.
    #[must_use]
    pub fn with_write_actions(mut self, actions: Vec<Action>) -> Self {
        self.write_actions = Some(actions);
        self
    }

    /// Adds write-metadata.
    #[must_use]
    pub fn with_write_metadata(mut self, value: u64, mask: u64) -> Self {
        self.write_metadata = Some((value, mask));
        self
    }

    /// Adds goto-table.
    #[must_use]
    pub fn with_goto_table(mut self, table_id: u8) -> Self {
        self.goto_table = Some(table_id);
        self
    }

    /// Every action of the apply-actions and write-actions lists, in that order.
    pub fn actions(&self) -> impl Iterator<Item = &Action> + '_ {
        let apply = self.apply_actions.iter().flatten();
        apply.chain(self.write_actions.iter().flatten())
    }

    /// Whether an output action of either list sends to `port` (an OpenFlow 1.3 port
    /// number, reserved ports included): the `out_port` filter of delete and statistics
    /// requests. [`PORT_ANY`](super::PORT_ANY) accepts every flow.
    pub fn outputs_to(&self, port: u32) -> bool {
        port == super::PORT_ANY || self.actions().any(|a| action_port_number(a) == Some(port))
    }

    /// Whether a group action of either list sends to `group_id`: the `out_group` filter.
    /// [`GROUP_ANY`](super::GROUP_ANY) accepts every flow.
    pub fn uses_group(&self, group_id: u32) -> bool {
        group_id == super::GROUP_ANY
            || self
                .actions()
                .any(|a| matches!(a, Action::Group(g) if *g == group_id))
    }
}

/// The OpenFlow 1.3 port number an output action sends to (reserved ports as their
/// `OFPP_*` numbers), or `None` for an action that is not a port output (groups included).
pub fn action_port_number(action: &Action) -> Option<u32> {
    Some(match action.output_port()? {
        OutputPort::Port(p) => p,
        OutputPort::InPort => PORT_IN_PORT,
        OutputPort::Flood => PORT_FLOOD,
        OutputPort::All => PORT_ALL,
        OutputPort::Controller { .. } => PORT_CONTROLLER,
        OutputPort::Local => PORT_LOCAL,
        OutputPort::Table => PORT_TABLE,
        OutputPort::Normal => PORT_NORMAL,
        OutputPort::Group(_) => return None,
    })
}

/// The checks of an action list inside a flow or a bucket: no `OFPP_TABLE` output (only a
/// packet-out may resubmit to the pipeline), and every group named exists.
pub(crate) fn check_actions(actions: &[Action], groups: &GroupTable) -> Result<(), PipelineError> {
    for a in actions {
        match *a {
            Action::Table => return Err(PipelineError::BadOutPort { port: PORT_TABLE }),
            Action::Group(g) if !groups.contains(g) => {
                return Err(PipelineError::BadOutGroup { group_id: g })
            }
            _ => {}
        }
    }
    Ok(())
}

/// The checks a flow_mod makes on the instructions of a flow for table `table_id` of a
/// pipeline of `n_tables` tables (OpenFlow 1.3 §6.4): goto only forward and inside the
/// pipeline, every group and meter named exists, no `OFPP_TABLE` output.
pub(crate) fn check_instructions(
    ins: &Instructions,
    table_id: u8,
    n_tables: u8,
    groups: &GroupTable,
    meters: &MeterTable,
) -> Result<(), PipelineError> {
    if let Some(goto) = ins.goto_table {
        if goto <= table_id || goto >= n_tables || goto == TABLE_ALL {
            return Err(PipelineError::BadGotoTable { table_id, goto });
        }
    }
    if let Some(m) = ins.meter {
        if !meters.contains(m) {
            return Err(PipelineError::UnknownMeter { meter_id: m });
        }
    }
    for list in [&ins.apply_actions, &ins.write_actions]
        .into_iter()
        .flatten()
    {
        check_actions(list, groups)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{GROUP_ANY, PORT_ANY};

    #[test]
    fn filters() {
        let ins = Instructions::apply(vec![Action::Output(3), Action::Group(7)])
            .with_write_actions(vec![Action::Controller { max_len: 64 }]);
        assert!(ins.outputs_to(3));
        assert!(ins.outputs_to(PORT_CONTROLLER));
        assert!(ins.outputs_to(PORT_ANY));
        assert!(!ins.outputs_to(4));
        assert!(!ins.outputs_to(7), "a group is not a port");
        assert!(ins.uses_group(7));
        assert!(ins.uses_group(GROUP_ANY));
        assert!(!ins.uses_group(3));
        assert_eq!(ins.actions().count(), 3);
        assert!(!Instructions::new().outputs_to(3));
    }

    #[test]
    fn reserved_port_numbers() {
        assert_eq!(action_port_number(&Action::InPort), Some(0xffff_fff8));
        assert_eq!(action_port_number(&Action::Table), Some(0xffff_fff9));
        assert_eq!(action_port_number(&Action::Normal), Some(0xffff_fffa));
        assert_eq!(action_port_number(&Action::Flood), Some(0xffff_fffb));
        assert_eq!(action_port_number(&Action::All), Some(0xffff_fffc));
        assert_eq!(
            action_port_number(&Action::Controller { max_len: 1 }),
            Some(0xffff_fffd)
        );
        assert_eq!(action_port_number(&Action::Local), Some(0xffff_fffe));
        assert_eq!(action_port_number(&Action::Output(9)), Some(9));
        assert_eq!(action_port_number(&Action::Group(9)), None);
        assert_eq!(action_port_number(&Action::PopVlan), None);
    }
}
